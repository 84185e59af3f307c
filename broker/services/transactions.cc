#include "broker/services/transactions.h"

#include <spdlog/spdlog.h>

#include "broker/log_append.h"

namespace mk::services {

using proto::error_code;

txn::transaction_coordinator::init_result transactions_service::init_producer_id(
    const std::optional<std::string>& transactional_id, int32_t timeout_ms, int64_t producer_id, int16_t epoch) {
  if (transactional_id && !transactional_id->empty()) {
    auto r = tc_.init_producer_id(*transactional_id, timeout_ms, producer_id, epoch);
    changed_();
    return r;
  }
  if (producer_id >= 0 && epoch >= 0) {
    // KIP-360: an idempotent producer bumps its own epoch after an error; a new id when exhausted.
    if (epoch < std::numeric_limits<int16_t>::max() - 1) return {error_code::none, producer_id, static_cast<int16_t>(epoch + 1)};
  }
  return {error_code::none, state_.next_producer_id(), 0};
}

std::vector<transactions_service::partition_result> transactions_service::add_partitions(
    const std::string& transactional_id, int64_t producer_id, int16_t epoch,
    const std::vector<txn::topic_partition>& partitions) {
  std::vector<partition_result> out;
  bool unknown = false;
  for (const auto& tp : partitions) {
    topic_state* t = state_.find(tp.topic);
    const bool exists = t && t->partition(tp.partition);
    unknown = unknown || !exists;
    out.push_back({tp, exists ? error_code::none : error_code::unknown_topic_or_partition});
  }
  if (unknown) {
    for (auto& r : out)
      if (r.error == error_code::none) r.error = error_code::operation_not_attempted;
    return out;
  }
  const error_code e = tc_.add_partitions(transactional_id, producer_id, epoch, partitions);
  for (auto& r : out) r.error = e;
  changed_();
  return out;
}

error_code transactions_service::add_offsets(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                                             const std::string& group_id) {
  if (group_id.empty()) return error_code::invalid_group_id;
  const error_code e = tc_.add_group(transactional_id, producer_id, epoch, group_id);
  changed_();
  return e;
}

std::vector<error_code> transactions_service::commit_offsets(const std::string& transactional_id,
                                                             const std::string& group_id, int64_t producer_id,
                                                             int16_t epoch, int32_t generation_id,
                                                             const std::string& member_id,
                                                             const std::optional<std::string>& instance_id,
                                                             const std::vector<groups::offset_commit>& offsets) {
  if (const error_code e = tc_.check_group(transactional_id, producer_id, epoch, group_id); e != error_code::none)
    return std::vector<error_code>(offsets.size(), e);
  return groups_.txn_commit(group_id, producer_id, generation_id, member_id, instance_id, offsets);
}

error_code transactions_service::end(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                                     bool commit) {
  const error_code e = tc_.end(transactional_id, producer_id, epoch, commit);
  changed_();
  return e;
}

void transactions_service::recover() {
  const int64_t now = clock_.wall_ms();
  size_t aborted = 0;
  for (const auto& [name, t] : state_.topics())
    for (auto& p : t->partitions)
      for (int64_t pid : rebuild_producer_state(*t, *p)) {
        const int16_t epoch = p->producers.count(pid) ? p->producers[pid].epoch : 0;
        if (append_marker(*t, *p, pid, epoch, /*commit=*/false, now).error == error_code::none) ++aborted;
      }
  if (aborted > 0)
    spdlog::info("aborted {} transaction(s) left open before the restart (their coordinator state is not kept)", aborted);
}

void transactions_service::complete(const txn::completion& c) {
  const int64_t now = clock_.wall_ms();
  size_t failed = 0;
  for (const auto& tp : c.partitions) {
    topic_state* t = state_.find(tp.topic);
    partition_state* p = t ? t->partition(tp.partition) : nullptr;
    if (!p) continue;  // deleted since: nothing left to mark
    if (append_marker(*t, *p, c.producer_id, c.epoch, c.commit, now).error != error_code::none) ++failed;
  }
  if (failed > 0)
    spdlog::warn("transaction {}: {} of {} marker(s) could not be written; those partitions keep it open", c.transactional_id,
                 failed, c.partitions.size());
  for (const auto& g : c.groups) groups_.complete_txn(g, c.producer_id, c.commit);
  spdlog::debug("transaction {} (producer {} epoch {}) {}: {} partition(s), {} group(s)", c.transactional_id,
                c.producer_id, c.epoch, c.commit ? "committed" : "aborted", c.partitions.size(), c.groups.size());
}

}  // namespace mk::services
