// Consumer groups: list, describe (with lag), delete, reset offsets (the route entries are at the end).
#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"

namespace mk::admin {

namespace {

json assignment_json(const std::string& bytes) {
  auto a = services::decode_assignment(bytes);
  if (!a) return json{{"base64", encoding::base64_encode(bytes)}};  // not the consumer protocol
  json out = json::array();
  for (const auto& tp : *a) out.push_back(json{{"topic", tp.topic}, {"partitions", tp.partitions}});
  return out;
}

json group_detail(admin_context& ctx, const std::string& id) {
  auto& groups = ctx.svc.groups;
  auto d = groups.describe(id);
  json members = json::array();
  for (const auto& m : d.members)
    members.push_back(json{{"member_id", m.member_id},
                           {"group_instance_id", m.group_instance_id ? json(*m.group_instance_id) : json(nullptr)},
                           {"client_id", m.client_id},
                           {"client_host", m.client_host},
                           {"assignment", assignment_json(m.assignment)}});
  json offsets = json::array();
  int64_t total = 0;
  auto committed = groups.all_committed(id);
  for (const auto& l : groups.lag(id)) {
    std::string metadata;
    if (auto t = committed.find(l.topic); t != committed.end())
      if (auto c = t->second.find(l.partition); c != t->second.end()) metadata = c->second.metadata;
    offsets.push_back(json{{"topic", l.topic},
                           {"partition", l.partition},
                           {"committed_offset", l.committed},
                           {"end_offset", l.end_offset},
                           {"lag", l.lag},
                           {"metadata", metadata}});
    total += l.lag;
  }
  return json{{"group_id", id},
              {"state", groups::to_string(d.state)},
              {"protocol_type", d.protocol_type},
              {"protocol", d.protocol_name},
              {"generation_id", d.generation_id},
              {"leader", d.leader},
              {"members", members},
              {"offsets", offsets},
              {"total_lag", total},
              {"coordinator", ctx.svc.cluster.coordinator(coordinator_kind::group, id)}};  // broker id, -1: none
}

http_response reset_offsets(admin_context& ctx, const std::string& id, const http_request& req) {
  auto& groups = ctx.svc.groups;
  http_response err;
  auto body = parse_body(req, err);
  if (!body) return err;
  const json& j = *body;
  if (!j.contains("topic") || !j["topic"].is_string()) return error_response(400, "bad_request", "\"topic\" (string) is required");
  std::vector<int32_t> parts;
  if (j.contains("partitions")) {
    if (!j["partitions"].is_array()) return error_response(400, "bad_request", "\"partitions\" must be an array");
    for (const auto& p : j["partitions"]) {
      if (!p.is_number_integer() || p.get<int64_t>() < 0 || p.get<int64_t>() > INT32_MAX)
        return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "no such partition: " + p.dump());
      parts.push_back(p.get<int32_t>());
    }
  }
  const std::string bad_to = "\"to\" must be earliest, latest, offset or timestamp";
  if (j.contains("to") && !j["to"].is_string()) return error_response(400, "bad_request", bad_to);
  const std::string to = j.value("to", std::string());
  services::reset_target target;
  if (to == "earliest") {
    target.to = services::reset_target::kind::earliest;
  } else if (to == "latest") {
    target.to = services::reset_target::kind::latest;
  } else if (to == "offset") {
    if (!j.contains("offset") || !j["offset"].is_number_integer())
      return error_response(400, "bad_request", "\"offset\" (integer) is required");
    target = {services::reset_target::kind::offset, j["offset"].get<int64_t>()};
  } else if (to == "timestamp") {
    if (!j.contains("timestamp") || !j["timestamp"].is_number_integer())
      return error_response(400, "bad_request", "\"timestamp\" (integer ms) is required");
    target = {services::reset_target::kind::timestamp, j["timestamp"].get<int64_t>()};
  } else {
    return error_response(400, "bad_request", bad_to);
  }
  if (auto r = groups.reset_offsets(id, j["topic"].get<std::string>(), parts, target)) return kafka_error(r.error, r.message);
  return json_response(200, group_detail(ctx, id));
}

http_response list_groups(admin_context& ctx, const http_request&, const path_params&) {
  auto& groups = ctx.svc.groups;
  json arr = json::array();
  for (const auto& g : groups.list()) {
    auto d = groups.describe(g.group_id);
    arr.push_back(json{{"group_id", g.group_id},
                       {"state", groups::to_string(g.state)},
                       {"protocol_type", g.protocol_type},
                       {"members", d.members.size()}});
  }
  return json_response(200, arr);
}

http_response describe_group(admin_context& ctx, const http_request&, const path_params& pp) {
  const std::string& id = pp.at("group");
  if (!ctx.svc.groups.exists(id)) return error_response(404, "GROUP_ID_NOT_FOUND", "group '" + id + "' does not exist");
  return json_response(200, group_detail(ctx, id));
}

http_response delete_group(admin_context& ctx, const http_request&, const path_params& pp) {
  const std::string& id = pp.at("group");
  auto e = ctx.svc.groups.remove(id);
  if (e != proto::error_code::none) return kafka_error(e, "cannot delete group '" + id + "'");
  return json_response(200, json{{"deleted", id}});
}

http_response reset(admin_context& ctx, const http_request& req, const path_params& pp) {
  return reset_offsets(ctx, pp.at("group"), req);
}

}  // namespace

std::vector<route> group_route_table() {
  return {
      {"GET", "/v1/groups", list_groups, nullptr, R"json({
        "summary": "List consumer groups",
        "tags": ["groups"],
        "responses": {"200": {"description": "every group", "content": {"application/json": {"schema": {
          "type": "array", "items": {"$ref": "#/components/schemas/GroupSummary"}}}}}}})json"},
      {"GET", "/v1/groups/{group}", describe_group, nullptr, R"json({
        "summary": "Describe a group: state, members and their assignments, committed offsets and lag",
        "description": "lag = end offset - committed offset, per partition with a commit; total_lag is their sum.",
        "tags": ["groups"],
        "responses": {"200": {"description": "the group", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GroupDetail"}}}},
                      "404": {"$ref": "#/components/responses/Error"}}})json"},
      {"DELETE", "/v1/groups/{group}", delete_group, nullptr, R"json({
        "summary": "Delete a group and its committed offsets (DeleteGroups)",
        "description": "GROUP_ID_NOT_FOUND (404); NON_EMPTY_GROUP (409) while it has members.",
        "tags": ["groups"],
        "responses": {"200": {"description": "deleted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deleted"}}}},
                      "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}})json"},
      {"POST", "/v1/groups/{group}/offsets", reset, nullptr, R"json({
        "summary": "Reset a group's committed offsets (as consumer-groups --reset-offsets --execute)",
        "description": "Only while the group has no members: NON_EMPTY_GROUP (409) otherwise.",
        "tags": ["groups"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ResetOffsets"}}}},
        "responses": {"200": {"description": "the group after the reset", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GroupDetail"}}}},
                      "409": {"$ref": "#/components/responses/Error"}}})json"},
  };
}

}  // namespace mk::admin
