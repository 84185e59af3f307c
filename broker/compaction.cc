#include "broker/compaction.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "protocol/records/byte_io.h"
#include "protocol/records/compression.h"
#include "protocol/records/record_batch.h"

namespace mk {

namespace {

namespace rec = records;

constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max();
// Bytes asked of the log per read while scanning.
constexpr size_t kReadWindow = size_t{4} << 20;
// Rewritten bytes gathered before one replace_range (each call is atomic, and costs the
// backend O(batches in the log) to splice its index).
constexpr size_t kReplaceWindow = size_t{8} << 20;

int64_t sat_add(int64_t a, int64_t b) {
  if (b > 0 && a > kMaxMs - b) return kMaxMs;
  if (b < 0 && a < std::numeric_limits<int64_t>::min() - b) return std::numeric_limits<int64_t>::min();
  return a + b;
}

int64_t wrap_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

void put_nullable(std::vector<uint8_t>& out, const std::optional<std::string_view>& s) {
  if (!s) {
    rec::put_varint(out, -1);
  } else {
    rec::put_varint(out, static_cast<int32_t>(s->size()));
    rec::put_bytes(out, *s);
  }
}

// Re-encodes the batch `h` keeping only `keep` (records of that batch, in offset order), with
// sparse offset deltas, the batch's own codec, lastOffsetDelta and producer fields, and the
// given delete horizon (bit 6 + baseTimestamp) when set. Empty vector on failure.
std::vector<uint8_t> encode_filtered(const rec::batch_header& h,
                                     std::span<const rec::record_view* const> keep,
                                     std::optional<int64_t> delete_horizon) {
  const bool log_append = h.timestamp_type_log_append();
  int64_t base_ts = h.base_timestamp;
  int64_t max_ts = h.max_timestamp;
  if (!log_append) {
    max_ts = keep.front()->timestamp;
    for (const auto* r : keep) max_ts = std::max(max_ts, r->timestamp);
    base_ts = keep.front()->timestamp;
  }
  if (delete_horizon) base_ts = *delete_horizon;

  std::vector<uint8_t> records;
  std::vector<uint8_t> body;
  for (const auto* r : keep) {
    body.clear();
    body.push_back(0);  // record attributes: unused
    rec::put_varlong(body, wrap_sub(r->timestamp, base_ts));
    const int64_t delta = r->offset - h.base_offset;
    if (delta < 0 || delta > h.last_offset_delta) return {};
    rec::put_varint(body, static_cast<int32_t>(delta));
    put_nullable(body, r->key);
    put_nullable(body, r->value);
    rec::put_varint(body, static_cast<int32_t>(r->headers.size()));
    for (const auto& [hk, hv] : r->headers) {
      put_nullable(body, hk);
      put_nullable(body, hv);
    }
    rec::put_varint(records, static_cast<int32_t>(body.size()));
    records.insert(records.end(), body.begin(), body.end());
  }

  std::vector<uint8_t> out(rec::batch_header_size);
  if (!rec::compress(h.compression(), records, out)) return {};
  if (out.size() - rec::log_overhead > static_cast<size_t>(INT32_MAX)) return {};
  auto attrs = static_cast<int16_t>(h.attributes & ~rec::attr_delete_horizon);
  if (delete_horizon) attrs = static_cast<int16_t>(attrs | rec::attr_delete_horizon);
  uint8_t* b = out.data();
  namespace f = rec::batch_field;
  rec::store_be64(b + f::base_offset, static_cast<uint64_t>(h.base_offset));
  rec::store_be32(b + f::batch_length, static_cast<uint32_t>(out.size() - rec::log_overhead));
  rec::store_be32(b + f::partition_leader_epoch, static_cast<uint32_t>(h.partition_leader_epoch));
  b[f::magic] = 2;
  rec::store_be16(b + f::attributes, static_cast<uint16_t>(attrs));
  rec::store_be32(b + f::last_offset_delta, static_cast<uint32_t>(h.last_offset_delta));
  rec::store_be64(b + f::base_timestamp, static_cast<uint64_t>(base_ts));
  rec::store_be64(b + f::max_timestamp, static_cast<uint64_t>(max_ts));
  rec::store_be64(b + f::producer_id, static_cast<uint64_t>(h.producer_id));
  rec::store_be16(b + f::producer_epoch, static_cast<uint16_t>(h.producer_epoch));
  rec::store_be32(b + f::base_sequence, static_cast<uint32_t>(h.base_sequence));
  rec::store_be32(b + f::record_count, static_cast<uint32_t>(keep.size()));
  rec::update_crc(b);
  return out;
}

// Calls `fn(header, chunk)` for every stored batch from `from` on, in order, reading the log in
// windows, until `fn` returns false or the log ends. The log's error when a read fails (`fn` has
// then seen the batches before it).
template <typename Fn>
storage::status for_each_batch(const storage::partition_log& log, int64_t from, Fn&& fn) {
  int64_t pos = std::max(from, log.start_offset());
  while (pos < log.end_offset()) {
    auto rd = log.read(pos, kReadWindow);
    if (!rd) return rd.error();
    if (rd.value().chunks.empty()) break;
    for (const auto& c : rd.value().chunks) {
      if (c.size < rec::batch_header_size) return storage::ok();  // not a v2 batch: nothing we can do
      const auto h = rec::read_batch_header(c.data);
      if (!fn(h, c)) return storage::ok();
      pos = h.last_offset() + 1;
    }
  }
  return storage::ok();
}

// One batch of the filtering pass: where it was and what replaces it.
struct filtered {
  int64_t base = 0, last = 0;
  bool changed = false;
  std::optional<storage::batch_to_append> out;  // nullopt: removed
};

// What the scan of the dirty section learnt: the latest offset of each key, where cleaning must
// stop, and when a batch held back by min.compaction.lag.ms becomes cleanable.
struct dirty_scan {
  std::unordered_map<std::string, int64_t> latest;
  int64_t dirty_end = 0;
  int64_t lag_recheck = kMaxMs;
};

storage::status scan_dirty(const storage::partition_log& log, int64_t from, int64_t end, int64_t lag_limit,
                           const compaction_settings& settings, compaction_stats& st, dirty_scan& out) {
  std::vector<uint8_t> scratch;
  std::vector<rec::record_view> recs;
  out.dirty_end = from;
  return for_each_batch(log, from, [&](const rec::batch_header& h, const shared_chunk& c) {
    if (h.last_offset() >= end - 1) return false;  // the last batch stays (active tail)
    if (h.max_timestamp > lag_limit) {             // too recent for min.compaction.lag.ms
      out.lag_recheck = sat_add(h.max_timestamp, settings.min_compaction_lag_ms);
      return false;
    }
    out.dirty_end = h.last_offset() + 1;
    if (h.is_control()) return true;
    ++st.batches_read;
    if (!rec::decode_records(c.data, c.size, scratch, recs)) return true;  // no keys learnt
    for (const auto& r : recs)
      if (r.key) out.latest[std::string(*r.key)] = r.offset;
    return true;
  });
}

// The filtering of one batch: drops records superseded by a later offset of their key, keyless
// records, and tombstones whose delete horizon has passed (unless an earlier batch could not be
// filtered: `unsafe`). Sets the batch's delete horizon when it keeps tombstones.
class batch_filter {
 public:
  batch_filter(const dirty_scan& scan, const compaction_settings& settings, int64_t now_ms, compaction_stats& st)
      : scan_(scan), settings_(settings), now_ms_(now_ms), st_(st) {}

  // False when the batch could not be decoded or re-encoded (it is then kept as it is).
  bool filter(const rec::batch_header& h, const shared_chunk& c, bool unsafe, filtered& f,
              std::optional<int64_t>& horizon) {
    horizon.reset();
    if (h.is_control()) return true;
    ++st_.batches_read;
    if (!rec::decode_records(c.data, c.size, scratch_, recs_)) return false;
    keep_.clear();
    bool needs_horizon = false;
    size_t dropped = 0, tombstones_dropped = 0, tombstones_kept = 0;
    const bool horizon_passed = h.has_delete_horizon() && now_ms_ >= h.base_timestamp;
    for (const auto& r : recs_) {
      if (!r.key) {  // Kafka's cleaner drops keyless records too
        ++dropped;
        continue;
      }
      if (auto it = scan_.latest.find(std::string(*r.key)); it != scan_.latest.end() && it->second > r.offset) {
        ++dropped;
        continue;
      }
      if (!r.value) {
        if (horizon_passed && !unsafe) {
          ++dropped;
          ++tombstones_dropped;
          continue;
        }
        ++tombstones_kept;
        if (!h.has_delete_horizon()) needs_horizon = true;
      }
      keep_.push_back(&r);
    }
    if (tombstones_kept > 0)
      horizon = h.has_delete_horizon() ? h.base_timestamp : sat_add(now_ms_, settings_.delete_retention_ms);
    const bool horizon_changes = needs_horizon || (h.has_delete_horizon() && tombstones_kept == 0);
    if (dropped == 0 && !horizon_changes) return true;
    if (keep_.empty()) {
      f.out.reset();
    } else if (auto bytes = encode_filtered(h, keep_, horizon); !bytes.empty()) {
      const int64_t max_ts = rec::read_batch_header(bytes.data()).max_timestamp;
      f.out = storage::batch_to_append{h.base_offset, h.last_offset(), max_ts, shared_chunk::adopt(std::move(bytes))};
    } else {
      return false;
    }
    f.changed = true;
    st_.records_removed += dropped;
    st_.tombstones_removed += tombstones_dropped;
    if (f.out) ++st_.batches_rewritten;
    else ++st_.batches_removed;
    return true;
  }

 private:
  const dirty_scan& scan_;
  const compaction_settings& settings_;
  int64_t now_ms_;
  compaction_stats& st_;
  std::vector<uint8_t> scratch_;
  std::vector<rec::record_view> recs_;
  std::vector<const rec::record_view*> keep_;
};

// Filtered batches on their way back into the log. Unchanged batches join the window only
// between two changes (they are rewritten as they are, so one replace_range covers a run with a
// few untouched batches in it); a long unchanged stretch after a change ends the window instead
// of being held in memory.
class replace_window {
 public:
  replace_window(storage::partition_log& log, std::string_view name, compaction_stats& st)
      : log_(log), name_(name), st_(st) {}

  // False when writing a full window failed.
  bool add(filtered f) {
    if (!f.changed && last_changed_ == 0) return true;
    const size_t n = f.out ? f.out->bytes.size : 0;
    window_bytes_ += n;
    window_.push_back(std::move(f));
    bool full = false;
    if (window_.back().changed) {
      last_changed_ = window_.size();
      tail_bytes_ = 0;
      full = window_bytes_ >= kReplaceWindow;
    } else {
      tail_bytes_ += n;
      full = tail_bytes_ >= kReplaceWindow;
    }
    return !full || flush();
  }

  // Writes the window up to its last change; whatever followed it is unchanged.
  bool flush() {
    if (last_changed_ > 0) {
      std::vector<storage::batch_to_append> outs;
      for (size_t i = 0; i < last_changed_; ++i)
        if (window_[i].out) outs.push_back(*window_[i].out);
      const int64_t from = window_.front().base;
      const int64_t to = window_[last_changed_ - 1].last + 1;
      if (auto r = log_.replace_range(from, to, outs); !r) {
        spdlog::warn("compaction of {}: replacing offsets [{}, {}) failed: {}", name_, from, to,
                     storage::to_string(r.error()));
        ++st_.failures;
        return false;
      }
    }
    window_.clear();
    last_changed_ = 0;
    window_bytes_ = 0;
    tail_bytes_ = 0;
    return true;
  }

 private:
  storage::partition_log& log_;
  std::string_view name_;
  compaction_stats& st_;
  std::vector<filtered> window_;
  size_t window_bytes_ = 0;
  size_t last_changed_ = 0;  // index in window_ + 1 of the last changed batch (0: none)
  size_t tail_bytes_ = 0;    // bytes of the unchanged batches after the last change
};

}  // namespace

compaction_settings compaction_settings::from(const topic_configs& configs) {
  compaction_settings s;
  s.min_compaction_lag_ms = std::max<int64_t>(0, configs.get_int("min.compaction.lag.ms"));
  s.delete_retention_ms = std::max<int64_t>(0, configs.get_int("delete.retention.ms"));
  try {
    s.min_cleanable_dirty_ratio = std::stod(configs.get("min.cleanable.dirty.ratio"));
  } catch (const std::exception&) {
    s.min_cleanable_dirty_ratio = 0.5;
  }
  return s;
}

compaction_stats compact_partition(storage::partition_log& log, const compaction_settings& settings,
                                   int64_t now_ms, compaction_progress& progress,
                                   std::string_view name) {
  compaction_stats st;
  const int64_t start = log.start_offset();
  const int64_t end = log.end_offset();

  // O(1): nothing appended, nothing due, same settings.
  if (end == progress.checked_end && settings == progress.settings &&
      now_ms < progress.recheck_at_ms) {
    return st;
  }
  progress.checked_end = end;
  progress.settings = settings;
  if (progress.cleaned_to < start) progress.cleaned_to = start;
  const bool horizon_due = now_ms >= progress.next_horizon_ms;

  // O(1): min.cleanable.dirty.ratio from byte counts (the dirty share includes the tail).
  const size_t total = log.size_bytes();
  if (total == 0) {
    progress.recheck_at_ms = kMaxMs;
    return st;
  }
  const size_t clean = std::min(progress.clean_bytes, total);
  const double dirty_ratio = static_cast<double>(total - clean) / static_cast<double>(total);
  if (!horizon_due && dirty_ratio < settings.min_cleanable_dirty_ratio) {
    progress.recheck_at_ms = progress.next_horizon_ms;
    return st;
  }

  // Scan the dirty section: the latest offset of each key, and where cleaning must stop.
  dirty_scan scan;
  const int64_t lag_limit = sat_add(now_ms, -settings.min_compaction_lag_ms);
  if (auto scanned = scan_dirty(log, progress.cleaned_to, end, lag_limit, settings, st, scan); !scanned) {
    // Nothing written yet. Skip the partition; checked_end = -1 makes the next tick look again.
    spdlog::warn("compaction of {}: reading the log failed: {}; skipped", name, storage::to_string(scanned.error()));
    ++st.failures;
    progress.checked_end = -1;
    return st;
  }
  const int64_t dirty_end = scan.dirty_end;
  const int64_t lag_recheck = scan.lag_recheck;
  if (dirty_end <= progress.cleaned_to && !horizon_due) {
    progress.recheck_at_ms = std::min(lag_recheck, progress.next_horizon_ms);
    return st;
  }

  // Filter [log start, dirty_end), writing changed windows as they fill.
  st.cleaned = true;
  st.dirty_end = dirty_end;
  bool unsafe = false;  // a batch could not be filtered: keep later tombstones
  bool write_failed = false;
  int64_t next_horizon = kMaxMs;
  size_t out_bytes = 0;
  batch_filter filter(scan, settings, now_ms, st);
  replace_window window(log, name, st);
  const auto filtered_all = for_each_batch(log, start, [&](const rec::batch_header& h, const shared_chunk& c) {
    if (h.base_offset >= dirty_end) return false;
    filtered f{h.base_offset, h.last_offset(), false,
               storage::batch_to_append{h.base_offset, h.last_offset(), h.max_timestamp, c}};
    std::optional<int64_t> horizon;
    if (filter.filter(h, c, unsafe, f, horizon)) {
      if (horizon) next_horizon = std::min(next_horizon, *horizon);
    } else {
      f = filtered{h.base_offset, h.last_offset(), false,
                   storage::batch_to_append{h.base_offset, h.last_offset(), h.max_timestamp, c}};
      ++st.failures;
      unsafe = true;
      spdlog::warn("compaction of {}: batch at offset {} could not be filtered; kept as it is", name, h.base_offset);
      // Its tombstones (if any) still need a later pass.
      if (h.has_delete_horizon()) next_horizon = std::min(next_horizon, h.base_timestamp);
    }
    if (f.out) out_bytes += f.out->bytes.size;
    if (!window.add(std::move(f))) {
      write_failed = true;
      return false;
    }
    return true;
  });
  if (!filtered_all) {
    // The windows already written are valid; the rest waits for the retry below.
    spdlog::warn("compaction of {}: reading the log failed: {}; pass abandoned", name,
                 storage::to_string(filtered_all.error()));
    ++st.failures;
  }
  if (!write_failed && filtered_all && !window.flush()) write_failed = true;

  if (write_failed || !filtered_all) {
    // Retry from scratch at the next tick (what was written is a valid, partly cleaned log).
    progress.checked_end = -1;
    progress.recheck_at_ms = kMaxMs;
    return st;
  }
  progress.cleaned_to = std::max(progress.cleaned_to, dirty_end);
  progress.clean_bytes = out_bytes;
  progress.next_horizon_ms = next_horizon;
  progress.recheck_at_ms = std::min(lag_recheck, next_horizon);
  if (st.records_removed > 0 || st.failures > 0) {
    spdlog::debug("compaction of {}: cleaned [{}, {}): {} record(s) removed ({} tombstone(s)), "
                  "{} batch(es) rewritten, {} removed, {} failure(s)",
                  name, start, dirty_end, st.records_removed, st.tombstones_removed,
                  st.batches_rewritten, st.batches_removed, st.failures);
  }
  return st;
}

size_t log_compactor::run(cluster& cl, int64_t now_ms) {
  size_t cleaned = 0;
  std::set<std::string> seen;
  for (const auto& [name, t] : cl.topics()) {
    if (t->configs.get("cleanup.policy").find("compact") == std::string::npos) continue;
    const auto settings = compaction_settings::from(t->configs);
    const std::string id = t->id.to_hex();
    for (auto& p : t->partitions) {
      if (!p || !p->log) continue;
      std::string key = id + "/" + std::to_string(p->index);
      auto& prog = progress_[key];
      seen.insert(std::move(key));
      const auto st = compact_partition(*p->log, settings, now_ms, prog,
                                        name + "-" + std::to_string(p->index));
      if (st.cleaned) ++cleaned;
    }
  }
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = seen.count(it->first) ? std::next(it) : progress_.erase(it);
  }
  return cleaned;
}

const compaction_progress* log_compactor::progress(const std::string& topic_id_hex,
                                                   int32_t partition) const {
  auto it = progress_.find(topic_id_hex + "/" + std::to_string(partition));
  return it == progress_.end() ? nullptr : &it->second;
}

}  // namespace mk
