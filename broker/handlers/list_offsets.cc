// ListOffsets: every version in protocol/generated/list_offsets_request.h (0-9).
//
// Behaviour:
//  * timestamp -2 = log start offset, -1 = high watermark, -3 = the record with the largest timestamp (KIP-734), >= 0 = first
//    record whose timestamp is >= the given time (offset -1, timestamp -1 when none).
//  * -4 (earliest local) answers like -2 and -5 (latest tiered) like -1: no tiered storage.
//  * isolation_level read_committed (v2+): latest (-1) is the last stable offset.
// Version notes: v0 answers old_style_offsets (up to max_num_offsets: [latest] or [start]);
// v4+ report the leader epoch; a partition this node does not lead gets NOT_LEADER_OR_FOLLOWER.
// A log that fails to read the batch a lookup by time needs: KAFKA_STORAGE_ERROR (storage_error_code).
#include <spdlog/spdlog.h>

#include "broker/handlers/handler.h"
#include "broker/log_lookup.h"
#include "broker/storage_error.h"

namespace mk::handlers {

proto::list_offsets_response list_offsets(request_context& ctx, proto::list_offsets_request& req) {
  proto::list_offsets_response resp;
  const int16_t v = ctx.version();
  for (const auto& rt : req.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = rt.name;
    topic_state* t = ctx.svc().topics.find(rt.name);
    for (const auto& rp : rt.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = rp.partition_index;
      partition_state* p = t ? t->partition(rp.partition_index) : nullptr;
      if (!p) {
        pr.error_code = code(error_code::unknown_topic_or_partition);
        continue;
      }
      if (auto e = check_leader(*p, ctx.node_id, rp.current_leader_epoch); e != error_code::none) {
        pr.error_code = code(e);
        continue;
      }
      auto& log = *p->log;
      storage::result<log_position> found = log_position{};
      switch (rp.timestamp) {
        case -2:
        case -4:
          found = log_position{log.start_offset(), -1};
          break;
        case -1:
        case -5:
          // read_committed (v2+): the last stable offset, below any open transaction.
          found = log_position{v >= 2 && req.isolation_level == 1 ? p->last_stable_offset() : log.end_offset(), -1};
          break;
        case -3:
          found = max_timestamp_position(log);
          break;
        default:
          if (rp.timestamp < 0) {
            pr.error_code = code(error_code::invalid_request);
            continue;
          }
          found = position_for_timestamp(log, rp.timestamp);
      }
      if (!found) {
        spdlog::warn("list offsets of {}-{} at {} failed: storage {}", rt.name, rp.partition_index, rp.timestamp,
                     storage::to_string(found.error()));
        pr.error_code = code(storage_error_code(found.error()));
        continue;
      }
      log_position f = found.value();
      if (f.offset >= 0 && f.offset < log.start_offset()) f.offset = log.start_offset();
      if (v == 0) {
        if (rp.max_num_offsets > 0 && f.offset >= 0) pr.old_style_offsets.push_back(f.offset);
      } else {
        pr.offset = f.offset;
        pr.timestamp = f.timestamp;
        pr.leader_epoch = p->leader_epoch;
      }
    }
  }
  return resp;
}

}  // namespace mk::handlers
