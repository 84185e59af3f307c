// OffsetForLeaderEpoch: versions 0-4 (KIP-101, KIP-320).
//
// Behaviour:
//  * For each partition, the end offset of the requested leader epoch as Kafka's leader-epoch
//    cache gives it (cluster.h end_offset_for_epoch): the current epoch ends at the log end, an
//    older one where the next epoch began; an epoch newer than any known gives -1 / -1.
//    Consumers (librdkafka, the Java client) use it to validate their position after a leader
//    change; since every replica shares one log, a position is never found truncated.
//  * Only the leader answers: NOT_LEADER_OR_FOLLOWER elsewhere; current_leader_epoch (v2+, -1 =
//    no check) older than the partition's: FENCED_LEADER_EPOCH, newer: UNKNOWN_LEADER_EPOCH.
//  * Missing topic or partition: UNKNOWN_TOPIC_OR_PARTITION.
// Version notes: v1+ return the epoch the end offset belongs to; v3+ replica_id (consumers -1;
// there are no follower brokers to fetch for).
#include "broker/handlers/handler.h"

namespace mk::handlers {

proto::offset_for_leader_epoch_response offset_for_leader_epoch(request_context& ctx,
                                                                proto::offset_for_leader_epoch_request& req) {
  proto::offset_for_leader_epoch_response resp;
  for (const auto& rt : req.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.topic = rt.topic;
    topic_state* t = ctx.svc().topics.find(rt.topic);
    for (const auto& rp : rt.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition = rp.partition;
      partition_state* p = t ? t->partition(rp.partition) : nullptr;
      if (!p) {
        pr.error_code = code(error_code::unknown_topic_or_partition);
        continue;
      }
      const int32_t current = ctx.version() >= 2 ? rp.current_leader_epoch : -1;
      if (auto e = check_leader(*p, ctx.node_id, current); e != error_code::none) {
        pr.error_code = code(e);
        continue;
      }
      const epoch_end end = end_offset_for_epoch(*p, rp.leader_epoch);
      pr.leader_epoch = end.epoch;
      pr.end_offset = end.end_offset;
    }
  }
  return resp;
}

}  // namespace mk::handlers
