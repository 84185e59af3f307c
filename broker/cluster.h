// The cluster model: broker nodes, topics, partitions and who leads them.
//
// One process serves one cluster. Today it has one node, but nodes, listeners and per-partition
// leadership are explicit here so several node ids on several ports (multi-broker simulation,
// leader moves, fault injection) need no rewrite: handlers always ask "does the node this
// connection arrived on lead this partition?".
//
// Runs on: the broker's state thread (its io_context). Nothing here locks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/config.h"
#include "broker/topic_config.h"
#include "protocol/error_code.h"
#include "protocol/wire.h"
#include "storage/partition_log.h"

namespace mk {

struct node_info {
  int32_t node_id = 0;
  std::string host;  // advertised host
  uint16_t port = 0;
  std::optional<std::string> rack;
};

// Something parked until a partition gets new data (a long-polling Fetch).
class append_waiter {
 public:
  virtual ~append_waiter() = default;
  virtual void on_append() = 0;
};

// Idempotent-producer bookkeeping for one producer id on one partition: its epoch and the
// sequence ranges of its last batches (Kafka keeps 5), to acknowledge retried duplicates with
// their original offsets and to refuse gaps.
struct producer_batch {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t base_offset = 0;
};
struct producer_state {
  int16_t epoch = -1;
  std::deque<producer_batch> recent;  // newest last, at most 5
};

// A transaction aborted on a partition: its first offset there and the offset of its abort
// marker (Fetch's aborted_transactions for read_committed consumers).
struct aborted_txn {
  int64_t producer_id = -1;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
};

struct partition_state {
  int32_t index = 0;
  int32_t leader_id = 0;
  int32_t leader_epoch = 0;
  std::vector<int32_t> replicas;
  std::unique_ptr<storage::partition_log> log;
  std::vector<append_waiter*> waiters;  // woken (and cleared) on every append
  std::unordered_map<int64_t, producer_state> producers;  // idempotent producers by id
  std::map<int64_t, int64_t> open_txns;                   // producer id -> first offset of its open transaction
  std::vector<aborted_txn> aborted;                       // in marker order

  // The last stable offset: the first offset of the oldest open transaction, else the end.
  int64_t last_stable_offset() const {
    int64_t lso = log->end_offset();
    for (const auto& [pid, first] : open_txns) lso = std::min(lso, first);
    return lso;
  }

  // Wakes every parked waiter. Waiters that still need data register again.
  void notify_append() {
    auto w = std::move(waiters);
    waiters.clear();
    for (auto* x : w) x->on_append();
  }
  void remove_waiter(append_waiter* x) {
    for (size_t i = 0; i < waiters.size(); ++i)
      if (waiters[i] == x) {
        waiters[i] = waiters.back();
        waiters.pop_back();
        return;
      }
  }
};

struct topic_state {
  std::string name;
  proto::uuid id;
  topic_configs configs;
  int16_t replication_factor = 1;  // as requested; one replica is stored
  std::vector<std::shared_ptr<partition_state>> partitions;

  partition_state* partition(int32_t i) {
    return i >= 0 && static_cast<size_t>(i) < partitions.size() ? partitions[static_cast<size_t>(i)].get() : nullptr;
  }
};

// The one "does this node lead this partition" check, for every request that names a partition:
// NOT_LEADER_OR_FOLLOWER when `node_id` does not lead it; with a client leader epoch (>= 0, the
// versions that send one) FENCED_LEADER_EPOCH when it is older than the partition's and
// UNKNOWN_LEADER_EPOCH when newer.
inline proto::error_code check_leader(const partition_state& p, int32_t node_id, int32_t client_leader_epoch = -1) {
  if (p.leader_id != node_id) return proto::error_code::not_leader_or_follower;
  if (client_leader_epoch >= 0 && client_leader_epoch != p.leader_epoch)
    return client_leader_epoch < p.leader_epoch ? proto::error_code::fenced_leader_epoch
                                                : proto::error_code::unknown_leader_epoch;
  return proto::error_code::none;
}

struct topic_error {
  proto::error_code code = proto::error_code::none;
  std::string message;
  explicit operator bool() const { return code != proto::error_code::none; }
};

class cluster {
 public:
  cluster(const broker_config& cfg, storage::storage_engine& engine);

  const broker_config& config() const { return cfg_; }
  const std::string& cluster_id() const { return cfg_.cluster_id; }
  int32_t controller_id() const { return controller_id_; }

  // Nodes of the cluster (listeners register theirs once bound).
  void set_node(node_info n);
  const std::vector<node_info>& nodes() const { return nodes_; }
  const node_info* node(int32_t id) const;

  topic_state* find(const std::string& name);
  topic_state* find(const proto::uuid& id);
  const std::map<std::string, std::unique_ptr<topic_state>>& topics() const { return topics_; }

  // Kafka's legal-name rule: 1-249 chars of [a-zA-Z0-9._-], not "." or "..".
  static std::optional<std::string> validate_topic_name(const std::string& name);
  // Kafka's internal topics, __consumer_offsets and __transaction_state (Metadata's is_internal).
  // minikafka keeps group offsets in the coordinator and has no transaction log, so neither these
  // names nor KRaft's __cluster_metadata can be created (create_topic: INVALID_REQUEST).
  static bool is_internal_topic(const std::string& name);

  struct create_spec {
    std::string name;
    int32_t partitions = -1;           // -1 = default partitions
    int16_t replication_factor = -1;   // -1 = default (1)
    std::map<std::string, std::string> configs;
    std::map<int32_t, std::vector<int32_t>> assignments;  // manual assignment, optional
  };
  // Creates a topic (or only validates it). Errors: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION,
  // INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG,
  // INVALID_REQUEST (also for an internal topic's name), KAFKA_STORAGE_ERROR.
  topic_error create_topic(const create_spec& spec, bool validate_only, topic_state** created = nullptr);

  // Deletes a topic and its stored data; parked fetches on it are woken.
  topic_error delete_topic(const std::string& name);

  // Grows a topic to `count` partitions. INVALID_PARTITIONS unless count > current.
  topic_error create_partitions(topic_state& t, int32_t count, bool validate_only);

  // Auto-creation (Metadata/Produce) if enabled and the name is legal: returns the topic or null.
  topic_state* auto_create(const std::string& name);

  // A producer id never handed out before by this cluster (InitProducerId). Starts from the
  // wall clock so ids from a restarted broker do not collide with old ones in stored batches.
  int64_t next_producer_id() { return ++last_producer_id_; }

  // Reopens every topic recorded in the storage engine's metadata store (persistent backends):
  // ids, partition counts, configs and each partition's log. Returns an error on storage failure.
  topic_error recover();

  // Observers called after a topic is deleted (groups drop their offsets, etc.).
  void on_topic_deleted(std::function<void(const std::string&)> f) { deleted_observers_.push_back(std::move(f)); }

 private:
  topic_error add_partitions(topic_state& t, int32_t count);
  topic_error persist(const topic_state& t);

  broker_config cfg_;
  storage::storage_engine& engine_;
  int32_t controller_id_;
  std::vector<node_info> nodes_;
  std::map<std::string, std::unique_ptr<topic_state>> topics_;
  std::unordered_map<std::string, topic_state*> by_id_;  // key: uuid hex
  std::vector<std::function<void(const std::string&)>> deleted_observers_;
  int64_t last_producer_id_ = 0;
};

}  // namespace mk
