#include "broker/log_lookup.h"

#include "protocol/records/record_batch.h"

namespace mk {

storage::result<log_position> position_for_timestamp(const storage::partition_log& log, int64_t ts) {
  auto found = log.find_by_timestamp(ts);
  if (!found) return found.error();
  const auto& b = found.value();
  if (!b) return log_position{};
  std::vector<uint8_t> scratch;
  std::vector<records::record_view> recs;
  if (!records::decode_records(b->bytes.data, b->bytes.size, scratch, recs)) return log_position{b->base_offset, b->max_timestamp};
  for (const auto& r : recs)
    if (r.timestamp >= ts && r.offset >= log.start_offset()) return log_position{r.offset, r.timestamp};
  return log_position{b->last_offset, b->max_timestamp};
}

storage::result<log_position> max_timestamp_position(const storage::partition_log& log) {
  auto found = log.max_timestamp_batch();
  if (!found) return found.error();
  const auto& b = found.value();
  if (!b) return log_position{};
  std::vector<uint8_t> scratch;
  std::vector<records::record_view> recs;
  if (!records::decode_records(b->bytes.data, b->bytes.size, scratch, recs) || recs.empty())
    return log_position{b->base_offset, b->max_timestamp};
  log_position best{recs.front().offset, recs.front().timestamp};
  for (const auto& r : recs)
    if (r.timestamp > best.timestamp) best = {r.offset, r.timestamp};
  return best;
}

}  // namespace mk
