// Internals shared by the RocksDB backend's .cc files (not part of its public API): the open
// database with its column families, key encodings and a small bounds-checked binary codec.
//
// Only storage/rocksdb/*.cc include this header, so users of the backend's public headers do
// not see RocksDB's headers.
//
// Threading: like the rest of storage, used from the broker state thread only. RocksDB itself is
// thread-safe.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/partition_log.h"

namespace mk::storage::rocksdb_detail {

// The open database. Shared (shared_ptr) by the engine, its logs and its metadata store, so they
// may be destroyed in any order; the last owner closes the database.
struct db_handle {
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;
  rocksdb::ColumnFamilyHandle* logs = nullptr;      // batch key -> batch bytes
  rocksdb::ColumnFamilyHandle* log_meta = nullptr;  // log start offsets + per-batch index
  rocksdb::ColumnFamilyHandle* topics = nullptr;    // topic id hex -> topic_record
  rocksdb::ColumnFamilyHandle* offsets = nullptr;   // group|topic|partition -> offset_record
  rocksdb::WriteOptions write_options;              // .sync from rocksdb_options
  // RocksDB's info LOG (<dir>/LOG), where fail() writes what went wrong.
  std::shared_ptr<rocksdb::Logger> info_log;

  db_handle() = default;
  db_handle(const db_handle&) = delete;
  db_handle& operator=(const db_handle&) = delete;
  ~db_handle();

  // The storage boundary for a failed RocksDB call: writes "minikafka: <what>: <status or
  // detail>" to RocksDB's info LOG (the errc reaching the broker carries no text) and returns
  // errc::io_error.
  errc fail(std::string_view what, const rocksdb::Status& s) const;
  errc fail(std::string_view what, std::string_view detail) const;
};

// ---------------------------------------------------------------------------------------------
// Fixed-width big-endian integers (big-endian so that byte order is numeric order for keys).

inline void put_be32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void put_be64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint32_t get_be32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Log keys.
//
// Partition prefix (20 bytes): topic id (16 raw bytes) | partition (4 bytes BE).
// logs CF:      prefix | base_offset (8 BE)            -> batch bytes, exactly as appended
// log_meta CF:  prefix | 'B' | base_offset (8 BE)      -> last_offset, max_timestamp, size (3x8 BE)
//               prefix | 'E'                           -> log end offset floor (8 BE), written
//                                                         only by replace_range (see rocksdb_log.h)
//               prefix | 'S'                           -> log start offset (8 BE)
// Offsets are >= 0, so their big-endian bytes sort in numeric order: key order = offset order.

constexpr size_t kPrefixSize = 20;
constexpr char kIndexTag = 'B';
constexpr char kStartTag = 'S';
constexpr char kEndTag = 'E';
constexpr size_t kIndexValueSize = 24;

// 32 hex digits (either case) to 16 raw bytes; nullopt when malformed.
std::optional<std::string> topic_id_bytes(const std::string& hex);

inline std::string log_prefix(const std::string& id_bytes, int32_t partition) {
  std::string k = id_bytes;
  put_be32(k, static_cast<uint32_t>(partition));
  return k;
}
inline std::string batch_key(const std::string& prefix, int64_t base) {
  std::string k = prefix;
  put_be64(k, static_cast<uint64_t>(base));
  return k;
}
inline std::string index_key(const std::string& prefix, int64_t base) {
  std::string k = prefix;
  k.push_back(kIndexTag);
  put_be64(k, static_cast<uint64_t>(base));
  return k;
}
inline std::string start_key(const std::string& prefix) { return prefix + kStartTag; }
inline std::string end_key(const std::string& prefix) { return prefix + kEndTag; }

// The smallest key greater than every key starting with `prefix`; empty when none exists (the
// prefix is all 0xff).
std::string prefix_successor(std::string prefix);

// ---------------------------------------------------------------------------------------------
// Length-prefixed binary values (metadata store).

class value_writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void i16(int16_t v) {
    out_.push_back(static_cast<char>((static_cast<uint16_t>(v) >> 8) & 0xff));
    out_.push_back(static_cast<char>(static_cast<uint16_t>(v) & 0xff));
  }
  void i32(int32_t v) { put_be32(out_, static_cast<uint32_t>(v)); }
  void u32(uint32_t v) { put_be32(out_, v); }
  void i64(int64_t v) { put_be64(out_, static_cast<uint64_t>(v)); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Every read returns false (and leaves the output alone) when the input is too short.
class value_reader {
 public:
  explicit value_reader(std::string_view in) : in_(in) {}
  bool u8(uint8_t& v) {
    if (in_.size() < 1) return false;
    v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool i16(int16_t& v) {
    if (in_.size() < 2) return false;
    v = static_cast<int16_t>((static_cast<uint8_t>(in_[0]) << 8) | static_cast<uint8_t>(in_[1]));
    in_.remove_prefix(2);
    return true;
  }
  bool u32(uint32_t& v) {
    if (in_.size() < 4) return false;
    v = get_be32(in_.data());
    in_.remove_prefix(4);
    return true;
  }
  bool i32(int32_t& v) {
    uint32_t u = 0;
    if (!u32(u)) return false;
    v = static_cast<int32_t>(u);
    return true;
  }
  bool i64(int64_t& v) {
    if (in_.size() < 8) return false;
    v = static_cast<int64_t>(get_be64(in_.data()));
    in_.remove_prefix(8);
    return true;
  }
  bool str(std::string& s) {
    uint32_t n = 0;
    if (!u32(n) || in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool at_end() const { return in_.empty(); }
  std::string_view rest() const { return in_; }

 private:
  std::string_view in_;
};

}  // namespace mk::storage::rocksdb_detail
