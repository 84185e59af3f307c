// Records: the one produce path (Kafka Produce and records written over HTTP both append through
// it) and decoded reads for front ends that show records (the HTTP admin API).
//
// Kafka Fetch does not go through read_records(): it hands stored batch bytes to the response by
// reference (broker/handlers/fetch.cc).
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/clock.h"
#include "broker/cluster.h"
#include "broker/config.h"
#include "broker/control/change_feed.h"
#include "broker/log_append.h"
#include "protocol/wire.h"

namespace mk::services {

// A record as a front end gives it (keys, values and header values are raw bytes; nullopt = null).
struct new_record {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = -1;  // -1: now
  int32_t partition = -1;  // -1: by key (Kafka's murmur2 partitioner) or round robin without one
};

struct stored_record {
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

struct partition_append {
  int32_t partition = 0;
  append_outcome outcome;
};

struct records_read {
  proto::error_code error = proto::error_code::none;
  std::string message;
  std::vector<stored_record> records;
  int64_t next_offset = 0;  // where the next read continues
  int64_t start_offset = 0;
  int64_t end_offset = 0;
};

// Kafka's default partitioner for keyed records: murmur2(key) & 0x7fffffff, modulo partitions.
int32_t partition_for_key(std::string_view key, int32_t partitions);

class records_service {
 public:
  // `changes` is notified after every successful append (awaits re-check).
  records_service(const clock& clk, const broker_config& cfg, control::change_feed& changes)
      : clock_(clk), cfg_(cfg), changes_(changes) {}

  // Kafka Produce for one partition at `produce_version`: leader check against `node_id`,
  // legacy message sets (v0-v2) converted to one v2 batch, then append_batches().
  append_outcome produce(int32_t node_id, topic_state& topic, partition_state& part, const proto::records& data,
                         int16_t produce_version);

  // Validated append of whole v2 batches the caller owns (see broker/log_append.h).
  append_outcome append(topic_state& topic, partition_state& part, shared_chunk bytes, bool allow_zstd = true);

  // Builds one batch per partition (records keep their order) and appends them. Stops at the
  // first partition that fails; results of the partitions appended so far are returned with it.
  // A record naming a partition the topic does not have: UNKNOWN_TOPIC_OR_PARTITION, nothing
  // appended.
  std::vector<partition_append> append_records(topic_state& topic, const std::vector<new_record>& records);

  // Up to `limit` records of one partition from `offset` (default: the log start), skipping
  // control batches. OFFSET_OUT_OF_RANGE outside [start, end]; UNKNOWN_TOPIC_OR_PARTITION for a
  // partition the topic does not have.
  records_read read_records(topic_state& topic, int32_t partition, std::optional<int64_t> offset, int64_t limit) const;

 private:
  const clock& clock_;
  const broker_config& cfg_;
  control::change_feed& changes_;
  uint32_t round_robin_ = 0;
};

}  // namespace mk::services
