// The test control plane over HTTP: /v1/control/... (the route list is in admin_api.h), over
// the control service (broker/control/control_service.h).
#include <chrono>
#include <map>

#include "broker/admin/control_json.h"
#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"

namespace mk::admin {

namespace {

http_response fault_routes(control::control_service& control, const http_request& req, const path_parts& parts) {
  if (parts.size() == 3) {
    if (req.method == "GET") {
      json arr = json::array();
      for (const auto& s : control.faults()) arr.push_back(fault_status_json(s));
      return json_response(200, arr);
    }
    if (req.method == "POST") {
      http_response err;
      auto body = parse_body(req, err);
      if (!body) return err;
      control::fault_rule rule;
      std::string why;
      if (!parse_fault_rule(*body, rule, why)) return error_response(400, "bad_request", why);
      auto id = control.add_fault(std::move(rule), &why);
      if (!id) return error_response(400, "bad_request", why);
      return json_response(201, fault_status_json(*control.fault(*id)));
    }
    if (req.method == "DELETE") return json_response(200, json{{"deleted", control.clear_faults()}});
    return not_allowed("GET, POST, DELETE", req.method + " is not allowed on /v1/control/faults");
  }
  if (parts.size() == 4) {
    auto id = parse_int(parts[3]);
    if (!id) return error_response(404, "not_found", "no fault rule '" + parts[3] + "'");
    if (req.method == "GET") {
      auto s = control.fault(*id);
      if (!s) return error_response(404, "not_found", "no fault rule " + parts[3]);
      return json_response(200, fault_status_json(*s));
    }
    if (req.method == "DELETE") {
      if (!control.remove_fault(*id)) return error_response(404, "not_found", "no fault rule " + parts[3]);
      return json_response(200, json{{"deleted", *id}});
    }
    return not_allowed("GET, DELETE", req.method + " is not allowed on a fault rule");
  }
  return no_route(req);
}

http_response reset_route(control::control_service& control, const http_request& req) {
  if (req.method != "POST") return not_allowed("POST", "use POST to reset");
  std::string prefix;
  if (!req.body.empty()) {
    http_response err;
    auto body = parse_body(req, err);
    if (!body) return err;
    for (const auto& [k, v] : body->items())
      if (k != "prefix") return error_response(400, "bad_request", "unknown field \"" + k + "\" (only \"prefix\")");
    if (body->contains("prefix")) {
      if (!(*body)["prefix"].is_string()) return error_response(400, "bad_request", "\"prefix\" must be a string");
      prefix = (*body)["prefix"].get<std::string>();
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = control.reset(prefix);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return json_response(200, json{{"prefix", prefix},
                                 {"deleted_topics", r.topics},
                                 {"deleted_groups", r.groups},
                                 {"deleted_fault_rules", r.fault_rules},
                                 {"deleted_trace_entries", r.trace_entries},
                                 {"elapsed_ms", ms}});
}

json clock_json(const control::clock_state& c) {
  return json{{"mode", c.manual ? "manual" : "system"}, {"wall_ms", c.wall_ms}, {"steady_ms", c.steady_ms}};
}

http_response trace_settings_route(control::control_service& control, const http_request& req) {
  if (req.method == "PUT") {
    http_response err;
    auto body = parse_body(req, err);
    if (!body) return err;
    int64_t cap = -1;
    if (!body->contains("capacity") || !int_field(*body, "capacity", 0, 10000000, cap, err))
      return body->contains("capacity") ? err : error_response(400, "bad_request", "\"capacity\" (integer >= 0) is required");
    control.set_trace_capacity(static_cast<size_t>(cap));
  } else if (req.method != "GET") {
    return not_allowed("GET, PUT", "use GET, or PUT {\"capacity\": N}");
  }
  const auto* t = control.trace();
  return json_response(200, json{{"capacity", t ? t->capacity() : 0},
                                 {"entries", t ? t->entries({}, SIZE_MAX).size() : 0},
                                 {"last_seq", t ? t->last_seq() : 0}});
}

// GET /v1/trace: entries as a JSON array or ndjson; with follow=true (ndjson) the answer streams
// new entries as they are recorded until timeout_ms (default 60000) passes.
http_response trace_route(control::control_service& control, const http_request& req) {
  if (req.method != "GET") return not_allowed("GET", "use GET");
  if (!control.trace())
    return error_response(409, "trace_off", "the request trace is off (--trace-capacity 0); PUT /v1/control/trace to enable");
  control::trace_filter f;
  auto bad = [](const std::string& m) { return error_response(400, "bad_request", m); };
  auto q = [&](const char* k) -> const std::string* {
    auto it = req.query.find(k);
    return it == req.query.end() ? nullptr : &it->second;
  };
  if (auto* v = q("api")) {
    f.api = control::api_key_from_name(*v);
    if (!f.api) return bad("unknown api '" + *v + "'");
  }
  if (auto* v = q("client_id")) f.client_id = *v;
  if (auto* v = q("topic")) f.topic = *v;
  if (auto* v = q("since_ms")) {
    f.since_ms = parse_int(*v);
    if (!f.since_ms) return bad("since_ms must be an integer (ms since the epoch)");
  }
  if (auto* v = q("after_seq")) {
    auto n = parse_int(*v);
    if (!n || *n < 0) return bad("after_seq must be an integer >= 0");
    f.after_seq = static_cast<uint64_t>(*n);
  }
  size_t limit = SIZE_MAX;
  if (auto* v = q("limit")) {
    auto n = parse_int(*v);
    if (!n || *n < 0) return bad("limit must be an integer >= 0");
    limit = static_cast<size_t>(*n);
  }
  const std::string format = q("format") ? *q("format") : "json";
  if (format != "json" && format != "ndjson") return bad("format must be json or ndjson");
  const bool follow = q("follow") && (*q("follow") == "true" || *q("follow") == "1");
  if (follow && format != "ndjson") return bad("follow=true needs format=ndjson");
  int64_t timeout_ms = 60000;
  if (auto* v = q("timeout_ms")) {
    auto n = parse_int(*v);
    if (!n || *n < 0) return bad("timeout_ms must be an integer >= 0");
    timeout_ms = *n;
  }

  const auto entries = control.trace()->entries(f, limit);
  if (format == "json") {
    json arr = json::array();
    for (const auto* e : entries) arr.push_back(trace_entry_json(*e));
    return json_response(200, arr);
  }
  std::string body;
  for (const auto* e : entries) body += trace_entry_json(*e).dump() + "\n";
  http_response out{200, "application/x-ndjson", std::move(body)};
  if (!follow) return out;
  // Follow: after what was there, every new matching entry, in order.
  struct follower {
    control::control_service& control;
    control::trace_filter filter;
    std::chrono::steady_clock::time_point deadline;
  };
  auto st = std::make_shared<follower>(follower{control, f, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)});
  st->filter.since_ms.reset();
  st->filter.after_seq = control.trace()->last_seq();
  out.stream = [st]() -> boost::asio::awaitable<std::optional<std::string>> {
    auto pending = [st] {
      const auto* t = st->control.trace();
      return t ? t->entries(st->filter, SIZE_MAX) : std::vector<const control::trace_entry*>{};
    };
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(st->deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) co_return std::nullopt;
    const bool any = co_await st->control.wait_until([&] { return !pending().empty(); }, left);
    if (!any) co_return std::nullopt;  // timed out, trace turned off, or the broker stops
    std::string chunk;
    for (const auto* e : pending()) {
      chunk += trace_entry_json(*e).dump() + "\n";
      st->filter.after_seq = e->seq;
    }
    co_return chunk;
  };
  return out;
}

json api_versions_json(const control::control_service& control) {
  json out = json::array();
  for (const auto& v : control.api_versions()) {
    json apis = json::array();
    for (const auto& a : v.apis)
      apis.push_back(json{{"api", control::api_name(a.key)}, {"key", a.key}, {"min", a.min_version}, {"max", a.max_version}});
    out.push_back(json{{"broker", v.broker},
                       {"kafka_version", v.kafka_version.empty() ? json(nullptr) : json(v.kafka_version)},
                       {"overridden", v.overridden},
                       {"apis", apis}});
  }
  return out;
}

// GET / PUT / DELETE /v1/control/api-versions: Kafka-version emulation.
http_response api_versions_route(control::control_service& control, const http_request& req) {
  if (req.method == "GET") return json_response(200, api_versions_json(control));
  if (req.method != "PUT" && req.method != "DELETE")
    return not_allowed("GET, PUT, DELETE", req.method + " is not allowed on /v1/control/api-versions");
  http_response err;
  json body = json::object();
  if (!req.body.empty()) {
    auto b = parse_body(req, err);
    if (!b) return err;
    body = *b;
  }
  for (const auto& [k, v] : body.items())
    if (k != "broker" && (req.method == "DELETE" || (k != "kafka_version" && k != "apis")))
      return error_response(400, "bad_request", "unknown field \"" + k + "\"");
  std::optional<int32_t> broker;
  int64_t b = -1;
  if (body.contains("broker")) {
    if (!int_field(body, "broker", INT32_MIN, INT32_MAX, b, err)) return err;
    broker = static_cast<int32_t>(b);
  } else if (auto it = req.query.find("broker"); it != req.query.end()) {
    auto n = parse_int(it->second);
    if (!n) return error_response(400, "bad_request", "broker must be a node id");
    broker = static_cast<int32_t>(*n);
  }
  std::string why;
  if (req.method == "DELETE") {
    why = control.restore_api_versions(broker);
  } else {
    std::string version;
    if (body.contains("kafka_version")) {
      if (!body["kafka_version"].is_string()) return error_response(400, "bad_request", "\"kafka_version\" must be a string");
      version = body["kafka_version"].get<std::string>();
    }
    std::map<int16_t, control::api_override> apis;
    if (body.contains("apis")) {
      if (!body["apis"].is_object()) return error_response(400, "bad_request", "\"apis\" must be an object of API names");
      for (const auto& [name, v] : body["apis"].items()) {
        auto key = control::api_key_from_name(name);
        if (!key) return error_response(400, "bad_request", "unknown API '" + name + "'");
        control::api_override o;
        if (v.is_null()) {
          o.disabled = true;
        } else if (v.is_object()) {
          for (const auto& [f, x] : v.items()) {
            int64_t n = 0;
            if ((f != "min" && f != "max") || !x.is_number_integer() || (n = x.get<int64_t>()) < 0 || n > INT16_MAX)
              return error_response(400, "bad_request", "\"apis\": {\"" + name + "\": {\"min\"?, \"max\"?}} or null");
            (f == "min" ? o.min_version : o.max_version) = static_cast<int16_t>(n);
          }
        } else {
          return error_response(400, "bad_request", "\"apis\": {\"" + name + "\": {\"min\"?, \"max\"?}} or null");
        }
        apis[*key] = o;
      }
    }
    if (version.empty() && apis.empty())
      return error_response(400, "bad_request", "give \"kafka_version\" and/or \"apis\" (DELETE restores)");
    why = control.set_api_versions(broker, version, apis);
  }
  if (!why.empty()) return error_response(why.rfind("no broker", 0) == 0 ? 404 : 400, "bad_request", why);
  return json_response(200, api_versions_json(control));
}

}  // namespace

bool async_route(const path_parts& parts) {
  if (parts.size() < 2 || parts[0] != "v1") return false;
  if (parts[1] == "await") return true;
  if (parts[1] == "trace" && parts.size() == 2) return true;
  return parts.size() == 4 && parts[1] == "control" && parts[2] == "clock" && parts[3] == "advance";
}

boost::asio::awaitable<http_response> async_routes(admin_context& ctx, const http_request& req, const path_parts& parts) {
  auto& control = ctx.svc.control;
  if (parts[1] == "await") co_return co_await await_routes(ctx, req, parts);
  if (parts[1] == "trace") co_return trace_route(control, req);
  if (parts.size() == 4 && parts[2] == "clock" && parts[3] == "advance") {
    if (req.method != "POST") co_return not_allowed("POST", "use POST with {\"ms\": N}");
    http_response err;
    auto body = parse_body(req, err);
    if (!body) co_return err;
    int64_t ms = -1;
    if (!body->contains("ms") || !int_field(*body, "ms", 0, INT64_MAX / 4, ms, err))
      co_return body->contains("ms") ? err : error_response(400, "bad_request", "\"ms\" (integer >= 0) is required");
    if (!control.advance_clock(ms))
      co_return error_response(409, "clock_not_manual", "the broker runs on the system clock; start it with --clock manual");
    // Timers that came due complete through handlers already queued on this thread (retention,
    // compaction, parked fetches): let them run before answering, so the caller sees their effect.
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    co_return json_response(200, clock_json(control.clock()));
  }
  co_return no_route(req);
}

http_response control_routes(admin_context& ctx, const http_request& req, const path_parts& parts) {
  auto& control = ctx.svc.control;
  if (parts.size() >= 3 && parts[2] == "faults") return fault_routes(control, req, parts);
  if (parts.size() == 3 && parts[2] == "reset") return reset_route(control, req);
  if (parts.size() == 3 && parts[2] == "trace") return trace_settings_route(control, req);
  if (parts.size() == 3 && parts[2] == "api-versions") return api_versions_route(control, req);
  if (parts.size() == 3 && parts[2] == "clock") {
    if (req.method != "GET") return not_allowed("GET", "use GET (and POST /v1/control/clock/advance)");
    return json_response(200, clock_json(control.clock()));
  }
  return no_route(req);
}

}  // namespace mk::admin
