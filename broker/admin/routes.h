// The admin API's route groups (one file each), called by handle_admin_request with the path
// split into segments ("v1", "topics", ...).
// Runs on: broker state thread.
#pragma once

#include <string>
#include <vector>

#include "broker/admin/admin_api.h"

namespace mk::admin {

using path_parts = std::vector<std::string>;

// /v1/topics[/{name}[/partitions]] (topic_routes.cc); delegates records to record_routes.
http_response topic_routes(admin_context& ctx, const http_request& req, const path_parts& parts);
// POST /v1/topics/{name}/records and GET /v1/topics/{name}/partitions/{p}/records (record_routes.cc).
http_response record_routes(admin_context& ctx, const http_request& req, const path_parts& parts);
// /v1/groups[/{id}[/offsets]] (group_routes.cc).
http_response group_routes(admin_context& ctx, const http_request& req, const path_parts& parts);
// Cluster operations, /v1/control/{brokers,topics,groups}/... (cluster_routes.cc).
bool is_cluster_route(const path_parts& parts);
http_response cluster_routes(admin_context& ctx, const http_request& req, const path_parts& parts);

}  // namespace mk::admin
