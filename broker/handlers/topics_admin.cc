// CreateTopics (0-7), DeleteTopics (0-6), CreatePartitions (0-3).
//
// Behaviour:
//  * CreateTopics: num_partitions / replication_factor -1 take the broker defaults (partitions:
//    --default-partitions, replication factor 1). Replicas are placed as Kafka's rack-unaware
//    assignment does (broker/placement.h) over the live brokers; a replication factor above
//    their count is capped there (the answer says how many replicas were kept) unless
//    --strict-replication-factor. Manual replica assignments must name known brokers once each,
//    the same count for every partition, one of them live. Errors: TOPIC_ALREADY_EXISTS,
//    INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (<= 0, or above the
//    live broker count with --strict-replication-factor), INVALID_REPLICA_ASSIGNMENT,
//    INVALID_CONFIG (unknown name or bad value), INVALID_REQUEST (duplicate topic in one
//    request). validate_only checks everything and creates nothing. v5+ answer with the topic id
//    (v7), partitions, replication factor and the topic's configs.
//  * DeleteTopics: by name (v0-5 topic_names, v6 topics[].name) or by id (v6 topics[].topic_id).
//    Deletes stored data; UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID when missing.
//  * CreatePartitions: grows a topic; INVALID_PARTITIONS unless the new count is larger. New
//    partitions are placed as Kafka's addPartitions does, or as the request's assignments say
//    (INVALID_REPLICA_ASSIGNMENT unless one list per new partition, each as long as the topic's
//    replication factor, naming known brokers).
#include <map>
#include <set>

#include "broker/handlers/handler.h"

namespace mk::handlers {

proto::create_topics_response create_topics(request_context& ctx, proto::create_topics_request& req) {
  proto::create_topics_response resp;
  auto& topics = ctx.svc().topics;
  std::map<std::string, int> seen;
  for (const auto& t : req.topics) seen[t.name]++;
  for (const auto& t : req.topics) {
    auto& r = resp.topics.emplace_back();
    r.name = t.name;
    r.error_message = std::nullopt;
    if (seen[t.name] > 1) {
      r.error_code = code(error_code::invalid_request);
      r.error_message = "Create topics request from client contains the topic '" + t.name + "' more than once.";
      continue;
    }
    cluster::create_spec spec;
    spec.name = t.name;
    spec.partitions = t.num_partitions;
    spec.replication_factor = t.replication_factor;
    for (const auto& a : t.assignments) spec.assignments[a.partition_index] = a.broker_ids;
    for (const auto& c : t.configs) {
      if (!c.value) continue;  // null value = use the default
      spec.configs[c.name] = *c.value;
    }
    topic_state* created = nullptr;
    if (auto err = topics.create(spec, req.validate_only, &created)) {
      r.error_code = code(err.code);
      r.error_message = err.message;
      continue;
    }
    const int32_t parts = created ? static_cast<int32_t>(created->partitions.size())
                          : !spec.assignments.empty() ? static_cast<int32_t>(spec.assignments.size())
                          : spec.partitions == -1 ? ctx.env.config.default_partitions
                                                  : spec.partitions;
    r.num_partitions = parts;
    r.replication_factor = created                     ? created->replication_factor
                           : !spec.assignments.empty() ? static_cast<int16_t>(spec.assignments.begin()->second.size())
                                                       : topics.replicas_for(spec.replication_factor);
    if (created) r.topic_id = created->id;
    if (ctx.version() >= 5) {
      r.configs.emplace();
      topic_configs cfgs;
      cfgs.overrides = spec.configs;
      for (const auto& d : topic_config_defs()) {
        auto& c = r.configs->emplace_back();
        c.name = d.name;
        c.value = cfgs.get(d.name);
        bool overridden = spec.configs.count(d.name) > 0;
        c.config_source = static_cast<int8_t>(overridden ? config_source::topic : config_source::default_config);
      }
    }
  }
  return resp;
}

proto::delete_topics_response delete_topics(request_context& ctx, proto::delete_topics_request& req) {
  proto::delete_topics_response resp;
  auto& topics = ctx.svc().topics;
  auto delete_named = [&](const std::string& name, proto::delete_topics_response::deletable_topic_result& r) {
    r.name = name;
    topic_state* t = topics.find(name);
    if (!t) {
      r.error_code = code(error_code::unknown_topic_or_partition);
      r.error_message = "This server does not host this topic-partition.";
      return;
    }
    r.topic_id = t->id;
    auto err = topics.remove(name);
    r.error_code = code(err.code);
    if (err) r.error_message = err.message;
  };
  if (ctx.version() >= 6) {
    for (const auto& t : req.topics) {
      auto& r = resp.responses.emplace_back();
      if (t.name) {
        delete_named(*t.name, r);
      } else if (topic_state* found = topics.find(t.topic_id)) {
        delete_named(found->name, r);
      } else {
        r.name = std::nullopt;
        r.topic_id = t.topic_id;
        r.error_code = code(error_code::unknown_topic_id);
        r.error_message = "This server does not host this topic ID.";
      }
    }
  } else {
    for (const auto& name : req.topic_names) delete_named(name, resp.responses.emplace_back());
  }
  return resp;
}

proto::create_partitions_response create_partitions(request_context& ctx, proto::create_partitions_request& req) {
  proto::create_partitions_response resp;
  auto& topics = ctx.svc().topics;
  for (const auto& t : req.topics) {
    auto& r = resp.results.emplace_back();
    r.name = t.name;
    topic_state* topic = topics.find(t.name);
    if (!topic) {
      r.error_code = code(error_code::unknown_topic_or_partition);
      r.error_message = "The topic '" + t.name + "' does not exist.";
      continue;
    }
    std::vector<std::vector<int32_t>> assignments;
    if (t.assignments) {
      // An empty list is a (wrong) assignment too, not "place them for me".
      if (t.assignments->size() != static_cast<size_t>(std::max(0, t.count - static_cast<int32_t>(topic->partitions.size()))) &&
          t.count > static_cast<int32_t>(topic->partitions.size())) {
        r.error_code = code(error_code::invalid_replica_assignment);
        r.error_message = "Increasing the number of partitions by " +
                          std::to_string(t.count - static_cast<int32_t>(topic->partitions.size())) + " but " +
                          std::to_string(t.assignments->size()) + " assignments provided.";
        continue;
      }
      for (const auto& a : *t.assignments) assignments.push_back(a.broker_ids);
    }
    if (auto err = topics.grow(*topic, t.count, req.validate_only, assignments)) {
      r.error_code = code(err.code);
      r.error_message = err.message;
    }
  }
  return resp;
}

}  // namespace mk::handlers
