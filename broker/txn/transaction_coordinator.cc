#include "broker/txn/transaction_coordinator.h"

#include <spdlog/spdlog.h>

#include <limits>

namespace mk::txn {

const char* to_string(txn_state s) {
  switch (s) {
    case txn_state::empty:
      return "Empty";
    case txn_state::ongoing:
      return "Ongoing";
    case txn_state::prepare_commit:
      return "PrepareCommit";
    case txn_state::prepare_abort:
      return "PrepareAbort";
    case txn_state::complete_commit:
      return "CompleteCommit";
    case txn_state::complete_abort:
      return "CompleteAbort";
    case txn_state::dead:
      return "Dead";
    case txn_state::prepare_epoch_fence:
      return "PrepareEpochFence";
  }
  return "Unknown";
}

transaction_coordinator::transaction_coordinator(coordinator_config cfg, clock_fn now, producer_id_fn new_producer_id,
                                                 complete_fn complete)
    : cfg_(cfg), now_(std::move(now)), new_producer_id_(std::move(new_producer_id)), complete_(std::move(complete)) {}

void transaction_coordinator::bump_epoch(transaction& t) {
  t.last_epoch = t.epoch;
  if (t.epoch >= std::numeric_limits<int16_t>::max() - 1) {
    // Epoch exhausted: a new producer id, as Kafka does.
    t.producer_id = new_producer_id_();
    t.epoch = 0;
    t.last_epoch = -1;
  } else {
    ++t.epoch;
  }
}

void transaction_coordinator::complete(transaction& t, bool commit) {
  t.state = commit ? txn_state::prepare_commit : txn_state::prepare_abort;
  completion c;
  c.transactional_id = t.transactional_id;
  c.producer_id = t.producer_id;
  c.epoch = t.epoch;
  c.commit = commit;
  c.partitions.assign(t.partitions.begin(), t.partitions.end());
  c.groups.assign(t.groups.begin(), t.groups.end());
  complete_(c);
  t.state = commit ? txn_state::complete_commit : txn_state::complete_abort;
  t.partitions.clear();
  t.groups.clear();
  t.start_ms = -1;
  t.last_update_ms = now_();
}

transaction_coordinator::init_result transaction_coordinator::init_producer_id(const std::string& id, int32_t timeout_ms,
                                                                               int64_t expected_producer_id,
                                                                               int16_t expected_epoch) {
  if (timeout_ms <= 0 || timeout_ms > cfg_.max_timeout_ms) return {error_code::invalid_transaction_timeout};
  auto [it, created] = txns_.try_emplace(id);
  transaction& t = it->second;
  if (created) {
    t.transactional_id = id;
    t.producer_id = new_producer_id_();
    t.epoch = 0;
  } else {
    if (expected_producer_id >= 0) {
      // KIP-360: only the current producer (or one retrying across the last bump) may reinitialise.
      const bool current = expected_producer_id == t.producer_id && expected_epoch == t.epoch;
      const bool previous = expected_producer_id == t.producer_id && expected_epoch == t.last_epoch;
      if (!current && !previous) return {error_code::producer_fenced};
      if (previous) return {error_code::none, t.producer_id, t.epoch};  // the bump already happened
    }
    if (t.state == txn_state::ongoing) {
      // Fence the old producer: its open transaction is aborted under the new epoch.
      t.state = txn_state::prepare_epoch_fence;
      bump_epoch(t);
      complete(t, /*commit=*/false);
    }
    bump_epoch(t);
  }
  t.timeout_ms = timeout_ms;
  t.state = txn_state::empty;
  t.partitions.clear();
  t.groups.clear();
  t.start_ms = -1;
  t.last_update_ms = now_();
  return {error_code::none, t.producer_id, t.epoch};
}

error_code transaction_coordinator::check(const std::string& id, int64_t producer_id, int16_t epoch) const {
  const transaction* t = find(id);
  if (!t || t->producer_id != producer_id) return error_code::invalid_producer_id_mapping;
  if (t->epoch != epoch) return error_code::producer_fenced;
  if (t->state == txn_state::prepare_commit || t->state == txn_state::prepare_abort ||
      t->state == txn_state::prepare_epoch_fence)
    return error_code::concurrent_transactions;
  if (t->state == txn_state::dead) return error_code::invalid_producer_id_mapping;
  return error_code::none;
}

error_code transaction_coordinator::add_partitions(const std::string& id, int64_t producer_id, int16_t epoch,
                                                   const std::vector<topic_partition>& partitions) {
  if (auto e = check(id, producer_id, epoch); e != error_code::none) return e;
  transaction& t = txns_.at(id);
  if (t.state != txn_state::ongoing) t.start_ms = now_();
  t.state = txn_state::ongoing;
  t.partitions.insert(partitions.begin(), partitions.end());
  t.last_update_ms = now_();
  return error_code::none;
}

error_code transaction_coordinator::add_group(const std::string& id, int64_t producer_id, int16_t epoch,
                                              const std::string& group) {
  if (auto e = check(id, producer_id, epoch); e != error_code::none) return e;
  transaction& t = txns_.at(id);
  if (t.state != txn_state::ongoing) t.start_ms = now_();
  t.state = txn_state::ongoing;
  t.groups.insert(group);
  t.last_update_ms = now_();
  return error_code::none;
}

error_code transaction_coordinator::check_group(const std::string& id, int64_t producer_id, int16_t epoch,
                                                const std::string& group) const {
  if (auto e = check(id, producer_id, epoch); e != error_code::none) return e;
  const transaction& t = txns_.at(id);
  if (t.state != txn_state::ongoing || !t.groups.count(group)) return error_code::invalid_txn_state;
  return error_code::none;
}

error_code transaction_coordinator::end(const std::string& id, int64_t producer_id, int16_t epoch, bool commit) {
  if (auto e = check(id, producer_id, epoch); e != error_code::none) return e;
  transaction& t = txns_.at(id);
  switch (t.state) {
    case txn_state::ongoing:
      complete(t, commit);
      return error_code::none;
    case txn_state::complete_commit:
      return commit ? error_code::none : error_code::invalid_txn_state;  // a retried commit
    case txn_state::complete_abort:
      return commit ? error_code::invalid_txn_state : error_code::none;  // a retried abort
    case txn_state::empty:
    case txn_state::dead:
    case txn_state::prepare_commit:
    case txn_state::prepare_abort:
    case txn_state::prepare_epoch_fence:
      return error_code::invalid_txn_state;
  }
  return error_code::invalid_txn_state;
}

void transaction_coordinator::tick() {
  const int64_t now = now_();
  for (auto& [id, t] : txns_) {
    if (t.state != txn_state::ongoing || t.start_ms < 0 || now < t.start_ms + t.timeout_ms) continue;
    spdlog::info("transaction {} (producer {} epoch {}) timed out after {} ms; aborting", id, t.producer_id, t.epoch,
                 t.timeout_ms);
    t.state = txn_state::prepare_epoch_fence;
    bump_epoch(t);
    complete(t, /*commit=*/false);
  }
}

std::optional<int64_t> transaction_coordinator::next_deadline() const {
  std::optional<int64_t> next;
  for (const auto& [id, t] : txns_)
    if (t.state == txn_state::ongoing && t.start_ms >= 0) {
      const int64_t at = t.start_ms + t.timeout_ms;
      if (!next || at < *next) next = at;
    }
  return next;
}

const transaction* transaction_coordinator::find(const std::string& id) const {
  auto it = txns_.find(id);
  return it == txns_.end() ? nullptr : &it->second;
}

void transaction_coordinator::remove_if(const std::function<bool(const std::string&)>& pred) {
  for (auto it = txns_.begin(); it != txns_.end();) {
    if (!pred(it->first)) {
      ++it;
      continue;
    }
    if (it->second.state == txn_state::ongoing) complete(it->second, false);
    it = txns_.erase(it);
  }
}

}  // namespace mk::txn
