#include "broker/placement.h"

#include <algorithm>

namespace mk::placement {

namespace {

// Decodes one UTF-8 sequence at s[i] (advancing i); malformed input gives U+FFFD for the
// offending byte, as Java's decoder does.
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  auto continuation = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = 0;
  uint32_t cp = 0, min = 0;
  if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
  else {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    if (!continuation(i + static_cast<size_t>(k))) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b(i + static_cast<size_t>(k)) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += static_cast<size_t>(len);
  return cp;
}

}  // namespace

int32_t java_string_hash(std::string_view utf8) {
  uint32_t h = 0;  // Java's int arithmetic wraps; unsigned here avoids signed overflow
  auto add = [&h](uint32_t unit) { h = 31 * h + unit; };
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp = next_code_point(utf8, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(h);
}

std::vector<std::vector<int32_t>> assign_replicas(const std::vector<int32_t>& brokers, int32_t partitions,
                                                  int32_t replication_factor, int32_t start_index,
                                                  int32_t start_partition) {
  std::vector<std::vector<int32_t>> out;
  const auto n = static_cast<int32_t>(brokers.size());
  if (n == 0 || partitions <= 0 || replication_factor <= 0) return out;
  replication_factor = std::min(replication_factor, n);
  out.reserve(static_cast<size_t>(partitions));
  int32_t shift = start_index;  // Kafka: nextReplicaShift = fixedStartIndex
  for (int32_t p = start_partition; p < start_partition + partitions; ++p) {
    if (p > 0 && p % n == 0) ++shift;
    const int32_t first = (p + start_index) % n;
    std::vector<int32_t> replicas{brokers[static_cast<size_t>(first)]};
    for (int32_t j = 0; j < replication_factor - 1; ++j) {
      const int32_t s = 1 + (shift + j) % (n - 1);
      replicas.push_back(brokers[static_cast<size_t>((first + s) % n)]);
    }
    out.push_back(std::move(replicas));
  }
  return out;
}

}  // namespace mk::placement
