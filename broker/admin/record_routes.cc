#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"

namespace mk::admin {

namespace {

// A key/value/header from the request body: JSON null -> null; encoding "string" (default)
// takes strings as UTF-8 and serialises other JSON values; "base64" decodes; "json" always
// serialises the JSON value (so "x" becomes "\"x\"", as kafka-python's json serializer does).
std::optional<std::optional<std::string>> field_bytes(const json& v, const std::string& enc) {
  if (v.is_null()) return std::optional<std::string>{};
  if (enc == "base64") {
    if (!v.is_string()) return std::nullopt;
    auto d = encoding::base64_decode(v.get<std::string>());
    if (!d) return std::nullopt;
    return std::optional<std::string>{std::move(*d)};
  }
  if (enc == "json") return std::optional<std::string>{v.dump()};
  if (v.is_string()) return std::optional<std::string>{v.get<std::string>()};
  return std::optional<std::string>{v.dump()};
}

http_response produce(services::records_service& records, topic_state& t, const http_request& req) {
  http_response err;
  auto body = parse_body(req, err);
  if (!body) return err;
  const json& j = *body;
  if (!j.contains("records") || !j["records"].is_array() || j["records"].empty())
    return error_response(400, "bad_request", "\"records\" must be a non-empty array");
  if (j.contains("encoding") && !j["encoding"].is_string())
    return error_response(400, "bad_request", "\"encoding\" must be string, base64 or json");
  const std::string enc = j.value("encoding", std::string("string"));
  if (enc != "string" && enc != "base64" && enc != "json")
    return error_response(400, "bad_request", "\"encoding\" must be string, base64 or json");
  std::vector<services::new_record> recs;
  for (const auto& r : j["records"]) {
    if (!r.is_object()) return error_response(400, "bad_request", "each record must be an object");
    auto key = field_bytes(r.value("key", json(nullptr)), enc);
    auto value = field_bytes(r.value("value", json(nullptr)), enc);
    if (!key || !value) return error_response(400, "bad_request", "key/value do not match the encoding");
    services::new_record nr;
    nr.key = std::move(*key);
    nr.value = std::move(*value);
    int64_t ts = -1, part = -1;
    if (!int_field(r, "timestamp", -1, INT64_MAX, ts, err) || !int_field(r, "partition", INT32_MIN, INT32_MAX, part, err))
      return err;
    nr.timestamp = ts;
    if (r.contains("partition")) {
      if (part < 0)
        return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "partition " + std::to_string(part) + " does not exist");
      nr.partition = static_cast<int32_t>(part);
    }
    if (r.contains("headers")) {
      if (!r["headers"].is_object()) return error_response(400, "bad_request", "\"headers\" must be an object");
      for (const auto& [hk, hv] : r["headers"].items()) {
        auto hb = field_bytes(hv, enc);
        if (!hb) return error_response(400, "bad_request", "header value does not match the encoding");
        nr.headers.emplace_back(hk, std::move(*hb));
      }
    }
    recs.push_back(std::move(nr));
  }
  json results = json::array();
  for (const auto& a : records.append_records(t, recs)) {
    if (a.outcome.error != proto::error_code::none) return kafka_error(a.outcome.error, a.outcome.message);
    results.push_back(json{{"partition", a.partition}, {"base_offset", a.outcome.base_offset}});
  }
  return json_response(200, json{{"topic", t.name}, {"results", results}});
}

http_response read(const services::records_service& records, topic_state& t, int32_t p, const http_request& req) {
  std::optional<int64_t> offset;
  int64_t limit = 100;
  if (auto it = req.query.find("offset"); it != req.query.end()) {
    offset = parse_int(it->second);
    if (!offset) return error_response(400, "bad_request", "offset must be an integer");
  }
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    auto v = parse_int(it->second);
    if (!v || *v <= 0 || *v > 10000) return error_response(400, "bad_request", "limit must be 1..10000");
    limit = *v;
  }
  auto rd = records.read_records(t, p, offset, limit);
  if (rd.error == proto::error_code::offset_out_of_range) return error_response(400, "OFFSET_OUT_OF_RANGE", rd.message);
  if (rd.error != proto::error_code::none) return kafka_error(rd.error, rd.message);
  json recs = json::array();
  for (const auto& r : rd.records) {
    json hdrs = json::array();
    for (const auto& [hk, hv] : r.headers) hdrs.push_back(json{{"key", hk}, {"value", bytes_json(hv)}});
    recs.push_back(json{{"partition", r.partition},
                        {"offset", r.offset},
                        {"timestamp", r.timestamp},
                        {"key", bytes_json(r.key)},
                        {"value", bytes_json(r.value)},
                        {"headers", hdrs}});
  }
  return json_response(200, json{{"topic", t.name},
                                 {"partition", p},
                                 {"records", recs},
                                 {"next_offset", rd.next_offset},
                                 {"end_offset", rd.end_offset}});
}

}  // namespace

http_response record_routes(admin_context& ctx, const http_request& req, const path_parts& parts) {
  topic_state* t = ctx.svc.topics.find(parts[2]);
  if (!t) return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "topic '" + parts[2] + "' does not exist");
  if (parts.size() == 4 && parts[3] == "records") {
    if (req.method != "POST") return not_allowed("POST", "use POST to produce records");
    return produce(ctx.svc.records, *t, req);
  }
  if (parts.size() == 6 && parts[3] == "partitions" && parts[5] == "records") {
    if (req.method != "GET") return not_allowed("GET", "use GET to read records");
    auto p = parse_int(parts[4]);
    if (!p || *p < 0 || *p > INT32_MAX) return error_response(400, "bad_request", "partition must be an integer in [0, 2^31)");
    return read(ctx.svc.records, *t, static_cast<int32_t>(*p), req);
  }
  return no_route(req);
}

}  // namespace mk::admin
