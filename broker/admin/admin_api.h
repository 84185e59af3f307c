// The HTTP admin API: JSON routes over the broker's services (broker/services/), so a topic
// created over HTTP is in the next Metadata response and the reverse.
//
// Routes (all JSON unless noted; errors are {"error": code, "message": text} with status 400 bad
// input, 404 unknown, 405 wrong method, 409 conflict/exists, 413 too large, 500 broker bug,
// 503 storage failure with "error": "KAFKA_STORAGE_ERROR"):
//   GET    /health                                   ready when the Kafka listener serves
//   GET    /v1/cluster                               broker id, listeners, version, uptime, storage
//   GET    /v1/topics                                list
//   POST   /v1/topics                                {"name", "partitions"?, "replication_factor"?, "configs"?}
//   GET    /v1/topics/{name}                         id, configs, per-partition offsets and sizes
//   DELETE /v1/topics/{name}
//   POST   /v1/topics/{name}/partitions              {"count"}
//   POST   /v1/topics/{name}/records                 {"records": [{"key","value","headers","partition"}],
//                                                     "encoding": "string"|"base64"|"json"?}
//   GET    /v1/topics/{name}/partitions/{p}/records?offset=&limit=
//   GET    /v1/groups                                list
//   GET    /v1/groups/{id}                           state, members, assignments, offsets and lag
//   DELETE /v1/groups/{id}
//   POST   /v1/groups/{id}/offsets                   {"topic", "partitions"?, "to": "earliest"|"latest"|
//                                                     "offset"|"timestamp", "offset"?, "timestamp"?}
//   GET    /metrics                                  Prometheus text format
//
// Files: admin_api.cc (routing, /health, /v1/cluster), topic_routes.cc, record_routes.cc,
// group_routes.cc, prometheus.cc, json_http.h (shared JSON/HTTP helpers).
// Runs on: broker state thread. No I/O here: broker/admin/http_server.cc does the HTTP.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "broker/asio.h"
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
};

boost::asio::awaitable<http_response> handle_admin_request(admin_context& ctx, http_request req);

// Prometheus text exposition of the broker's metrics (prometheus.cc).
std::string render_metrics(admin_context& ctx);

}  // namespace mk
