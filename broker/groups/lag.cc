#include "broker/groups/lag.h"

#include <algorithm>

#include "broker/cluster.h"
#include "broker/groups/group_coordinator.h"

namespace mk::groups {

std::vector<partition_lag> compute_lag(cluster& cl, const group_coordinator& gc, const std::string& group_id) {
  std::vector<partition_lag> out;
  for (const auto& [topic, parts] : gc.all_committed(group_id)) {
    topic_state* t = cl.find(topic);
    if (!t) continue;
    for (const auto& [p, c] : parts) {
      partition_state* ps = t->partition(p);
      if (!ps) continue;
      partition_lag l;
      l.topic = topic;
      l.partition = p;
      l.committed = c.offset;
      l.end_offset = ps->log->end_offset();
      const int64_t from = c.offset >= 0 ? c.offset : ps->log->start_offset();
      l.lag = std::max<int64_t>(0, l.end_offset - std::max(from, ps->log->start_offset()));
      out.push_back(l);
    }
  }
  return out;
}

}  // namespace mk::groups
