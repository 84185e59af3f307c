#include "broker/log_append.h"

#include <spdlog/spdlog.h>

#include <climits>

#include "broker/server.h"
#include "broker/storage_error.h"
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
      case records::batch_error::corrupt_message:
      case records::batch_error::none:  // not reached: replaced above when nothing was parsed
        out.error = error_code::corrupt_message;
        break;
    }
    out.message = std::string("record batch rejected: ") + records::to_string(err);
    return out;
  }
  const int64_t max_bytes = topic.configs.get_int("max.message.bytes");
  const bool compacted = topic.configs.get("cleanup.policy").find("compact") != std::string::npos;
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
    if (compacted) {
      // Kafka refuses keyless records on compacted topics (the cleaner would drop them).
      std::vector<uint8_t> scratch;
      std::vector<records::record_view> recs;
      const uint8_t* b = bytes.data + starts[static_cast<size_t>(&h - headers.data())];
      if (!records::decode_records(b, h.size_bytes(), scratch, recs)) {
        out.error = error_code::corrupt_message;
        out.message = "record batch rejected: records do not decode";
        return out;
      }
      for (const auto& r : recs)
        if (!r.key) {
          out.error = error_code::invalid_record;
          out.message = "Compacted topic cannot accept message without key in topic partition " + topic.name + "-" +
                        std::to_string(part.index) + ".";
          return out;
        }
    }
    if (h.compression() == records::codec::zstd && !allow_zstd) {
      out.error = error_code::unsupported_compression_type;
      return out;
    }
  }

  // Idempotent producers: refuse stale epochs and sequence gaps; a retried copy of one of the
  // last batches is acknowledged with the offsets it got the first time, and not stored again.
  struct seq_check {
    size_t index;
    int64_t producer_id;
    int16_t epoch;
    int32_t first_seq, last_seq;
  };
  std::vector<seq_check> seqs;
  auto next_seq = [](int32_t s) { return s == INT32_MAX ? 0 : s + 1; };
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& h = headers[i];
    if (h.producer_id < 0 || h.base_sequence < 0 || h.is_transactional()) continue;
    const int32_t last = static_cast<int32_t>((static_cast<int64_t>(h.base_sequence) + h.last_offset_delta) % (int64_t{INT32_MAX} + 1));
    auto it = part.producers.find(h.producer_id);
    if (it != part.producers.end()) {
      const producer_state& ps = it->second;
      if (h.producer_epoch < ps.epoch) {
        out.error = error_code::invalid_producer_epoch;
        out.message = "producer epoch " + std::to_string(h.producer_epoch) + " is older than " + std::to_string(ps.epoch);
        return out;
      }
      if (h.producer_epoch == ps.epoch) {
        for (const auto& b : ps.recent)
          if (b.first_seq == h.base_sequence && b.last_seq == last) {
            if (headers.size() == 1) {  // a retry of a batch we already have
              out.base_offset = b.base_offset;
              out.log_start_offset = part.log->start_offset();
              return out;
            }
            out.error = error_code::duplicate_sequence_number;
            return out;
          }
        if (!ps.recent.empty() && h.base_sequence != next_seq(ps.recent.back().last_seq) &&
            (seqs.empty() || seqs.back().producer_id != h.producer_id)) {
          out.error = error_code::out_of_order_sequence_number;
          out.message = "expected sequence " + std::to_string(next_seq(ps.recent.back().last_seq)) + ", got " +
                        std::to_string(h.base_sequence);
          return out;
        }
      }
    }
    seqs.push_back(seq_check{i, h.producer_id, h.producer_epoch, h.base_sequence, last});
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
    out.error = storage_error_code(res.error());
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
  for (const auto& sc : seqs) {
    producer_state& ps = part.producers[sc.producer_id];
    if (sc.epoch != ps.epoch) {
      ps.epoch = sc.epoch;
      ps.recent.clear();
    }
    ps.recent.push_back(producer_batch{sc.first_seq, sc.last_seq, batches[sc.index].base_offset});
    if (ps.recent.size() > 5) ps.recent.pop_front();
  }
  out.log_append_time = log_append ? now : -1;
  out.log_start_offset = part.log->start_offset();
  part.notify_append();
  return out;
}

}  // namespace mk
