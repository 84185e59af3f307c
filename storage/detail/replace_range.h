// For partition_log implementations: the argument checks of replace_range, shared by the
// backends so that they accept and refuse exactly the same calls.
//
// Header-only for the same reason as storage/timestamp_index.h (the RocksDB plugin links none of
// the storage core's objects).
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>

#include "storage/partition_log.h"

namespace mk::storage::detail {

// The stored batches that a replace_range call replaces: [first, last).
template <typename It>
struct replaced_batches {
  It first;
  It last;
};

// Checks the rules of partition_log::replace_range(from, to_exclusive, batches) (see
// partition_log.h) for a log whose end offset is `end_offset` and whose stored batches are
// `stored`: a random-access container in offset order whose elements have `base_offset` and
// `last_offset`. Returns the stored batches with base offset in [from, to_exclusive), or nullopt
// when a rule is broken: the call must then fail with errc::offset_mismatch and change nothing.
// Neither the log start offset nor the backend's limits are looked at.
template <typename Stored>
std::optional<replaced_batches<typename Stored::iterator>> check_replace_range(
    Stored& stored, int64_t end_offset, int64_t from, int64_t to_exclusive,
    std::span<const batch_to_append> batches) {
  if (from < 0 || from > to_exclusive || to_exclusive > end_offset) return std::nullopt;
  int64_t prev_last = from - 1;
  for (const auto& b : batches) {
    if (b.base_offset <= prev_last || b.last_offset < b.base_offset ||
        b.last_offset >= to_exclusive) {
      return std::nullopt;
    }
    prev_last = b.last_offset;
  }
  // Neither end of the range may cut a stored batch.
  using entry = typename Stored::value_type;
  const auto first = std::partition_point(stored.begin(), stored.end(),
                                          [from](const entry& e) { return e.base_offset < from; });
  const auto last = std::partition_point(first, stored.end(), [to_exclusive](const entry& e) {
    return e.base_offset < to_exclusive;
  });
  if (first != stored.begin() && std::prev(first)->last_offset >= from) return std::nullopt;
  if (last != first && std::prev(last)->last_offset >= to_exclusive) return std::nullopt;
  return replaced_batches<typename Stored::iterator>{first, last};
}

}  // namespace mk::storage::detail
