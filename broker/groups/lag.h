// Consumer lag: for each partition a group has committed to, the high watermark minus the
// committed offset (the usage notes' end_offsets - committed), i.e. the number of records still
// to consume. A commit below the log start offset (records deleted since) counts from the start. Used by the embedding API and,
// later, the admin API.
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mk {
class cluster;
}

namespace mk::groups {

class group_coordinator;

struct partition_lag {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;
  int64_t end_offset = 0;
  int64_t lag = 0;
};

// Partitions of deleted topics are skipped (their offsets are dropped with the topic).
std::vector<partition_lag> compute_lag(cluster& cl, const group_coordinator& gc, const std::string& group_id);

}  // namespace mk::groups
