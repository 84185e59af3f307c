// Helpers shared by the admin routes: JSON responses, the error format, request-body parsing,
// and record bytes as JSON.
// Runs on: broker state thread.
#pragma once

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "broker/admin/admin_api.h"
#include "minikafka_common/encoding.h"
#include "protocol/error_code.h"

namespace mk::admin {

// Insertion-ordered, so responses read in the order they are built ("topic" before "records").
using json = nlohmann::ordered_json;

// Invalid UTF-8 in a string that came from a client (a group's client id, a header key) becomes
// U+FFFD, as Kafka's Java client decodes it, instead of failing the response.
inline http_response json_response(int status, const json& j) {
  return http_response{status, "application/json", j.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

// The error names of HTTP-level failures ("error" in the error body). Errors that are Kafka's
// carry Kafka's name in upper case instead (UNKNOWN_TOPIC_OR_PARTITION, see kafka_error). Both are
// listed in /v1/openapi.json (components/schemas/Error); a test checks that the sources use no
// other lower-case name.
struct http_error_name {
  const char* name;
  int status;
  const char* meaning;
};
inline constexpr http_error_name http_error_names[] = {
    {"bad_request", 400, "malformed JSON or HTTP, a field of the wrong type or out of range, a bad query parameter"},
    {"not_found", 404, "no route for the path (unknown topics and groups get Kafka's error names)"},
    {"method_not_allowed", 405, "the path exists but not with this method; the Allow header lists those it takes"},
    {"payload_too_large", 413, "a request body over 8 MiB"},
    {"not_text", 422, "a record's key, value or header value read as text is not UTF-8: read it as base64"},
    {"not_json", 422, "a record's key, value or header value read as json is not one JSON value: read it as text or base64"},
    {"internal_error", 500, "a broker bug; the broker log has the details"},
    {"not_ready", 503, "/health before the Kafka listener serves"},
    {"clock_not_manual", 409, "POST /v1/control/clock/advance on a broker started without --clock manual"},
    {"trace_off", 409, "a trace route or GET /v1/await/requests while the request trace is off (--trace-capacity 0)"},
};

inline http_response error_response(int status, const std::string& code, const std::string& message) {
  return json_response(status, json{{"error", code}, {"message", message}});
}

// 405 with the Allow header (RFC 9110: a 405 must list the methods the path takes).
inline http_response not_allowed(const std::string& allow, const std::string& message) {
  auto r = error_response(405, "method_not_allowed", message);
  r.allow = allow;
  return r;
}

inline http_response no_route(const http_request& req) { return error_response(404, "not_found", "no route for " + req.path); }

// Kafka's error name in upper case (TOPIC_ALREADY_EXISTS).
inline std::string upper_name(proto::error_code e) {
  std::string n = proto::error_name(e);
  for (auto& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}

// HTTP status for a Kafka error code.
inline int status_for(proto::error_code e) {
  switch (e) {
    case proto::error_code::topic_already_exists:
    case proto::error_code::non_empty_group:
      return 409;
    case proto::error_code::unknown_topic_or_partition:
    case proto::error_code::unknown_topic_id:
    case proto::error_code::group_id_not_found:
      return 404;
    case proto::error_code::kafka_storage_error:
      return 503;
    case proto::error_code::unknown_server_error:
      return 500;
    default:  // on purpose: every other of Kafka's ~130 codes is a refused request
      return 400;
  }
}

inline http_response kafka_error(proto::error_code e, const std::string& message) {
  return error_response(status_for(e), upper_name(e), message.empty() ? upper_name(e) : message);
}

inline std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The body as a JSON object, or nullopt with a 400 in `err`.
inline std::optional<json> parse_body(const http_request& req, http_response& err) {
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

// Reads an optional integer field in [lo, hi]; false (and a 400 in `err`) when present but not an
// integer in range (1.5, true, "3" and 2^32 are all refused rather than truncated).
inline bool int_field(const json& j, const char* key, int64_t lo, int64_t hi, int64_t& out, http_response& err) {
  if (!j.contains(key)) return true;
  const json& v = j[key];
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) ||
      v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    err = error_response(400, "bad_request",
                         std::string("\"") + key + "\" must be an integer in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
    return false;
  }
  out = v.get<int64_t>();
  return true;
}

}  // namespace mk::admin
