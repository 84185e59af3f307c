// Storage interface: one append-only log of record batches per topic partition.
//
// Storage keeps bytes and a few integers; it does not parse Kafka. The broker validates batches,
// assigns offsets (rewriting baseOffset in the bytes) and passes the integers it read from the
// batch header alongside the bytes. Implementations: storage/memory (default), storage/rocksdb.
//
// Threading: a partition_log is not thread-safe; the broker calls it from its one state thread.
// Failures are values (result<T>); exceptions are for bugs only. Every call that may touch the
// backend's storage (append, read, the timestamp lookups, truncation, replace_range) returns one;
// start_offset, end_offset and size_bytes are kept in memory and cannot fail.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "minikafka_common/shared_chunk.h"

namespace mk::storage {

enum class errc {
  offset_mismatch,  // first appended batch does not start at end_offset(), or batches not contiguous
  out_of_memory,    // the backend's memory cap would be exceeded (retriable for the client)
  io_error,         // the backend failed to read or write
  not_found,        // the log (or topic) does not exist
};

const char* to_string(errc e);

// Minimal value-or-error. `[[nodiscard]]` so a failed append cannot be ignored silently.
template <typename T>
class [[nodiscard]] result {
 public:
  result(T v) : v_(std::move(v)) {}                // NOLINT(google-explicit-constructor)
  result(errc e) : v_(e) {}                        // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(v_); }
  T& value() { return std::get<0>(v_); }
  errc error() const { return std::get<1>(v_); }

 private:
  std::variant<T, errc> v_;
};

struct ok_t {};
using status = result<ok_t>;
inline status ok() { return ok_t{}; }

// One record batch handed to append(): its offsets (already written into `bytes` by the broker),
// its largest record timestamp, and the batch bytes themselves (a whole batch, 61+ bytes for v2).
struct batch_to_append {
  int64_t base_offset = 0;
  int64_t last_offset = 0;  // base_offset + lastOffsetDelta
  int64_t max_timestamp = -1;
  shared_chunk bytes;
};

// A stored batch as returned by lookups.
struct stored_batch {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  shared_chunk bytes;
};

struct read_result {
  std::vector<shared_chunk> chunks;  // whole batches in offset order, ready to be sent as-is
  size_t bytes = 0;                  // sum of chunk sizes
};

class partition_log {
 public:
  virtual ~partition_log() = default;

  // Appends `batches` atomically (all or none). The first must start at end_offset() and each
  // next one at the previous last_offset + 1. Returns the base offset of the first batch.
  virtual result<int64_t> append(std::span<const batch_to_append> batches) = 0;

  // Whole batches starting with the one that contains `from` (or, when `from` falls in a gap left
  // by replace_range, the next stored batch), in order, until adding the next batch would exceed
  // `max_bytes`. The first batch is always included, even when it alone is larger than
  // `max_bytes`, so a consumer can always make progress. Empty when from >= end_offset() or
  // from < start_offset(). io_error when the backend fails to read (or finds its stored bytes
  // inconsistent): then nothing is returned, never a partial answer that looks whole.
  virtual result<read_result> read(int64_t from, size_t max_bytes) const = 0;

  // First offset still in the log (the log start offset) and the offset the next append gets.
  virtual int64_t start_offset() const = 0;
  virtual int64_t end_offset() const = 0;

  // Moves the log start offset to `offset` (DeleteRecords, retention) and drops every batch whose
  // last_offset < offset. A batch straddling `offset` is kept. No-op when offset <= start_offset().
  // offset > end_offset() is clamped to end_offset().
  virtual status truncate_before(int64_t offset) = 0;

  // Replaces the stored batches whose base offset lies in [from, to_exclusive) with `batches`,
  // atomically (all or none). For log compaction: rewritten batches keep their offsets.
  // Rules (offset_mismatch, nothing changed, when broken):
  //  * 0 <= from <= to_exclusive <= end_offset();
  //  * the range cuts no stored batch: none has base < from <= last or base < to_exclusive <= last;
  //  * `batches` lie within [from, to_exclusive), in increasing offset order without overlap,
  //    each with base_offset <= last_offset. Gaps between them are allowed (a batch whose records
  //    were all removed is simply left out), and so are sparse offsets inside a batch.
  // New batches wholly below start_offset() are accepted but not stored (nothing could read
  // them). start_offset() and end_offset() do not change, even when the range held the last
  // batch. A read from an offset in a gap starts at the next stored batch. out_of_memory when
  // the new batches are larger than the old ones and the backend's cap cannot take the
  // difference; io_error when the backend fails to write. An empty range with no batches is a
  // no-op.
  virtual status replace_range(int64_t from, int64_t to_exclusive,
                               std::span<const batch_to_append> batches) = 0;

  // Bytes of batch data currently stored.
  virtual size_t size_bytes() const = 0;

  // The first batch (in offset order) whose max_timestamp >= ts, if any (ListOffsets by time).
  // io_error when the backend fails to read that batch.
  virtual result<std::optional<stored_batch>> find_by_timestamp(int64_t ts) const = 0;

  // The batch holding the largest max_timestamp (earliest such batch on ties), if any
  // (ListOffsets MAX_TIMESTAMP). io_error when the backend fails to read that batch.
  virtual result<std::optional<stored_batch>> max_timestamp_batch() const = 0;
};

class metadata_store;  // storage/metadata_store.h

// Creates and drops partition logs and holds the metadata store. One engine per broker; the
// broker owns it.
class storage_engine {
 public:
  virtual ~storage_engine() = default;
  // `topic_id` is the topic's UUID as 32 lowercase hex digits: stable across renames/recreation.
  virtual result<std::unique_ptr<partition_log>> open_log(const std::string& topic_id,
                                                          int32_t partition) = 0;
  // Removes every stored byte of the log. The partition_log object must already be destroyed.
  virtual status drop_log(const std::string& topic_id, int32_t partition) = 0;
  virtual const char* name() const = 0;
  // Durable topics and group offsets (a null store for backends that keep nothing).
  virtual metadata_store& metadata() = 0;
};

}  // namespace mk::storage
