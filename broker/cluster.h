// The cluster model: broker nodes, topics, partitions and who leads them.
//
// One process serves one cluster of `broker_config::brokers` nodes (ids node_id..node_id+N-1),
// each with its own Kafka listener, all sharing this one state: one log per partition, which
// every replica "has", so a leader move or a broker loss never loses acknowledged data.
// Handlers always ask "does the node this connection arrived on lead this partition?"
// (check_leader) and "does it coordinate this group?" (coordinator).
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
  uint16_t port = 0;  // 0 until its listener is bound
  std::optional<std::string> rack;
  bool up = true;  // false while the broker is down (its listener closed)
};

// The host Metadata gives clients: --advertised-host, else --host (127.0.0.1 for a wildcard).
std::string advertised_host(const broker_config& cfg);

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

  // Records a stored batch's sequences (Kafka keeps the last 5 per producer and partition).
  void remember(producer_batch b) {
    recent.push_back(b);
    if (recent.size() > 5) recent.pop_front();
  }
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
  int32_t leader_id = 0;      // -1: leaderless (every replica down)
  int32_t leader_epoch = 0;   // bumped on every leader change
  std::vector<int32_t> replicas;  // assigned brokers, the preferred leader first
  std::vector<int32_t> isr;       // in-sync replicas: the live replicas (the one log is shared), or
                                  // the last leader alone while leaderless, as Kafka keeps it
  // Leader epochs and the offset each began at, oldest first (OffsetForLeaderEpoch). Appended
  // batches carry the current epoch in their partitionLeaderEpoch field, as Kafka stamps them.
  std::vector<std::pair<int32_t, int64_t>> epoch_starts;
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
  int16_t replication_factor = 1;  // replicas of each partition, what every front end reports
  // What was asked for (stored; the replica count is derived from it and the brokers at startup).
  // Larger than replication_factor when the lenient mode capped it at the live broker count.
  int16_t requested_replication_factor = 1;
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

// OffsetForLeaderEpoch's answer for `requested_epoch` (Kafka's LeaderEpochFileCache.endOffsetFor):
// the current epoch ends at the log end; an older one where the next known epoch began; one newer
// than any known, or -1, is undefined (-1, -1).
struct epoch_end {
  int32_t epoch = -1;
  int64_t end_offset = -1;
};
epoch_end end_offset_for_epoch(const partition_state& p, int32_t requested_epoch);

// Which coordinator a FindCoordinator key asks for (its key_type).
enum class coordinator_kind : int8_t { group = 0, transaction = 1 };

class cluster {
 public:
  cluster(const broker_config& cfg, storage::storage_engine& engine);

  const broker_config& config() const { return cfg_; }
  const std::string& cluster_id() const { return cfg_.cluster_id; }
  // The lowest live broker id (-1 when every broker is down).
  int32_t controller_id() const { return controller_id_; }

  // Nodes of the cluster, in id order, registered at construction (port 0 until bound; the
  // server sets it with set_node_port). Down nodes stay listed with up = false.
  const std::vector<node_info>& nodes() const { return nodes_; }
  const node_info* node(int32_t id) const;
  void set_node_port(int32_t id, uint16_t port);
  // Ids of the nodes that are up, in id order.
  std::vector<int32_t> live_node_ids() const;
  bool node_up(int32_t id) const {
    const node_info* n = node(id);
    return n && n->up;
  }

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

  // Grows a topic to `count` partitions, placed like Kafka's addPartitions (start at partition
  // 0's preferred leader) or as given in `assignments` (one replica list per new partition, each
  // as long as the topic's replication factor). INVALID_PARTITIONS unless count > current;
  // INVALID_REPLICA_ASSIGNMENT; INVALID_REPLICATION_FACTOR (strict mode, too few live brokers).
  topic_error create_partitions(topic_state& t, int32_t count, bool validate_only,
                                const std::vector<std::vector<int32_t>>& assignments = {});

  // The replica count a topic created now with `requested` (-1 = default 1) gets: the request,
  // capped at the live broker count unless --strict-replication-factor (then create_topic refuses).
  int16_t replicas_for(int16_t requested) const;

  // Auto-creation (Metadata/Produce) if enabled and the name is legal: returns the topic or null.
  topic_state* auto_create(const std::string& name);

  // A producer id never handed out before by this cluster (InitProducerId). Starts from the
  // wall clock so ids from a restarted broker do not collide with old ones in stored batches.
  int64_t next_producer_id() { return ++last_producer_id_; }

  // Reopens every topic recorded in the storage engine's metadata store (persistent backends):
  // ids, partition counts, configs and each partition's log. Returns an error on storage failure.
  topic_error recover();

  // ---- Leadership and brokers going down and up (cluster_leadership.cc). Every leader change
  // bumps the partition's leader epoch and wakes its parked fetches, which then answer
  // NOT_LEADER_OR_FOLLOWER at once.

  // A broker goes down: the partitions it led move to their first live in-sync replica, or
  // become leaderless (-1) when none is left; it leaves every ISR (but stays the last member of
  // a leaderless partition's, as in Kafka); group-coordinator moves to it are forgotten; the
  // controller moves to the lowest live id. No-op when unknown or already down.
  void broker_down(int32_t id);
  // A broker comes back: it rejoins the ISR of its partitions (the log is shared, so it is
  // caught up at once) and takes the lead of the leaderless ones whose last in-sync replica it
  // was. Leadership that moved elsewhere stays there.
  void broker_up(int32_t id);
  // Moves the leadership of `p` to `broker`, which must be up (checked by the caller). A broker
  // that is not a replica takes the old leader's place in the replica list (the replication
  // factor stays). Returns false when `broker` already leads.
  bool move_leader(partition_state& p, int32_t broker);
  // ElectLeaders for one partition: PREFERRED (0) makes the first replica lead when it is live
  // (ELECTION_NOT_NEEDED when it already leads, PREFERRED_LEADER_NOT_AVAILABLE when it is down);
  // UNCLEAN (1) gives a leaderless partition its first live replica (ELECTION_NOT_NEEDED when it
  // has a leader, ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live).
  proto::error_code elect_leader(partition_state& p, int8_t election_type);

  // The broker coordinating a group or a transactional id: the leader of its partition of
  // Kafka's __consumer_offsets / __transaction_state (50 partitions each, kept internally and
  // never shown as topics, replicated on min(3, brokers) brokers like the others), unless the
  // group's coordinator was moved. -1 when that partition has no live leader.
  int32_t coordinator(coordinator_kind kind, const std::string& key) const;
  // Makes `broker` (up; checked by the caller) coordinate `group` until it goes down.
  void move_coordinator(const std::string& group, int32_t broker);

  // Observers called after a topic is deleted (groups drop their offsets, etc.).
  void on_topic_deleted(std::function<void(const std::string&)> f) { deleted_observers_.push_back(std::move(f)); }

 private:
  // Opens one log per new partition and sets its replicas (leader: the first live one).
  topic_error add_partitions(topic_state& t, const std::vector<std::vector<int32_t>>& assignment);
  // INVALID_REPLICA_ASSIGNMENT unless every list names known brokers once each, has
  // `replication_factor` entries (when > 0) and at least one live broker.
  topic_error check_assignment(const std::vector<std::vector<int32_t>>& assignment, int32_t replication_factor) const;
  // Default placement of `count` partitions from `first` with `rf` replicas over the live
  // brokers; INVALID_REPLICATION_FACTOR when rf is above the live count and either strict mode is
  // on or no broker is live; otherwise rf is capped there.
  topic_error place(const std::string& topic, int32_t first, int32_t count, int32_t rf, int32_t start_broker,
                    std::vector<std::vector<int32_t>>& out) const;
  topic_error persist(const topic_state& t);

  void init_coordinators();
  // Sets a new leader (or -1): epoch bump, epoch history, parked fetches woken.
  void change_leader(partition_state& p, int32_t leader);
  // Epoch history of a partition just opened: a recovered log continues from the epoch its last
  // batch carries, so clients never see epochs go back after a restart.
  void init_epochs(partition_state& p);
  template <typename F>
  void for_each_partition(F&& f);  // topics' partitions and the coordinator partitions

  broker_config cfg_;
  storage::storage_engine& engine_;
  int32_t controller_id_;
  // The partitions of __consumer_offsets and __transaction_state (no logs): only their leaders
  // matter, as the coordinators of the keys that hash to them.
  std::vector<partition_state> offsets_partitions_;
  std::vector<partition_state> txn_partitions_;
  std::map<std::string, int32_t> coordinator_moves_;  // group -> broker (move_coordinator)
  std::vector<node_info> nodes_;
  std::map<std::string, std::unique_ptr<topic_state>> topics_;
  std::unordered_map<std::string, topic_state*> by_id_;  // key: uuid hex
  std::vector<std::function<void(const std::string&)>> deleted_observers_;
  int64_t last_producer_id_ = 0;
};

}  // namespace mk
