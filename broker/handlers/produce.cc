// Produce: every version in protocol/generated/produce_request.h (0-11).
//
// Behaviour:
//  * acks must be 0, 1 or -1 (INVALID_REQUIRED_ACKS). acks=0 sends no response; when such a
//    produce fails, the connection is closed instead so the client notices (as Kafka does).
//  * Each partition's record data is validated whole (size, magic, CRC32C) before anything is
//    stored: a corrupt batch gets CORRUPT_MESSAGE and the partition stores nothing. Several
//    batches per partition are accepted and appended atomically.
//  * Offsets are assigned by rewriting baseOffset in place; LogAppendTime topics also get their
//    timestamp set and CRC recomputed. The bytes are otherwise stored as produced (any codec,
//    never recompressed) and point into the request frame (no copy).
//  * v0-v2 carry legacy message sets (magic 0/1); they are converted into one v2 batch.
//  * Unknown topics are auto-created when enabled; otherwise UNKNOWN_TOPIC_OR_PARTITION.
//  * Parked fetches on a partition are woken by the append.
// Version notes: v3+ record batches only (INVALID_RECORD for magic 0/1); zstd needs v7+
// (UNSUPPORTED_COMPRESSION_TYPE); v5+ returns log_start_offset; v8+ record_errors.
#include <spdlog/spdlog.h>

#include "broker/handlers/handler.h"
#include "broker/log_append.h"
#include "protocol/records/legacy.h"
#include "protocol/records/record_batch.h"

namespace mk::handlers {

namespace {

append_outcome append_partition(request_context& ctx, topic_state& topic, partition_state& part,
                                   const proto::records& data) {
  append_outcome out;
  if (part.leader_id != ctx.node_id) {
    out.error = error_code::not_leader_or_follower;
    return out;
  }
  if (data.is_null || data.empty()) {
    out.error = error_code::invalid_record;
    out.message = "Produce request carries no record data";
    return out;
  }
  // The frame is ours alone until stored, so the in-place edits below are safe.
  shared_chunk bytes = data.chunks.front();
  const int16_t v = ctx.version();
  if (v < 3) {
    std::vector<uint8_t> converted;
    auto err = records::convert_legacy_to_v2(bytes.data, bytes.size, converted);
    if (err != records::batch_error::none) {
      out.error = err == records::batch_error::corrupt_message ? error_code::corrupt_message : error_code::invalid_record;
      out.message = std::string("legacy message set rejected: ") + records::to_string(err);
      return out;
    }
    bytes = shared_chunk::adopt(std::move(converted));
  }
  out = append_batches(ctx.srv, topic, part, std::move(bytes), /*allow_zstd=*/v >= 7);
  if (out.error != error_code::none) spdlog::debug("{}: produce to {}-{}: {}", ctx.peer, topic.name, part.index, out.message);
  return out;
}

}  // namespace

asio::awaitable<reply> produce(request_context& ctx, proto::reader& r) {
  reply out;
  proto::produce_request req;
  req.decode(r, ctx.version());
  if (!r.ok()) {
    out.ok = false;
    out.error = "malformed ProduceRequest v" + std::to_string(ctx.version());
    co_return out;
  }
  proto::produce_response resp;
  const bool acks_ok = req.acks == 0 || req.acks == 1 || req.acks == -1;
  bool any_error = false;
  for (auto& td : req.topic_data) {
    auto& tr = resp.responses.emplace_back();
    tr.name = td.name;
    topic_state* topic = ctx.srv.cluster().find(td.name);
    if (!topic && acks_ok) topic = ctx.srv.cluster().auto_create(td.name);
    for (auto& pd : td.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = pd.index;
      append_outcome o;
      if (!acks_ok) {
        o.error = error_code::invalid_required_acks;
      } else if (!topic) {
        o.error = cluster::validate_topic_name(td.name) ? error_code::invalid_topic_exception
                                                        : error_code::unknown_topic_or_partition;
      } else if (partition_state* p = topic->partition(pd.index)) {
        o = append_partition(ctx, *topic, *p, pd.records_);
      } else {
        o.error = error_code::unknown_topic_or_partition;
      }
      pr.error_code = code(o.error);
      pr.base_offset = o.base_offset;
      pr.log_append_time_ms = o.log_append_time;
      pr.log_start_offset = o.log_start_offset;
      if (!o.message.empty()) pr.error_message = o.message;
      any_error = any_error || o.error != error_code::none;
      out.errors += o.error != error_code::none;
    }
  }
  if (req.acks == 0) {
    out.respond = false;
    if (any_error) {
      out.close_after = true;
      out.error = "acks=0 produce failed; closing so the client notices";
    }
    co_return out;
  }
  resp.encode(out.body, ctx.version());
  co_return out;
}

}  // namespace mk::handlers
