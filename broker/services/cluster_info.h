// The cluster as front ends describe and change it: nodes and their listeners, controller, ids,
// version, uptime, storage backend, producer ids, and the cluster operations of the simulated
// multi-broker cluster (brokers down and up, leader and coordinator moves, leader elections),
// shared by the HTTP admin API (broker/admin/cluster_routes.cc), the embedding API and the
// Kafka handlers (ElectLeaders, FindCoordinator).
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "broker/clock.h"
#include "broker/cluster.h"

namespace mk::services {

class groups_service;

// How a cluster operation failed: a Kafka error code with a message, and the kind of failure
// (which front ends map, e.g. to HTTP 404 / 409 / 400).
struct cluster_op_result {
  enum class failure { none, not_found, conflict, invalid };
  failure kind = failure::none;
  proto::error_code code = proto::error_code::none;
  std::string message;
  explicit operator bool() const { return kind != failure::none; }
};

struct listener_info {
  std::string name;  // "kafka" or "admin"
  int32_t node_id = -1;  // -1 for the admin listener
  std::string host;
  uint16_t port = 0;
};

class cluster_service {
 public:
  cluster_service(cluster& state, groups_service& groups, const clock& clk, const char* storage_name)
      : state_(state), groups_(groups), clock_(clk), storage_name_(storage_name), started_ms_(clk.steady_ms()) {}

  const std::vector<node_info>& nodes() const { return state_.nodes(); }
  const node_info* node(int32_t id) const { return state_.node(id); }
  bool node_up(int32_t id) const { return state_.node_up(id); }
  int32_t controller_id() const { return state_.controller_id(); }
  const std::string& cluster_id() const { return state_.cluster_id(); }
  const char* storage() const { return storage_name_; }
  // The project version (CMakeLists.txt), as `minikafka --version` prints it.
  static const char* version();
  int64_t uptime_ms() const { return clock_.steady_ms() - started_ms_; }

  // Listeners, set by the server once bound.
  void set_listeners(std::vector<listener_info> l) { listeners_ = std::move(l); }
  const std::vector<listener_info>& listeners() const { return listeners_; }

  // A producer id never handed out before (InitProducerId).
  int64_t next_producer_id() { return state_.next_producer_id(); }

  // ---- Cluster operations (cluster_info.cc).

  // Set by the server: closes (up = false) or reopens a broker's Kafka listener on its port.
  // Returns an empty string, or why it cannot listen.
  using listener_switch = std::function<std::string(int32_t broker, bool up)>;
  void set_listener_switch(listener_switch f) { switch_ = std::move(f); }

  // Takes a broker down: its listener closes its connections and refuses new ones; its
  // partitions and groups move (cluster::broker_down; groups whose coordinator changed get
  // NOT_COORDINATOR for held requests). Idempotent. not_found (BROKER_NOT_AVAILABLE) for an
  // unknown id.
  cluster_op_result broker_down(int32_t id);
  // Brings it back on the same port (cluster::broker_up). Idempotent. not_found for an unknown
  // id; conflict (BROKER_NOT_AVAILABLE) when its port cannot be bound again.
  cluster_op_result broker_up(int32_t id);
  // Moves a partition's leadership to `broker` (epoch bump). not_found: unknown topic or
  // partition (UNKNOWN_TOPIC_OR_PARTITION) or broker (BROKER_NOT_AVAILABLE); conflict: the broker
  // is down (LEADER_NOT_AVAILABLE). Moving to the current leader changes nothing.
  cluster_op_result move_leader(const std::string& topic, int32_t partition, int32_t broker);
  // Makes `broker` coordinate `group` (which need not exist yet); the old coordinator answers
  // NOT_COORDINATOR from then on. invalid: empty group id (INVALID_GROUP_ID); not_found: unknown
  // broker; conflict: the broker is down (COORDINATOR_NOT_AVAILABLE).
  cluster_op_result move_coordinator(const std::string& group, int32_t broker);
  // ElectLeaders for one partition (cluster::elect_leader).
  proto::error_code elect_leader(partition_state& p, int8_t election_type);

  // The broker coordinating a group / transactional id, -1 when none is available.
  int32_t coordinator(coordinator_kind kind, const std::string& key) const { return state_.coordinator(kind, key); }

 private:
  // Runs `change`, then unloads every group whose coordinator it changed.
  template <typename F>
  void moving_groups(F&& change);

  cluster& state_;
  groups_service& groups_;
  listener_switch switch_;
  const clock& clock_;
  const char* storage_name_;
  int64_t started_ms_;
  std::vector<listener_info> listeners_;
};

}  // namespace mk::services
