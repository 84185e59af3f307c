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
  return admin::json_response(200, json{{"cluster_id", c.cluster_id()},
                                        {"broker_id", c.nodes().empty() ? -1 : c.nodes().front().node_id},
                                        {"controller_id", c.controller_id()},
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
  }
  return no_route(req);
}

}  // namespace

namespace {
int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}
}  // namespace

http_request make_http_request(std::string method, std::string_view target, std::string body) {
  http_request out;
  out.method = std::move(method);
  auto q = target.find('?');
  out.path = url_decode(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      auto item = query.substr(0, amp);
      auto eq = item.find('=');
      out.query[url_decode(item.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(item.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  out.body = std::move(body);
  return out;
}

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
