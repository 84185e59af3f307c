// JSON forms of the control plane's objects (fault rules, trace entries, ...) for the HTTP
// routes (control_routes.cc, await_routes.cc).
// Runs on: broker state thread.
#pragma once

#include <string>

#include "broker/admin/json_http.h"
#include "broker/control/control_service.h"
#include "broker/control/fault_injector.h"
#include "broker/control/request_trace.h"

namespace mk::admin {

// Reads a fault rule:
//   {"api": "Produce" | 0, "versions": [min, max], "topic", "partition", "broker", "client_id",
//    "group_id", "transactional_id",
//    "error": "NOT_LEADER_OR_FOLLOWER" | 6, "delay_ms", "action": "drop" | "close",
//    "count", "after", "probability", "seed"}
// Unknown fields are refused (a misspelt field would otherwise widen the match silently).
// False with a message in `why` when the JSON is not a rule.
bool parse_fault_rule(const json& j, control::fault_rule& out, std::string& why);

// The rule as given (API and error by name) plus "id", "matched", "fired", "exhausted".
json fault_status_json(const control::fault_rule_status& s);

// What the await oracles report (control_service.h's views).
json group_view_json(const control::group_view& g);
json lag_view_json(const control::lag_view& l);
json records_view_json(const control::records_view& r);

// One request trace entry (GET /v1/trace).
json trace_entry_json(const control::trace_entry& e);

}  // namespace mk::admin
