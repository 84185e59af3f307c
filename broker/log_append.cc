#include "broker/log_append.h"

#include <spdlog/spdlog.h>

#include <climits>
#include <vector>

#include "broker/storage_error.h"
#include "protocol/records/byte_io.h"
#include "protocol/records/record_batch.h"

namespace mk {

using proto::error_code;

namespace {

error_code to_kafka(records::batch_error e) {
  switch (e) {
    case records::batch_error::none:
      return error_code::none;
    case records::batch_error::corrupt_message:
      return error_code::corrupt_message;
    case records::batch_error::invalid_record:
    case records::batch_error::unsupported_magic:
      return error_code::invalid_record;
    case records::batch_error::unsupported_compression:
      return error_code::unsupported_compression_type;
  }
  return error_code::corrupt_message;
}

append_outcome refuse(error_code e, std::string message) {
  append_outcome out;
  out.error = e;
  out.message = std::move(message);
  return out;
}

struct parsed_batches {
  std::vector<records::batch_header> headers;
  std::vector<size_t> starts;  // byte offset of each batch in the buffer
};

// Step 1: the batches as Kafka's validator sees them, before anything is stored.
append_outcome validate(const topic_state& topic, const partition_state& part, const shared_chunk& bytes,
                        bool allow_zstd, parsed_batches& out) {
  auto err = records::parse_batches(bytes.data, bytes.size, out.headers, &out.starts);
  if (err == records::batch_error::none && out.headers.empty()) err = records::batch_error::corrupt_message;
  if (err != records::batch_error::none)
    return refuse(to_kafka(err), std::string("record batch rejected: ") + records::to_string(err));
  const int64_t max_bytes = topic.configs.get_int("max.message.bytes");
  const bool compacted = topic.configs.get("cleanup.policy").find("compact") != std::string::npos;
  for (size_t i = 0; i < out.headers.size(); ++i) {
    const auto& h = out.headers[i];
    if (auto e = records::check_client_batch(h); e != records::batch_error::none)
      return refuse(error_code::invalid_record, std::string("record batch rejected: ") + records::to_string(e));
    if (static_cast<int64_t>(h.size_bytes()) > max_bytes)
      return refuse(error_code::message_too_large, "batch of " + std::to_string(h.size_bytes()) +
                                                       " bytes exceeds max.message.bytes " + std::to_string(max_bytes));
    if (compacted) {
      // Kafka refuses keyless records on compacted topics (the cleaner would drop them).
      std::vector<uint8_t> scratch;
      std::vector<records::record_view> recs;
      if (!records::decode_records(bytes.data + out.starts[i], h.size_bytes(), scratch, recs))
        return refuse(error_code::corrupt_message, "record batch rejected: records do not decode");
      for (const auto& r : recs)
        if (!r.key)
          return refuse(error_code::invalid_record, "Compacted topic cannot accept message without key in topic partition " +
                                                        topic.name + "-" + std::to_string(part.index) + ".");
    }
    if (h.compression() == records::codec::zstd && !allow_zstd) return refuse(error_code::unsupported_compression_type, "");
  }
  return {};
}

// The sequence of a batch's last record (sequences wrap after INT32_MAX).
int32_t last_sequence(const records::batch_header& h) {
  return static_cast<int32_t>((static_cast<int64_t>(h.base_sequence) + h.last_offset_delta) % (int64_t{INT32_MAX} + 1));
}

struct seq_check {
  size_t index;
  int64_t producer_id;
  int16_t epoch;
  int32_t first_seq, last_seq;
};

// Step 2: idempotent producers. Refuses stale epochs and sequence gaps; a retried copy of one of
// the last batches is acknowledged with the offsets it got the first time (`duplicate` set) and
// not stored again.
append_outcome check_sequences(const partition_state& part, const parsed_batches& pb, std::vector<seq_check>& seqs,
                               bool& duplicate) {
  auto next_seq = [](int32_t s) { return s == INT32_MAX ? 0 : s + 1; };
  for (size_t i = 0; i < pb.headers.size(); ++i) {
    const auto& h = pb.headers[i];
    if (h.producer_id < 0 || h.base_sequence < 0) continue;
    const int32_t last = last_sequence(h);
    auto it = part.producers.find(h.producer_id);
    if (it != part.producers.end()) {
      const producer_state& ps = it->second;
      if (h.producer_epoch < ps.epoch)
        return refuse(error_code::invalid_producer_epoch, "producer epoch " + std::to_string(h.producer_epoch) +
                                                              " is older than " + std::to_string(ps.epoch));
      if (h.producer_epoch == ps.epoch) {
        for (const auto& b : ps.recent)
          if (b.first_seq == h.base_sequence && b.last_seq == last) {
            if (pb.headers.size() != 1) return refuse(error_code::duplicate_sequence_number, "");
            append_outcome dup;  // a retry of a batch we already have
            dup.base_offset = b.base_offset;
            dup.log_start_offset = part.log->start_offset();
            duplicate = true;
            return dup;
          }
        if (!ps.recent.empty() && h.base_sequence != next_seq(ps.recent.back().last_seq) &&
            (seqs.empty() || seqs.back().producer_id != h.producer_id))
          return refuse(error_code::out_of_order_sequence_number,
                        "expected sequence " + std::to_string(next_seq(ps.recent.back().last_seq)) + ", got " +
                            std::to_string(h.base_sequence));
      }
    }
    seqs.push_back(seq_check{i, h.producer_id, h.producer_epoch, h.base_sequence, last});
  }
  return {};
}

void remember_sequences(partition_state& part, const std::vector<seq_check>& seqs,
                        const std::vector<storage::batch_to_append>& batches) {
  for (const auto& sc : seqs) {
    producer_state& ps = part.producers[sc.producer_id];
    if (sc.epoch != ps.epoch) {
      ps.epoch = sc.epoch;
      ps.recent.clear();
    }
    ps.remember(producer_batch{sc.first_seq, sc.last_seq, batches[sc.index].base_offset});
  }
}

}  // namespace

append_outcome append_batches(topic_state& topic, partition_state& part, shared_chunk bytes,
                              const append_settings& settings) {
  parsed_batches pb;
  if (auto v = validate(topic, part, bytes, settings.allow_zstd, pb); v.error != error_code::none) return v;
  std::vector<seq_check> seqs;
  bool duplicate = false;
  if (auto s = check_sequences(part, pb, seqs, duplicate); s.error != error_code::none || duplicate) return s;

  // Step 3: offsets, append, wake-ups.
  const bool log_append = topic.configs.log_append_time();
  auto* base = const_cast<uint8_t*>(bytes.data);
  int64_t next = part.log->end_offset();
  std::vector<storage::batch_to_append> batches;
  batches.reserve(pb.headers.size());
  for (size_t i = 0; i < pb.headers.size(); ++i) {
    const auto& h = pb.headers[i];
    uint8_t* b = base + pb.starts[i];
    records::set_base_offset(b, next);
    records::set_partition_leader_epoch(b, part.leader_epoch);
    int64_t max_ts = h.max_timestamp;
    if (log_append) {
      records::set_log_append_time(b, settings.now_ms);
      max_ts = settings.now_ms;
    }
    batches.push_back(
        storage::batch_to_append{next, next + h.last_offset_delta, max_ts, bytes.slice(pb.starts[i], h.size_bytes())});
    next += h.last_offset_delta + 1;
  }
  append_outcome out;
  auto res = part.log->append(batches);
  if (!res) {
    out.error = storage_error_code(res.error());
    if (res.error() == storage::errc::out_of_memory) {
      out.message = "minikafka memory cap (--max-memory-bytes) reached; delete records or topics, or raise the cap";
      spdlog::warn("produce to {}-{} refused: memory cap of {} bytes reached", topic.name, part.index,
                   settings.max_memory_bytes);
    } else {
      out.message = std::string("storage: ") + storage::to_string(res.error());
      spdlog::warn("produce to {}-{} failed: {}", topic.name, part.index, out.message);
    }
    return out;
  }
  out.base_offset = res.value();
  remember_sequences(part, seqs, batches);
  // Transactional batches open their producer's transaction on this partition (until a marker).
  for (size_t i = 0; i < pb.headers.size(); ++i)
    if (pb.headers[i].is_transactional() && pb.headers[i].producer_id >= 0)
      part.open_txns.try_emplace(pb.headers[i].producer_id, batches[i].base_offset);
  out.log_append_time = log_append ? settings.now_ms : -1;
  out.log_start_offset = part.log->start_offset();
  part.notify_append();
  return out;
}

append_outcome append_marker(topic_state& topic, partition_state& part, int64_t producer_id, int16_t epoch, bool commit,
                             int64_t now_ms) {
  append_outcome out;
  const int64_t offset = part.log->end_offset();
  auto bytes = records::build_control_batch(commit ? records::control_type::commit : records::control_type::abort,
                                            producer_id, epoch, /*coordinator_epoch=*/0, now_ms, offset);
  records::set_partition_leader_epoch(bytes.data(), part.leader_epoch);
  const int64_t max_ts = records::read_batch_header(bytes.data()).max_timestamp;
  storage::batch_to_append b{offset, offset, max_ts, shared_chunk::adopt(std::move(bytes))};
  auto res = part.log->append(std::span<const storage::batch_to_append>(&b, 1));
  if (!res) {
    out.error = storage_error_code(res.error());
    out.message = std::string("storage: ") + storage::to_string(res.error());
    spdlog::warn("transaction marker for producer {} on {}-{} failed: {}", producer_id, topic.name, part.index,
                 out.message);
    return out;
  }
  out.base_offset = res.value();
  if (auto it = part.open_txns.find(producer_id); it != part.open_txns.end()) {
    if (!commit) part.aborted.push_back(aborted_txn{producer_id, it->second, offset});
    part.open_txns.erase(it);
  }
  // The marker's epoch is the producer's newest (a fenced producer's batches are refused).
  producer_state& ps = part.producers[producer_id];
  if (epoch > ps.epoch) {
    ps.epoch = epoch;
    ps.recent.clear();
  }
  out.log_start_offset = part.log->start_offset();
  part.notify_append();
  return out;
}

std::vector<int64_t> rebuild_producer_state(const topic_state& topic, partition_state& part) {
  auto& log = *part.log;
  int64_t pos = log.start_offset();
  std::vector<uint8_t> scratch;
  std::vector<records::record_view> recs;
  while (pos < log.end_offset()) {
    auto rd = log.read(pos, 1 << 20);
    if (!rd) {
      spdlog::warn("rebuilding producer state of {}-{}: reading offset {} failed: {}", topic.name, part.index, pos,
                   storage::to_string(rd.error()));
      break;
    }
    if (rd.value().chunks.empty()) break;
    for (const auto& c : rd.value().chunks)
      for (size_t off = 0; off + records::batch_header_size <= c.size;) {
        const auto h = records::read_batch_header(c.data + off);
        if (h.batch_length < records::min_batch_length || off + h.size_bytes() > c.size) break;
        pos = std::max(pos, h.last_offset() + 1);
        if (h.producer_id >= 0) {
          producer_state& ps = part.producers[h.producer_id];
          if (h.producer_epoch > ps.epoch) {
            ps.epoch = h.producer_epoch;
            ps.recent.clear();
          }
          if (h.is_control()) {
            // The marker's key is (version, type): type 0 abort, 1 commit.
            bool commit = true;
            if (records::decode_records(c.data + off, h.size_bytes(), scratch, recs) && !recs.empty() && recs[0].key &&
                recs[0].key->size() >= 4)
              commit = records::load_i16(reinterpret_cast<const uint8_t*>(recs[0].key->data()) + 2) == 1;
            if (auto it = part.open_txns.find(h.producer_id); it != part.open_txns.end()) {
              if (!commit) part.aborted.push_back(aborted_txn{h.producer_id, it->second, h.base_offset});
              part.open_txns.erase(it);
            }
          } else {
            if (h.base_sequence >= 0) ps.remember(producer_batch{h.base_sequence, last_sequence(h), h.base_offset});
            if (h.is_transactional()) part.open_txns.try_emplace(h.producer_id, h.base_offset);
          }
        }
        off += h.size_bytes();
      }
  }
  std::vector<int64_t> open;
  for (const auto& [pid, first] : part.open_txns) open.push_back(pid);
  return open;
}

}  // namespace mk
