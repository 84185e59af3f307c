// Metadata: every version in protocol/generated/metadata_request.h (0-12).
//
// Behaviour:
//  * Brokers are the cluster's live nodes (a broker taken down is left out, as Kafka leaves out
//    fenced brokers); controller_id (v1+, the lowest live id) and cluster_id (v2+).
//  * topics: v0 empty = all topics; v1+ null = all, empty = none. v10+ return topic ids; v12 may
//    ask by topic id (unknown id: UNKNOWN_TOPIC_ID).
//  * Named topics that do not exist are auto-created when the broker allows it and the request
//    does (v4+ allow_auto_topic_creation; always for v0-v3), and returned at once; otherwise
//    UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC_EXCEPTION for an illegal name.
//  * is_internal is set for Kafka's internal topic names, which cannot be created (cluster.h).
//  * Each partition: its leader (-1 with LEADER_NOT_AVAILABLE while every replica is down),
//    leader epoch (v7+), replicas, ISR (the live replicas) and offline replicas (v5+).
//  * Authorized operations (v8+) are reported as "all" when asked for, since there are no ACLs.
#include "broker/handlers/handler.h"

namespace mk::handlers {

namespace {
constexpr int32_t all_topic_ops = 0x0ff8;    // READ..DESCRIBE_CONFIGS bits Kafka reports to superusers
constexpr int32_t all_cluster_ops = 0x3ff8;

void describe_topic(request_context& ctx, topic_state& t, proto::metadata_response::metadata_response_topic& out,
                    bool include_ops) {
  out.error_code = 0;
  out.name = t.name;
  out.topic_id = t.id;
  out.is_internal = cluster::is_internal_topic(t.name);  // only from data stored before they were refused
  out.partitions.reserve(t.partitions.size());
  for (auto& p : t.partitions) {
    auto& mp = out.partitions.emplace_back();
    mp.partition_index = p->index;
    mp.leader_id = p->leader_id;
    mp.leader_epoch = p->leader_epoch;
    mp.replica_nodes = p->replicas;
    mp.isr_nodes = p->isr;
    for (int32_t r : p->replicas)
      if (!ctx.svc().cluster.node_up(r)) mp.offline_replicas.push_back(r);
    mp.error_code = ctx.svc().cluster.node_up(p->leader_id) ? 0 : code(error_code::leader_not_available);
  }
  if (include_ops) out.topic_authorized_operations = all_topic_ops;
}
}  // namespace

proto::metadata_response metadata(request_context& ctx, proto::metadata_request& req) {
  auto& cl = ctx.svc().cluster;
  auto& topics = ctx.svc().topics;
  const int16_t v = ctx.version();
  proto::metadata_response resp;
  for (const auto& n : cl.nodes()) {
    if (!n.up) continue;
    auto& b = resp.brokers.emplace_back();
    b.node_id = n.node_id;
    b.host = n.host;
    b.port = n.port;
    b.rack = n.rack;
  }
  resp.cluster_id = cl.cluster_id();
  resp.controller_id = cl.controller_id();
  if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = all_cluster_ops;
  const bool ops = req.include_topic_authorized_operations;

  const bool all = !req.topics || (v == 0 && req.topics->empty());
  if (all) {
    for (const auto& [name, t] : topics.all()) describe_topic(ctx, *t, resp.topics.emplace_back(), ops);
    return resp;
  }
  const bool may_create = v < 4 || req.allow_auto_topic_creation;
  for (const auto& rt : *req.topics) {
    auto& out = resp.topics.emplace_back();
    topic_state* t = nullptr;
    if (!rt.name) {  // v12: by topic id
      t = topics.find(rt.topic_id);
      if (!t) {
        out.error_code = code(error_code::unknown_topic_id);
        out.name = std::nullopt;
        out.topic_id = rt.topic_id;
        continue;
      }
    } else {
      t = may_create ? topics.find_or_create(*rt.name) : topics.find(*rt.name);
      if (!t) {
        out.name = rt.name;
        out.error_code = code(services::topics_service::missing_topic_error(*rt.name));
        continue;
      }
    }
    describe_topic(ctx, *t, out, ops);
  }
  return resp;
}

}  // namespace mk::handlers
