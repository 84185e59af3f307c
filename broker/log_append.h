// Appending client record batches to a partition: the one produce path, used by the records
// service (broker/services/records.h) for Kafka Produce and for records produced over HTTP.
//
// Three steps, each its own function: validate the batches (size, magic, CRC32C, Kafka's
// client-batch rules, max.message.bytes, codec, keys on compacted topics), check idempotent
// producers' epochs and sequences, then assign offsets by rewriting baseOffset in place (plus
// timestamp and CRC for LogAppendTime topics), append all batches atomically, record the
// producers' sequences and wake parked fetches. No per-record work except on compacted topics.
// `bytes` must be exclusively owned by the caller (it is edited in place) and hold one or more
// whole batches.
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <string>

#include "broker/cluster.h"
#include "minikafka_common/shared_chunk.h"
#include "protocol/error_code.h"

namespace mk {

struct append_outcome {
  proto::error_code error = proto::error_code::none;
  std::string message;
  int64_t base_offset = -1;
  int64_t log_append_time = -1;  // -1 unless the topic uses LogAppendTime
  int64_t log_start_offset = -1;
};

struct append_settings {
  bool allow_zstd = true;        // Produce v7+
  int64_t now_ms = 0;            // LogAppendTime
  size_t max_memory_bytes = 0;   // for the log line when the memory cap refuses an append
};

append_outcome append_batches(topic_state& topic, partition_state& part, shared_chunk bytes,
                              const append_settings& settings);

// Writes a transaction marker (commit or abort) for `producer_id` at the end of the partition,
// closes that producer's open transaction there (an abort is recorded for read_committed
// fetches), moves the partition's producer epoch up to `epoch` and wakes parked fetches.
append_outcome append_marker(topic_state& topic, partition_state& part, int64_t producer_id, int16_t epoch, bool commit,
                             int64_t now_ms);

// Rebuilds a partition's producer state from its stored batches (a persistent backend's restart):
// each producer's epoch and last sequences, the transactions still open (no marker yet) and the
// aborted ranges. Returns the producers whose transaction is still open. Storage read failures
// end the scan early (logged).
std::vector<int64_t> rebuild_producer_state(const topic_state& topic, partition_state& part);

}  // namespace mk
