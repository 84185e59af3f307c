// Cluster operations over HTTP (the simulated multi-broker cluster, --brokers N), a public
// contract that tests in any language call:
//
//   POST /v1/control/brokers/{id}/down                      the broker's listener closes its
//                                                           connections and refuses new ones;
//                                                           its partitions and groups move
//   POST /v1/control/brokers/{id}/up                        it listens again on the same port
//   POST /v1/control/topics/{topic}/partitions/{p}/leader   {"broker": id}: move leadership
//   POST /v1/control/groups/{group}/coordinator             {"broker": id}: move a coordinator
//
// Answers 200 with the new state (the broker, the partition, or the group's coordinator), or the
// admin API's error format: 400 bad input, 404 unknown broker / topic / partition, 409 a broker
// that is down (or cannot listen again), 405 for another method. Taking a broker down or up
// twice, or moving to the current leader or coordinator, is not an error.
// Runs on: broker state thread, over services::cluster_service.
#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"

namespace mk::admin {

namespace {

http_response op_error(const services::cluster_op_result& r) {
  using failure = services::cluster_op_result::failure;
  const int status = r.kind == failure::not_found ? 404 : r.kind == failure::conflict ? 409 : 400;
  return error_response(status, upper_name(r.code), r.message);
}

json broker_json(const services::cluster_service& c, int32_t id) {
  const node_info* n = c.node(id);
  return json{{"id", n->node_id}, {"host", n->host}, {"port", n->port}, {"up", n->up},
              {"controller_id", c.controller_id()}};
}

json partition_json(const topic_state& t, const partition_state& p) {
  return json{{"topic", t.name},          {"partition", p.index}, {"leader", p.leader_id},
              {"leader_epoch", p.leader_epoch}, {"replicas", p.replicas}, {"isr", p.isr}};
}

// The "broker" field of a body, or nullopt with a 400 in `err`.
std::optional<int32_t> broker_field(const http_request& req, http_response& err) {
  auto body = parse_body(req, err);
  if (!body) return std::nullopt;
  if (!body->contains("broker")) {
    err = error_response(400, "bad_request", "\"broker\" (integer broker id) is required");
    return std::nullopt;
  }
  int64_t id = 0;
  if (!int_field(*body, "broker", INT32_MIN, INT32_MAX, id, err)) return std::nullopt;
  return static_cast<int32_t>(id);
}

std::optional<int32_t> int_segment(const std::string& s, const char* what, int64_t lo, http_response& err) {
  auto v = parse_int(s);
  if (!v || *v < lo || *v > INT32_MAX) {
    err = error_response(400, "bad_request", std::string(what) + " must be an integer, got '" + s + "'");
    return std::nullopt;
  }
  return static_cast<int32_t>(*v);
}

}  // namespace

namespace {

// The four routes share their parsing, so they route on segments here.
http_response cluster_routes(admin_context& ctx, const http_request& req, const std::vector<std::string>& parts) {
  auto& c = ctx.svc.cluster;
  http_response err;
  // /v1/control/brokers/{id}/down|up
  if (parts[2] == "brokers" && parts.size() == 5 && (parts[4] == "down" || parts[4] == "up")) {
    if (req.method != "POST") return not_allowed("POST", "use POST to take a broker " + parts[4]);
    auto id = int_segment(parts[3], "the broker id", INT32_MIN, err);
    if (!id) return err;
    auto r = parts[4] == "down" ? c.broker_down(*id) : c.broker_up(*id);
    if (r) return op_error(r);
    return json_response(200, broker_json(c, *id));
  }
  // /v1/control/topics/{topic}/partitions/{p}/leader
  if (parts[2] == "topics" && parts.size() == 7 && parts[4] == "partitions" && parts[6] == "leader") {
    if (req.method != "POST") return not_allowed("POST", "use POST to move a partition's leader");
    auto p = int_segment(parts[5], "the partition", 0, err);
    if (!p) return err;
    auto broker = broker_field(req, err);
    if (!broker) return err;
    if (auto r = c.move_leader(parts[3], *p, *broker)) return op_error(r);
    const topic_state* t = ctx.svc.topics.find(parts[3]);
    return json_response(200, partition_json(*t, *t->partitions[static_cast<size_t>(*p)]));
  }
  // /v1/control/groups/{group}/coordinator
  if (parts[2] == "groups" && parts.size() == 5 && parts[4] == "coordinator") {
    if (req.method != "POST") return not_allowed("POST", "use POST to move a group's coordinator");
    auto broker = broker_field(req, err);
    if (!broker) return err;
    if (auto r = c.move_coordinator(parts[3], *broker)) return op_error(r);
    return json_response(200, json{{"group", parts[3]},
                                   {"coordinator", c.coordinator(coordinator_kind::group, parts[3])}});
  }
  return no_route(req);
}

http_response by_segments(admin_context& ctx, const http_request& req, const path_params&) {
  return cluster_routes(ctx, req, path_segments(req.path));
}

}  // namespace

std::vector<route> cluster_route_table() {
  return {
      {"POST", "/v1/control/brokers/{id}/down", by_segments, nullptr, R"json({
        "summary": "Take a simulated broker down (--brokers N)",
        "description": "Its listener closes its connections and refuses new ones; partitions it led move to another live replica (leader epoch + 1) or become leaderless (-1); groups it coordinated move.",
        "tags": ["cluster"],
        "responses": {"200": {"description": "the broker", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Broker"}}}},
                      "404": {"$ref": "#/components/responses/Error"}}})json"},
      {"POST", "/v1/control/brokers/{id}/up", by_segments, nullptr, R"json({
        "summary": "Bring a simulated broker back, on its port, as a follower",
        "tags": ["cluster"],
        "responses": {"200": {"description": "the broker", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Broker"}}}},
                      "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}})json"},
      {"POST", "/v1/control/topics/{topic}/partitions/{partition}/leader", by_segments, nullptr, R"json({
        "summary": "Move a partition's leadership to a live broker (leader epoch + 1)",
        "tags": ["cluster"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BrokerChoice"}}}},
        "responses": {"200": {"description": "the partition", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PartitionLeader"}}}},
                      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                      "409": {"$ref": "#/components/responses/Error"}}})json"},
      {"POST", "/v1/control/groups/{group}/coordinator", by_segments, nullptr, R"json({
        "summary": "Move a group's coordinator to a live broker (the old one answers NOT_COORDINATOR)",
        "tags": ["cluster"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BrokerChoice"}}}},
        "responses": {"200": {"description": "the group's coordinator", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GroupCoordinator"}}}},
                      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                      "409": {"$ref": "#/components/responses/Error"}}})json"},
  };
}

}  // namespace mk::admin
