// The HTTP admin API: JSON routes over the broker's services (broker/services/), so a topic
// created over HTTP is in the next Metadata response and the reverse.
//
// The routes are one table (routes.h): the router dispatches from it and GET /v1/openapi.json
// describes it; docs/HTTP_API.md is generated from that document. Errors are
// {"error": NAME, "message": TEXT}: Kafka's error name in upper case for Kafka errors
// (UNKNOWN_TOPIC_OR_PARTITION, 404), a documented lower-case name for HTTP-level ones
// (json_http.h: bad_request, not_found, method_not_allowed, ...).
//
// Test control plane (docs/TESTING.md has every field and recipes; a public contract):
//   POST   /v1/control/faults                        a fault rule -> 201 {"id", ...}: match "api",
//                                                     "versions", "topic", "partition", "broker",
//                                                     "client_id", "group_id", "transactional_id";
//                                                     act "error", "delay_ms", "action": drop|close;
//                                                     how often "count", "after", "probability", "seed"
//   GET    /v1/control/faults                        every rule with "matched" and "fired"
//   GET    /v1/control/faults/{id}
//   DELETE /v1/control/faults/{id}
//   DELETE /v1/control/faults                        all rules
//   POST   /v1/control/reset                         {"prefix"?}: delete topics, groups, offsets, rules,
//                                                     trace -> what was deleted and "elapsed_ms"
//   GET    /v1/control/clock                         {"mode": "system"|"manual", "wall_ms", "steady_ms"}
//   POST   /v1/control/clock/advance                 {"ms"}: manual clock only (409 otherwise); answers
//                                                     after what came due has run
//   GET    /v1/await/groups/{g}?state=&members=     long-polls: 200 {"met", "waited_ms", "state"} when the
//   GET    /v1/await/groups/{g}/lag?topic=&max=      condition holds, 408 with the last state after
//   GET    /v1/await/topics/{t}/records?min=&partition=   timeout_ms (default 10000); woken by state
//   GET    /v1/await/requests?api=&client_id=&min=   changes, never polling (await_routes.cc)
//   GET    /v1/trace?api=&client_id=&topic=&since_ms=&after_seq=&limit=&format=json|ndjson&follow=
//                                                     recent requests; follow=true streams (chunked)
//   GET    /v1/control/trace                         {"capacity", "entries", "last_seq"}
//   PUT    /v1/control/trace                         {"capacity"}: resize, 0 = off
//   GET    /v1/control/api-versions                  per broker: emulated release, advertised ranges
//   PUT    /v1/control/api-versions                  {"kafka_version"?, "apis"?: {"Fetch": {"min"?, "max"?} | null},
//                                                     "broker"?}: Kafka-version emulation
//   DELETE /v1/control/api-versions                  restore ({"broker"?} or ?broker=)
//
// Files: admin_api.cc (router, /health, /metrics, /v1/cluster, /v1/openapi.json), openapi.cc
// (the document's shared schemas), topic_routes.cc, record_routes.cc, group_routes.cc,
// cluster_routes.cc (cluster simulation: /v1/control/brokers|topics|groups/...), control_routes.cc
// (+ control_json.cc) and await_routes.cc (the test control plane, routed outside the table: see
// handle_admin_request), prometheus.cc,
// json_http.h (shared JSON/HTTP helpers).
// Runs on: broker state thread. No I/O here: broker/admin/http_server.cc does the HTTP.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "broker/asio.h"
#include "broker/clock.h"
#include "broker/metrics.h"

namespace mk {

namespace services {
struct broker_services;
}

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::string body;
};

// A request from its method, target ("/v1/topics?x=1": path and query, percent-encoded) and
// body, as the HTTP listener and in-process callers (server::admin_request) build it.
http_request make_http_request(std::string method, std::string_view target, std::string body);

struct http_response {
  http_response() = default;
  http_response(int status_, std::string content_type_, std::string body_, std::string allow_ = {})
      : status(status_), content_type(std::move(content_type_)), body(std::move(body_)), allow(std::move(allow_)) {}

  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // the Allow header of a 405
  // When set, the body is streamed instead (chunked transfer encoding): `body` first, if any,
  // then each chunk this returns, until it returns nullopt or the client goes away; the
  // connection closes afterwards. For long-lived answers (GET /v1/trace?follow=true).
  std::function<boost::asio::awaitable<std::optional<std::string>>()> stream;
};

// What the routes use.
struct admin_context {
  services::broker_services& svc;
  const broker_metrics& metrics;
  std::function<bool()> serving;            // the Kafka listener serves
  std::function<size_t()> connection_count;  // open Kafka connections
  // For routes that wait (record reads with wait_ms): the broker's clock, and its stopping flag
  // (set before parked waiters are woken at shutdown).
  clock* clk = nullptr;
  const bool* stopping = nullptr;
};

boost::asio::awaitable<http_response> handle_admin_request(admin_context& ctx, http_request req);

// Prometheus text exposition of the broker's metrics (prometheus.cc).
std::string render_metrics(admin_context& ctx);

}  // namespace mk
