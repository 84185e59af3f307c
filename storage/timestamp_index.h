// The max-timestamp index of a partition log, shared by the storage backends: answers "first
// batch with max_timestamp >= ts" (ListOffsets by time, retention by time) and "batch with the
// largest max_timestamp" (ListOffsets MAX_TIMESTAMP) in O(log n) and O(1).
//
// It keeps the "leaders": the batches whose max_timestamp is strictly greater than that of every
// batch before them in the log (the running-maximum records). Their timestamps are strictly
// increasing, the first batch with max_timestamp >= ts is always one of them (every batch before
// it is < ts), and the last one is the max-timestamp batch (earliest on ties).
//
// The index follows the log it belongs to: the log calls push_back for every batch it appends,
// pop_front when it drops batches from its front and assign after anything else (replace_range).
// Batches are named by their position in the log (0 = the first batch now stored); a log that
// keeps its batches in a deque indexes that deque with the positions returned.
//
// Costs (n = batches in the log):
//   push_back          O(1)
//   pop_front          O(dropped leaders), plus, only when it dropped a leader, a rescan of the
//                      batches before the first surviving leader. That rescan is O(n) in the
//                      pathological case of timestamps decreasing along the log (same bound as
//                      "recompute the max when truncation drops it"); with the usual
//                      non-decreasing timestamps it is O(1).
//   assign             O(n)
//   first_at_or_after  O(log n)
//   max_position       O(1)
// Memory: 16 bytes per leader (at most one per batch).
//
// Header-only: the RocksDB backend is also built as a plugin that links none of the storage
// core's objects, so what both backends share lives here.
//
// Threading: not thread-safe, like the logs that own it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace mk::storage {

class timestamp_index {
 public:
  // The log appended a batch with `max_timestamp` at its back.
  void push_back(int64_t max_timestamp) {
    const uint64_t seq = front_seq_ + count_;
    ++count_;
    if (leaders_.empty() || max_timestamp > leaders_.back().max_timestamp) {
      leaders_.push_back(leader{seq, max_timestamp});
    }
  }

  // The log dropped its first `n` batches (n <= batch_count()). `ts_at(i)` returns the
  // max_timestamp of the batch now at position i; it is called only when a leader was dropped,
  // and then only for the batches before the first surviving leader.
  template <typename TsAt>
  void pop_front(size_t n, TsAt ts_at) {
    front_seq_ += n;
    count_ -= n;
    bool dropped_leader = false;
    while (!leaders_.empty() && leaders_.front().seq < front_seq_) {
      leaders_.pop_front();
      dropped_leader = true;
    }
    if (!dropped_leader) return;
    // Every batch in [front_seq_, stop) has a timestamp below the first surviving leader's (it
    // came after a dropped leader with a larger-or-equal timestamp), so the leaders found here
    // all go before it and keep the timestamps strictly increasing.
    const uint64_t stop = leaders_.empty() ? front_seq_ + count_ : leaders_.front().seq;
    std::vector<leader> front;
    for (uint64_t seq = front_seq_; seq < stop; ++seq) {
      const int64_t ts = ts_at(static_cast<size_t>(seq - front_seq_));
      if (front.empty() || ts > front.back().max_timestamp) front.push_back(leader{seq, ts});
    }
    leaders_.insert(leaders_.begin(), front.begin(), front.end());
  }

  // Forgets everything and indexes a log of `count` batches, `ts_at(i)` returning the
  // max_timestamp of the batch at position i.
  template <typename TsAt>
  void assign(size_t count, TsAt ts_at) {
    leaders_.clear();
    front_seq_ = 0;
    count_ = 0;
    for (size_t i = 0; i < count; ++i) push_back(ts_at(i));
  }

  // Position of the first batch whose max_timestamp >= ts, if any.
  std::optional<size_t> first_at_or_after(int64_t ts) const {
    const auto it = std::partition_point(leaders_.begin(), leaders_.end(),
                                         [ts](const leader& l) { return l.max_timestamp < ts; });
    if (it == leaders_.end()) return std::nullopt;
    return position(*it);
  }

  // Position of the batch with the largest max_timestamp (the earliest on ties), if any.
  std::optional<size_t> max_position() const {
    if (leaders_.empty()) return std::nullopt;
    return position(leaders_.back());
  }

  // Batches the index covers (the log's batch count) and how many of them are leaders.
  size_t batch_count() const { return count_; }
  size_t leader_count() const { return leaders_.size(); }

 private:
  struct leader {
    uint64_t seq;  // absolute: 0 = the first batch pushed since construction or assign()
    int64_t max_timestamp;
  };

  size_t position(const leader& l) const { return static_cast<size_t>(l.seq - front_seq_); }

  std::deque<leader> leaders_;  // timestamps strictly increasing
  uint64_t front_seq_ = 0;      // absolute sequence number of the log's first batch
  size_t count_ = 0;            // batches in the log
};

}  // namespace mk::storage
