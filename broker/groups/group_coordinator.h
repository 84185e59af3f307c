// The classic consumer-group coordinator (JoinGroup/SyncGroup/Heartbeat/LeaveGroup and committed
// offsets) as an explicit state machine, separate from the network code.
//
// States (WIRE.md §5.1): Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and Dead
// for deleted groups. JoinGroup and SyncGroup answers may be held back (until all members
// rejoined, the leader's assignment arrived, or a timeout); they are delivered through the
// callbacks passed in, possibly from a later call or from tick().
//
// Time comes from the injected clock (milliseconds, monotonic), so tests drive it with a fake
// clock: after moving the clock, call tick() to expire sessions, pending members and rebalance
// timeouts. next_deadline() says when tick() next has work, so the network layer arms one timer.
//
// Runs on: the broker state thread. Not thread-safe; never blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/error_code.h"

namespace mk::groups {

using proto::error_code;

enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };
// Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
const char* to_string(group_state s);
std::optional<group_state> group_state_from_string(const std::string& s);  // case-insensitive

struct coordinator_config {
  int32_t initial_rebalance_delay_ms = 0;  // group.initial.rebalance.delay.ms (Kafka: 3000)
  int32_t min_session_timeout_ms = 6000;   // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;
  int32_t max_metadata_bytes = 4096;       // offset.metadata.max.bytes
};

struct protocol_entry {
  std::string name;
  std::string metadata;
};

struct join_request {
  std::string group_id;
  std::string member_id;  // empty on first join
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;  // -1 (v0): use the session timeout
  std::string protocol_type;
  std::vector<protocol_entry> protocols;
  bool require_known_member_id = false;  // JoinGroup v4+ without instance id (KIP-394)
  // JoinGroup v9+ (KIP-814): a static leader rejoining a Stable group is told it leads, with
  // skip_assignment. Older versions instead get the previous leader id and no members, so they
  // do not run a pointless assignment. The handler should set this to `version >= 9`.
  bool supports_skip_assignment = true;
};

struct join_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string metadata;
};

struct join_result {
  error_code error = error_code::none;
  int32_t generation_id = -1;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<join_member> members;  // only for the leader
};

struct sync_request {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::vector<std::pair<std::string, std::string>> assignments;  // (member id, bytes), leader only
};

struct sync_result {
  error_code error = error_code::none;
  std::string protocol_type;
  std::string protocol_name;
  std::string assignment;
};

struct leave_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct committed_offset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = -1;  // wall-clock ms, as given by the caller
};

struct offset_commit {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

struct member_description {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::string metadata;    // for the chosen protocol
  std::string assignment;  // empty until synced
};

struct group_description {
  std::string group_id;
  group_state state = group_state::dead;
  std::string protocol_type;
  std::string protocol_name;
  int32_t generation_id = 0;
  std::string leader;
  std::vector<member_description> members;
};

using join_callback = std::function<void(const join_result&)>;
using sync_callback = std::function<void(const sync_result&)>;

class group_coordinator {
 public:
  using clock_fn = std::function<int64_t()>;            // monotonic ms
  using id_fn = std::function<std::string()>;           // random suffix for member ids
  group_coordinator(coordinator_config cfg, clock_fn now, id_fn new_id);
  ~group_coordinator();

  void join(const join_request& req, join_callback cb);
  void sync(const sync_request& req, sync_callback cb);
  error_code heartbeat(const std::string& group_id, const std::string& member_id,
                       const std::optional<std::string>& group_instance_id, int32_t generation_id);
  // Per-member results, in order. A top-level error (unknown group) is returned in `top`.
  std::vector<error_code> leave(const std::string& group_id, const std::vector<leave_member>& members, error_code& top);

  // Commits offsets. `partition_exists` says whether topic/partition exists (else
  // UNKNOWN_TOPIC_OR_PARTITION for that partition, whatever the group says, as Kafka's request
  // handler filters those first). Returns one error per entry; a group-level failure (bad
  // generation, unknown member, rebalance) applies to every other entry. `persist`, when given, is
  // called with the indexes of the entries about to be stored, after every check and before
  // anything changes; an error it returns becomes those entries' error and nothing is stored.
  // With `apply` false the commit is only checked (TxnOffsetCommit keeps it pending).
  using persist_fn = std::function<error_code(const std::vector<size_t>& accepted)>;
  std::vector<error_code> commit_offsets(const std::string& group_id, int32_t generation_id, const std::string& member_id,
                                         const std::optional<std::string>& group_instance_id,
                                         const std::vector<offset_commit>& offsets, int64_t wall_now_ms,
                                         const std::function<bool(const std::string&, int32_t)>& partition_exists,
                                         const persist_fn& persist = nullptr, bool apply = true);
  // Stores offsets whatever the group's state (a committed transaction's offsets, checked when
  // they were sent with TxnOffsetCommit; recovery from the metadata store).
  void store_offsets(const std::string& group_id, const std::vector<offset_commit>& offsets, int64_t wall_now_ms);
  // Committed offset of one partition (nullopt = none).
  std::optional<committed_offset> committed(const std::string& group_id, const std::string& topic, int32_t partition) const;
  // All committed offsets of a group: topic -> partition -> offset.
  std::map<std::string, std::map<int32_t, committed_offset>> all_committed(const std::string& group_id) const;

  struct listed_group {
    std::string group_id;
    std::string protocol_type;
    group_state state;
  };
  std::vector<listed_group> list_groups() const;
  group_description describe(const std::string& group_id) const;
  // NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, INVALID_GROUP_ID or NONE (group and offsets removed).
  error_code delete_group(const std::string& group_id);
  // Deletes committed offsets; per partition GROUP_SUBSCRIBED_TO_TOPIC when a non-empty
  // "consumer" group subscribes to the topic (as of its current generation; unknown or
  // unparseable subscriptions count as subscribed to everything). Top-level GROUP_ID_NOT_FOUND,
  // or NON_EMPTY_GROUP for a non-empty group of another protocol type.
  error_code delete_offsets(const std::string& group_id, const std::vector<std::pair<std::string, int32_t>>& partitions,
                            std::vector<error_code>& per_partition);
  // Removes a group whatever its state, with its members and committed offsets (control-plane
  // reset). Held JoinGroup/SyncGroup answers get COORDINATOR_NOT_AVAILABLE; the members' next
  // requests find no group and rejoin. False when there is no such group.
  bool force_delete(const std::string& group_id);
  // Drops every committed offset of `topic` (the topic was deleted).
  void topic_deleted(const std::string& topic);

  // Expires sessions, pending members, initial delays and rebalance timeouts due by now().
  void tick();
  // Shutdown: answers every held-back JoinGroup/SyncGroup with COORDINATOR_NOT_AVAILABLE (a
  // retriable error that sends clients to find the coordinator again), so no request stays
  // parked. Membership is unchanged.
  void abandon_pending();
  // The group's coordinator moved to another broker (cluster simulation): held JoinGroup and
  // SyncGroup answers get `e` (NOT_COORDINATOR: clients find the new coordinator and retry), and
  // every member's session starts afresh, as when Kafka's new coordinator loads a group.
  // Membership, generation and offsets are kept.
  void unload(const std::string& group_id, error_code e);
  // The earliest time tick() has work, or nullopt.
  std::optional<int64_t> next_deadline() const;

  const coordinator_config& config() const { return cfg_; }

 private:
  struct member;
  struct group;

  group* find(const std::string& id);
  const group* find(const std::string& id) const;
  group& get_or_create(const std::string& id);
  void add_member_and_rebalance(group& g, const join_request& req, const std::string& member_id, join_callback cb);
  void update_member_and_rebalance(group& g, member& m, const join_request& req, join_callback cb);
  void prepare_rebalance(group& g, const char* reason);
  void maybe_complete_join(group& g);
  void complete_join(group& g);
  void remove_member(group& g, const std::string& member_id, const char* reason);
  void schedule_session(group& g, member& m);
  std::string select_protocol(const group& g) const;
  bool supports_protocols(const group& g, const join_request& req) const;
  void reset_and_propagate_sync_error(group& g, error_code e);
  void maybe_drop(const std::string& group_id);
  static error_code validate_member(const group& g, const std::string& member_id,
                                    const std::optional<std::string>& group_instance_id);

  coordinator_config cfg_;
  clock_fn now_;
  id_fn new_id_;
  std::map<std::string, std::unique_ptr<group>> groups_;
};

}  // namespace mk::groups
