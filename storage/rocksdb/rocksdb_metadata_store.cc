#include "storage/rocksdb/rocksdb_metadata_store.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string_view>
#include <utility>

#include "storage/rocksdb/rocksdb_internal.h"

namespace mk::storage {

using rocksdb_detail::db_handle;
using rocksdb_detail::value_reader;
using rocksdb_detail::value_writer;

namespace {

constexpr uint8_t kValueVersion = 1;

std::string encode_topic(const topic_record& t) {
  value_writer w;
  w.u8(kValueVersion);
  w.str(t.name);
  w.str(t.id_hex);
  w.i32(t.partitions);
  w.i16(t.replication_factor);
  w.u32(static_cast<uint32_t>(t.configs.size()));
  for (const auto& [k, v] : t.configs) {
    w.str(k);
    w.str(v);
  }
  return std::move(w.bytes());
}

bool decode_topic(std::string_view bytes, topic_record& t) {
  value_reader r(bytes);
  uint8_t version = 0;
  uint32_t n = 0;
  if (!r.u8(version) || version != kValueVersion || !r.str(t.name) || !r.str(t.id_hex) ||
      !r.i32(t.partitions) || !r.i16(t.replication_factor) || !r.u32(n)) {
    return false;
  }
  for (uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!r.str(k) || !r.str(v)) return false;
    t.configs.emplace(std::move(k), std::move(v));
  }
  return r.at_end();
}

// Key prefixes of the offsets family: u32 len | group [| u32 len | topic].
std::string group_prefix(std::string_view group) {
  value_writer w;
  w.str(group);
  return std::move(w.bytes());
}

std::string group_topic_prefix(std::string_view group, std::string_view topic) {
  value_writer w;
  w.str(group);
  w.str(topic);
  return std::move(w.bytes());
}

std::string offset_key(std::string_view group, std::string_view topic, int32_t partition) {
  value_writer w;
  w.str(group);
  w.str(topic);
  w.i32(partition);
  return std::move(w.bytes());
}

bool decode_offset_key(std::string_view key, offset_record& o) {
  value_reader r(key);
  return r.str(o.group) && r.str(o.topic) && r.i32(o.partition) && r.at_end();
}

std::string encode_offset_value(const offset_record& o) {
  value_writer w;
  w.u8(kValueVersion);
  w.i64(o.offset);
  w.i32(o.leader_epoch);
  w.str(o.metadata);
  w.i64(o.commit_timestamp);
  return std::move(w.bytes());
}

bool decode_offset_value(std::string_view bytes, offset_record& o) {
  value_reader r(bytes);
  uint8_t version = 0;
  return r.u8(version) && version == kValueVersion && r.i64(o.offset) && r.i32(o.leader_epoch) &&
         r.str(o.metadata) && r.i64(o.commit_timestamp) && r.at_end();
}

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// Adds a Delete to `wb` for every key of `cf` starting with `prefix` and accepted by `match`
// (called with the key). Point deletes rather than DeleteRange: metadata families are small and
// this keeps range tombstones out of them.
template <typename Match>
rocksdb::Status delete_matching(db_handle& h, rocksdb::ColumnFamilyHandle* cf,
                                const std::string& prefix, rocksdb::WriteBatch& wb, Match match) {
  const std::string upper = rocksdb_detail::prefix_successor(prefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(ro, cf));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (!it->key().starts_with(prefix)) break;
    if (!match(view(it->key()))) continue;
    auto s = wb.Delete(cf, it->key());
    if (!s.ok()) return s;
  }
  return it->status();
}

}  // namespace

rocksdb_metadata_store::rocksdb_metadata_store(std::shared_ptr<db_handle> db)
    : db_(std::move(db)) {}

rocksdb_metadata_store::~rocksdb_metadata_store() = default;

status rocksdb_metadata_store::put_topic(const topic_record& t) {
  if (db_->db == nullptr) return errc::io_error;
  const auto s = db_->db->Put(db_->write_options, db_->topics, t.id_hex, encode_topic(t));
  if (!s.ok()) return db_->fail("put topic", s);
  return ok();
}

status rocksdb_metadata_store::delete_topic(const std::string& id_hex) {
  if (db_->db == nullptr) return errc::io_error;
  const auto s = db_->db->Delete(db_->write_options, db_->topics, id_hex);
  if (!s.ok()) return db_->fail("delete topic", s);
  return ok();
}

result<std::vector<topic_record>> rocksdb_metadata_store::load_topics() const {
  if (db_->db == nullptr) return errc::io_error;
  std::vector<topic_record> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->topics));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    topic_record t;
    if (!decode_topic(view(it->value()), t)) {
      return db_->fail("load topics", "undecodable record for key " + it->key().ToString(true));
    }
    out.push_back(std::move(t));
  }
  if (!it->status().ok()) return db_->fail("load topics", it->status());
  return out;
}

status rocksdb_metadata_store::put_offsets(const std::vector<offset_record>& offsets) {
  if (db_->db == nullptr) return errc::io_error;
  if (offsets.empty()) return ok();
  rocksdb::WriteBatch wb;
  for (const auto& o : offsets) {
    const auto s =
        wb.Put(db_->offsets, offset_key(o.group, o.topic, o.partition), encode_offset_value(o));
    if (!s.ok()) return db_->fail("put offsets", s);
  }
  const auto s = db_->db->Write(db_->write_options, &wb);
  if (!s.ok()) return db_->fail("put offsets", s);
  return ok();
}

status rocksdb_metadata_store::delete_offsets(const std::string& group, const std::string& topic,
                                              int32_t partition) {
  if (db_->db == nullptr) return errc::io_error;
  rocksdb::WriteBatch wb;
  rocksdb::Status s;
  if (topic.empty()) {
    s = delete_matching(*db_, db_->offsets, group_prefix(group), wb,
                        [](std::string_view) { return true; });
  } else if (group.empty()) {
    s = delete_matching(*db_, db_->offsets, std::string(), wb, [&](std::string_view key) {
      offset_record o;
      return decode_offset_key(key, o) && o.topic == topic &&
             (partition < 0 || o.partition == partition);
    });
  } else if (partition >= 0) {
    s = wb.Delete(db_->offsets, offset_key(group, topic, partition));
  } else {
    s = delete_matching(*db_, db_->offsets, group_topic_prefix(group, topic), wb,
                        [](std::string_view) { return true; });
  }
  if (s.ok() && wb.Count() > 0) s = db_->db->Write(db_->write_options, &wb);
  if (!s.ok()) return db_->fail("delete offsets", s);
  return ok();
}

result<std::vector<offset_record>> rocksdb_metadata_store::load_offsets() const {
  if (db_->db == nullptr) return errc::io_error;
  std::vector<offset_record> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(rocksdb::ReadOptions(), db_->offsets));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    offset_record o;
    if (!decode_offset_key(view(it->key()), o) || !decode_offset_value(view(it->value()), o)) {
      return db_->fail("load offsets", "undecodable record for key " + it->key().ToString(true));
    }
    out.push_back(std::move(o));
  }
  if (!it->status().ok()) return db_->fail("load offsets", it->status());
  return out;
}

}  // namespace mk::storage
