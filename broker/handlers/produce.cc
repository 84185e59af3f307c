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

namespace mk::handlers {

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
    auto& topics = ctx.svc().topics;
    topic_state* topic = acks_ok ? topics.find_or_create(td.name) : topics.find(td.name);
    for (auto& pd : td.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = pd.index;
      append_outcome o;
      if (!acks_ok) {
        o.error = error_code::invalid_required_acks;
      } else if (!topic) {
        o.error = services::topics_service::missing_topic_error(td.name);
      } else if (partition_state* p = topic->partition(pd.index)) {
        o = ctx.svc().records.produce(ctx.node_id, *topic, *p, pd.records_, ctx.version());
        if (o.error != error_code::none)
          spdlog::debug("{}: produce to {}-{}: {}", ctx.peer, topic->name, p->index, o.message);
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
      if (ctx.collect_error_codes) collect_error_codes(pr, out.error_codes);
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
