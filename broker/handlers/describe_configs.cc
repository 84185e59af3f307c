// DescribeConfigs: versions 0-4, for topics (resource type 2) and brokers (type 4).
//
// Behaviour:
//  * Topics: every Kafka 3.9 topic config with its value; overrides report source TOPIC_CONFIG,
//    the rest DEFAULT_CONFIG (v0: is_default). Unknown topic: UNKNOWN_TOPIC_OR_PARTITION.
//  * Brokers: the broker configs clients and admin tools read (num.partitions,
//    auto.create.topics.enable, message.max.bytes, ...). The resource name must be this node's
//    id or empty (the cluster default); otherwise INVALID_REQUEST.
//  * configuration_keys filters (null = all). v1+ synonyms when asked; v3+ config types and
//    (when asked) documentation.
//  * Other resource types: INVALID_REQUEST.
#include "broker/handlers/handler.h"

namespace mk::handlers {

namespace {

struct entry_value {
  std::string name;
  std::string value;
  config_source source;
  config_type type;
  const char* doc;
  bool read_only;
};

std::vector<entry_value> broker_entries(request_context& ctx) {
  const auto& c = ctx.env.config;
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  const node_info* self = ctx.svc().cluster.node(ctx.node_id);
  std::string listener = self ? "PLAINTEXT://" + self->host + ":" + std::to_string(self->port) : "";
  auto S = config_source::static_broker;
  auto D = config_source::default_config;
  return {
      {"broker.id", std::to_string(c.node_id), S, config_type::int_, "", true},
      {"node.id", std::to_string(c.node_id), S, config_type::int_, "", true},
      {"advertised.listeners", listener, S, config_type::string, "", true},
      {"listeners", "PLAINTEXT://" + c.host + ":" + std::to_string(self ? self->port : c.port), S, config_type::string, "", true},
      {"num.partitions", std::to_string(c.default_partitions), S, config_type::int_, "default partitions of new topics", false},
      {"auto.create.topics.enable", b(c.auto_create_topics), S, config_type::boolean, "", false},
      {"default.replication.factor", "1", D, config_type::int_, "", false},
      {"min.insync.replicas", "1", D, config_type::int_, "", false},
      {"message.max.bytes", std::to_string(c.message_max_bytes), S, config_type::int_, "", false},
      {"socket.request.max.bytes", std::to_string(c.max_request_size), S, config_type::int_, "", true},
      {"fetch.max.bytes", std::to_string(c.fetch_max_bytes), D, config_type::int_, "", false},
      {"delete.topic.enable", "true", D, config_type::boolean, "", true},
      {"log.retention.hours", "168", D, config_type::int_, "", false},
      {"log.retention.ms", "604800000", D, config_type::long_, "", false},
      {"log.retention.bytes", "-1", D, config_type::long_, "", false},
      {"log.cleanup.policy", "delete", D, config_type::list, "", false},
      {"log.message.timestamp.type", "CreateTime", D, config_type::string, "", false},
      {"compression.type", "producer", D, config_type::string, "", false},
      {"offsets.topic.replication.factor", "1", S, config_type::short_, "", true},
      {"offsets.retention.minutes", "10080", D, config_type::int_, "", false},
      {"transaction.state.log.replication.factor", "1", S, config_type::short_, "", true},
      {"group.initial.rebalance.delay.ms", "0", S, config_type::int_, "", false},
      {"group.min.session.timeout.ms", "6000", D, config_type::int_, "", false},
      {"group.max.session.timeout.ms", "1800000", D, config_type::int_, "", false},
      {"unclean.leader.election.enable", "false", D, config_type::boolean, "", false},
  };
}

}  // namespace

proto::describe_configs_response describe_configs(request_context& ctx, proto::describe_configs_request& req) {
  proto::describe_configs_response resp;
  const int16_t v = ctx.version();
  for (const auto& res : req.resources) {
    auto& out = resp.results.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_message = std::nullopt;
    std::vector<entry_value> entries;
    if (res.resource_type == 2) {
      topic_state* t = ctx.svc().topics.find(res.resource_name);
      if (!t) {
        out.error_code = code(error_code::unknown_topic_or_partition);
        out.error_message = "Topic " + res.resource_name + " does not exist";
        continue;
      }
      for (const auto& d : topic_config_defs()) {
        bool set = t->configs.overrides.count(d.name) > 0;
        entries.push_back({d.name, t->configs.get(d.name), set ? config_source::topic : config_source::default_config,
                           d.type, d.doc, false});
      }
    } else if (res.resource_type == 4) {
      if (!res.resource_name.empty() && res.resource_name != std::to_string(ctx.node_id)) {
        out.error_code = code(error_code::invalid_request);
        out.error_message = "Unexpected broker id, expected " + std::to_string(ctx.node_id) + " or empty string, but received " + res.resource_name;
        continue;
      }
      entries = broker_entries(ctx);
    } else {
      out.error_code = code(error_code::invalid_request);
      out.error_message = "Unsupported resource type " + std::to_string(res.resource_type);
      continue;
    }
    for (const auto& e : entries) {
      if (res.configuration_keys) {
        bool wanted = false;
        for (const auto& k : *res.configuration_keys) wanted = wanted || k == e.name;
        if (!wanted) continue;
      }
      auto& c = out.configs.emplace_back();
      c.name = e.name;
      c.value = e.value;
      c.read_only = e.read_only;
      c.is_default = e.source == config_source::default_config;
      c.config_source = static_cast<int8_t>(e.source);
      c.is_sensitive = false;
      c.config_type = static_cast<int8_t>(e.type);
      c.documentation = req.include_documentation && v >= 3 ? std::optional<std::string>(e.doc) : std::nullopt;
      if (req.include_synonyms && v >= 1) {
        auto& s = c.synonyms.emplace_back();
        s.name = e.name;
        s.value = e.value;
        s.source = static_cast<int8_t>(e.source);
      }
    }
  }
  return resp;
}

}  // namespace mk::handlers
