// Routing of the HTTP admin API (the route list is in admin_api.h), /health and /v1/cluster.
#include "broker/admin/admin_api.h"

#include <spdlog/spdlog.h>

#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"

namespace mk {

namespace {

using admin::json;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

http_response cluster_route(admin_context& ctx) {
  const auto& c = ctx.svc.cluster;
  json listeners = json::array();
  for (const auto& l : c.listeners()) {
    json j{{"name", l.name}, {"host", l.host}, {"port", l.port}};
    if (l.node_id >= 0) j["node_id"] = l.node_id;
    listeners.push_back(j);
  }
  json brokers = json::array();
  for (const auto& n : c.nodes())
    brokers.push_back(json{{"id", n.node_id}, {"host", n.host}, {"port", n.port}, {"up", n.up}});
  return admin::json_response(200, json{{"cluster_id", c.cluster_id()},
                                        {"broker_id", c.nodes().empty() ? -1 : c.nodes().front().node_id},
                                        {"controller_id", c.controller_id()},
                                        {"brokers", brokers},
                                        {"listeners", listeners},
                                        {"version", c.version()},
                                        {"uptime_ms", c.uptime_ms()},
                                        {"storage", c.storage()},
                                        {"topics", ctx.svc.topics.all().size()}});
}

http_response route(admin_context& ctx, const http_request& req) {
  using namespace admin;
  auto parts = split_path(req.path);
  if (parts.size() == 1 && parts[0] == "health") {
    if (req.method != "GET") return not_allowed("GET", "use GET");
    if (!ctx.serving()) return error_response(503, "not_ready", "the Kafka listener is not serving");
    return json_response(200, json{{"status", "ok"}});
  }
  if (parts.size() == 1 && parts[0] == "metrics") {
    if (req.method != "GET") return not_allowed("GET", "use GET");
    return http_response{200, "text/plain; version=0.0.4; charset=utf-8", render_metrics(ctx), {}};
  }
  if (parts.size() >= 2 && parts[0] == "v1") {
    if (parts[1] == "cluster" && parts.size() == 2) {
      if (req.method != "GET") return not_allowed("GET", "use GET");
      return cluster_route(ctx);
    }
    if (parts[1] == "topics") return topic_routes(ctx, req, parts);
    if (parts[1] == "groups") return group_routes(ctx, req, parts);
    if (is_cluster_route(parts)) return cluster_routes(ctx, req, parts);
  }
  return no_route(req);
}

}  // namespace

boost::asio::awaitable<http_response> handle_admin_request(admin_context& ctx, http_request req) {
  try {
    co_return route(ctx, req);
  } catch (const admin::json::exception& ex) {
    co_return admin::error_response(400, "bad_request", std::string("bad JSON value: ") + ex.what());
  } catch (const std::exception& ex) {
    spdlog::error("admin {} {}: {}", req.method, req.path, ex.what());
    co_return admin::error_response(500, "internal_error", ex.what());
  }
}

}  // namespace mk
