// In-memory partition log: the default storage backend.
//
// Batches are kept as the shared_chunks the broker hands to append(): neither append nor read
// copies batch bytes, a read returns chunks sharing the appended chunks' owners. Nothing survives
// the object; durability is not a goal of this backend.
//
// Costs (n = batches in the log):
//   append             O(k) for k batches (amortised), plus the budget check
//   read               O(log n) to find the first batch, then O(batches returned)
//   truncate_before    O(log n + dropped), plus the timestamp index's rescan when truncation
//                      drops timestamp leaders (storage/timestamp_index.h)
//   find_by_timestamp  O(log n)
//   max_timestamp_batch O(1)
//   replace_range      O(n): the replaced batches are spliced in place, then the timestamp
//                      index is rebuilt over the whole log (compaction is a background job; it
//                      batches its rewrites into few calls)
//
// find_by_timestamp and max_timestamp_batch are answered by a storage::timestamp_index that
// follows the batches (storage/timestamp_index.h).
//
// Threading: not thread-safe (like every partition_log). Runs on: broker state thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>

#include "minikafka_common/shared_chunk.h"
#include "storage/partition_log.h"
#include "storage/timestamp_index.h"

namespace mk::storage {

// Byte accounting shared by all logs of one memory_engine, enforcing an optional global cap on
// the bytes of batch data they store (errc::out_of_memory from append when it would be exceeded).
// Counts chunk sizes, i.e. what size_bytes() reports, not the size of the buffers the chunks keep
// alive. Shared via shared_ptr so logs and engine may be destroyed in any order.
// Runs on: broker state thread (not thread-safe, like the logs that use it).
class memory_budget {
 public:
  // max_bytes == 0 means unlimited.
  explicit memory_budget(size_t max_bytes = 0) : max_bytes_(max_bytes) {}

  // Reserves `n` bytes; false (and nothing reserved) when that would exceed the cap.
  bool try_reserve(size_t n);
  // Returns `n` previously reserved bytes.
  void release(size_t n);

  size_t used_bytes() const { return used_; }
  size_t max_bytes() const { return max_bytes_; }

 private:
  size_t max_bytes_;
  size_t used_ = 0;
};

class memory_log final : public partition_log {
 public:
  // `budget` may be null: no cap. The log starts empty at offset 0.
  explicit memory_log(std::shared_ptr<memory_budget> budget = nullptr);
  // Returns the log's bytes to the budget.
  ~memory_log() override;

  memory_log(const memory_log&) = delete;
  memory_log& operator=(const memory_log&) = delete;

  // An empty span appends nothing and returns end_offset(). offset_mismatch when the batches are
  // not contiguous from end_offset() or a batch has last_offset < base_offset; out_of_memory
  // when the budget would be exceeded. All-or-nothing.
  result<int64_t> append(std::span<const batch_to_append> batches) override;
  // Never fails: the batches are in memory.
  result<read_result> read(int64_t from, size_t max_bytes) const override;
  int64_t start_offset() const override { return start_offset_; }
  int64_t end_offset() const override { return end_offset_; }
  status truncate_before(int64_t offset) override;
  // Keeps the new batches' chunks as given (no copy). The budget is charged (or refunded) only
  // the difference between the new and the replaced bytes.
  status replace_range(int64_t from, int64_t to_exclusive,
                       std::span<const batch_to_append> batches) override;
  size_t size_bytes() const override { return size_bytes_; }
  // Never fail.
  result<std::optional<stored_batch>> find_by_timestamp(int64_t ts) const override;
  result<std::optional<stored_batch>> max_timestamp_batch() const override;

  // Number of batches currently stored (tests, metrics).
  size_t batch_count() const { return batches_.size(); }

 private:
  struct entry {
    int64_t base_offset;
    int64_t last_offset;
    int64_t max_timestamp;
    shared_chunk bytes;
  };

  static stored_batch to_stored(const entry& e);
  // The batch at position `i` of batches_, or nullopt without one.
  std::optional<stored_batch> stored_at(std::optional<size_t> i) const;
  // max_timestamp of the batch at position i of batches_ (for ts_index_).
  int64_t timestamp_at(size_t i) const { return batches_[i].max_timestamp; }

  std::deque<entry> batches_;
  timestamp_index ts_index_;  // over batches_, by position
  int64_t start_offset_ = 0;
  int64_t end_offset_ = 0;
  size_t size_bytes_ = 0;
  std::shared_ptr<memory_budget> budget_;
};

}  // namespace mk::storage
