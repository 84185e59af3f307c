#include "broker/log_append.h"

#include <spdlog/spdlog.h>

#include "broker/server.h"
#include "protocol/records/record_batch.h"

namespace mk {

using proto::error_code;

append_outcome append_batches(server& srv, topic_state& topic, partition_state& part, shared_chunk bytes,
                              bool allow_zstd) {
  append_outcome out;
  std::vector<records::batch_header> headers;
  std::vector<size_t> starts;
  auto err = records::parse_batches(bytes.data, bytes.size, headers, &starts);
  if (err == records::batch_error::none && headers.empty()) err = records::batch_error::corrupt_message;
  if (err != records::batch_error::none) {
    switch (err) {
      case records::batch_error::unsupported_magic:
      case records::batch_error::invalid_record:
        out.error = error_code::invalid_record;
        break;
      case records::batch_error::unsupported_compression:
        out.error = error_code::unsupported_compression_type;
        break;
      default:
        out.error = error_code::corrupt_message;
    }
    out.message = std::string("record batch rejected: ") + records::to_string(err);
    return out;
  }
  const int64_t max_bytes = topic.configs.get_int("max.message.bytes");
  for (const auto& h : headers) {
    if (auto e = records::check_client_batch(h); e != records::batch_error::none) {
      out.error = error_code::invalid_record;
      out.message = std::string("record batch rejected: ") + records::to_string(e);
      return out;
    }
    if (static_cast<int64_t>(h.size_bytes()) > max_bytes) {
      out.error = error_code::message_too_large;
      out.message = "batch of " + std::to_string(h.size_bytes()) + " bytes exceeds max.message.bytes " + std::to_string(max_bytes);
      return out;
    }
    if (h.compression() == records::codec::zstd && !allow_zstd) {
      out.error = error_code::unsupported_compression_type;
      return out;
    }
  }

  const bool log_append = topic.configs.log_append_time();
  const int64_t now = srv.now_ms();
  auto* base = const_cast<uint8_t*>(bytes.data);
  int64_t next = part.log->end_offset();
  std::vector<storage::batch_to_append> batches;
  batches.reserve(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& h = headers[i];
    uint8_t* b = base + starts[i];
    records::set_base_offset(b, next);
    records::set_partition_leader_epoch(b, part.leader_epoch);
    int64_t max_ts = h.max_timestamp;
    if (log_append) {
      records::set_log_append_time(b, now);
      max_ts = now;
    }
    batches.push_back(storage::batch_to_append{next, next + h.last_offset_delta, max_ts, bytes.slice(starts[i], h.size_bytes())});
    next += h.last_offset_delta + 1;
  }
  auto res = part.log->append(batches);
  if (!res) {
    // Both are retriable for clients: KAFKA_STORAGE_ERROR makes them refresh metadata and retry.
    out.error = error_code::kafka_storage_error;
    if (res.error() == storage::errc::out_of_memory) {
      out.message = "minikafka memory cap (--max-memory-bytes) reached; delete records or topics, or raise the cap";
      spdlog::warn("produce to {}-{} refused: memory cap of {} bytes reached", topic.name, part.index,
                   srv.config().max_memory_bytes);
    } else {
      out.message = std::string("storage: ") + storage::to_string(res.error());
      spdlog::warn("produce to {}-{} failed: {}", topic.name, part.index, out.message);
    }
    return out;
  }
  out.base_offset = res.value();
  out.log_append_time = log_append ? now : -1;
  out.log_start_offset = part.log->start_offset();
  part.notify_append();
  return out;
}

}  // namespace mk
