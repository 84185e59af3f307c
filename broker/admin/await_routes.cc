// Await oracles: GET /v1/await/... long-polls that answer 200 as soon as their condition holds
// and 408 with the last observed state when timeout_ms (default 10000, real time) passes. The
// condition is re-checked when the state it depends on changes (control_service::wait_until
// over the change feed), never on a timer.
#include <chrono>

#include "broker/admin/control_json.h"
#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"
#include "broker/groups/group_coordinator.h"

namespace mk::admin {

namespace {

constexpr int64_t default_timeout_ms = 10000;
constexpr int64_t max_timeout_ms = 3600000;

// An optional integer query parameter in [lo, hi]; false with a 400 in `err` when malformed.
bool query_int(const http_request& req, const char* name, int64_t lo, int64_t hi, std::optional<int64_t>& out,
               http_response& err) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return true;
  auto v = parse_int(it->second);
  if (!v || *v < lo || *v > hi) {
    err = error_response(400, "bad_request",
                         std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return false;
  }
  out = v;
  return true;
}

// Runs the wait and answers 200 / 408 / 503 with {"met", "waited_ms", "state"}.
boost::asio::awaitable<http_response> await_answer(control::control_service& control, const http_request& req,
                                                   std::function<bool()> check, std::function<json()> state) {
  http_response err;
  std::optional<int64_t> timeout;
  if (!query_int(req, "timeout_ms", 0, max_timeout_ms, timeout, err)) co_return err;
  const auto t0 = std::chrono::steady_clock::now();
  const bool met = co_await control.wait_until(check, std::chrono::milliseconds(timeout.value_or(default_timeout_ms)));
  const double waited = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  json body{{"met", met}, {"waited_ms", waited}, {"state", state()}};
  if (met) co_return json_response(200, body);
  if (control.stopping()) {
    body["error"] = "shutting_down";
    body["message"] = "the broker is stopping";
    co_return json_response(503, body);
  }
  body["error"] = "timeout";
  body["message"] = "the condition did not hold within " + std::to_string(timeout.value_or(default_timeout_ms)) + " ms";
  co_return json_response(408, body);
}

}  // namespace

boost::asio::awaitable<http_response> await_routes(admin_context& ctx, const http_request& req, const path_parts& parts) {
  auto& control = ctx.svc.control;
  if (req.method != "GET") co_return not_allowed("GET", "await routes are GET long-polls");
  http_response err;
  // /v1/await/groups/{group}[/lag]
  if (parts.size() >= 4 && parts[2] == "groups" && parts.size() <= 5) {
    const std::string group = parts[3];
    if (parts.size() == 4) {
      std::optional<groups::group_state> want_state;
      if (auto it = req.query.find("state"); it != req.query.end()) {
        want_state = groups::group_state_from_string(it->second);
        if (!want_state)
          co_return error_response(400, "bad_request",
                                   "state must be Empty, PreparingRebalance, CompletingRebalance, Stable or Dead");
      }
      std::optional<int64_t> members;
      if (!query_int(req, "members", 0, INT32_MAX, members, err)) co_return err;
      const std::string want = want_state ? groups::to_string(*want_state) : "";
      auto check = [&control, group, want, members] { return control::group_condition(control.group(group), want, members); };
      co_return co_await await_answer(control, req, check, [&] { return group_view_json(control.group(group)); });
    }
    if (parts[4] == "lag") {
      std::optional<int64_t> max;
      if (!query_int(req, "max", 0, INT64_MAX, max, err)) co_return err;
      std::optional<std::string> topic;
      if (auto it = req.query.find("topic"); it != req.query.end()) topic = it->second;
      const int64_t limit = max.value_or(0);
      auto check = [&control, group, topic, limit] { return control::lag_condition(control.lag(group, topic), limit); };
      co_return co_await await_answer(control, req, check, [&] { return lag_view_json(control.lag(group, topic)); });
    }
  }
  // /v1/await/topics/{topic}/records
  if (parts.size() == 5 && parts[2] == "topics" && parts[4] == "records") {
    const std::string topic = parts[3];
    std::optional<int64_t> min, partition;
    if (!query_int(req, "min", 0, INT64_MAX, min, err) || !query_int(req, "partition", 0, INT32_MAX, partition, err))
      co_return err;
    std::optional<int32_t> only;
    if (partition) only = static_cast<int32_t>(*partition);
    const int64_t want = min.value_or(1);
    auto check = [&control, topic, only, want] { return control::records_condition(control.records(topic, only), want); };
    co_return co_await await_answer(control, req, check, [&] { return records_view_json(control.records(topic, only)); });
  }
  // /v1/await/requests
  if (parts.size() == 3 && parts[2] == "requests") {
    std::optional<int16_t> api;
    if (auto it = req.query.find("api"); it != req.query.end()) {
      api = control::api_key_from_name(it->second);
      if (!api) co_return error_response(400, "bad_request", "unknown api '" + it->second + "'");
    }
    std::optional<std::string> client_id;
    if (auto it = req.query.find("client_id"); it != req.query.end()) client_id = it->second;
    std::optional<int64_t> min;
    if (!query_int(req, "min", 0, INT64_MAX, min, err)) co_return err;
    if (!control.requests_seen(api, client_id))
      co_return error_response(409, "trace_off", "requests are counted by the request trace, which is off");
    const uint64_t want = static_cast<uint64_t>(min.value_or(1));
    auto check = [&control, api, client_id, want] { return control.requests_seen(api, client_id).value_or(0) >= want; };
    auto state = [&] {
      json j{{"count", control.requests_seen(api, client_id).value_or(0)}};
      j["api"] = api ? json(control::api_name(*api)) : json(nullptr);
      j["client_id"] = client_id ? json(*client_id) : json(nullptr);
      return j;
    };
    co_return co_await await_answer(control, req, check, state);
  }
  co_return no_route(req);
}

}  // namespace mk::admin
