#include "broker/retention.h"

#include <spdlog/spdlog.h>

#include "protocol/records/record_batch.h"

namespace mk {

size_t apply_retention(const topic_state& topic, partition_state& p, int64_t now_ms) {
  const std::string policy = topic.configs.get("cleanup.policy");
  if (policy.find("delete") == std::string::npos) return 0;
  const int64_t retention_ms = topic.configs.get_int("retention.ms");
  const int64_t retention_bytes = topic.configs.get_int("retention.bytes");
  if (retention_ms < 0 && retention_bytes < 0) return 0;
  auto& log = *p.log;
  size_t dropped = 0;
  int64_t new_start = log.start_offset();
  size_t size = log.size_bytes();
  // Walk the oldest batches one at a time; stop at the first that must stay.
  for (;;) {
    if (new_start >= log.end_offset()) break;
    auto read = log.read(new_start, 0);
    if (!read) {
      spdlog::warn("retention on {}-{} skipped: reading offset {} failed: {}", topic.name, p.index, new_start,
                   storage::to_string(read.error()));
      return 0;
    }
    const auto& first = read.value();
    if (first.chunks.empty()) break;
    const auto& c = first.chunks.front();
    if (c.size < records::batch_header_size) break;
    auto h = records::read_batch_header(c.data);
    const bool too_old = retention_ms >= 0 && h.max_timestamp >= 0 && h.max_timestamp < now_ms - retention_ms;
    const bool too_big = retention_bytes >= 0 && size > static_cast<size_t>(retention_bytes);
    if (!too_old && !too_big) break;
    new_start = h.last_offset() + 1;
    size -= std::min(size, c.size);
    ++dropped;
  }
  if (dropped == 0) return 0;
  if (auto st = log.truncate_before(new_start); !st) {
    spdlog::warn("retention on {}-{} failed: {}", topic.name, p.index, storage::to_string(st.error()));
    return 0;
  }
  spdlog::debug("retention dropped {} batch(es) of {}-{}; log start offset now {}", dropped, topic.name, p.index, new_start);
  return dropped;
}

size_t apply_retention(cluster& cl, int64_t now_ms) {
  size_t n = 0;
  for (const auto& [name, t] : cl.topics())
    for (auto& p : t->partitions) n += apply_retention(*t, *p, now_ms);
  return n;
}

}  // namespace mk
