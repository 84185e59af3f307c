// Consumer groups as every front end sees them: membership (join, sync, heartbeat, leave),
// committed offsets written through to the metadata store, listing, describing, deleting, lag
// and offset resets. Each call re-arms the coordinator's timer itself (the `changed` callback),
// and every storage failure is returned, never dropped.
//
// Business rules live here once: e.g. offsets are reset only while a group is empty.
// Runs on: broker state thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/clock.h"
#include "broker/cluster.h"
#include "broker/groups/group_coordinator.h"
#include "broker/groups/lag.h"
#include "storage/metadata_store.h"

namespace mk::services {

// A member's assignment decoded from ConsumerProtocolAssignment (consumer groups), or nullopt
// for bytes of another protocol.
struct assigned_partitions {
  std::string topic;
  std::vector<int32_t> partitions;
};
std::optional<std::vector<assigned_partitions>> decode_assignment(const std::string& bytes);

// Where an offset reset moves a group's position.
struct reset_target {
  enum class kind { earliest, latest, offset, timestamp } to = kind::earliest;
  int64_t value = 0;  // the offset (clamped to the log) or the timestamp (ms)
};

struct group_result {
  proto::error_code error = proto::error_code::none;
  std::string message;
  explicit operator bool() const { return error != proto::error_code::none; }
};

class groups_service {
 public:
  groups_service(groups::group_coordinator& gc, cluster& state, storage::metadata_store& store, const clock& clk,
                 std::function<void()> changed);

  // Reloads committed offsets from the metadata store (persistent backends). Throws on failure
  // (startup).
  void recover();

  void join(const groups::join_request& req, groups::join_callback cb);
  void sync(const groups::sync_request& req, groups::sync_callback cb);
  proto::error_code heartbeat(const std::string& group_id, const std::string& member_id,
                              const std::optional<std::string>& instance_id, int32_t generation_id);
  std::vector<proto::error_code> leave(const std::string& group_id, const std::vector<groups::leave_member>& members,
                                       proto::error_code& top);

  // Commits offsets (Kafka's checks per entry, unknown partitions refused) and stores them
  // before applying them; when the store fails nothing changes and those entries get
  // NOT_COORDINATOR, as Kafka maps a failed append to its offsets topic.
  std::vector<proto::error_code> commit(const std::string& group_id, int32_t generation_id, const std::string& member_id,
                                        const std::optional<std::string>& instance_id,
                                        const std::vector<groups::offset_commit>& offsets);
  std::optional<groups::committed_offset> committed(const std::string& group_id, const std::string& topic,
                                                    int32_t partition) const {
    return gc_.committed(group_id, topic, partition);
  }
  std::map<std::string, std::map<int32_t, groups::committed_offset>> all_committed(const std::string& group_id) const {
    return gc_.all_committed(group_id);
  }

  // TxnOffsetCommit: the group's checks as for a commit (generation and member when given,
  // unknown partitions), then kept pending for the producer until its transaction ends.
  std::vector<proto::error_code> txn_commit(const std::string& group_id, int64_t producer_id, int32_t generation_id,
                                            const std::string& member_id, const std::optional<std::string>& instance_id,
                                            const std::vector<groups::offset_commit>& offsets);
  // The producer's transaction ended: its pending offsets for the group are stored and applied
  // (commit) or dropped (abort).
  void complete_txn(const std::string& group_id, int64_t producer_id, bool commit);
  // A transaction holds an uncommitted offset for the partition (OffsetFetch require_stable:
  // UNSTABLE_OFFSET_COMMIT).
  bool has_pending(const std::string& group_id, const std::string& topic, int32_t partition) const;

  std::vector<groups::group_coordinator::listed_group> list() const { return gc_.list_groups(); }
  groups::group_description describe(const std::string& group_id) const { return gc_.describe(group_id); }
  bool exists(const std::string& group_id) const;

  // Deletes an empty group and its stored offsets (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND,
  // INVALID_GROUP_ID, KAFKA_STORAGE_ERROR when the stored offsets cannot be removed).
  proto::error_code remove(const std::string& group_id);
  // Removes a group in any state with its committed offsets, stored ones included (control-plane
  // reset; members rejoin). False when there is no such group. A storage failure is logged:
  // the group is gone from memory either way.
  bool force_remove(const std::string& group_id);
  // OffsetDelete: top-level error, per-partition errors in `per_partition` (unknown partitions
  // UNKNOWN_TOPIC_OR_PARTITION, KAFKA_STORAGE_ERROR when the store fails).
  proto::error_code delete_offsets(const std::string& group_id, const std::vector<std::pair<std::string, int32_t>>& partitions,
                                   std::vector<proto::error_code>& per_partition);

  // The group's coordinator moved (cluster_service): held Join/Sync answers get NOT_COORDINATOR
  // and member sessions restart (group_coordinator::unload).
  void unload(const std::string& group_id);
  std::vector<std::string> group_ids() const;

  // Lag per committed partition (the usage notes' end_offsets - committed).
  std::vector<groups::partition_lag> lag(const std::string& group_id) const;

  // Moves a group's committed offsets for `topic` (all partitions when `partitions` is empty).
  // Only while the group has no members (NON_EMPTY_GROUP otherwise); UNKNOWN_TOPIC_OR_PARTITION
  // for a missing topic or partition; KAFKA_STORAGE_ERROR when storing fails (nothing changes).
  group_result reset_offsets(const std::string& group_id, const std::string& topic, const std::vector<int32_t>& partitions,
                             const reset_target& target);

 private:
  bool partition_exists(const std::string& topic, int32_t partition) const;
  void topic_deleted(const std::string& topic);

  groups::group_coordinator& gc_;
  cluster& state_;
  storage::metadata_store& store_;
  const clock& clock_;
  std::function<void()> changed_;
  // Offsets committed inside open transactions: (group, producer id) -> topic -> partition -> offset.
  std::map<std::pair<std::string, int64_t>, std::map<std::pair<std::string, int32_t>, groups::offset_commit>> pending_;
};

}  // namespace mk::services
