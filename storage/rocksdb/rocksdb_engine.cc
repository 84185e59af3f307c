#include "storage/rocksdb/rocksdb_engine.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include <utility>
#include <vector>

#include "storage/rocksdb/rocksdb_internal.h"
#include "storage/rocksdb/rocksdb_log.h"
#include "storage/rocksdb/rocksdb_metadata_store.h"

namespace mk::storage {

namespace rocksdb_detail {

db_handle::~db_handle() {
  if (db == nullptr) return;
  for (auto* h : {logs, log_meta, topics, offsets, default_cf}) {
    if (h != nullptr) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  // Close() waits for background jobs; its status only matters to code that could retry.
  db->Close().PermitUncheckedError();
  delete db;
}

errc db_handle::fail(std::string_view what, const rocksdb::Status& s) const {
  return fail(what, s.ToString());
}

errc db_handle::fail(std::string_view what, std::string_view detail) const {
  if (info_log != nullptr) {
    rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, info_log, "minikafka: %.*s: %.*s",
                 static_cast<int>(what.size()), what.data(), static_cast<int>(detail.size()),
                 detail.data());
  }
  return errc::io_error;
}

std::optional<std::string> topic_id_bytes(const std::string& hex) {
  if (hex.size() != 32) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(16, '\0');
  for (size_t i = 0; i < 16; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string prefix_successor(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // empty: no successor
}

}  // namespace rocksdb_detail

namespace {

using rocksdb_detail::db_handle;

constexpr char kFormatKey[] = "minikafka.format";
constexpr char kFormatVersion[] = "1";

// Database-wide options.
rocksdb::DBOptions make_db_options(const rocksdb_options& opts) {
  rocksdb::DBOptions o;
  if (opts.env != nullptr) o.env = opts.env;  // tests: fault injection
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  // Two cores: one flush and one compaction at a time is all the machine can give RocksDB
  // without starving the broker's network and state threads.
  o.max_background_jobs = 2;
  // With several column families a WAL file can only be deleted once every family has flushed
  // what it holds. The small families (topics, offsets, log_meta) fill their memtables slowly and
  // would otherwise keep every WAL file alive; past this total RocksDB flushes them.
  o.max_total_wal_size = uint64_t{256} << 20;
  // Write SST data back to disk in 1 MiB steps rather than in one burst at file close, so a
  // flush or compaction does not stall the WAL fsyncs of appends behind a large writeback.
  o.bytes_per_sync = uint64_t{1} << 20;
  // After a crash, replay the WAL up to the last complete write batch and drop a torn tail: an
  // acknowledged append is never lost, a half-written one never appears (the default, stated).
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // RocksDB's own info LOG: keep it bounded (a few 16 MiB files).
  o.max_log_file_size = size_t{16} << 20;
  o.keep_log_file_num = 4;
  return o;
}

// Table options shared by all families: one LRU block cache, no filters by default.
rocksdb::BlockBasedTableOptions make_table_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  // Keep the index format simple; index and filter blocks (if any) are held by the table reader
  // rather than competing with batch data in the cache.
  t.cache_index_and_filter_blocks = false;
  return t;
}

// The logs family: large, opaque, append-mostly values read by forward scans.
rocksdb::ColumnFamilyOptions make_logs_options(const rocksdb_options& opts,
                                               const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  // Batches are compressed by clients already (or deliberately not): compressing them again
  // costs CPU for nothing, at every level including the bottommost.
  o.compression = rocksdb::kNoCompression;
  o.bottommost_compression = rocksdb::kNoCompression;
  // A large memtable absorbs produce bursts and makes fewer, larger L0 files (less compaction
  // work per byte). Three buffers: one being filled, one being flushed, one spare so a slow
  // flush does not stall appends.
  o.write_buffer_size = opts.logs_write_buffer_bytes;
  o.max_write_buffer_number = 3;
  // SST files about the size of a memtable; level sizes derived from the last level so space
  // amplification stays near 1.1 as data ages out through retention.
  o.target_file_size_base = opts.logs_write_buffer_bytes;
  o.level_compaction_dynamic_level_bytes = true;
  // No prefix extractor and no bloom filter: reads are range scans (Seek + iterate_upper_bound)
  // positioned by the in-memory index, never point lookups of keys that might not exist, so a
  // filter would only cost memory and write time. (OptimizeForPointLookup is deliberately not
  // used for the same reason.)
  auto t = make_table_options(cache);
  // Batch values are often several KiB: 64 KiB blocks keep the SST index small; reads of whole
  // batches pay nothing for larger blocks.
  t.block_size = 64 * 1024;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

// log_meta, topics, offsets: small values, few writes. RocksDB defaults (default compression,
// 4 KiB blocks) with a small memtable so they do not reserve memory they will not use.
rocksdb::ColumnFamilyOptions make_small_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = size_t{8} << 20;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(make_table_options(cache)));
  return o;
}

// Opens the database into `h`; false with the reason in `error` on failure.
bool open_db(db_handle& h, const std::string& dir, const rocksdb_options& opts,
             std::string& error) {
  auto cache = rocksdb::NewLRUCache(opts.block_cache_bytes);
  const auto small = make_small_options(cache);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, small},
      {"logs", make_logs_options(opts, cache)},
      {"log_meta", small},
      {"topics", small},
      {"offsets", small},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(make_db_options(opts), dir, cfs, &handles, &db);
  if (!s.ok()) {
    error = "open " + dir + ": " + s.ToString();
    return false;
  }
  h.db = db;
  h.default_cf = handles[0];
  h.logs = handles[1];
  h.log_meta = handles[2];
  h.topics = handles[3];
  h.offsets = handles[4];
  h.write_options.sync = opts.sync;
  h.info_log = db->GetDBOptions().info_log;

  // Format version: written on first open, checked afterwards.
  std::string version;
  s = db->Get(rocksdb::ReadOptions(), h.default_cf, kFormatKey, &version);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db->Put(wo, h.default_cf, kFormatKey, kFormatVersion);
    if (!s.ok()) {
      error = "write format version: " + s.ToString();
      return false;
    }
  } else if (!s.ok()) {
    error = "read format version: " + s.ToString();
    return false;
  } else if (version != kFormatVersion) {
    error = "open " + dir + ": unsupported on-disk format version '" + version + "'";
    return false;
  }
  return true;
}

}  // namespace

rocksdb_engine::rocksdb_engine(const std::string& dir, rocksdb_options opts)
    : dir_(dir), opts_(opts), db_(std::make_shared<db_handle>()) {
  if (!open_db(*db_, dir_, opts_, open_error_)) {
    db_ = std::make_shared<db_handle>();  // drop whatever was opened
  }
  metadata_ = std::make_unique<rocksdb_metadata_store>(db_);
}

rocksdb_engine::~rocksdb_engine() = default;

bool rocksdb_engine::is_open() const { return db_->db != nullptr; }


metadata_store& rocksdb_engine::metadata() { return *metadata_; }

result<std::unique_ptr<partition_log>> rocksdb_engine::open_log(const std::string& topic_id,
                                                                 int32_t partition) {
  if (!is_open()) return errc::io_error;
  const auto id = rocksdb_detail::topic_id_bytes(topic_id);
  if (!id || partition < 0) return errc::not_found;
  auto r = rocksdb_log::open(db_, rocksdb_detail::log_prefix(*id, partition));
  if (!r.ok()) return r.error();
  return std::unique_ptr<partition_log>(std::move(r.value()));
}

status rocksdb_engine::drop_log(const std::string& topic_id, int32_t partition) {
  if (!is_open()) return errc::io_error;
  const auto id = rocksdb_detail::topic_id_bytes(topic_id);
  if (!id || partition < 0) return errc::not_found;
  const std::string prefix = rocksdb_detail::log_prefix(*id, partition);
  // The prefix is topic bytes | partition < 2^31, so its last byte pair is never all 0xff and a
  // successor always exists.
  const std::string end = rocksdb_detail::prefix_successor(prefix);
  rocksdb::WriteBatch wb;
  auto s = wb.DeleteRange(db_->logs, prefix, end);
  if (s.ok()) s = wb.DeleteRange(db_->log_meta, prefix, end);
  if (s.ok()) s = db_->db->Write(db_->write_options, &wb);
  if (!s.ok()) return db_->fail("drop log", s);
  return ok();
}

result<std::unique_ptr<rocksdb_engine>> open_rocksdb_engine(const std::string& dir,
                                                            rocksdb_options opts,
                                                            std::string* error_message) {
  auto engine = std::make_unique<rocksdb_engine>(dir, opts);
  if (!engine->is_open()) {
    if (error_message != nullptr) *error_message = engine->open_error();
    return errc::io_error;
  }
  return engine;
}

}  // namespace mk::storage
