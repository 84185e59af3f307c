// The router of the HTTP admin API (over the route table, routes.h) and its core routes: /health,
// /metrics, /v1/cluster and /v1/openapi.json.
#include "broker/admin/admin_api.h"

#include <spdlog/spdlog.h>

#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"

namespace mk {

namespace admin {

const std::vector<route>& route_table() {
  // Immutable once built; every broker of the process dispatches from it.
  static const std::vector<route> all = [] {
    std::vector<route> out;
    for (auto part : {core_route_table, topic_route_table, record_route_table, group_route_table, cluster_route_table}) {
      auto r = part();
      out.insert(out.end(), r.begin(), r.end());
    }
    return out;
  }();
  return all;
}

std::vector<std::string> path_segments(const std::string& path) {
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

namespace {

bool is_param(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

struct compiled_route {
  const route* r;
  std::vector<std::string> segments;
};

const std::vector<compiled_route>& compiled_routes() {
  static const std::vector<compiled_route> all = [] {
    std::vector<compiled_route> out;
    for (const auto& r : route_table()) out.push_back({&r, path_segments(r.path)});
    return out;
  }();
  return all;
}

// How well `segs` matches the template: -1 no match, else the number of literal segments
// before the first parameter wins ("/v1/control/faults/all" over "/v1/control/faults/{id}").
// Encoded as a bit string so that a literal early in the path outranks any later ones.
int64_t match(const compiled_route& c, const std::vector<std::string>& segs, path_params* params) {
  if (c.segments.size() != segs.size()) return -1;
  int64_t score = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    score <<= 1;
    if (is_param(c.segments[i])) {
      if (params) (*params)[c.segments[i].substr(1, c.segments[i].size() - 2)] = segs[i];
    } else if (c.segments[i] == segs[i]) {
      score |= 1;
    } else {
      return -1;
    }
  }
  return score;
}

http_response health(admin_context& ctx, const http_request&, const path_params&) {
  if (!ctx.serving()) return admin::error_response(503, "not_ready", "the Kafka listener is not serving");
  return admin::json_response(200, admin::json{{"status", "ok"}});
}

http_response metrics(admin_context& ctx, const http_request&, const path_params&) {
  return http_response{200, "text/plain; version=0.0.4; charset=utf-8", render_metrics(ctx), {}};
}

http_response cluster_route(admin_context& ctx, const http_request&, const path_params&) {
  using admin::json;
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

http_response openapi(admin_context& ctx, const http_request&, const path_params&) {
  return http_response{200, "application/json", openapi_document(ctx.svc.cluster.version()), {}};
}

}  // namespace

std::vector<route> core_route_table() {
  return {
      {"GET", "/health", health, nullptr, R"json({
        "summary": "Readiness: 200 once the Kafka listener serves",
        "tags": ["cluster"],
        "responses": {
          "200": {"description": "ready", "content": {"application/json": {"schema": {
            "type": "object", "required": ["status"], "additionalProperties": false,
            "properties": {"status": {"const": "ok"}}}}}},
          "503": {"$ref": "#/components/responses/Error"}}})json"},
      {"GET", "/metrics", metrics, nullptr, R"json({
        "summary": "Prometheus metrics (text exposition format 0.0.4)",
        "tags": ["cluster"],
        "responses": {"200": {"description": "the metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}})json"},
      {"GET", "/v1/cluster", cluster_route, nullptr, R"json({
        "summary": "Cluster id, broker id, listeners, version, uptime and storage backend",
        "tags": ["cluster"],
        "responses": {"200": {"description": "the cluster", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cluster"}}}}}})json"},
      {"GET", "/v1/openapi.json", openapi, nullptr, R"json({
        "summary": "This API as an OpenAPI 3.1 document (every route the server serves)",
        "tags": ["cluster"],
        "responses": {"200": {"description": "the document", "content": {"application/json": {"schema": {"type": "object"}}}}}})json"},
  };
}

}  // namespace admin

namespace {

boost::asio::awaitable<http_response> dispatch(admin_context& ctx, http_request req) {
  using namespace admin;
  const auto segs = path_segments(req.path);
  int64_t best = -1;
  for (const auto& c : compiled_routes()) best = std::max(best, match(c, segs, nullptr));
  if (best < 0) {
    // The test control plane routes on its own segments (control_routes.cc).
    if (segs.size() >= 2 && segs[0] == "v1" && segs[1] == "control") co_return control_routes(ctx, req, segs);
    co_return no_route(req);
  }
  std::string allow;
  for (const auto& c : compiled_routes()) {
    if (match(c, segs, nullptr) != best) continue;
    if (req.method == c.r->method) {
      path_params params;
      match(c, segs, &params);
      if (c.r->waiting_handler) co_return co_await c.r->waiting_handler(ctx, std::move(req), std::move(params));
      co_return c.r->handler(ctx, req, params);
    }
    if (allow.find(c.r->method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + std::string(c.r->method);
  }
  co_return not_allowed(allow, req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")");
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
  const std::string method = req.method, path = req.path;
  try {
    if (auto parts = admin::path_segments(req.path); admin::async_route(parts))
      co_return co_await admin::async_routes(ctx, req, parts);
    co_return co_await dispatch(ctx, std::move(req));
  } catch (const admin::json::exception& ex) {
    co_return admin::error_response(400, "bad_request", std::string("bad JSON value: ") + ex.what());
  } catch (const std::exception& ex) {
    spdlog::error("admin {} {}: {}", method, path, ex.what());
    co_return admin::error_response(500, "internal_error", ex.what());
  }
}

}  // namespace mk
