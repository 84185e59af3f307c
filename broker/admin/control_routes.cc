// The test control plane over HTTP: /v1/control/... (the route list is in admin_api.h), over
// the control service (broker/control/control_service.h).
#include <chrono>

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

}  // namespace

bool async_route(const path_parts& parts) {
  if (parts.size() < 2 || parts[0] != "v1") return false;
  if (parts[1] == "await") return true;
  return parts.size() == 4 && parts[1] == "control" && parts[2] == "clock" && parts[3] == "advance";
}

boost::asio::awaitable<http_response> async_routes(admin_context& ctx, const http_request& req, const path_parts& parts) {
  auto& control = ctx.svc.control;
  if (parts[1] == "await") co_return co_await await_routes(ctx, req, parts);
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
  if (parts.size() == 3 && parts[2] == "clock") {
    if (req.method != "GET") return not_allowed("GET", "use GET (and POST /v1/control/clock/advance)");
    return json_response(200, clock_json(control.clock()));
  }
  return no_route(req);
}

}  // namespace mk::admin
