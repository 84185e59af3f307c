// RocksDB partition log: one partition's batches in the engine's `logs` column family.
//
// Storage layout (see rocksdb_internal.h for the exact bytes):
//   logs      topic_id(16) | partition(4 BE) | base_offset(8 BE)       -> batch bytes as appended
//   log_meta  topic_id(16) | partition(4 BE) | 'B' | base_offset(8 BE) -> last, max_ts, size
//             topic_id(16) | partition(4 BE) | 'E'                     -> log end offset floor
//             topic_id(16) | partition(4 BE) | 'S'                     -> log start offset
// Every append writes the batch values and their index entries in one WriteBatch; truncation
// writes the new start offset and DeleteRanges the dropped batches' values and index entries in
// one WriteBatch; replace_range deletes the replaced batches' values and index entries and puts
// the new ones in one WriteBatch. So after any crash the two column families agree with each
// other. Batches may leave gaps between them after replace_range (compaction); the 'E' entry is
// written only when a replace_range leaves the last stored batch ending before the end offset,
// and recovery takes the end offset as the largest of start, last batch + 1 and 'E'.
//
// In memory the log keeps an index of every stored batch (base, last, max_timestamp, size:
// 32 bytes per batch) rebuilt on open from the small log_meta entries alone, never from the
// batch bytes. It answers end/start offsets, sizes, "which batch holds offset X" and timestamp
// lookups without touching RocksDB; RocksDB is read only for batch bytes.
//
// Costs (n = batches in the log):
//   append             one WriteBatch (one WAL write, fsynced when the engine's sync option is on)
//   read               O(log n) in memory to pick the batches, then one Seek and a forward scan
//                      bounded by iterate_upper_bound; the bytes are copied once out of RocksDB
//                      into one buffer per read that the returned chunks share
//   truncate_before    one WriteBatch (start offset + two DeleteRanges), O(log n + dropped) in
//                      memory, plus the timestamp index's rescan (storage/timestamp_index.h)
//   find_by_timestamp  O(log n) in memory, then one Get for the bytes
//   max_timestamp_batch O(1) in memory, then one Get for the bytes
//   replace_range      one WriteBatch (point deletes + puts), O(n) in memory (index splice and
//                      timestamp index rebuild)
//   open (recovery)    one scan of the partition's log_meta range (~50 bytes per batch)
//
// Errors: every RocksDB Status is checked here and becomes errc::io_error (its text goes to
// RocksDB's own info LOG in the data directory, see rocksdb_internal.h). append, truncate_before
// and replace_range then leave the in-memory state untouched (RocksDB applied nothing either: a
// WriteBatch is atomic). read, find_by_timestamp and max_timestamp_batch fail as a whole with
// io_error when RocksDB fails or returns bytes that do not match the in-memory index (a missing
// batch, a wrong size): a partial read is never returned.
//
// Threading: not thread-safe (like every partition_log). Runs on: broker state thread. At most
// one live rocksdb_log per partition: two would keep diverging in-memory indexes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "storage/partition_log.h"
#include "storage/timestamp_index.h"

namespace mk::storage {

namespace rocksdb_detail {
struct db_handle;
}

class rocksdb_log final : public partition_log {
 public:
  // Opens (recovers) the log of `prefix` (topic id bytes | partition, see rocksdb_internal.h).
  // Use rocksdb_engine::open_log rather than calling this directly.
  static result<std::unique_ptr<rocksdb_log>> open(std::shared_ptr<rocksdb_detail::db_handle> db,
                                                   std::string prefix);

  rocksdb_log(const rocksdb_log&) = delete;
  rocksdb_log& operator=(const rocksdb_log&) = delete;
  ~rocksdb_log() override;

  // Same contract and errors as memory_log::append (offset_mismatch before anything is written),
  // plus io_error when the write fails. Never out_of_memory.
  result<int64_t> append(std::span<const batch_to_append> batches) override;
  result<read_result> read(int64_t from, size_t max_bytes) const override;
  int64_t start_offset() const override { return start_offset_; }
  int64_t end_offset() const override { return end_offset_; }
  status truncate_before(int64_t offset) override;
  // Same contract as partition_log::replace_range; never out_of_memory.
  status replace_range(int64_t from, int64_t to_exclusive,
                       std::span<const batch_to_append> batches) override;
  size_t size_bytes() const override { return size_bytes_; }
  result<std::optional<stored_batch>> find_by_timestamp(int64_t ts) const override;
  result<std::optional<stored_batch>> max_timestamp_batch() const override;

  // Number of batches currently stored (tests, metrics).
  size_t batch_count() const { return index_.size(); }

 private:
  struct entry {
    int64_t base_offset;
    int64_t last_offset;
    int64_t max_timestamp;
    size_t size;
  };

  rocksdb_log(std::shared_ptr<rocksdb_detail::db_handle> db, std::string prefix);

  // Adds `e` at the back of the in-memory index (and the timestamp index).
  void push_entry(const entry& e);
  // max_timestamp of the batch at position i of index_ (for ts_index_).
  int64_t timestamp_at(size_t i) const { return index_[i].max_timestamp; }
  // Reads the bytes of `e` with one Get; io_error when RocksDB fails or the stored value does
  // not match the index.
  result<stored_batch> load(const entry& e) const;
  // load() of the batch at position `i` of index_; nullopt without one.
  result<std::optional<stored_batch>> load_at(std::optional<size_t> i) const;

  std::shared_ptr<rocksdb_detail::db_handle> db_;
  std::string prefix_;        // topic id bytes | partition BE
  std::deque<entry> index_;   // every stored batch, in offset order
  timestamp_index ts_index_;  // over index_, by position
  int64_t start_offset_ = 0;
  int64_t end_offset_ = 0;
  size_t size_bytes_ = 0;
};

}  // namespace mk::storage
