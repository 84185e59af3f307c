// Appending client record batches to a partition: the one path shared by Produce and the HTTP
// admin API.
//
// Validates v2 batches (size, magic, CRC32C, Kafka's client-batch rules, max.message.bytes,
// codec), assigns offsets by rewriting baseOffset in place (plus timestamp and CRC for
// LogAppendTime topics), appends all batches atomically and wakes parked fetches. No per-record
// work. `bytes` must be exclusively owned by the caller (it is edited in place) and hold one or
// more whole batches.
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <string>

#include "broker/cluster.h"
#include "minikafka_common/shared_chunk.h"
#include "protocol/error_code.h"

namespace mk {

class server;

struct append_outcome {
  proto::error_code error = proto::error_code::none;
  std::string message;
  int64_t base_offset = -1;
  int64_t log_append_time = -1;  // -1 unless the topic uses LogAppendTime
  int64_t log_start_offset = -1;
};

append_outcome append_batches(server& srv, topic_state& topic, partition_state& part, shared_chunk bytes,
                              bool allow_zstd);

}  // namespace mk
