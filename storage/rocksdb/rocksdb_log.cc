#include "storage/rocksdb/rocksdb_log.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "storage/detail/replace_range.h"
#include "storage/rocksdb/rocksdb_internal.h"

namespace mk::storage {

using rocksdb_detail::batch_key;
using rocksdb_detail::db_handle;
using rocksdb_detail::end_key;
using rocksdb_detail::get_be64;
using rocksdb_detail::index_key;
using rocksdb_detail::kEndTag;
using rocksdb_detail::kIndexTag;
using rocksdb_detail::kIndexValueSize;
using rocksdb_detail::kPrefixSize;
using rocksdb_detail::kStartTag;
using rocksdb_detail::put_be64;
using rocksdb_detail::start_key;

namespace {

std::string index_value(int64_t last, int64_t max_ts, size_t size) {
  std::string v;
  v.reserve(kIndexValueSize);
  put_be64(v, static_cast<uint64_t>(last));
  put_be64(v, static_cast<uint64_t>(max_ts));
  put_be64(v, static_cast<uint64_t>(size));
  return v;
}

std::string offset_value(int64_t offset) {
  std::string v;
  put_be64(v, static_cast<uint64_t>(offset));
  return v;
}

// One buffer holding the bytes of several batches; chunks are slices sharing it.
shared_chunk new_buffer(size_t n, uint8_t*& data) {
  std::shared_ptr<uint8_t[]> buf(new uint8_t[std::max<size_t>(n, 1)]);
  data = buf.get();
  return shared_chunk{std::shared_ptr<const void>(buf, buf.get()), buf.get(), n};
}

}  // namespace

rocksdb_log::rocksdb_log(std::shared_ptr<db_handle> db, std::string prefix)
    : db_(std::move(db)), prefix_(std::move(prefix)) {}

rocksdb_log::~rocksdb_log() = default;

result<std::unique_ptr<rocksdb_log>> rocksdb_log::open(std::shared_ptr<db_handle> db,
                                                       std::string prefix) {
  if (db == nullptr || db->db == nullptr) return errc::io_error;
  std::unique_ptr<rocksdb_log> log(new rocksdb_log(db, std::move(prefix)));
  const std::string& pfx = log->prefix_;

  // Recovery: one scan of the partition's log_meta range. Index entries ('B') sort before the
  // start offset ('S'); both are small, the batch bytes in `logs` are not read.
  const std::string upper = rocksdb_detail::prefix_successor(pfx);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = false;  // a one-off scan: do not evict hot batch blocks for it
  std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(ro, db->log_meta));
  std::vector<entry> entries;
  int64_t start = 0;
  int64_t end_floor = 0;
  for (it->Seek(pfx); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    const rocksdb::Slice v = it->value();
    if (k.size() == kPrefixSize + 1 && k[kPrefixSize] == kStartTag && v.size() == 8) {
      start = static_cast<int64_t>(get_be64(v.data()));
    } else if (k.size() == kPrefixSize + 1 && k[kPrefixSize] == kEndTag && v.size() == 8) {
      end_floor = static_cast<int64_t>(get_be64(v.data()));
    } else if (k.size() == kPrefixSize + 9 && k[kPrefixSize] == kIndexTag &&
               v.size() == kIndexValueSize) {
      entries.push_back(entry{static_cast<int64_t>(get_be64(k.data() + kPrefixSize + 1)),
                              static_cast<int64_t>(get_be64(v.data())),
                              static_cast<int64_t>(get_be64(v.data() + 8)),
                              static_cast<size_t>(get_be64(v.data() + 16))});
    } else {
      return db->fail("recover log", "malformed log_meta entry of size " +
                                         std::to_string(k.size()) + "/" +
                                         std::to_string(v.size()));
    }
  }
  if (!it->status().ok()) return db->fail("recover log", it->status());

  // Appends, truncations and replacements are single write batches, so the entries are in
  // order without overlap and none lies wholly below the start offset. Gaps between them are
  // legal (replace_range drops batches). Anything else is corruption: refuse to guess.
  log->start_offset_ = start;
  log->end_offset_ = start;
  for (const auto& e : entries) {
    if (e.last_offset < e.base_offset || e.last_offset < start ||
        (!log->index_.empty() && e.base_offset < log->end_offset_)) {
      return db->fail("recover log", "batch index overlaps or precedes the log start at offset " +
                                         std::to_string(e.base_offset));
    }
    log->push_entry(e);
    log->end_offset_ = e.last_offset + 1;
    log->size_bytes_ += e.size;
  }
  log->end_offset_ = std::max(log->end_offset_, end_floor);
  return log;
}

void rocksdb_log::push_entry(const entry& e) {
  index_.push_back(e);
  ts_index_.push_back(e.max_timestamp);
}

result<int64_t> rocksdb_log::append(std::span<const batch_to_append> batches) {
  if (batches.empty()) return end_offset_;

  // Validate everything before writing: all-or-nothing.
  int64_t expected = end_offset_;
  for (const auto& b : batches) {
    if (b.base_offset != expected || b.last_offset < b.base_offset ||
        b.last_offset == std::numeric_limits<int64_t>::max()) {
      return errc::offset_mismatch;
    }
    expected = b.last_offset + 1;
  }

  rocksdb::WriteBatch wb;
  for (const auto& b : batches) {
    const rocksdb::Slice value(reinterpret_cast<const char*>(b.bytes.data), b.bytes.size);
    auto s = wb.Put(db_->logs, batch_key(prefix_, b.base_offset), value);
    if (s.ok()) {
      s = wb.Put(db_->log_meta, index_key(prefix_, b.base_offset),
                 index_value(b.last_offset, b.max_timestamp, b.bytes.size));
    }
    if (!s.ok()) return db_->fail("append", s);
  }
  const auto s = db_->db->Write(db_->write_options, &wb);
  if (!s.ok()) return db_->fail("append", s);

  // Durable (as far as the sync option asks): now the in-memory view may move.
  for (const auto& b : batches) {
    push_entry(entry{b.base_offset, b.last_offset, b.max_timestamp, b.bytes.size});
    size_bytes_ += b.bytes.size;
  }
  end_offset_ = expected;
  return batches.front().base_offset;
}

result<read_result> rocksdb_log::read(int64_t from, size_t max_bytes) const {
  read_result out;
  if (from < start_offset_ || from >= end_offset_) return out;

  // Pick the batches in memory: the one holding `from`, then as many as fit.
  const auto first = std::partition_point(index_.begin(), index_.end(),
                                          [from](const entry& e) { return e.last_offset < from; });
  auto stop = first;
  size_t total = 0;
  for (; stop != index_.end(); ++stop) {
    if (stop != first && total + stop->size > max_bytes) break;  // the first always goes in
    total += stop->size;
  }
  if (first == stop) return out;

  // One Seek to the first batch's key, bounded just past the last batch wanted so the iterator
  // never reads ahead into batches (or partitions) that are not returned.
  const std::string lower = batch_key(prefix_, first->base_offset);
  const std::string upper = batch_key(prefix_, std::prev(stop)->base_offset + 1);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro, db_->logs));

  uint8_t* dst = nullptr;
  const shared_chunk buffer = new_buffer(total, dst);
  size_t pos = 0;
  it->Seek(lower);
  for (auto e = first; e != stop; ++e, it->Next()) {
    if (!it->Valid()) {
      if (!it->status().ok()) return db_->fail("read", it->status());
      return db_->fail("read", "batch at offset " + std::to_string(e->base_offset) + " is missing");
    }
    const rocksdb::Slice k = it->key();
    const rocksdb::Slice v = it->value();
    if (k.size() != kPrefixSize + 8 ||
        static_cast<int64_t>(get_be64(k.data() + kPrefixSize)) != e->base_offset ||
        v.size() != e->size) {
      return db_->fail("read", "stored batch does not match the index at offset " +
                                   std::to_string(e->base_offset));
    }
    if (v.size() != 0) std::memcpy(dst + pos, v.data(), v.size());
    out.chunks.push_back(buffer.slice(pos, v.size()));
    pos += v.size();
  }
  out.bytes = pos;
  return out;
}

status rocksdb_log::truncate_before(int64_t offset) {
  if (offset <= start_offset_) return ok();
  offset = std::min(offset, end_offset_);
  if (offset <= start_offset_) return ok();  // empty log: nothing moves

  // Whole batches entirely below `offset`; a straddling batch stays.
  const auto keep = std::partition_point(
      index_.begin(), index_.end(), [offset](const entry& e) { return e.last_offset < offset; });
  const int64_t keep_base = keep == index_.end() ? end_offset_ : keep->base_offset;

  rocksdb::WriteBatch wb;
  auto s = wb.Put(db_->log_meta, start_key(prefix_), offset_value(offset));
  if (s.ok() && keep != index_.begin()) {
    // From the partition's very first possible key: idempotent, and covers nothing that is
    // still wanted since every kept batch has base >= keep_base.
    s = wb.DeleteRange(db_->logs, batch_key(prefix_, 0), batch_key(prefix_, keep_base));
    if (s.ok()) {
      s = wb.DeleteRange(db_->log_meta, index_key(prefix_, 0), index_key(prefix_, keep_base));
    }
  }
  if (s.ok()) s = db_->db->Write(db_->write_options, &wb);
  if (!s.ok()) return db_->fail("truncate", s);

  const auto dropped = static_cast<size_t>(keep - index_.begin());
  size_t freed = 0;
  for (auto it = index_.begin(); it != keep; ++it) freed += it->size;
  index_.erase(index_.begin(), keep);
  ts_index_.pop_front(dropped, [this](size_t i) { return timestamp_at(i); });
  size_bytes_ -= freed;
  start_offset_ = offset;
  return ok();
}

status rocksdb_log::replace_range(int64_t from, int64_t to_exclusive,
                                  std::span<const batch_to_append> batches) {
  const auto replaced =
      detail::check_replace_range(index_, end_offset_, from, to_exclusive, batches);
  if (!replaced) return errc::offset_mismatch;
  const auto [first, last] = *replaced;
  if (first == last && batches.empty()) return ok();

  // Where the stored batches will end once replaced: if that is before end_offset_ (the range
  // held the last batch and its replacement ends earlier or is gone), recovery could no longer
  // derive the end offset from the batches, so record it.
  // New batches wholly below the log start are never readable: not stored.
  std::vector<const batch_to_append*> kept;
  kept.reserve(batches.size());
  for (const auto& b : batches) {
    if (b.last_offset >= start_offset_) kept.push_back(&b);
  }
  int64_t stored_end = start_offset_;
  if (last != index_.end()) {
    stored_end = index_.back().last_offset + 1;
  } else if (!kept.empty()) {
    stored_end = kept.back()->last_offset + 1;
  } else if (first != index_.begin()) {
    stored_end = std::prev(first)->last_offset + 1;
  }

  rocksdb::WriteBatch wb;
  rocksdb::Status s;
  // Deletes first, then puts: within one WriteBatch a later Put of the same key wins.
  for (auto it = first; it != last && s.ok(); ++it) {
    s = wb.Delete(db_->logs, batch_key(prefix_, it->base_offset));
    if (s.ok()) s = wb.Delete(db_->log_meta, index_key(prefix_, it->base_offset));
  }
  for (size_t i = 0; i < kept.size() && s.ok(); ++i) {
    const auto& b = *kept[i];
    const rocksdb::Slice value(reinterpret_cast<const char*>(b.bytes.data), b.bytes.size);
    s = wb.Put(db_->logs, batch_key(prefix_, b.base_offset), value);
    if (s.ok()) {
      s = wb.Put(db_->log_meta, index_key(prefix_, b.base_offset),
                 index_value(b.last_offset, b.max_timestamp, b.bytes.size));
    }
  }
  if (s.ok() && stored_end < end_offset_) {
    s = wb.Put(db_->log_meta, end_key(prefix_), offset_value(end_offset_));
  }
  if (s.ok()) s = db_->db->Write(db_->write_options, &wb);
  if (!s.ok()) return db_->fail("replace range", s);

  size_t old_total = 0;
  for (auto it = first; it != last; ++it) old_total += it->size;
  std::vector<entry> fresh;
  fresh.reserve(kept.size());
  size_t new_total = 0;
  for (const auto* b : kept) {
    fresh.push_back(entry{b->base_offset, b->last_offset, b->max_timestamp, b->bytes.size});
    new_total += b->bytes.size;
  }
  const auto at = index_.erase(first, last);
  index_.insert(at, fresh.begin(), fresh.end());
  size_bytes_ = size_bytes_ - old_total + new_total;
  ts_index_.assign(index_.size(), [this](size_t i) { return timestamp_at(i); });
  return ok();
}

result<stored_batch> rocksdb_log::load(const entry& e) const {
  rocksdb::PinnableSlice value;
  const auto s =
      db_->db->Get(rocksdb::ReadOptions(), db_->logs, batch_key(prefix_, e.base_offset), &value);
  // NotFound included: the index says the batch is there.
  if (!s.ok()) return db_->fail("read batch", s);
  if (value.size() != e.size) {
    return db_->fail("read batch", "stored batch does not match the index at offset " +
                                       std::to_string(e.base_offset));
  }
  return stored_batch{e.base_offset, e.last_offset, e.max_timestamp,
                      shared_chunk::copy_of(reinterpret_cast<const uint8_t*>(value.data()),
                                            value.size())};
}

result<std::optional<stored_batch>> rocksdb_log::load_at(std::optional<size_t> i) const {
  if (!i) return std::optional<stored_batch>();
  auto b = load(index_[*i]);
  if (!b) return b.error();
  return std::optional<stored_batch>(std::move(b.value()));
}

result<std::optional<stored_batch>> rocksdb_log::find_by_timestamp(int64_t ts) const {
  return load_at(ts_index_.first_at_or_after(ts));
}

result<std::optional<stored_batch>> rocksdb_log::max_timestamp_batch() const {
  return load_at(ts_index_.max_position());
}

}  // namespace mk::storage
