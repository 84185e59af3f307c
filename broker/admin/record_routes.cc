// Records over HTTP: produce (auto-creating the topic as Kafka's Produce path does), read one
// partition, read a whole topic. Keys, values and header values are bytes written in JSON by an
// encoding (text, base64, json) chosen per part, the same way in both directions; headers are a
// list of {"key", "value"} both ways (the older object form is accepted on input).
// The route entries are at the end.
#include <algorithm>
#include <map>

#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"

namespace mk::admin {

namespace {

enum class encoding_kind { text, base64, json };

const char* name_of(encoding_kind e) {
  switch (e) {
    case encoding_kind::text:
      return "text";
    case encoding_kind::base64:
      return "base64";
    case encoding_kind::json:
      return "json";
  }
  return "text";
}

struct encodings {
  encoding_kind key = encoding_kind::text;
  encoding_kind value = encoding_kind::text;
  encoding_kind header = encoding_kind::text;
};

std::optional<encoding_kind> parse_encoding(const std::string& s) {
  if (s == "text" || s == "string") return encoding_kind::text;  // "string": the old name, still accepted
  if (s == "base64") return encoding_kind::base64;
  if (s == "json") return encoding_kind::json;
  return std::nullopt;
}

// "encoding" (all three parts), then "key_encoding", "value_encoding", "header_encoding", each from
// the query string and, for produce, the body; the two may not disagree.
bool read_encodings(const http_request& req, const json* body, encodings& out, http_response& err) {
  const char* names[] = {"encoding", "key_encoding", "value_encoding", "header_encoding"};
  for (const char* name : names) {
    std::optional<std::string> given;
    if (auto it = req.query.find(name); it != req.query.end()) given = it->second;
    if (body && body->contains(name)) {
      const json& v = (*body)[name];
      if (!v.is_string()) {
        err = error_response(400, "bad_request", std::string("\"") + name + "\" must be text, base64 or json");
        return false;
      }
      if (given && *given != v.get<std::string>()) {
        err = error_response(400, "bad_request",
                             std::string(name) + " is given twice, differently, in the query and the body");
        return false;
      }
      given = v.get<std::string>();
    }
    if (!given) continue;
    auto e = parse_encoding(*given);
    if (!e) {
      err = error_response(400, "bad_request", std::string(name) + " must be text, base64 or json, not '" + *given + "'");
      return false;
    }
    if (name == names[0]) {
      out.key = out.value = out.header = *e;
    } else if (name == names[1]) {
      out.key = *e;
    } else if (name == names[2]) {
      out.value = *e;
    } else {
      out.header = *e;
    }
  }
  return true;
}

// A key, value or header value from a request body into bytes (nullopt: Kafka's null). False when
// it does not fit the encoding (base64 that is not a base64 string).
bool to_bytes(const json& v, encoding_kind e, std::optional<std::string>& out) {
  out.reset();
  if (v.is_null()) return true;
  switch (e) {
    case encoding_kind::base64: {
      if (!v.is_string()) return false;
      auto d = encoding::base64_decode(v.get<std::string>());
      if (!d) return false;
      out = std::move(*d);
      return true;
    }
    case encoding_kind::json:  // always the JSON text, so "x" is stored as "\"x\"" (as json.dumps)
      out = v.dump();
      return true;
    case encoding_kind::text:  // a string as its UTF-8; another JSON value as its JSON text
      out = v.is_string() ? v.get<std::string>() : v.dump();
      return true;
  }
  return false;
}

// Bytes into a response's JSON by the encoding. False (with the HTTP-level error name in `why`)
// when the bytes cannot be written that way.
bool from_bytes(const std::optional<std::string>& b, encoding_kind e, json& out, const char*& why) {
  if (!b) {
    out = nullptr;
    return true;
  }
  switch (e) {
    case encoding_kind::base64:
      out = encoding::base64_encode(*b);
      return true;
    case encoding_kind::text:
      if (!encoding::valid_utf8(*b)) {
        why = "not_text";
        return false;
      }
      out = *b;
      return true;
    case encoding_kind::json:
      out = json::parse(*b, nullptr, /*allow_exceptions=*/false);
      if (out.is_discarded()) {
        why = "not_json";
        return false;
      }
      return true;
  }
  return false;
}

bool parse_headers(const json& h, encoding_kind e, services::new_record& nr, http_response& err) {
  auto add = [&](const json& key, const json& value) {
    if (!key.is_string()) {
      err = error_response(400, "bad_request", "a header key must be a string");
      return false;
    }
    std::optional<std::string> bytes;
    if (!to_bytes(value, e, bytes)) {
      err = error_response(400, "bad_request",
                           "header '" + key.get<std::string>() + "': the value is not " + name_of(e));
      return false;
    }
    nr.headers.emplace_back(key.get<std::string>(), std::move(bytes));
    return true;
  };
  if (h.is_array()) {
    for (const auto& item : h) {
      if (!item.is_object() || !item.contains("key")) {
        err = error_response(400, "bad_request", "each header must be an object {\"key\", \"value\"}");
        return false;
      }
      for (const auto& [k, v] : item.items())
        if (k != "key" && k != "value") {
          err = error_response(400, "bad_request", "a header has only \"key\" and \"value\", not \"" + k + "\"");
          return false;
        }
      if (!add(item["key"], item.value("value", json(nullptr)))) return false;
    }
    return true;
  }
  if (h.is_object()) {  // the older form: {"key": value, ...}
    for (const auto& [k, v] : h.items())
      if (!add(json(k), v)) return false;
    return true;
  }
  err = error_response(400, "bad_request", "\"headers\" must be a list of {\"key\", \"value\"}");
  return false;
}

http_response produce(admin_context& ctx, const http_request& req, const path_params& pp) {
  http_response err;
  auto body = parse_body(req, err);
  if (!body) return err;
  const json& j = *body;
  for (const auto& [k, v] : j.items())
    if (k != "records" && k != "encoding" && k != "key_encoding" && k != "value_encoding" && k != "header_encoding")
      return error_response(400, "bad_request", "unknown field \"" + k + "\" (records, encoding, key_encoding, value_encoding, header_encoding)");
  if (!j.contains("records") || !j["records"].is_array() || j["records"].empty())
    return error_response(400, "bad_request", "\"records\" must be a non-empty array");
  encodings enc;
  if (!read_encodings(req, &j, enc, err)) return err;
  // The whole body is checked before the topic is looked up (or auto-created).
  std::vector<services::new_record> recs;
  for (const auto& r : j["records"]) {
    if (!r.is_object()) return error_response(400, "bad_request", "each record must be an object");
    for (const auto& [k, v] : r.items())
      if (k != "key" && k != "value" && k != "headers" && k != "partition" && k != "timestamp")
        return error_response(400, "bad_request", "unknown record field \"" + k + "\" (key, value, headers, partition, timestamp)");
    services::new_record nr;
    if (!to_bytes(r.value("key", json(nullptr)), enc.key, nr.key))
      return error_response(400, "bad_request", std::string("a record key is not ") + name_of(enc.key));
    if (!to_bytes(r.value("value", json(nullptr)), enc.value, nr.value))
      return error_response(400, "bad_request", std::string("a record value is not ") + name_of(enc.value));
    int64_t ts = -1, part = -1;
    if (!int_field(r, "timestamp", -1, INT64_MAX, ts, err) || !int_field(r, "partition", INT32_MIN, INT32_MAX, part, err))
      return err;
    nr.timestamp = ts;
    if (r.contains("partition")) {
      if (part < 0)
        return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "partition " + std::to_string(part) + " does not exist");
      nr.partition = static_cast<int32_t>(part);
    }
    if (r.contains("headers") && !parse_headers(r["headers"], enc.header, nr, err)) return err;
    recs.push_back(std::move(nr));
  }
  // As Kafka's Produce: a missing topic is created when auto-creation is on.
  const std::string& name = pp.at("topic");
  topic_state* t = ctx.svc.topics.find_or_create(name);
  if (!t) {
    auto e = services::topics_service::missing_topic_error(name);
    if (e == proto::error_code::invalid_topic_exception)
      return kafka_error(e, "'" + name + "' is not a legal topic name");
    if (cluster::is_internal_topic(name))
      return kafka_error(proto::error_code::invalid_request, "'" + name + "' is an internal topic name and cannot be created");
    return kafka_error(e, "topic '" + name + "' does not exist (auto-creation is off: --auto-create-topics)");
  }
  json results = json::array();
  for (const auto& a : ctx.svc.records.append_records(*t, recs)) {
    if (a.outcome.error != proto::error_code::none) return kafka_error(a.outcome.error, a.outcome.message);
    results.push_back(json{{"partition", a.partition}, {"base_offset", a.outcome.base_offset}});
  }
  return json_response(200, json{{"topic", t->name}, {"results", results}});
}

// The records as JSON, or false and a 422 in `err` naming the first field that does not fit.
bool records_json(const std::vector<services::stored_record>& recs, const encodings& enc, json& out, http_response& err) {
  out = json::array();
  for (const auto& r : recs) {
    json key, value, headers = json::array();
    const char* why = nullptr;
    std::string what;
    if (!from_bytes(r.key, enc.key, key, why)) {
      what = std::string("key is not ") + (enc.key == encoding_kind::json ? "JSON" : "UTF-8 text");
    } else if (!from_bytes(r.value, enc.value, value, why)) {
      what = std::string("value is not ") + (enc.value == encoding_kind::json ? "JSON" : "UTF-8 text");
    } else {
      for (const auto& [hk, hv] : r.headers) {
        json v;
        if (!from_bytes(hv, enc.header, v, why)) {
          what = "header '" + hk + "' is not " + (enc.header == encoding_kind::json ? "JSON" : "UTF-8 text");
          break;
        }
        headers.push_back(json{{"key", hk}, {"value", std::move(v)}});
      }
    }
    if (why) {
      err = error_response(422, why,
                           "partition " + std::to_string(r.partition) + " offset " + std::to_string(r.offset) + ": the " +
                               what + "; read it with " + (std::string(why) == "not_json" ? "text or " : "") +
                               "base64 (encoding=, key_encoding=, value_encoding=, header_encoding=)");
      return false;
    }
    out.push_back(json{{"partition", r.partition},
                       {"offset", r.offset},
                       {"timestamp", r.timestamp},
                       {"key", std::move(key)},
                       {"value", std::move(value)},
                       {"headers", std::move(headers)}});
  }
  return true;
}

bool read_limit(const http_request& req, int64_t& limit, http_response& err) {
  limit = 100;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    auto v = parse_int(it->second);
    if (!v || *v <= 0 || *v > 10000) {
      err = error_response(400, "bad_request", "limit must be 1..10000");
      return false;
    }
    limit = *v;
  }
  return true;
}

// What a read saw, for a caller that waits for records: whether it found none, and the
// partitions to watch for new ones.
struct read_outcome {
  bool empty = false;
  std::vector<std::weak_ptr<partition_state>> partitions;
};

http_response read_partition(admin_context& ctx, const http_request& req, const path_params& pp, read_outcome& seen) {
  http_response err;
  topic_state* t = path_topic(ctx, pp, err);
  if (!t) return err;
  auto p = parse_int(pp.at("partition"));
  if (!p || *p < 0 || *p > INT32_MAX) return error_response(400, "bad_request", "partition must be an integer in [0, 2^31)");
  std::optional<int64_t> offset;
  int64_t limit = 0;
  if (auto it = req.query.find("offset"); it != req.query.end()) {
    offset = parse_int(it->second);
    if (!offset) return error_response(400, "bad_request", "offset must be an integer");
  }
  encodings enc;
  if (!read_limit(req, limit, err) || !read_encodings(req, nullptr, enc, err)) return err;
  auto rd = ctx.svc.records.read_records(*t, static_cast<int32_t>(*p), offset, limit);
  if (rd.error != proto::error_code::none) return kafka_error(rd.error, rd.message);
  seen.empty = rd.records.empty();
  seen.partitions.push_back(t->partitions[static_cast<size_t>(*p)]);
  json recs;
  if (!records_json(rd.records, enc, recs, err)) return err;
  return json_response(200, json{{"topic", t->name},
                                 {"partition", *p},
                                 {"records", std::move(recs)},
                                 {"next_offset", rd.next_offset},
                                 {"end_offset", rd.end_offset}});
}

// "0:5,1:3" -> {0: 5, 1: 3}; false on anything else.
bool parse_cursor(const std::string& s, std::map<int32_t, int64_t>& out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t comma = s.find(',', i);
    if (comma == std::string::npos) comma = s.size();
    const std::string item = s.substr(i, comma - i);
    const size_t colon = item.find(':');
    if (colon == std::string::npos) return false;
    auto p = parse_int(item.substr(0, colon));
    auto o = parse_int(item.substr(colon + 1));
    if (!p || !o || *p < 0 || *p > INT32_MAX || *o < 0 || !out.emplace(static_cast<int32_t>(*p), *o).second) return false;
    i = comma + 1;
  }
  return true;
}

http_response read_topic(admin_context& ctx, const http_request& req, const path_params& pp, read_outcome& seen) {
  http_response err;
  topic_state* t = path_topic(ctx, pp, err);
  if (!t) return err;
  int64_t limit = 0;
  encodings enc;
  if (!read_limit(req, limit, err) || !read_encodings(req, nullptr, enc, err)) return err;
  std::map<int32_t, int64_t> cursor;
  if (auto it = req.query.find("cursor"); it != req.query.end() && !parse_cursor(it->second, cursor))
    return error_response(400, "bad_request", "cursor must be PARTITION:OFFSET,... as a response's \"cursor\" gives it");
  const auto nparts = static_cast<int32_t>(t->partitions.size());
  for (const auto& [p, o] : cursor)
    if (p >= nparts)
      return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "the cursor names partition " + std::to_string(p) +
                                                                   " of '" + t->name + "', which has " +
                                                                   std::to_string(nparts));
  // Up to `limit` records from each partition, then a merge that keeps each partition's order.
  std::vector<services::records_read> reads;
  for (int32_t p = 0; p < nparts; ++p) {
    std::optional<int64_t> from;
    if (auto it = cursor.find(p); it != cursor.end()) from = it->second;
    reads.push_back(ctx.svc.records.read_records(*t, p, from, limit));
    auto& rd = reads.back();
    if (rd.error != proto::error_code::none)
      return kafka_error(rd.error, "partition " + std::to_string(p) + ": " + rd.message);
    if (rd.records.empty()) continue;
    rd.next_offset = rd.records.front().offset;  // from here on: where this partition continues
  }
  std::vector<size_t> head(reads.size(), 0);
  std::vector<services::stored_record> merged;
  while (static_cast<int64_t>(merged.size()) < limit) {
    int32_t best = -1;
    for (int32_t p = 0; p < nparts; ++p) {
      const auto& recs = reads[static_cast<size_t>(p)].records;
      if (head[static_cast<size_t>(p)] >= recs.size()) continue;
      if (best < 0 || recs[head[static_cast<size_t>(p)]].timestamp <
                          reads[static_cast<size_t>(best)].records[head[static_cast<size_t>(best)]].timestamp)
        best = p;
    }
    if (best < 0) break;
    auto& rd = reads[static_cast<size_t>(best)];
    auto& r = rd.records[head[static_cast<size_t>(best)]++];
    rd.next_offset = r.offset + 1;
    merged.push_back(std::move(r));
  }
  seen.empty = merged.empty();
  seen.partitions.assign(t->partitions.begin(), t->partitions.end());
  json recs;
  if (!records_json(merged, enc, recs, err)) return err;
  json parts = json::array();
  std::string next;
  for (int32_t p = 0; p < nparts; ++p) {
    const auto& rd = reads[static_cast<size_t>(p)];
    parts.push_back(json{{"partition", p}, {"next_offset", rd.next_offset}, {"end_offset", rd.end_offset}});
    next += (p ? "," : "") + std::to_string(p) + ":" + std::to_string(rd.next_offset);
  }
  return json_response(200, json{{"topic", t->name}, {"records", std::move(recs)}, {"cursor", next}, {"partitions", parts}});
}

// Wakes a parked read: an append to a watched partition (or the broker stopping) cancels its timer.
class append_wakeup final : public append_waiter {
 public:
  explicit append_wakeup(boost::asio::steady_timer& t) : timer_(t) {}
  ~append_wakeup() override {
    for (auto& w : watched_)
      if (auto p = w.lock()) p->remove_waiter(this);
  }
  void on_append() override { timer_.cancel(); }
  void watch(const std::weak_ptr<partition_state>& w) {
    if (auto p = w.lock()) {
      p->waiters.push_back(this);
      watched_.push_back(w);
    }
  }

 private:
  boost::asio::steady_timer& timer_;
  std::vector<std::weak_ptr<partition_state>> watched_;
};

constexpr int64_t max_wait_ms = 60000;

// A read that, with ?wait_ms=N and nothing to return yet, waits up to N ms for records to arrive
// (as a Kafka Fetch waits up to fetch.max.wait.ms): re-read on every append to the partitions
// read, answer as soon as there are records, or with none when the time is up. The read is done
// afresh each time, so a topic deleted meanwhile answers 404.
template <http_response (*read)(admin_context&, const http_request&, const path_params&, read_outcome&)>
boost::asio::awaitable<http_response> read_waiting(admin_context& ctx, http_request req, path_params pp) {
  int64_t wait_ms = 0;
  if (auto it = req.query.find("wait_ms"); it != req.query.end()) {
    auto v = parse_int(it->second);
    if (!v || *v < 0 || *v > max_wait_ms)
      co_return error_response(400, "bad_request", "wait_ms must be 0.." + std::to_string(max_wait_ms));
    wait_ms = *v;
  }
  const int64_t deadline = ctx.clk ? ctx.clk->steady_ms() + wait_ms : 0;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    read_outcome seen;
    http_response r = read(ctx, req, pp, seen);
    if (!seen.empty || wait_ms == 0 || !ctx.clk || (ctx.stopping && *ctx.stopping) ||
        ctx.clk->steady_ms() >= deadline)
      co_return r;
    append_wakeup wakeup(timer);
    for (const auto& p : seen.partitions) wakeup.watch(p);
    clock_wait armed = ctx.clk->arm(timer, deadline);
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

}  // namespace

std::vector<route> record_route_table() {
  return {
      {"POST", "/v1/topics/{topic}/records", produce, nullptr, R"json({
        "summary": "Produce records",
        "description": "A missing topic is created first when auto-creation is on (--auto-create-topics, default true), as Kafka's Produce does; otherwise UNKNOWN_TOPIC_OR_PARTITION (404). The whole body is checked before anything is created or appended. Records go to their partition, by key, or round robin; each partition's records are appended as one batch.",
        "tags": ["records"],
        "parameters": [{"$ref": "#/components/parameters/encoding"}, {"$ref": "#/components/parameters/key_encoding"},
                       {"$ref": "#/components/parameters/value_encoding"}, {"$ref": "#/components/parameters/header_encoding"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProduceRequest"}}}},
        "responses": {"200": {"description": "appended", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProduceResponse"}}}},
                      "404": {"$ref": "#/components/responses/Error"}}})json"},
      {"GET", "/v1/topics/{topic}/records", nullptr, read_waiting<read_topic>, R"json({
        "summary": "Read records of every partition of a topic",
        "description": "Without a cursor every partition is read from its log start; a partition the cursor does not name starts at its log start. Pass the response's cursor back to continue. A cursor offset outside a partition's [start, end] is OFFSET_OUT_OF_RANGE (400).",
        "tags": ["records"],
        "parameters": [{"name": "cursor", "in": "query", "description": "PARTITION:OFFSET,... from a previous response",
                        "schema": {"type": "string"}},
                       {"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/wait_ms"},
                       {"$ref": "#/components/parameters/encoding"},
                       {"$ref": "#/components/parameters/key_encoding"}, {"$ref": "#/components/parameters/value_encoding"},
                       {"$ref": "#/components/parameters/header_encoding"}],
        "responses": {"200": {"description": "records and where to continue", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TopicRecords"}}}},
                      "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}})json"},
      {"GET", "/v1/topics/{topic}/partitions/{partition}/records", nullptr, read_waiting<read_partition>, R"json({
        "summary": "Read records of one partition, in offset order",
        "description": "An offset outside [log start, end] is OFFSET_OUT_OF_RANGE (400). Control records (transaction markers) are skipped.",
        "tags": ["records"],
        "parameters": [{"name": "offset", "in": "query", "description": "first offset (default: the log start)",
                        "schema": {"type": "integer", "minimum": 0}},
                       {"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/wait_ms"},
                       {"$ref": "#/components/parameters/encoding"},
                       {"$ref": "#/components/parameters/key_encoding"}, {"$ref": "#/components/parameters/value_encoding"},
                       {"$ref": "#/components/parameters/header_encoding"}],
        "responses": {"200": {"description": "records and where to continue", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PartitionRecords"}}}},
                      "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}})json"},
  };
}

}  // namespace mk::admin
