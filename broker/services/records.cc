#include "broker/services/records.h"

#include <spdlog/spdlog.h>

#include <map>

#include "broker/storage_error.h"
#include "protocol/records/legacy.h"
#include "protocol/records/record_batch.h"

namespace mk::services {

using proto::error_code;

int32_t partition_for_key(std::string_view key, int32_t partitions) {
  // murmur2 as in Kafka's Utils.murmur2 (seed 0x9747b28c).
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const auto len = static_cast<uint32_t>(key.size());
  uint32_t h = 0x9747b28c ^ len;
  uint32_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t k = uint32_t(data[i]) | (uint32_t(data[i + 1]) << 8) | (uint32_t(data[i + 2]) << 16) |
                 (uint32_t(data[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (len % 4) {
    case 3:
      h ^= uint32_t(data[i + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t(data[i + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t(data[i]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>((h & 0x7fffffff) % static_cast<uint32_t>(partitions));
}

append_outcome records_service::produce(int32_t node_id, topic_state& topic, partition_state& part,
                                        const proto::records& data, int16_t produce_version) {
  append_outcome out;
  if (auto e = check_leader(part, node_id); e != error_code::none) {
    out.error = e;
    return out;
  }
  if (data.is_null || data.empty()) {
    out.error = error_code::invalid_record;
    out.message = "Produce request carries no record data";
    return out;
  }
  // The frame is ours alone until stored, so the in-place edits of the append are safe.
  shared_chunk bytes = data.chunks.front();
  if (produce_version < 3) {
    std::vector<uint8_t> converted;
    auto err = records::convert_legacy_to_v2(bytes.data, bytes.size, converted);
    if (err != records::batch_error::none) {
      out.error = err == records::batch_error::corrupt_message ? error_code::corrupt_message : error_code::invalid_record;
      out.message = std::string("legacy message set rejected: ") + records::to_string(err);
      return out;
    }
    bytes = shared_chunk::adopt(std::move(converted));
  }
  return append(topic, part, std::move(bytes), /*allow_zstd=*/produce_version >= 7);
}

append_outcome records_service::append(topic_state& topic, partition_state& part, shared_chunk bytes, bool allow_zstd) {
  auto out = append_batches(topic, part, std::move(bytes), append_settings{allow_zstd, clock_.wall_ms(), cfg_.max_memory_bytes});
  if (out.error == proto::error_code::none) changes_.notify();
  return out;
}

std::vector<partition_append> records_service::append_records(topic_state& topic, const std::vector<new_record>& recs) {
  std::vector<partition_append> results;
  const auto nparts = static_cast<int32_t>(topic.partitions.size());
  const int64_t now = clock_.wall_ms();
  std::map<int32_t, records::batch_builder> builders;
  std::vector<int32_t> order;  // partitions in the order of their first record
  for (const auto& r : recs) {
    int32_t p = r.partition;
    if (p >= 0 && p >= nparts) {
      partition_append bad;
      bad.partition = p;
      bad.outcome.error = error_code::unknown_topic_or_partition;
      bad.outcome.message = "partition " + std::to_string(p) + " does not exist";
      return {bad};
    }
    if (p < 0) p = r.key ? partition_for_key(*r.key, nparts) : static_cast<int32_t>(round_robin_++ % static_cast<uint32_t>(nparts));
    std::vector<records::header_view> hviews;
    for (const auto& [hk, hv] : r.headers) hviews.emplace_back(hk, hv ? std::optional<std::string_view>(*hv) : std::nullopt);
    auto [it, inserted] = builders.try_emplace(p);
    if (inserted) order.push_back(p);
    it->second.add(r.timestamp >= 0 ? r.timestamp : now, r.key ? std::optional<std::string_view>(*r.key) : std::nullopt,
                   r.value ? std::optional<std::string_view>(*r.value) : std::nullopt, hviews);
  }
  for (int32_t p : order) {
    auto& part = *topic.partitions[static_cast<size_t>(p)];
    results.push_back(partition_append{p, append(topic, part, shared_chunk::adopt(builders[p].finish()))});
    if (results.back().outcome.error != error_code::none) break;
  }
  return results;
}

records_read records_service::read_records(topic_state& topic, int32_t partition, std::optional<int64_t> from,
                                           int64_t limit) const {
  records_read out;
  partition_state* ps = topic.partition(partition);
  if (!ps) {
    out.error = error_code::unknown_topic_or_partition;
    out.message = "partition " + std::to_string(partition) + " does not exist";
    return out;
  }
  auto& log = *ps->log;
  out.start_offset = log.start_offset();
  out.end_offset = log.end_offset();
  const int64_t offset = from.value_or(log.start_offset());
  if (offset < log.start_offset() || offset > log.end_offset()) {
    out.error = error_code::offset_out_of_range;
    out.message = "offset " + std::to_string(offset) + " is outside [" + std::to_string(log.start_offset()) + ", " +
                  std::to_string(log.end_offset()) + "]";
    return out;
  }
  int64_t next = offset;
  std::vector<uint8_t> scratch;
  std::vector<records::record_view> views;
  auto full = [&] { return static_cast<int64_t>(out.records.size()) >= limit; };
  while (!full() && next < log.end_offset()) {
    auto read = log.read(next, 1 << 20);
    if (!read) {
      out.error = storage_error_code(read.error());
      out.message = "reading offset " + std::to_string(next) + " failed: storage " + storage::to_string(read.error());
      return out;
    }
    auto& rd = read.value();
    if (rd.chunks.empty()) break;
    int64_t advanced = next;
    for (const auto& c : rd.chunks) {
      size_t pos = 0;
      while (pos + records::batch_header_size <= c.size && !full()) {
        auto h = records::read_batch_header(c.data + pos);
        if (h.batch_length < records::min_batch_length || pos + h.size_bytes() > c.size) break;
        if (!h.is_control() && records::decode_records(c.data + pos, h.size_bytes(), scratch, views)) {
          for (const auto& r : views) {
            if (r.offset < next || full()) continue;
            stored_record s;
            s.partition = partition;
            s.offset = r.offset;
            s.timestamp = r.timestamp;
            if (r.key) s.key = std::string(*r.key);
            if (r.value) s.value = std::string(*r.value);
            for (const auto& [hk, hv] : r.headers)
              s.headers.emplace_back(std::string(hk), hv ? std::optional<std::string>(std::string(*hv)) : std::nullopt);
            out.records.push_back(std::move(s));
            advanced = r.offset + 1;
          }
        }
        advanced = std::max(advanced, h.last_offset() + 1);
        pos += h.size_bytes();
      }
    }
    if (advanced <= next) break;
    next = advanced;
  }
  out.next_offset = out.records.empty() ? next : out.records.back().offset + 1;
  return out;
}

}  // namespace mk::services
