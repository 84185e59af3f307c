// DeleteRecords: versions 0-2.
//
// Behaviour:
//  * Moves each partition's log start offset to the given offset (-1 = the high watermark) and
//    drops the batches wholly below it; answers the new low watermark.
//  * An offset above the high watermark: OFFSET_OUT_OF_RANGE. Below the current start: no-op.
//  * Missing topic or partition: UNKNOWN_TOPIC_OR_PARTITION; not led here:
//    NOT_LEADER_OR_FOLLOWER.
#include "broker/handlers/handler.h"
#include "broker/storage_error.h"

namespace mk::handlers {

proto::delete_records_response delete_records(request_context& ctx, proto::delete_records_request& req) {
  proto::delete_records_response resp;
  for (const auto& t : req.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    topic_state* topic = ctx.svc().topics.find(t.name);
    for (const auto& p : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      pr.low_watermark = -1;
      partition_state* ps = topic ? topic->partition(p.partition_index) : nullptr;
      if (!ps) {
        pr.error_code = code(error_code::unknown_topic_or_partition);
        continue;
      }
      if (auto e = check_leader(*ps, ctx.node_id); e != error_code::none) {
        pr.error_code = code(e);
        continue;
      }
      auto& log = *ps->log;
      const int64_t target = p.offset == -1 ? log.end_offset() : p.offset;
      if (target < 0 || target > log.end_offset()) {
        pr.error_code = code(error_code::offset_out_of_range);
        continue;
      }
      if (auto st = log.truncate_before(target); !st) {
        pr.error_code = code(storage_error_code(st.error()));
        continue;
      }
      pr.low_watermark = log.start_offset();
    }
  }
  return resp;
}

}  // namespace mk::handlers
