// The HTTP admin API: JSON routes over the broker's services (broker/services/), so a topic
// created over HTTP is in the next Metadata response and the reverse.
//
// The routes are one table (routes.h): the router dispatches from it and GET /v1/openapi.json
// describes it; docs/HTTP_API.md is generated from that document. Errors are
// {"error": NAME, "message": TEXT}: Kafka's error name in upper case for Kafka errors
// (UNKNOWN_TOPIC_OR_PARTITION, 404), a documented lower-case name for HTTP-level ones
// (json_http.h: bad_request, not_found, method_not_allowed, ...).
//
// Files: admin_api.cc (router, /health, /metrics, /v1/cluster, /v1/openapi.json), openapi.cc
// (the document's shared schemas), topic_routes.cc, record_routes.cc, group_routes.cc,
// cluster_routes.cc (cluster simulation: /v1/control/brokers|topics|groups/...), prometheus.cc,
// json_http.h (shared JSON/HTTP helpers).
// Runs on: broker state thread. No I/O here: broker/admin/http_server.cc does the HTTP.
#pragma once

#include <functional>
#include <map>
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
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // the Allow header of a 405
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
