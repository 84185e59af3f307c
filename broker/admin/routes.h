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
// /v1/control/... (control_routes.cc).
http_response control_routes(admin_context& ctx, const http_request& req, const path_parts& parts);
// Routes that wait (the clock advance, long-poll awaits, trace follow): true when `parts` is one.
bool async_route(const path_parts& parts);
boost::asio::awaitable<http_response> async_routes(admin_context& ctx, const http_request& req, const path_parts& parts);
// GET /v1/await/... (await_routes.cc).
boost::asio::awaitable<http_response> await_routes(admin_context& ctx, const http_request& req, const path_parts& parts);

}  // namespace mk::admin
