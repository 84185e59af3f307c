// metadata_store over the RocksDB engine's `topics` and `offsets` column families.
//
// Keys and values (all integers big-endian; strings are u32 length + bytes; values start with a
// format version byte, currently 1):
//   topics   key  topic id hex (32 chars)
//            value  1 | name | id_hex | partitions i32 | replication_factor i16 |
//                   config count u32 | (key, value)*
//   offsets  key  u32 len | group | u32 len | topic | partition (4 BE)
//            value  1 | offset i64 | leader_epoch i32 | metadata | commit_timestamp i64
// The length prefixes make "every key of group G" and "of G and topic T" key prefixes.
//
// Every put and delete is one WriteBatch (atomic; fsynced when the engine's sync option is on).
// Loads return records in key order: topics by id, offsets by (group, topic, partition).
// Failures are errc::io_error (RocksDB error, or a stored value that does not decode), with the
// reason in RocksDB's info LOG (see rocksdb_engine.h).
//
// Threading: not thread-safe. Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/metadata_store.h"

namespace mk::storage {

namespace rocksdb_detail {
struct db_handle;
}

class rocksdb_metadata_store final : public metadata_store {
 public:
  // `db` is the engine's open database (its db may be null when the engine failed to open: every
  // call then fails with io_error).
  explicit rocksdb_metadata_store(std::shared_ptr<rocksdb_detail::db_handle> db);
  ~rocksdb_metadata_store() override;

  status put_topic(const topic_record& t) override;
  status delete_topic(const std::string& id_hex) override;
  result<std::vector<topic_record>> load_topics() const override;

  status put_offsets(const std::vector<offset_record>& offsets) override;
  // topic empty: every offset of `group` (including a group named ""); else group empty: every
  // offset of `topic` in every group (a full scan of the offsets column family); else that
  // group's offsets of `topic`, all partitions when partition < 0.
  status delete_offsets(const std::string& group, const std::string& topic,
                        int32_t partition = -1) override;
  result<std::vector<offset_record>> load_offsets() const override;

 private:
  std::shared_ptr<rocksdb_detail::db_handle> db_;
};

}  // namespace mk::storage
