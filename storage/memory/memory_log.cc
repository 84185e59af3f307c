#include "storage/memory/memory_log.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "storage/detail/replace_range.h"

namespace mk::storage {

bool memory_budget::try_reserve(size_t n) {
  if (max_bytes_ != 0 && (n > max_bytes_ || used_ > max_bytes_ - n)) return false;
  used_ += n;
  return true;
}

void memory_budget::release(size_t n) { used_ -= std::min(n, used_); }

memory_log::memory_log(std::shared_ptr<memory_budget> budget) : budget_(std::move(budget)) {}

memory_log::~memory_log() {
  if (budget_) budget_->release(size_bytes_);
}

stored_batch memory_log::to_stored(const entry& e) {
  return stored_batch{e.base_offset, e.last_offset, e.max_timestamp, e.bytes};
}

result<int64_t> memory_log::append(std::span<const batch_to_append> batches) {
  if (batches.empty()) return end_offset_;

  // Validate everything before touching state: all-or-nothing.
  int64_t expected = end_offset_;
  size_t total = 0;
  for (const auto& b : batches) {
    if (b.base_offset != expected || b.last_offset < b.base_offset ||
        b.last_offset == std::numeric_limits<int64_t>::max()) {
      return errc::offset_mismatch;
    }
    expected = b.last_offset + 1;
    total += b.bytes.size;
  }
  if (budget_ && !budget_->try_reserve(total)) return errc::out_of_memory;

  const int64_t first_base = batches.front().base_offset;
  for (const auto& b : batches) {
    batches_.push_back(entry{b.base_offset, b.last_offset, b.max_timestamp, b.bytes});
    ts_index_.push_back(b.max_timestamp);
  }
  end_offset_ = expected;
  size_bytes_ += total;
  return first_base;
}

result<read_result> memory_log::read(int64_t from, size_t max_bytes) const {
  read_result out;
  if (from < start_offset_ || from >= end_offset_) return out;
  // First batch whose last_offset >= from: the one containing `from`, or the next one when
  // `from` lies in a gap left by replace_range.
  auto it = std::partition_point(batches_.begin(), batches_.end(),
                                 [from](const entry& e) { return e.last_offset < from; });
  for (; it != batches_.end(); ++it) {
    const size_t n = it->bytes.size;
    if (!out.chunks.empty() && out.bytes + n > max_bytes) break;  // the first always goes in
    out.chunks.push_back(it->bytes);
    out.bytes += n;
  }
  return out;
}

status memory_log::truncate_before(int64_t offset) {
  if (offset <= start_offset_) return ok();
  offset = std::min(offset, end_offset_);

  // Whole batches entirely below `offset`; a straddling batch stays.
  auto keep = std::partition_point(batches_.begin(), batches_.end(),
                                   [offset](const entry& e) { return e.last_offset < offset; });
  const auto dropped = static_cast<size_t>(keep - batches_.begin());
  size_t freed = 0;
  for (auto it = batches_.begin(); it != keep; ++it) freed += it->bytes.size;
  batches_.erase(batches_.begin(), keep);
  ts_index_.pop_front(dropped, [this](size_t i) { return timestamp_at(i); });
  size_bytes_ -= freed;
  if (budget_) budget_->release(freed);
  start_offset_ = offset;
  return ok();
}

status memory_log::replace_range(int64_t from, int64_t to_exclusive,
                                 std::span<const batch_to_append> batches) {
  const auto replaced =
      detail::check_replace_range(batches_, end_offset_, from, to_exclusive, batches);
  if (!replaced) return errc::offset_mismatch;
  const auto [first, last] = *replaced;
  if (first == last && batches.empty()) return ok();

  // New batches wholly below the log start are never readable: not stored, not charged.
  std::vector<entry> fresh;
  fresh.reserve(batches.size());
  size_t new_total = 0;
  for (const auto& b : batches) {
    if (b.last_offset < start_offset_) continue;
    fresh.push_back(entry{b.base_offset, b.last_offset, b.max_timestamp, b.bytes});
    new_total += b.bytes.size;
  }
  size_t old_total = 0;
  for (auto it = first; it != last; ++it) old_total += it->bytes.size;
  if (budget_) {
    if (new_total > old_total) {
      if (!budget_->try_reserve(new_total - old_total)) return errc::out_of_memory;
    } else {
      budget_->release(old_total - new_total);
    }
  }

  const auto at = batches_.erase(first, last);
  batches_.insert(at, fresh.begin(), fresh.end());
  size_bytes_ = size_bytes_ - old_total + new_total;
  ts_index_.assign(batches_.size(), [this](size_t i) { return timestamp_at(i); });
  return ok();
}

std::optional<stored_batch> memory_log::stored_at(std::optional<size_t> i) const {
  if (!i) return std::nullopt;
  return to_stored(batches_[*i]);
}

result<std::optional<stored_batch>> memory_log::find_by_timestamp(int64_t ts) const {
  return stored_at(ts_index_.first_at_or_after(ts));
}

result<std::optional<stored_batch>> memory_log::max_timestamp_batch() const {
  return stored_at(ts_index_.max_position());
}

}  // namespace mk::storage
