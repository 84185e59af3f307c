#include "broker/services/groups.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "broker/log_lookup.h"
#include "broker/storage_error.h"
#include "protocol/generated/consumer_protocol_assignment.h"

namespace mk::services {

using proto::error_code;

std::optional<std::vector<assigned_partitions>> decode_assignment(const std::string& bytes) {
  if (bytes.empty()) return std::vector<assigned_partitions>{};
  proto::reader r(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  const int16_t version = r.i16();
  proto::consumer_protocol_assignment a;
  // Newer versions than we know keep the v3 prefix.
  a.decode(r, std::clamp<int16_t>(version, 0, proto::consumer_protocol_assignment::max_version));
  if (!r.ok()) return std::nullopt;
  std::vector<assigned_partitions> out;
  for (auto& tp : a.assigned_partitions) out.push_back(assigned_partitions{std::move(tp.topic), std::move(tp.partitions)});
  return out;
}

groups_service::groups_service(groups::group_coordinator& gc, cluster& state, storage::metadata_store& store,
                               const clock& clk, std::function<void()> changed)
    : gc_(gc), state_(state), store_(store), clock_(clk), changed_(std::move(changed)) {
  state_.on_topic_deleted([this](const std::string& topic) { topic_deleted(topic); });
}

void groups_service::recover() {
  auto offsets = store_.load_offsets();
  if (!offsets) throw std::runtime_error(std::string("recovering group offsets: ") + storage::to_string(offsets.error()));
  for (const auto& r : offsets.value())
    gc_.store_offsets(r.group, {groups::offset_commit{r.topic, r.partition, r.offset, r.leader_epoch, r.metadata}},
                      r.commit_timestamp);
  if (!offsets.value().empty()) spdlog::info("recovered {} committed group offset(s)", offsets.value().size());
}

void groups_service::join(const groups::join_request& req, groups::join_callback cb) {
  gc_.join(req, std::move(cb));
  changed_();
}

void groups_service::sync(const groups::sync_request& req, groups::sync_callback cb) {
  gc_.sync(req, std::move(cb));
  changed_();
}

error_code groups_service::heartbeat(const std::string& group_id, const std::string& member_id,
                                     const std::optional<std::string>& instance_id, int32_t generation_id) {
  auto e = gc_.heartbeat(group_id, member_id, instance_id, generation_id);
  changed_();
  return e;
}

std::vector<error_code> groups_service::leave(const std::string& group_id, const std::vector<groups::leave_member>& members,
                                              error_code& top) {
  auto errs = gc_.leave(group_id, members, top);
  changed_();
  return errs;
}

bool groups_service::partition_exists(const std::string& topic, int32_t partition) const {
  topic_state* t = state_.find(topic);
  return t && t->partition(partition);
}

std::vector<error_code> groups_service::commit(const std::string& group_id, int32_t generation_id,
                                               const std::string& member_id, const std::optional<std::string>& instance_id,
                                               const std::vector<groups::offset_commit>& offsets) {
  const int64_t now = clock_.wall_ms();
  auto persist = [&](const std::vector<size_t>& accepted) {
    std::vector<storage::offset_record> recs;
    recs.reserve(accepted.size());
    for (size_t i : accepted) {
      const auto& o = offsets[i];
      recs.push_back(storage::offset_record{group_id, o.topic, o.partition, o.offset, o.leader_epoch,
                                            o.metadata.value_or(""), now});
    }
    if (auto st = store_.put_offsets(recs); !st) {
      spdlog::warn("group {}: storing committed offsets failed: {}", group_id, storage::to_string(st.error()));
      return error_code::not_coordinator;
    }
    return error_code::none;
  };
  auto errs = gc_.commit_offsets(
      group_id, generation_id, member_id, instance_id, offsets, now,
      [this](const std::string& topic, int32_t p) { return partition_exists(topic, p); }, persist);
  changed_();
  return errs;
}

std::vector<error_code> groups_service::txn_commit(const std::string& group_id, int64_t producer_id,
                                                   int32_t generation_id, const std::string& member_id,
                                                   const std::optional<std::string>& instance_id,
                                                   const std::vector<groups::offset_commit>& offsets) {
  auto keep = [&](const std::vector<size_t>& accepted) {
    auto& pending = pending_[{group_id, producer_id}];
    for (size_t i : accepted) pending[{offsets[i].topic, offsets[i].partition}] = offsets[i];
    return error_code::none;
  };
  // A transactional commit without a generation or member (TxnOffsetCommit v0-v2, or a producer
  // outside the group) is accepted whatever the group's state, as Kafka's doTxnCommitOffsets
  // does: only the partitions are checked.
  if (generation_id < 0 && member_id.empty() && !instance_id) {
    std::vector<error_code> errs(offsets.size(), error_code::none);
    std::vector<size_t> accepted;
    for (size_t i = 0; i < offsets.size(); ++i) {
      if (!partition_exists(offsets[i].topic, offsets[i].partition)) errs[i] = error_code::unknown_topic_or_partition;
      else accepted.push_back(i);
    }
    if (group_id.empty()) std::fill(errs.begin(), errs.end(), error_code::invalid_group_id);
    else keep(accepted);
    return errs;
  }
  auto errs = gc_.commit_offsets(
      group_id, generation_id, member_id, instance_id, offsets, clock_.wall_ms(),
      [this](const std::string& topic, int32_t p) { return partition_exists(topic, p); }, keep, /*apply=*/false);
  changed_();
  return errs;
}

void groups_service::complete_txn(const std::string& group_id, int64_t producer_id, bool commit) {
  auto it = pending_.find({group_id, producer_id});
  if (it == pending_.end()) return;
  std::vector<groups::offset_commit> offsets;
  for (auto& [tp, o] : it->second) offsets.push_back(std::move(o));
  pending_.erase(it);
  if (!commit || offsets.empty()) return;
  const int64_t now = clock_.wall_ms();
  std::vector<storage::offset_record> recs;
  for (const auto& o : offsets)
    recs.push_back(storage::offset_record{group_id, o.topic, o.partition, o.offset, o.leader_epoch, o.metadata.value_or(""), now});
  if (auto st = store_.put_offsets(recs); !st)
    spdlog::warn("group {}: storing offsets of a committed transaction failed: {}; kept in memory only", group_id,
                 storage::to_string(st.error()));
  gc_.store_offsets(group_id, offsets, now);
  changed_();
}

bool groups_service::has_pending(const std::string& group_id, const std::string& topic, int32_t partition) const {
  for (auto it = pending_.lower_bound({group_id, INT64_MIN}); it != pending_.end() && it->first.first == group_id; ++it)
    if (it->second.count({topic, partition})) return true;
  return false;
}

void groups_service::unload(const std::string& group_id) {
  gc_.unload(group_id, error_code::not_coordinator);
  changed_();
}

std::vector<std::string> groups_service::group_ids() const {
  std::vector<std::string> out;
  for (const auto& g : gc_.list_groups()) out.push_back(g.group_id);
  return out;
}

bool groups_service::exists(const std::string& group_id) const {
  for (const auto& g : gc_.list_groups())
    if (g.group_id == group_id) return true;
  return false;
}

error_code groups_service::remove(const std::string& group_id) {
  auto e = gc_.delete_group(group_id);
  changed_();
  if (e != error_code::none) return e;
  if (auto st = store_.delete_offsets(group_id, ""); !st) {
    spdlog::warn("group {}: removing stored offsets failed: {}", group_id, storage::to_string(st.error()));
    return error_code::kafka_storage_error;
  }
  return error_code::none;
}

bool groups_service::force_remove(const std::string& group_id) {
  const bool existed = gc_.force_delete(group_id);
  if (auto st = store_.delete_offsets(group_id, ""); !st)
    spdlog::warn("group {}: removing stored offsets failed: {}", group_id, storage::to_string(st.error()));
  changed_();
  return existed;
}

error_code groups_service::delete_offsets(const std::string& group_id,
                                          const std::vector<std::pair<std::string, int32_t>>& partitions,
                                          std::vector<error_code>& per_partition) {
  auto top = gc_.delete_offsets(group_id, partitions, per_partition);
  changed_();
  if (top != error_code::none) return top;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& [topic, p] = partitions[i];
    if (!partition_exists(topic, p)) {
      per_partition[i] = error_code::unknown_topic_or_partition;
      continue;
    }
    if (per_partition[i] != error_code::none) continue;
    if (auto st = store_.delete_offsets(group_id, topic, p); !st) {
      spdlog::warn("group {}: removing the stored offset of {}-{} failed: {}", group_id, topic, p,
                   storage::to_string(st.error()));
      per_partition[i] = error_code::kafka_storage_error;
    }
  }
  return error_code::none;
}

std::vector<groups::partition_lag> groups_service::lag(const std::string& group_id) const {
  return groups::compute_lag(state_, gc_, group_id);
}

group_result groups_service::reset_offsets(const std::string& group_id, const std::string& topic,
                                           const std::vector<int32_t>& partitions, const reset_target& target) {
  auto d = gc_.describe(group_id);
  if (d.state != groups::group_state::empty && d.state != groups::group_state::dead)
    return {error_code::non_empty_group,
            "group '" + group_id + "' has active members (state " + groups::to_string(d.state) + ")"};
  topic_state* t = state_.find(topic);
  if (!t) return {error_code::unknown_topic_or_partition, "topic '" + topic + "' does not exist"};
  std::vector<int32_t> parts = partitions;
  if (parts.empty())
    for (const auto& p : t->partitions) parts.push_back(p->index);
  std::vector<groups::offset_commit> commits;
  for (int32_t p : parts) {
    partition_state* ps = t->partition(p);
    if (!ps) return {error_code::unknown_topic_or_partition, "no such partition: " + std::to_string(p)};
    auto& log = *ps->log;
    int64_t off = 0;
    switch (target.to) {
      case reset_target::kind::earliest:
        off = log.start_offset();
        break;
      case reset_target::kind::latest:
        off = log.end_offset();
        break;
      case reset_target::kind::offset:
        off = std::clamp<int64_t>(target.value, log.start_offset(), log.end_offset());
        break;
      case reset_target::kind::timestamp: {
        auto pos = position_for_timestamp(log, target.value);
        if (!pos)
          return {storage_error_code(pos.error()),
                  "reading partition " + std::to_string(p) + " failed: storage " + storage::to_string(pos.error())};
        off = pos.value().offset >= 0 ? pos.value().offset : log.end_offset();
        break;
      }
    }
    commits.push_back(groups::offset_commit{t->name, p, off, -1, std::string()});
  }
  auto errs = commit(group_id, -1, "", std::nullopt, commits);
  for (auto e : errs)
    if (e != error_code::none)
      return {e == error_code::not_coordinator ? error_code::kafka_storage_error : e, "offset reset refused"};
  return {};
}

void groups_service::topic_deleted(const std::string& topic) {
  gc_.topic_deleted(topic);
  if (auto st = store_.delete_offsets("", topic); !st)
    spdlog::warn("topic {}: removing committed offsets failed: {}", topic, storage::to_string(st.error()));
  changed_();
}

}  // namespace mk::services
