// The admin API's route table: the one list the router dispatches from and /v1/openapi.json
// describes (docs/HTTP_API.md is generated from that document by scripts/http_api_doc.py).
//
// Each route group file (admin_api.cc, topic_routes.cc, record_routes.cc, group_routes.cc, ...)
// returns its part of the table; route_table() (admin_api.cc) lists the groups. An entry is
// {method, path template, handler, OpenAPI operation}:
//
//   {"GET", "/v1/topics/{topic}", describe_topic, R"({"summary": "...", "responses": {...}})"}
//
// The router matches the path segment by segment ("{name}" matches any one segment; a literal
// segment wins over a parameter), answers 405 with an Allow header when the path matches but the
// method does not, and 404 "not_found" when no template matches. Path parameters come to the
// handler percent-decoded, by name. The operation is an OpenAPI 3.1 Operation Object as JSON;
// path parameters it does not declare are added from components/parameters (openapi.cc), so
// "{topic}" needs no boilerplate. tests/clients/python/test_http_api.py probes every documented
// route on the binary and validates responses against the documented schemas.
//
// Runs on: broker state thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "broker/admin/admin_api.h"
#include "broker/cluster.h"

namespace mk::admin {

// Path parameters by name ("topic" -> "orders"), percent-decoded.
using path_params = std::map<std::string, std::string, std::less<>>;

using sync_handler = http_response (*)(admin_context&, const http_request&, const path_params&);
// For routes that wait (long-polls): a coroutine; the request and parameters are its own copies.
using async_handler = boost::asio::awaitable<http_response> (*)(admin_context&, http_request, path_params);

struct route {
  const char* method;  // "GET", "POST", "PUT", "DELETE", ...
  const char* path;    // an OpenAPI path template: "/v1/topics/{topic}/records"
  sync_handler handler = nullptr;
  async_handler waiting_handler = nullptr;  // set instead of `handler` for a route that waits
  const char* operation = "{}";             // OpenAPI Operation Object (JSON)
};

// "/v1/topics/t/records" -> {"v1", "topics", "t", "records"} (empty segments dropped), as the
// router splits paths (admin_api.cc). A group that still routes on segments internally can
// list its entries with one handler that does so.
std::vector<std::string> path_segments(const std::string& path);

// Every route, in documentation order (admin_api.cc).
const std::vector<route>& route_table();

// The parts of the table, one per file.
std::vector<route> core_route_table();    // admin_api.cc: /health, /metrics, /v1/cluster, /v1/openapi.json
std::vector<route> topic_route_table();   // topic_routes.cc
std::vector<route> record_route_table();  // record_routes.cc
std::vector<route> group_route_table();   // group_routes.cc
std::vector<route> cluster_route_table(); // cluster_routes.cc: /v1/control/brokers|topics|groups/...

// The topic named by the path parameter "topic", or null and a 404 UNKNOWN_TOPIC_OR_PARTITION in
// `err` (topic_routes.cc).
topic_state* path_topic(admin_context& ctx, const path_params& params, http_response& err);

// The OpenAPI 3.1 document of route_table() (openapi.cc), as served at /v1/openapi.json.
std::string openapi_document(const std::string& version);

// The test control plane (control_routes.cc, await_routes.cc), routed on path segments outside
// the table: /v1/control/... (but the cluster routes above), /v1/await/..., /v1/trace.
using path_parts = std::vector<std::string>;
http_response control_routes(admin_context& ctx, const http_request& req, const path_parts& parts);
// Routes that wait (the clock advance, long-poll awaits, trace follow): true when `parts` is one.
bool async_route(const path_parts& parts);
boost::asio::awaitable<http_response> async_routes(admin_context& ctx, const http_request& req, const path_parts& parts);
boost::asio::awaitable<http_response> await_routes(admin_context& ctx, const http_request& req, const path_parts& parts);

}  // namespace mk::admin
