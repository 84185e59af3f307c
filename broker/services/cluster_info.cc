#include "broker/services/cluster_info.h"

#include <map>

#include "broker/services/groups.h"

namespace mk::services {

using proto::error_code;
using failure = cluster_op_result::failure;

namespace {

cluster_op_result fail(failure kind, error_code code, std::string message) {
  return cluster_op_result{kind, code, std::move(message)};
}

cluster_op_result unknown_broker(int32_t id) {
  return fail(failure::not_found, error_code::broker_not_available, "broker " + std::to_string(id) + " does not exist");
}

}  // namespace

template <typename F>
void cluster_service::moving_groups(F&& change) {
  std::map<std::string, int32_t> before;
  for (const auto& g : groups_.group_ids()) before[g] = state_.coordinator(coordinator_kind::group, g);
  change();
  for (const auto& [g, was] : before)
    if (state_.coordinator(coordinator_kind::group, g) != was) groups_.unload(g);
}

cluster_op_result cluster_service::broker_down(int32_t id) {
  if (!state_.node(id)) return unknown_broker(id);
  if (!state_.node_up(id)) return {};
  moving_groups([&] { state_.broker_down(id); });
  if (switch_) switch_(id, false);
  return {};
}

cluster_op_result cluster_service::broker_up(int32_t id) {
  if (!state_.node(id)) return unknown_broker(id);
  if (state_.node_up(id)) return {};
  if (switch_)
    if (std::string err = switch_(id, true); !err.empty())
      return fail(failure::conflict, error_code::broker_not_available,
                  "broker " + std::to_string(id) + " cannot listen again: " + err);
  moving_groups([&] { state_.broker_up(id); });
  return {};
}

cluster_op_result cluster_service::move_leader(const std::string& topic, int32_t partition, int32_t broker) {
  topic_state* t = state_.find(topic);
  if (!t) return fail(failure::not_found, error_code::unknown_topic_or_partition, "topic '" + topic + "' does not exist");
  partition_state* p = t->partition(partition);
  if (!p)
    return fail(failure::not_found, error_code::unknown_topic_or_partition,
                "topic '" + topic + "' has no partition " + std::to_string(partition));
  if (!state_.node(broker)) return unknown_broker(broker);
  if (!state_.node_up(broker))
    return fail(failure::conflict, error_code::leader_not_available,
                "broker " + std::to_string(broker) + " is down and cannot lead");
  state_.move_leader(*p, broker);
  return {};
}

cluster_op_result cluster_service::move_coordinator(const std::string& group, int32_t broker) {
  if (group.empty()) return fail(failure::invalid, error_code::invalid_group_id, "the group id is empty");
  if (!state_.node(broker)) return unknown_broker(broker);
  if (!state_.node_up(broker))
    return fail(failure::conflict, error_code::coordinator_not_available,
                "broker " + std::to_string(broker) + " is down and cannot coordinate");
  const int32_t was = state_.coordinator(coordinator_kind::group, group);
  state_.move_coordinator(group, broker);
  if (was != broker) groups_.unload(group);
  return {};
}

error_code cluster_service::elect_leader(partition_state& p, int8_t election_type) {
  return state_.elect_leader(p, election_type);
}

const char* cluster_service::version() { return MINIKAFKA_VERSION; }

}  // namespace mk::services
