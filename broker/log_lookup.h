// Finding offsets in a partition log by time (ListOffsets, the admin API's offset resets).
// Decodes only the one batch that holds the answer. Fails with the log's error (io_error) when
// the log cannot read that batch.
// Runs on: broker state thread.
#pragma once

#include <cstdint>

#include "storage/partition_log.h"

namespace mk {

struct log_position {
  int64_t offset = -1;     // -1: none
  int64_t timestamp = -1;
};

// First record whose timestamp is >= ts; {-1, -1} when there is none.
storage::result<log_position> position_for_timestamp(const storage::partition_log& log, int64_t ts);
// The record with the largest timestamp (the earliest one on ties); {-1, -1} for an empty log.
storage::result<log_position> max_timestamp_position(const storage::partition_log& log);

}  // namespace mk
