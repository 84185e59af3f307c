#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"
#include "broker/services/services.h"
#include "broker/topic_config.h"

namespace mk::admin {

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

}  // namespace

http_response topic_routes(admin_context& ctx, const http_request& req, const path_parts& parts) {
  auto& topics = ctx.svc.topics;
  if (parts.size() == 2) {
    if (req.method == "GET") {
      json arr = json::array();
      for (const auto& [name, t] : topics.all()) arr.push_back(topic_summary(*t));
      return json_response(200, arr);
    }
    if (req.method == "POST") return create_topic(topics, req);
    return not_allowed("GET, POST", req.method + " is not allowed on /v1/topics");
  }
  topic_state* t = topics.find(parts[2]);
  if (!t) return error_response(404, "UNKNOWN_TOPIC_OR_PARTITION", "topic '" + parts[2] + "' does not exist");
  if (parts.size() == 3) {
    if (req.method == "GET") return json_response(200, topic_detail(*t));
    if (req.method == "DELETE") {
      std::string name = t->name;
      if (auto e = topics.remove(name)) return kafka_error(e.code, e.message);
      return json_response(200, json{{"deleted", name}});
    }
    return not_allowed("GET, DELETE", req.method + " is not allowed on a topic");
  }
  if (parts.size() == 4 && parts[3] == "partitions") {
    if (req.method != "POST") return not_allowed("POST", "use POST to add partitions");
    http_response err;
    auto body = parse_body(req, err);
    if (!body) return err;
    int64_t count = -1;
    if (!body->contains("count")) return error_response(400, "bad_request", "\"count\" (integer) is required");
    if (!int_field(*body, "count", 1, INT32_MAX, count, err)) return err;
    if (auto e = topics.grow(*t, static_cast<int32_t>(count))) return kafka_error(e.code, e.message);
    return json_response(200, topic_detail(*t));
  }
  return record_routes(ctx, req, parts);
}

}  // namespace mk::admin
