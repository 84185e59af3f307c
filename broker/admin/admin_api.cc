#include "broker/admin/admin_api.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>

#include "broker/groups/group_coordinator.h"
#include "broker/groups/lag.h"
#include "broker/log_append.h"
#include "broker/log_lookup.h"
#include "broker/server.h"
#include "broker/storage_error.h"
#include "protocol/generated/api_keys.h"
#include "protocol/records/record_batch.h"
#include "storage/metadata_store.h"

namespace mk {

using json = nlohmann::json;
using proto::error_code;

namespace {

constexpr const char* version_string = "0.1.0";

http_response json_response(int status, const json& j) { return http_response{status, "application/json", j.dump(), {}}; }

http_response error_response(int status, const std::string& code, const std::string& message) {
  return json_response(status, json{{"error", code}, {"message", message}});
}

http_response not_allowed(const std::string& allow, const std::string& message) {
  auto r = error_response(405, "method_not_allowed", message);
  r.allow = allow;
  return r;
}

// HTTP status for a Kafka error code from a topic operation. The one enum switch here with a
// `default:`, on purpose: it picks a few of Kafka's ~130 codes out and every other one is the
// caller's fault (400), so a code added to the table needs no decision here.
int status_for(error_code e) {
  switch (e) {
    case error_code::topic_already_exists:
    case error_code::non_empty_group:
      return 409;
    case error_code::unknown_topic_or_partition:
    case error_code::unknown_topic_id:
    case error_code::group_id_not_found:
      return 404;
    case error_code::kafka_storage_error:
      return 503;
    case error_code::unknown_server_error:
      return 500;
    default:
      return 400;
  }
}

std::string upper_name(error_code e) {
  std::string n = proto::error_name(e);
  for (auto& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}

http_response kafka_error(error_code e, const std::string& message) {
  return error_response(status_for(e), upper_name(e), message.empty() ? upper_name(e) : message);
}

// Escapes a Prometheus label value (backslash, quote, newline).
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}

constexpr char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(b64chars[(v >> (6 * k)) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(b64chars[(v >> 18) & 63]);
    out.push_back(b64chars[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? b64chars[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = c ? std::strchr(b64chars, c) : nullptr;
    if (!p) {
      if (c == '-') p = b64chars + 62;  // URL-safe alphabet too
      else if (c == '_') p = b64chars + 63;
      else return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(p - b64chars);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// A key/value/header from the request body: JSON null -> null; encoding "string" (default)
// takes strings as UTF-8 and serialises other JSON values; "base64" decodes; "json" always
// serialises the JSON value (so "x" becomes "\"x\"", as kafka-python's json serializer does).
std::optional<std::optional<std::string>> field_bytes(const json& v, const std::string& encoding) {
  if (v.is_null()) return std::optional<std::string>{};
  if (encoding == "base64") {
    if (!v.is_string()) return std::nullopt;
    auto d = base64_decode(v.get<std::string>());
    if (!d) return std::nullopt;
    return std::optional<std::string>{*d};
  }
  if (encoding == "json") return std::optional<std::string>{v.dump()};
  if (v.is_string()) return std::optional<std::string>{v.get<std::string>()};
  return std::optional<std::string>{v.dump()};
}

json bytes_json(const std::optional<std::string_view>& b) {
  if (!b) return nullptr;
  if (valid_utf8(*b)) return std::string(*b);
  return json{{"base64", base64_encode(*b)}};
}

// Reads an optional integer field in [lo, hi]; false (and a 400 in `err`) when present but not an
// integer in range (1.5, true, "3" and 2^32 are all refused rather than truncated).
bool int_field(const json& j, const char* key, int64_t lo, int64_t hi, int64_t& out, http_response& err) {
  if (!j.contains(key)) return true;
  const json& v = j[key];
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) ||
      v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    err = error_response(400, "bad_request", std::string("\"") + key + "\" must be an integer in [" + std::to_string(lo) + ", " +
                                                 std::to_string(hi) + "]");
    return false;
  }
  out = v.get<int64_t>();
  return true;
}

json topic_summary(const topic_state& t) {
  return json{{"name", t.name},
              {"id", t.id.to_base64()},
              {"partitions", t.partitions.size()},
              {"replication_factor", t.replication_factor}};
}

json topic_detail(const topic_state& t) {
  json j = topic_summary(t);
  json configs = json::object();
  for (const auto& d : topic_config_defs()) configs[d.name] = t.configs.get(d.name);
  j["configs"] = configs;
  j["config_overrides"] = t.configs.overrides;
  json parts = json::array();
  for (const auto& p : t.partitions)
    parts.push_back(json{{"partition", p->index},
                         {"leader", p->leader_id},
                         {"leader_epoch", p->leader_epoch},
                         {"replicas", p->replicas},
                         {"start_offset", p->log->start_offset()},
                         {"end_offset", p->log->end_offset()},
                         {"size_bytes", p->log->size_bytes()}});
  j["partition_details"] = parts;
  return j;
}

// ConsumerProtocolAssignment bytes (INT16 version, ARRAY of {topic STRING, partitions ARRAY of
// INT32}) as JSON; raw base64 when they do not parse (non-consumer protocols).
json assignment_json(const std::string& bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size(), pos = 2;
  auto need = [&](size_t k) { return pos + k <= n; };
  auto i32 = [&] {
    int32_t v = static_cast<int32_t>((uint32_t(p[pos]) << 24) | (uint32_t(p[pos + 1]) << 16) | (uint32_t(p[pos + 2]) << 8) | p[pos + 3]);
    pos += 4;
    return v;
  };
  json out = json::array();
  if (bytes.empty()) return out;
  if (!need(4)) return json{{"base64", base64_encode(bytes)}};
  int32_t topics = i32();
  for (int32_t t = 0; t < topics; ++t) {
    if (!need(2)) return json{{"base64", base64_encode(bytes)}};
    size_t len = (size_t(p[pos]) << 8) | p[pos + 1];
    pos += 2;
    if (!need(len + 4)) return json{{"base64", base64_encode(bytes)}};
    std::string topic(bytes.data() + pos, len);
    pos += len;
    int32_t count = i32();
    if (count < 0 || !need(static_cast<size_t>(count) * 4)) return json{{"base64", base64_encode(bytes)}};
    std::vector<int32_t> parts;
    for (int32_t k = 0; k < count; ++k) parts.push_back(i32());
    out.push_back(json{{"topic", topic}, {"partitions", parts}});
  }
  return out;
}

bool group_known(server& srv, const std::string& id) {
  for (const auto& g : srv.groups().list_groups())
    if (g.group_id == id) return true;
  return false;
}

std::optional<json> parse_body(const http_request& req, http_response& err) {
  try {
    json j = json::parse(req.body);
    if (!j.is_object()) {
      err = error_response(400, "bad_request", "the request body must be a JSON object");
      return std::nullopt;
    }
    return j;
  } catch (const json::exception& ex) {
    err = error_response(400, "bad_request", std::string("malformed JSON: ") + ex.what());
    return std::nullopt;
  }
}

// ---- topics ---------------------------------------------------------------------------------

http_response create_topic(server& srv, const http_request& req) {
  http_response err;
  auto body = parse_body(req, err);
  if (!body) return err;
  const json& j = *body;
  cluster::create_spec spec;
  try {
    if (!j.contains("name") || !j["name"].is_string()) return error_response(400, "bad_request", "\"name\" (string) is required");
    spec.name = j["name"].get<std::string>();
    int64_t parts = -1, rf = -1;
    if (!int_field(j, "partitions", -1, INT32_MAX, parts, err) || !int_field(j, "replication_factor", -1, INT16_MAX, rf, err))
      return err;
    spec.partitions = static_cast<int32_t>(parts);
    spec.replication_factor = static_cast<int16_t>(rf);
    if (j.contains("configs")) {
      if (!j["configs"].is_object()) return error_response(400, "bad_request", "\"configs\" must be an object");
      for (const auto& [k, v] : j["configs"].items()) spec.configs[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  } catch (const json::exception& ex) {
    return error_response(400, "bad_request", ex.what());
  }
  topic_state* created = nullptr;
  if (auto e = srv.cluster().create_topic(spec, false, &created)) return kafka_error(e.code, e.message);
  return json_response(201, topic_detail(*created));
}

http_response produce_records(server& srv, topic_state& t, const http_request& req) {
  http_response err;
  auto body = parse_body(req, err);
  if (!body) return err;
  const json& j = *body;
  if (!j.contains("records") || !j["records"].is_array() || j["records"].empty())
    return error_response(400, "bad_request", "\"records\" must be a non-empty array");
  if (j.contains("encoding") && !j["encoding"].is_string())
    return error_response(400, "bad_request", "\"encoding\" must be string, base64 or json");
  const std::string encoding = j.value("encoding", std::string("string"));
  if (encoding != "string" && encoding != "base64" && encoding != "json")
    return error_response(400, "bad_request", "\"encoding\" must be string, base64 or json");
  const int64_t now = srv.now_ms();
  // Group records by partition, keeping their order.
  std::map<int32_t, records::batch_builder> builders;
  std::vector<int32_t> order;
  static thread_local uint32_t round_robin = 0;
  const auto nparts = static_cast<int32_t>(t.partitions.size());
  for (const auto& r : j["records"]) {
    if (!r.is_object()) return error_response(400, "bad_request", "each record must be an object");
    auto key = field_bytes(r.value("key", json(nullptr)), encoding);
    auto value = field_bytes(r.value("value", json(nullptr)), encoding);
    if (!key || !value) return error_response(400, "bad_request", "key/value do not match the encoding");
    int32_t partition;
    int64_t ts = now, part64 = -1;
    if (!int_field(r, "timestamp", -1, INT64_MAX, ts, err) || !int_field(r, "partition", INT32_MIN, INT32_MAX, part64, err))
      return err;
    if (r.contains("partition")) {
      partition = static_cast<int32_t>(part64);
      if (partition < 0 || partition >= nparts)
        return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "partition " + std::to_string(partition) + " does not exist");
    } else if (*key) {
      partition = kafka_partition_for_key(**key, nparts);
    } else {
      partition = static_cast<int32_t>(round_robin++ % static_cast<uint32_t>(nparts));
    }
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
    if (r.contains("headers")) {
      if (!r["headers"].is_object()) return error_response(400, "bad_request", "\"headers\" must be an object");
      for (const auto& [hk, hv] : r["headers"].items()) {
        auto hb = field_bytes(hv, encoding);
        if (!hb) return error_response(400, "bad_request", "header value does not match the encoding");
        headers.emplace_back(hk, *hb);
      }
    }
    std::vector<records::header_view> hviews;
    for (const auto& [hk, hv] : headers)
      hviews.emplace_back(hk, hv ? std::optional<std::string_view>(*hv) : std::nullopt);
    auto [it, inserted] = builders.try_emplace(partition);
    if (inserted) order.push_back(partition);
    it->second.add(ts, *key ? std::optional<std::string_view>(**key) : std::nullopt,
                   *value ? std::optional<std::string_view>(**value) : std::nullopt, hviews);
  }
  json results = json::array();
  for (int32_t p : order) {
    auto bytes = builders[p].finish();
    auto out = append_batches(srv, t, *t.partitions[static_cast<size_t>(p)], shared_chunk::adopt(std::move(bytes)), true);
    if (out.error != error_code::none) return kafka_error(out.error, out.message);
    results.push_back(json{{"partition", p}, {"base_offset", out.base_offset}});
  }
  return json_response(200, json{{"topic", t.name}, {"results", results}});
}

http_response read_records(topic_state& t, int32_t p, const http_request& req) {
  partition_state* ps = t.partition(p);
  if (!ps) return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "partition " + std::to_string(p) + " does not exist");
  auto& log = *ps->log;
  int64_t offset = log.start_offset();
  int64_t limit = 100;
  if (auto it = req.query.find("offset"); it != req.query.end()) {
    auto v = parse_int(it->second);
    if (!v) return error_response(400, "bad_request", "offset must be an integer");
    offset = *v;
  }
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    auto v = parse_int(it->second);
    if (!v || *v <= 0 || *v > 10000) return error_response(400, "bad_request", "limit must be 1..10000");
    limit = *v;
  }
  if (offset < log.start_offset() || offset > log.end_offset())
    return error_response(400, "OFFSET_OUT_OF_RANGE",
                          "offset " + std::to_string(offset) + " is outside [" + std::to_string(log.start_offset()) + ", " +
                              std::to_string(log.end_offset()) + "]");
  json recs = json::array();
  int64_t next = offset;
  std::vector<uint8_t> scratch;
  std::vector<records::record_view> views;
  while (static_cast<int64_t>(recs.size()) < limit && next < log.end_offset()) {
    auto read = log.read(next, 1 << 20);
    if (!read)
      return kafka_error(storage_error_code(read.error()), "reading offset " + std::to_string(next) + " failed: storage " +
                                                               storage::to_string(read.error()));
    auto& rd = read.value();
    if (rd.chunks.empty()) break;
    int64_t advanced = next;
    for (const auto& c : rd.chunks) {
      size_t pos = 0;
      while (pos + records::batch_header_size <= c.size && static_cast<int64_t>(recs.size()) < limit) {
        auto h = records::read_batch_header(c.data + pos);
        if (h.batch_length < records::min_batch_length || pos + h.size_bytes() > c.size) break;
        if (!h.is_control() && records::decode_records(c.data + pos, h.size_bytes(), scratch, views)) {
          for (const auto& r : views) {
            if (r.offset < next || static_cast<int64_t>(recs.size()) >= limit) continue;
            json hdrs = json::array();
            for (const auto& [hk, hv] : r.headers) hdrs.push_back(json{{"key", std::string(hk)}, {"value", bytes_json(hv)}});
            recs.push_back(json{{"partition", p},
                                {"offset", r.offset},
                                {"timestamp", r.timestamp},
                                {"key", bytes_json(r.key)},
                                {"value", bytes_json(r.value)},
                                {"headers", hdrs}});
            advanced = r.offset + 1;
          }
        }
        advanced = std::max(advanced, h.last_offset() + 1);
        pos += h.size_bytes();
      }
    }
    if (advanced <= next) break;
    next = advanced;
  }
  int64_t next_offset = recs.empty() ? next : recs.back()["offset"].get<int64_t>() + 1;
  return json_response(200, json{{"topic", t.name},
                                 {"partition", p},
                                 {"records", recs},
                                 {"next_offset", next_offset},
                                 {"end_offset", log.end_offset()}});
}

http_response topics_route(server& srv, const http_request& req, const std::vector<std::string>& parts) {
  auto& cl = srv.cluster();
  if (parts.size() == 2) {
    if (req.method == "GET") {
      json arr = json::array();
      for (const auto& [name, t] : cl.topics()) arr.push_back(topic_summary(*t));
      return json_response(200, arr);
    }
    if (req.method == "POST") return create_topic(srv, req);
    return not_allowed("GET, POST", req.method + " is not allowed on /v1/topics");
  }
  topic_state* t = cl.find(parts[2]);
  if (!t) return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "topic '" + parts[2] + "' does not exist");
  if (parts.size() == 3) {
    if (req.method == "GET") return json_response(200, topic_detail(*t));
    if (req.method == "DELETE") {
      std::string name = t->name;
      if (auto e = cl.delete_topic(name)) return kafka_error(e.code, e.message);
      return json_response(200, json{{"deleted", name}});
    }
    return not_allowed("GET, DELETE", req.method + " is not allowed on a topic");
  }
  if (parts.size() == 4 && parts[3] == "partitions") {
    if (req.method != "POST") return not_allowed("POST", "use POST to add partitions");
    http_response err;
    auto body = parse_body(req, err);
    if (!body) return err;
    int64_t count = -1;
    if (!body->contains("count")) return error_response(400, "bad_request", "\"count\" (integer) is required");
    if (!int_field(*body, "count", 1, INT32_MAX, count, err)) return err;
    if (auto e = cl.create_partitions(*t, static_cast<int32_t>(count), false)) return kafka_error(e.code, e.message);
    return json_response(200, topic_detail(*t));
  }
  if (parts.size() == 4 && parts[3] == "records") {
    if (req.method != "POST") return not_allowed("POST", "use POST to produce records");
    return produce_records(srv, *t, req);
  }
  if (parts.size() == 6 && parts[3] == "partitions" && parts[5] == "records") {
    if (req.method != "GET") return not_allowed("GET", "use GET to read records");
    auto p = parse_int(parts[4]);
    if (!p || *p < 0 || *p > INT32_MAX) return error_response(400, "bad_request", "partition must be an integer in [0, 2^31)");
    return read_records(*t, static_cast<int32_t>(*p), req);
  }
  return error_response(404, "not_found", "no route for " + req.path);
}

// ---- groups ---------------------------------------------------------------------------------

json group_detail(server& srv, const std::string& id) {
  auto d = srv.groups().describe(id);
  json members = json::array();
  for (const auto& m : d.members)
    members.push_back(json{{"member_id", m.member_id},
                           {"group_instance_id", m.group_instance_id ? json(*m.group_instance_id) : json(nullptr)},
                           {"client_id", m.client_id},
                           {"client_host", m.client_host},
                           {"assignment", assignment_json(m.assignment)}});
  json offsets = json::array();
  int64_t total = 0;
  auto committed = srv.groups().all_committed(id);
  for (const auto& l : groups::compute_lag(srv.cluster(), srv.groups(), id)) {
    std::string metadata;
    if (auto t = committed.find(l.topic); t != committed.end())
      if (auto c = t->second.find(l.partition); c != t->second.end()) metadata = c->second.metadata;
    offsets.push_back(json{{"topic", l.topic},
                           {"partition", l.partition},
                           {"committed_offset", l.committed},
                           {"end_offset", l.end_offset},
                           {"lag", l.lag},
                           {"metadata", metadata}});
    total += l.lag;
  }
  return json{{"group_id", id},
              {"state", groups::to_string(d.state)},
              {"protocol_type", d.protocol_type},
              {"protocol", d.protocol_name},
              {"generation_id", d.generation_id},
              {"leader", d.leader},
              {"members", members},
              {"offsets", offsets},
              {"total_lag", total}};
}

http_response reset_offsets(server& srv, const std::string& id, const http_request& req) {
  http_response err;
  auto body = parse_body(req, err);
  if (!body) return err;
  const json& j = *body;
  auto d = srv.groups().describe(id);
  if (d.state != groups::group_state::empty && d.state != groups::group_state::dead)
    return error_response(409, "NON_EMPTY_GROUP", "group '" + id + "' has active members (state " + groups::to_string(d.state) + ")");
  if (!j.contains("topic") || !j["topic"].is_string()) return error_response(400, "bad_request", "\"topic\" (string) is required");
  topic_state* t = srv.cluster().find(j["topic"].get<std::string>());
  if (!t) return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "topic does not exist");
  std::vector<int32_t> parts;
  if (j.contains("partitions")) {
    if (!j["partitions"].is_array()) return error_response(400, "bad_request", "\"partitions\" must be an array");
    for (const auto& p : j["partitions"]) {
      if (!p.is_number_integer() || p.get<int64_t>() < 0 || p.get<int64_t>() > INT32_MAX || !t->partition(p.get<int32_t>()))
        return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "no such partition: " + p.dump());
      parts.push_back(p.get<int32_t>());
    }
  } else {
    for (const auto& p : t->partitions) parts.push_back(p->index);
  }
  if (j.contains("to") && !j["to"].is_string())
    return error_response(400, "bad_request", "\"to\" must be earliest, latest, offset or timestamp");
  const std::string to = j.value("to", std::string());
  std::vector<groups::offset_commit> commits;
  for (int32_t p : parts) {
    auto& log = *t->partition(p)->log;
    int64_t off;
    if (to == "earliest") off = log.start_offset();
    else if (to == "latest") off = log.end_offset();
    else if (to == "offset") {
      if (!j.contains("offset") || !j["offset"].is_number_integer()) return error_response(400, "bad_request", "\"offset\" (integer) is required");
      off = std::clamp<int64_t>(j["offset"].get<int64_t>(), log.start_offset(), log.end_offset());
    } else if (to == "timestamp") {
      if (!j.contains("timestamp") || !j["timestamp"].is_number_integer())
        return error_response(400, "bad_request", "\"timestamp\" (integer ms) is required");
      auto pos = position_for_timestamp(log, j["timestamp"].get<int64_t>());
      if (!pos)
        return kafka_error(storage_error_code(pos.error()), "reading partition " + std::to_string(p) +
                                                                " failed: storage " + storage::to_string(pos.error()));
      off = pos.value().offset >= 0 ? pos.value().offset : log.end_offset();
    } else {
      return error_response(400, "bad_request", "\"to\" must be earliest, latest, offset or timestamp");
    }
    commits.push_back(groups::offset_commit{t->name, p, off, -1, std::string()});
  }
  auto errs = srv.groups().commit_offsets(id, -1, "", std::nullopt, commits, srv.now_ms(),
                                          [&](const std::string&, int32_t p) { return t->partition(p) != nullptr; });
  std::vector<storage::offset_record> recs;
  for (size_t i = 0; i < commits.size(); ++i) {
    if (errs[i] != error_code::none) return kafka_error(errs[i], "offset reset refused");
    recs.push_back(storage::offset_record{id, commits[i].topic, commits[i].partition, commits[i].offset, -1, "", srv.now_ms()});
  }
  if (auto st = srv.engine().metadata().put_offsets(recs); !st)
    return kafka_error(storage_error_code(st.error()), "storing offsets failed");
  return json_response(200, group_detail(srv, id));
}

http_response groups_route(server& srv, const http_request& req, const std::vector<std::string>& parts) {
  if (parts.size() == 2) {
    if (req.method != "GET") return not_allowed("GET", "use GET to list groups");
    json arr = json::array();
    for (const auto& g : srv.groups().list_groups()) {
      auto d = srv.groups().describe(g.group_id);
      arr.push_back(json{{"group_id", g.group_id},
                         {"state", groups::to_string(g.state)},
                         {"protocol_type", g.protocol_type},
                         {"members", d.members.size()}});
    }
    return json_response(200, arr);
  }
  const std::string& id = parts[2];
  if (parts.size() == 3) {
    if (req.method == "GET") {
      if (!group_known(srv, id)) return error_response(404, "GROUP_ID_NOT_FOUND", "group '" + id + "' does not exist");
      return json_response(200, group_detail(srv, id));
    }
    if (req.method == "DELETE") {
      auto e = srv.groups().delete_group(id);
      if (e != error_code::none) return kafka_error(e, "cannot delete group '" + id + "'");
      (void)srv.engine().metadata().delete_offsets(id, "");
      return json_response(200, json{{"deleted", id}});
    }
    return not_allowed("GET, DELETE", req.method + " is not allowed on a group");
  }
  if (parts.size() == 4 && parts[3] == "offsets") {
    if (req.method != "POST") return not_allowed("POST", "use POST to reset offsets");
    return reset_offsets(srv, id, req);
  }
  return error_response(404, "not_found", "no route for " + req.path);
}

}  // namespace

int32_t kafka_partition_for_key(const std::string& key, int32_t partitions) {
  // murmur2 as in Kafka's Utils.murmur2 (seed 0x9747b28c).
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const auto len = static_cast<uint32_t>(key.size());
  uint32_t h = 0x9747b28c ^ len;
  uint32_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t k = uint32_t(data[i]) | (uint32_t(data[i + 1]) << 8) | (uint32_t(data[i + 2]) << 16) | (uint32_t(data[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (len % 4) {
    case 3:
      h ^= uint32_t(data[i + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t(data[i + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t(data[i]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>((h & 0x7fffffff) % static_cast<uint32_t>(partitions));
}

http_response handle_admin_request(server& srv, const http_request& req) {
  auto parts = split_path(req.path);
  try {
    if (parts.size() == 1 && parts[0] == "health") {
      if (req.method != "GET") return not_allowed("GET", "use GET");
      if (!srv.serving()) return error_response(503, "not_ready", "the Kafka listener is not serving");
      return json_response(200, json{{"status", "ok"}});
    }
    if (parts.size() == 1 && parts[0] == "metrics") {
      if (req.method != "GET") return not_allowed("GET", "use GET");
      return http_response{200, "text/plain; version=0.0.4; charset=utf-8", render_metrics(srv), {}};
    }
    if (parts.size() >= 2 && parts[0] == "v1") {
      if (parts[1] == "cluster" && parts.size() == 2) {
        if (req.method != "GET") return not_allowed("GET", "use GET");
        json listeners = json::array();
        for (const auto& n : srv.cluster().nodes())
          listeners.push_back(json{{"name", "kafka"}, {"node_id", n.node_id}, {"host", n.host}, {"port", n.port}});
        if (srv.admin_port())
          listeners.push_back(json{{"name", "admin"}, {"host", srv.config().admin_host}, {"port", srv.admin_port()}});
        auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - srv.started_at()).count();
        return json_response(200, json{{"cluster_id", srv.cluster().cluster_id()},
                                       {"broker_id", srv.config().node_id},
                                       {"controller_id", srv.cluster().controller_id()},
                                       {"listeners", listeners},
                                       {"version", version_string},
                                       {"uptime_ms", uptime},
                                       {"storage", srv.engine().name()},
                                       {"topics", srv.cluster().topics().size()}});
      }
      if (parts[1] == "topics") return topics_route(srv, req, parts);
      if (parts[1] == "groups") return groups_route(srv, req, parts);
    }
  } catch (const json::exception& ex) {
    return error_response(400, "bad_request", std::string("bad JSON value: ") + ex.what());
  } catch (const std::exception& ex) {
    spdlog::error("admin {} {}: {}", req.method, req.path, ex.what());
    return error_response(500, "internal_error", ex.what());
  }
  return error_response(404, "not_found", "no route for " + req.path);
}

// ---- metrics --------------------------------------------------------------------------------

std::string render_metrics(server& srv) {
  std::string out;
  auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  auto& m = srv.metrics();
  line("# HELP minikafka_requests_total Kafka requests handled, by API.");
  line("# TYPE minikafka_requests_total counter");
  for (size_t k = 0; k < m.apis.size(); ++k)
    if (m.apis[k].requests) {
      const auto* a = proto::find_api_key(static_cast<int16_t>(k));
      line("minikafka_requests_total{api=\"" + std::string(a ? a->name : "unknown") + "\",api_key=\"" + std::to_string(k) +
           "\"} " + std::to_string(m.apis[k].requests));
    }
  line("# HELP minikafka_request_errors_total Kafka requests that returned an error code or closed the connection.");
  line("# TYPE minikafka_request_errors_total counter");
  for (size_t k = 0; k < m.apis.size(); ++k)
    if (m.apis[k].requests) {
      const auto* a = proto::find_api_key(static_cast<int16_t>(k));
      line("minikafka_request_errors_total{api=\"" + std::string(a ? a->name : "unknown") + "\"} " + std::to_string(m.apis[k].errors));
    }
  line("# HELP minikafka_request_duration_seconds Time from a request's arrival to its response.");
  line("# TYPE minikafka_request_duration_seconds histogram");
  for (size_t k = 0; k < m.apis.size(); ++k) {
    const auto& am = m.apis[k];
    if (!am.latency_count) continue;
    const auto* a = proto::find_api_key(static_cast<int16_t>(k));
    std::string api = a ? a->name : "unknown";
    uint64_t cum = 0;
    for (size_t i = 0; i < latency_buckets.size(); ++i) {
      cum += am.buckets[i];
      line("minikafka_request_duration_seconds_bucket{api=\"" + api + "\",le=\"" + fmt::format("{}", latency_buckets[i]) + "\"} " +
           std::to_string(cum));
    }
    line("minikafka_request_duration_seconds_bucket{api=\"" + api + "\",le=\"+Inf\"} " + std::to_string(am.latency_count));
    line("minikafka_request_duration_seconds_sum{api=\"" + api + "\"} " + fmt::format("{}", am.latency_sum));
    line("minikafka_request_duration_seconds_count{api=\"" + api + "\"} " + std::to_string(am.latency_count));
  }
  line("# HELP minikafka_bytes_in_total Request bytes received.");
  line("# TYPE minikafka_bytes_in_total counter");
  line("minikafka_bytes_in_total " + std::to_string(m.bytes_in));
  line("# HELP minikafka_bytes_out_total Response bytes queued for sending.");
  line("# TYPE minikafka_bytes_out_total counter");
  line("minikafka_bytes_out_total " + std::to_string(m.bytes_out));
  line("# HELP minikafka_connections Open Kafka connections.");
  line("# TYPE minikafka_connections gauge");
  line("minikafka_connections " + std::to_string(srv.connection_count()));
  line("# HELP minikafka_connections_opened_total Kafka connections accepted.");
  line("# TYPE minikafka_connections_opened_total counter");
  line("minikafka_connections_opened_total " + std::to_string(m.connections_opened));
  line("# HELP minikafka_connections_rejected_total Connections closed because of a bad frame or request.");
  line("# TYPE minikafka_connections_rejected_total counter");
  line("minikafka_connections_rejected_total " + std::to_string(m.connections_rejected_requests));
  size_t partitions = 0;
  for (const auto& [name, t] : srv.cluster().topics()) partitions += t->partitions.size();
  line("# HELP minikafka_topics Topics.");
  line("# TYPE minikafka_topics gauge");
  line("minikafka_topics " + std::to_string(srv.cluster().topics().size()));
  line("# HELP minikafka_partitions Partitions.");
  line("# TYPE minikafka_partitions gauge");
  line("minikafka_partitions " + std::to_string(partitions));
  struct partition_gauge {
    const char* name;
    const char* help;
    int64_t (*value)(const partition_state&);
  };
  const partition_gauge gauges[] = {
      {"minikafka_partition_messages", "Records retained in a partition (end offset - start offset).",
       [](const partition_state& p) { return p.log->end_offset() - p.log->start_offset(); }},
      {"minikafka_partition_end_offset", "High watermark of a partition.",
       [](const partition_state& p) { return p.log->end_offset(); }},
      {"minikafka_partition_size_bytes", "Stored bytes of a partition.",
       [](const partition_state& p) { return static_cast<int64_t>(p.log->size_bytes()); }},
  };
  for (const auto& g : gauges) {
    line(std::string("# HELP ") + g.name + " " + g.help);
    line(std::string("# TYPE ") + g.name + " gauge");
    for (const auto& [name, t] : srv.cluster().topics())
      for (const auto& p : t->partitions)
        line(std::string(g.name) + "{topic=\"" + name + "\",partition=\"" + std::to_string(p->index) + "\"} " +
             std::to_string(g.value(*p)));
  }
  auto groups = srv.groups().list_groups();
  line("# HELP minikafka_groups Consumer groups, by state.");
  line("# TYPE minikafka_groups gauge");
  std::map<std::string, int> by_state;
  for (const auto& g : groups) by_state[groups::to_string(g.state)]++;
  for (const auto& [st, n] : by_state) line("minikafka_groups{state=\"" + st + "\"} " + std::to_string(n));
  line("# HELP minikafka_group_lag Records not yet consumed by a group (sum over its committed partitions).");
  line("# TYPE minikafka_group_lag gauge");
  for (const auto& g : groups) {
    int64_t total = 0;
    for (const auto& l : groups::compute_lag(srv.cluster(), srv.groups(), g.group_id)) total += l.lag;
    line("minikafka_group_lag{group=\"" + label(g.group_id) + "\"} " + std::to_string(total));
  }
  return out;
}

}  // namespace mk
