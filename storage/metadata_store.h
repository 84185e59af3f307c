// Durable broker metadata: topics (with their ids, partition counts and configs) and committed
// group offsets. The memory backend keeps nothing across restarts; RocksDB persists them.
//
// Like partition_log, it stores values and never interprets Kafka semantics. Threading: called
// from the broker state thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "storage/partition_log.h"

namespace mk::storage {

struct topic_record {
  std::string name;
  std::string id_hex;  // 32 lowercase hex digits
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> configs;  // overrides only
  bool operator==(const topic_record&) const = default;
};

struct offset_record {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = -1;
  bool operator==(const offset_record&) const = default;
};

class metadata_store {
 public:
  virtual ~metadata_store() = default;
  // Creates or replaces the record for this topic (keyed by id).
  virtual status put_topic(const topic_record& t) = 0;
  virtual status delete_topic(const std::string& id_hex) = 0;
  virtual result<std::vector<topic_record>> load_topics() const = 0;

  // Creates or replaces committed offsets (keyed by group/topic/partition), atomically.
  virtual status put_offsets(const std::vector<offset_record>& offsets) = 0;
  // Removes one partition's offset, or every offset of `group` when topic is empty, or every
  // offset of `topic` in every group when group is empty.
  virtual status delete_offsets(const std::string& group, const std::string& topic, int32_t partition = -1) = 0;
  virtual result<std::vector<offset_record>> load_offsets() const = 0;
};

// Keeps nothing (the memory backend's metadata lives in the broker's own state).
class null_metadata_store final : public metadata_store {
 public:
  status put_topic(const topic_record&) override { return ok(); }
  status delete_topic(const std::string&) override { return ok(); }
  result<std::vector<topic_record>> load_topics() const override { return std::vector<topic_record>{}; }
  status put_offsets(const std::vector<offset_record>&) override { return ok(); }
  status delete_offsets(const std::string&, const std::string&, int32_t) override { return ok(); }
  result<std::vector<offset_record>> load_offsets() const override { return std::vector<offset_record>{}; }
};

}  // namespace mk::storage
