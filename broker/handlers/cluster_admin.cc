// ElectLeaders (0-2), DescribeCluster (0-1), DescribeTopicPartitions (0): the cluster as the
// admin clients see it, consistent with Metadata and the cluster operations (cluster.h).
//
// Behaviour:
//  * ElectLeaders: PREFERRED (0; v0 always) makes each partition's first replica lead when it
//    is live and in sync (PREFERRED_LEADER_NOT_AVAILABLE otherwise, ELECTION_NOT_NEEDED when it
//    leads already); UNCLEAN (1) gives a leaderless partition its first live replica
//    (ELECTION_NOT_NEEDED when it has a leader, ELIGIBLE_LEADERS_NOT_AVAILABLE when none is
//    live). Null partitions = every partition, and then, as Kafka does, only the partitions whose
//    result is not ELECTION_NOT_NEEDED are listed. Unknown topic or partition:
//    UNKNOWN_TOPIC_OR_PARTITION. Another election type: INVALID_REQUEST (top level, v1+).
//    Any broker serves it (Kafka forwards it to the controller).
//  * DescribeCluster: the live brokers, the controller (lowest live id) and the cluster id;
//    authorized operations "all" when asked for (no ACLs). endpoint_type 2 (controllers, v1) is
//    refused with UNSUPPORTED_ENDPOINT_TYPE as a Kafka broker does.
//  * DescribeTopicPartitions: Metadata's partition view (leader, epoch, replicas, ISR, offline
//    replicas; no eligible leader replicas: ELR is off) for the named topics, or every topic
//    when none is named, in name order, paged by response_partition_limit (at most 2000) and the
//    cursor. Unknown names: UNKNOWN_TOPIC_OR_PARTITION; illegal ones INVALID_TOPIC_EXCEPTION.
#include <algorithm>
#include <set>

#include "broker/handlers/handler.h"

namespace mk::handlers {

namespace {
constexpr int32_t all_topic_ops = 0x0ff8;    // as Metadata reports them: no ACLs
constexpr int32_t all_cluster_ops = 0x3ff8;
// Kafka 3.9's Errors.UNSUPPORTED_ENDPOINT_TYPE (not in protocol/error_code.h's table).
constexpr int16_t unsupported_endpoint_type = 115;
constexpr int32_t max_partitions_per_response = 2000;  // Kafka's max.request.partition.size.limit

// Kafka's default message for each error ElectLeaders gives.
std::optional<std::string> election_message(error_code e) {
  switch (e) {
    case error_code::none:
      return std::nullopt;
    case error_code::preferred_leader_not_available:
      return "The preferred leader was not available.";
    case error_code::election_not_needed:
      return "Leader election not needed for topic partition.";
    case error_code::eligible_leaders_not_available:
      return "Eligible topic partition leaders are not available.";
    case error_code::unknown_topic_or_partition:
      return "This server does not host this topic-partition.";
    default:
      return std::string(proto::error_name(e));
  }
}
proto::describe_topic_partitions_response::cursor next_cursor(const std::string& topic, int32_t partition) {
  proto::describe_topic_partitions_response::cursor c;
  c.topic_name = topic;
  c.partition_index = partition;
  return c;
}
}  // namespace

proto::elect_leaders_response elect_leaders(request_context& ctx, proto::elect_leaders_request& req) {
  proto::elect_leaders_response resp;
  const int8_t type = ctx.version() >= 1 ? req.election_type : int8_t{0};
  if (type != 0 && type != 1) {
    resp.error_code = code(error_code::invalid_request);
    return resp;
  }
  auto& cl = ctx.svc().cluster;
  auto& topics = ctx.svc().topics;
  auto result = [](proto::elect_leaders_response::replica_election_result& tr, int32_t partition, error_code e) {
    auto& pr = tr.partition_result.emplace_back();
    pr.partition_id = partition;
    pr.error_code = code(e);
    pr.error_message = election_message(e);
  };
  if (!req.topic_partitions) {
    for (const auto& [name, t] : topics.all()) {
      proto::elect_leaders_response::replica_election_result tr;
      tr.topic = name;
      for (auto& p : t->partitions) {
        const error_code e = cl.elect_leader(*p, type);
        if (e != error_code::election_not_needed) result(tr, p->index, e);
      }
      if (!tr.partition_result.empty()) resp.replica_election_results.push_back(std::move(tr));
    }
    return resp;
  }
  for (const auto& rt : *req.topic_partitions) {
    auto& tr = resp.replica_election_results.emplace_back();
    tr.topic = rt.topic;
    topic_state* t = topics.find(rt.topic);
    for (int32_t index : rt.partitions) {
      partition_state* p = t ? t->partition(index) : nullptr;
      result(tr, index, p ? cl.elect_leader(*p, type) : error_code::unknown_topic_or_partition);
    }
  }
  return resp;
}

proto::describe_cluster_response describe_cluster(request_context& ctx, proto::describe_cluster_request& req) {
  proto::describe_cluster_response resp;
  auto& cl = ctx.svc().cluster;
  resp.endpoint_type = req.endpoint_type;
  if (ctx.version() >= 1 && req.endpoint_type != 1) {
    resp.error_code = unsupported_endpoint_type;
    resp.error_message = "The broker only supports broker endpoints (endpoint type 1).";
    return resp;
  }
  resp.cluster_id = cl.cluster_id();
  resp.controller_id = cl.controller_id();
  for (const auto& n : cl.nodes()) {
    if (!n.up) continue;
    auto& b = resp.brokers.emplace_back();
    b.broker_id = n.node_id;
    b.host = n.host;
    b.port = n.port;
    b.rack = n.rack;
  }
  if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = all_cluster_ops;
  return resp;
}

proto::describe_topic_partitions_response describe_topic_partitions(request_context& ctx,
                                                                    proto::describe_topic_partitions_request& req) {
  proto::describe_topic_partitions_response resp;
  auto& topics = ctx.svc().topics;
  auto& cl = ctx.svc().cluster;
  std::set<std::string> names;
  if (req.topics.empty())
    for (const auto& [name, t] : topics.all()) names.insert(name);
  else
    for (const auto& t : req.topics) names.insert(t.name);
  int32_t budget = req.response_partition_limit > 0
                       ? std::min(req.response_partition_limit, max_partitions_per_response)
                       : max_partitions_per_response;
  for (const auto& name : names) {
    int32_t first = 0;
    if (req.cursor) {
      if (name < req.cursor->topic_name) continue;
      if (name == req.cursor->topic_name) first = std::max(0, req.cursor->partition_index);
    }
    if (budget == 0) {
      resp.next_cursor = next_cursor(name, first);
      break;
    }
    auto& out = resp.topics.emplace_back();
    out.name = name;
    topic_state* t = topics.find(name);
    if (!t) {
      out.error_code = code(services::topics_service::missing_topic_error(name));
      continue;
    }
    out.topic_id = t->id;
    out.topic_authorized_operations = all_topic_ops;
    for (auto i = static_cast<size_t>(first); i < t->partitions.size(); ++i) {
      if (budget == 0) {
        resp.next_cursor = next_cursor(name, static_cast<int32_t>(i));
        break;
      }
      const auto& p = *t->partitions[i];
      auto& op = out.partitions.emplace_back();
      op.partition_index = p.index;
      op.leader_id = p.leader_id;
      op.leader_epoch = p.leader_epoch;
      op.replica_nodes = p.replicas;
      op.isr_nodes = p.isr;
      for (int32_t r : p.replicas)
        if (!cl.node_up(r)) op.offline_replicas.push_back(r);
      op.error_code = cl.node_up(p.leader_id) ? 0 : code(error_code::leader_not_available);
      --budget;
    }
    if (resp.next_cursor) break;
  }
  return resp;
}

}  // namespace mk::handlers
