// The HTTP admin API: JSON routes over the same broker state the Kafka handlers use, so a topic
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
// Runs on: broker state thread. No I/O here: broker/admin/http_server.cc does the HTTP.
#pragma once

#include <map>
#include <string>

namespace mk {

class server;

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::string body;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // the Allow header of a 405
};

http_response handle_admin_request(server& srv, const http_request& req);

// Prometheus text exposition of the broker's metrics.
std::string render_metrics(server& srv);

// Kafka's default partitioner for keyed records: murmur2(key) & 0x7fffffff, modulo partitions.
int32_t kafka_partition_for_key(const std::string& key, int32_t partitions);

}  // namespace mk
