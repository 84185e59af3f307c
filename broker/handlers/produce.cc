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
//  * A partition this broker does not lead: NOT_LEADER_OR_FOLLOWER, with the current leader and
//    epoch and the leader's endpoint (KIP-951, v10+: broker/handlers/leader_hint.h).
//  * acks=-1 while the partition has fewer in-sync replicas than the topic's
//    min.insync.replicas (brokers taken down): NOT_ENOUGH_REPLICAS, nothing stored.
// Version notes: v3+ record batches only (INVALID_RECORD for magic 0/1); zstd needs v7+
// (UNSUPPORTED_COMPRESSION_TYPE); v5+ returns log_start_offset; v8+ record_errors.
#include <spdlog/spdlog.h>

#include "broker/handlers/handler.h"
#include "broker/handlers/leader_hint.h"

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
        const int64_t min_isr = topic->configs.get_int("min.insync.replicas");
        if (req.acks == -1 && check_leader(*p, ctx.node_id) == error_code::none &&
            static_cast<int64_t>(p->isr.size()) < min_isr) {
          o.error = error_code::not_enough_replicas;
          o.message = "The size of the current ISR (" + std::to_string(p->isr.size()) +
                      ") is insufficient to satisfy the min.isr requirement of " + std::to_string(min_isr) +
                      " for partition " + topic->name + "-" + std::to_string(p->index);
        } else {
          o = ctx.svc().records.produce(ctx.node_id, *topic, *p, pd.records_, ctx.version());
        }
        if (o.error != error_code::none)
          spdlog::debug("{}: produce to {}-{}: {}", ctx.peer, topic->name, p->index, o.message);
        if (leadership_error(o.error)) hint_leader(ctx, *p, pr.current_leader, resp.node_endpoints);
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
