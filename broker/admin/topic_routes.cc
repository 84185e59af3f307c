// Topics: list, create, describe, delete, grow (the route entries are at the end).
#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"
#include "broker/topic_config.h"

namespace mk::admin {

// The topic named by the path, or a 404 in `err`.
topic_state* path_topic(admin_context& ctx, const path_params& pp, http_response& err) {
  const std::string& name = pp.at("topic");
  topic_state* t = ctx.svc.topics.find(name);
  if (!t) err = error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "topic '" + name + "' does not exist");
  return t;
}

namespace {

json topic_summary(const topic_state& t) {
  return json{{"name", t.name},
              {"id", t.id.to_base64()},
              {"partitions", t.partitions.size()},
              {"replication_factor", t.replication_factor}};
}

json topic_detail(const topic_state& t) {
  json j = topic_summary(t);
  json configs = json::object();
  for (const auto& d : topic_config_defs()) configs[d.name] = t.configs.get(d.name);
  j["configs"] = configs;
  j["config_overrides"] = t.configs.overrides;
  json parts = json::array();
  for (const auto& p : t.partitions)
    parts.push_back(json{{"partition", p->index},
                         {"leader", p->leader_id},
                         {"leader_epoch", p->leader_epoch},
                         {"replicas", p->replicas},
                         {"isr", p->isr},
                         {"start_offset", p->log->start_offset()},
                         {"end_offset", p->log->end_offset()},
                         {"size_bytes", p->log->size_bytes()}});
  j["partition_details"] = parts;
  return j;
}

http_response create_topic(services::topics_service& topics, const http_request& req) {
  http_response err;
  auto body = parse_body(req, err);
  if (!body) return err;
  const json& j = *body;
  cluster::create_spec spec;
  if (!j.contains("name") || !j["name"].is_string()) return error_response(400, "bad_request", "\"name\" (string) is required");
  spec.name = j["name"].get<std::string>();
  int64_t parts = -1, rf = -1;
  if (!int_field(j, "partitions", -1, INT32_MAX, parts, err) || !int_field(j, "replication_factor", -1, INT16_MAX, rf, err))
    return err;
  spec.partitions = static_cast<int32_t>(parts);
  spec.replication_factor = static_cast<int16_t>(rf);
  if (j.contains("configs")) {
    if (!j["configs"].is_object()) return error_response(400, "bad_request", "\"configs\" must be an object");
    for (const auto& [k, v] : j["configs"].items()) spec.configs[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  topic_state* created = nullptr;
  if (auto e = topics.create(spec, false, &created)) return kafka_error(e.code, e.message);
  return json_response(201, topic_detail(*created));
}

http_response list_topics(admin_context& ctx, const http_request&, const path_params&) {
  json arr = json::array();
  for (const auto& [name, t] : ctx.svc.topics.all()) arr.push_back(topic_summary(*t));
  return json_response(200, arr);
}

http_response create(admin_context& ctx, const http_request& req, const path_params&) {
  return create_topic(ctx.svc.topics, req);
}

http_response describe_topic(admin_context& ctx, const http_request&, const path_params& pp) {
  http_response err;
  topic_state* t = path_topic(ctx, pp, err);
  return t ? json_response(200, topic_detail(*t)) : err;
}

http_response delete_topic(admin_context& ctx, const http_request&, const path_params& pp) {
  http_response err;
  topic_state* t = path_topic(ctx, pp, err);
  if (!t) return err;
  std::string name = t->name;
  if (auto e = ctx.svc.topics.remove(name)) return kafka_error(e.code, e.message);
  return json_response(200, json{{"deleted", name}});
}

http_response grow(admin_context& ctx, const http_request& req, const path_params& pp) {
  http_response err;
  topic_state* t = path_topic(ctx, pp, err);
  if (!t) return err;
  auto body = parse_body(req, err);
  if (!body) return err;
  int64_t count = -1;
  if (!body->contains("count")) return error_response(400, "bad_request", "\"count\" (integer) is required");
  if (!int_field(*body, "count", 1, INT32_MAX, count, err)) return err;
  if (auto e = ctx.svc.topics.grow(*t, static_cast<int32_t>(count))) return kafka_error(e.code, e.message);
  return json_response(200, topic_detail(*t));
}

}  // namespace

std::vector<route> topic_route_table() {
  return {
      {"GET", "/v1/topics", list_topics, nullptr, R"json({
        "summary": "List topics",
        "tags": ["topics"],
        "responses": {"200": {"description": "every topic", "content": {"application/json": {"schema": {
          "type": "array", "items": {"$ref": "#/components/schemas/TopicSummary"}}}}}}})json"},
      {"POST", "/v1/topics", create, nullptr, R"json({
        "summary": "Create a topic",
        "description": "Errors as CreateTopics: TOPIC_ALREADY_EXISTS (409), INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG, INVALID_REQUEST (internal topic names) (400).",
        "tags": ["topics"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateTopic"}}}},
        "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TopicDetail"}}}},
                      "409": {"$ref": "#/components/responses/Error"}}})json"},
      {"GET", "/v1/topics/{topic}", describe_topic, nullptr, R"json({
        "summary": "Describe a topic: id, configs, each partition's leader, offsets and size",
        "tags": ["topics"],
        "responses": {"200": {"description": "the topic", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TopicDetail"}}}},
                      "404": {"$ref": "#/components/responses/Error"}}})json"},
      {"DELETE", "/v1/topics/{topic}", delete_topic, nullptr, R"json({
        "summary": "Delete a topic and its records",
        "tags": ["topics"],
        "responses": {"200": {"description": "deleted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deleted"}}}},
                      "404": {"$ref": "#/components/responses/Error"}}})json"},
      {"POST", "/v1/topics/{topic}/partitions", grow, nullptr, R"json({
        "summary": "Add partitions (CreatePartitions)",
        "tags": ["topics"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GrowPartitions"}}}},
        "responses": {"200": {"description": "the topic after growing", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TopicDetail"}}}},
                      "404": {"$ref": "#/components/responses/Error"}}})json"},
  };
}

}  // namespace mk::admin
