// Storage engine for the RocksDB backend: one RocksDB database per broker, in `dir`.
//
// Column families (one per kind of data):
//   logs      record batches (see rocksdb_log.h for the keys)
//   log_meta  per-partition log start offset and the per-batch index used for recovery
//   topics    topic_record by topic id        (rocksdb_metadata_store.h)
//   offsets   committed group offsets          (rocksdb_metadata_store.h)
//   default   the on-disk format version
// The options chosen for each are documented in rocksdb_engine.cc (make_db_options and friends).
//
// Durability: every append, truncation and metadata write is one WriteBatch through the WAL.
// With `sync` each of them is fsynced before it returns (survives power loss); without it, it is
// in the OS page cache when it returns (survives a crash or SIGKILL of the broker, not of the
// machine). On open, RocksDB replays the WAL up to the last complete write (point-in-time
// recovery) and open_log rebuilds each log's offsets, sizes and index from log_meta.
//
// Failures never throw: open failures are reported by open_rocksdb_engine (or is_open() and
// open_error() on a directly constructed engine), later ones as errc::io_error from the call
// that failed, with RocksDB's status text written to RocksDB's info LOG (<dir>/LOG, lines
// starting "minikafka:").
//
// Threading: not thread-safe. Runs on: broker state thread (RocksDB runs its own background
// flush/compaction threads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/metadata_store.h"
#include "storage/partition_log.h"

namespace rocksdb {
class Env;
}

namespace mk::storage {

namespace rocksdb_detail {
struct db_handle;
}
class rocksdb_metadata_store;

struct rocksdb_options {
  // fsync the WAL on every append, truncation and metadata write (WriteOptions::sync).
  bool sync = false;
  // Memtable size of the logs column family: bytes of batches buffered before a flush to L0.
  size_t logs_write_buffer_bytes = size_t{64} << 20;
  // Shared LRU block cache for all column families (reads of flushed batches).
  size_t block_cache_bytes = size_t{32} << 20;
  // Tests only: the rocksdb::Env the database does its file I/O through (e.g. an EnvWrapper
  // that fails reads). Not owned; must outlive the engine. Null: RocksDB's default Env.
  rocksdb::Env* env = nullptr;
};

class rocksdb_engine final : public storage_engine {
 public:
  // Opens (creating if needed) the database in `dir`. Does not throw: on failure the engine is
  // left closed (is_open() false, open_error() says why) and every operation fails with
  // io_error. Prefer open_rocksdb_engine, which reports the failure as a value.
  rocksdb_engine(const std::string& dir, rocksdb_options opts);
  ~rocksdb_engine() override;

  rocksdb_engine(const rocksdb_engine&) = delete;
  rocksdb_engine& operator=(const rocksdb_engine&) = delete;

  // Opens the partition's log, recovering whatever it stored: start/end offsets, sizes and the
  // timestamp index. A partition never written opens empty at offset 0. not_found when
  // `topic_id` is not 32 hex digits or partition < 0; io_error when RocksDB fails.
  result<std::unique_ptr<partition_log>> open_log(const std::string& topic_id,
                                                  int32_t partition) override;
  // Deletes the partition's batches, index and start offset (one WriteBatch of DeleteRanges).
  status drop_log(const std::string& topic_id, int32_t partition) override;
  const char* name() const override { return "rocksdb"; }
  // Topics and group offsets in the `topics` and `offsets` column families. Usable (failing
  // with io_error) even when the engine did not open.
  metadata_store& metadata() override;

  bool is_open() const;
  const std::string& dir() const { return dir_; }
  const rocksdb_options& options() const { return opts_; }
  // Why the database did not open ("<what failed>: <RocksDB status text>"); empty when open.
  const std::string& open_error() const { return open_error_; }

 private:
  std::string dir_;
  rocksdb_options opts_;
  std::string open_error_;
  std::shared_ptr<rocksdb_detail::db_handle> db_;
  std::unique_ptr<rocksdb_metadata_store> metadata_;
};

// Opens the engine; errc::io_error when RocksDB cannot open `dir` (missing permissions, locked
// by another process, corruption, unsupported format), with the reason in *error_message when
// given.
result<std::unique_ptr<rocksdb_engine>> open_rocksdb_engine(const std::string& dir,
                                                            rocksdb_options opts,
                                                            std::string* error_message = nullptr);

}  // namespace mk::storage
