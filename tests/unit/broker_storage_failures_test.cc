// Background jobs over a log that fails reads: compaction and retention change nothing, count or
// log the failure, and work again once the log reads. (Clients seeing KAFKA_STORAGE_ERROR:
// tests/integration/storage_errors_test.cc; the RocksDB log failing: storage_rocksdb_faults_test.)
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "broker/cluster.h"
#include "broker/compaction.h"
#include "broker/log_lookup.h"
#include "broker/retention.h"
#include "broker/storage_error.h"
#include "protocol/records/record_batch.h"
#include "storage/memory/memory_log.h"
#include "storage/partition_log.h"

namespace mk {
namespace {

namespace st = storage;

// A memory log whose reads (read, find_by_timestamp, max_timestamp_batch) fail with io_error
// once `reads_left` reaches 0; negative: never.
class read_failing_log final : public st::partition_log {
 public:
  mutable int reads_left = -1;  // counted down by the (const) reads
  int replaces = 0;             // replace_range calls

  st::result<int64_t> append(std::span<const st::batch_to_append> b) override { return inner_.append(b); }
  st::result<st::read_result> read(int64_t from, size_t max_bytes) const override {
    if (fail()) return st::errc::io_error;
    return inner_.read(from, max_bytes);
  }
  int64_t start_offset() const override { return inner_.start_offset(); }
  int64_t end_offset() const override { return inner_.end_offset(); }
  st::status truncate_before(int64_t offset) override { return inner_.truncate_before(offset); }
  st::status replace_range(int64_t from, int64_t to, std::span<const st::batch_to_append> b) override {
    ++replaces;
    return inner_.replace_range(from, to, b);
  }
  size_t size_bytes() const override { return inner_.size_bytes(); }
  st::result<std::optional<st::stored_batch>> find_by_timestamp(int64_t ts) const override {
    if (fail()) return st::errc::io_error;
    return inner_.find_by_timestamp(ts);
  }
  st::result<std::optional<st::stored_batch>> max_timestamp_batch() const override {
    if (fail()) return st::errc::io_error;
    return inner_.max_timestamp_batch();
  }

 private:
  bool fail() const {
    if (reads_left < 0) return false;
    if (reads_left == 0) return true;
    --reads_left;
    return false;
  }

  st::memory_log inner_;
};

// One batch of `records` (key, value, timestamp) appended at the end of `log`.
void append(st::partition_log& log, const std::vector<std::tuple<std::string, std::string, int64_t>>& records) {
  std::vector<records::record_in> in;
  int64_t max_ts = -1;
  for (const auto& [k, v, ts] : records) {
    in.push_back(records::record_in{k, v, {}, ts});
    max_ts = std::max(max_ts, ts);
  }
  const int64_t base = log.end_offset();
  auto bytes = records::build_batch(in, records::codec::none, base);
  ASSERT_FALSE(bytes.empty());
  st::batch_to_append b{base, base + static_cast<int64_t>(records.size()) - 1, max_ts,
                        shared_chunk::adopt(std::move(bytes))};
  ASSERT_TRUE(log.append(std::span(&b, 1)).ok());
}

compaction_settings eager() {
  compaction_settings s;
  s.min_compaction_lag_ms = 0;
  s.min_cleanable_dirty_ratio = 0;
  return s;
}

TEST(StorageErrorCode, EveryStorageErrorMapsToAKafkaError) {
  EXPECT_EQ(storage_error_code(st::errc::io_error), proto::error_code::kafka_storage_error);
  EXPECT_EQ(storage_error_code(st::errc::out_of_memory), proto::error_code::kafka_storage_error);
  EXPECT_EQ(storage_error_code(st::errc::not_found), proto::error_code::kafka_storage_error);
  EXPECT_EQ(storage_error_code(st::errc::offset_mismatch), proto::error_code::unknown_server_error);
}

TEST(LogLookupOnFailingLog, PassesTheStorageErrorOn) {
  read_failing_log log;
  append(log, {{"a", "1", 100}, {"b", "2", 200}});
  log.reads_left = 0;
  auto by_time = position_for_timestamp(log, 150);
  ASSERT_FALSE(by_time.ok());
  EXPECT_EQ(by_time.error(), st::errc::io_error);
  auto max = max_timestamp_position(log);
  ASSERT_FALSE(max.ok());
  EXPECT_EQ(max.error(), st::errc::io_error);
  log.reads_left = -1;
  ASSERT_TRUE(position_for_timestamp(log, 150).ok());
  EXPECT_EQ(position_for_timestamp(log, 150).value().offset, 1);
}

TEST(CompactionOnFailingLog, SkipsThePartitionAndRetriesAtTheNextPass) {
  read_failing_log log;
  append(log, {{"k", "old", 100}});  // 0: superseded by offset 1
  append(log, {{"k", "new", 101}});  // 1
  append(log, {{"z", "tail", 102}});  // 2: the active tail
  compaction_progress progress;

  // The dirty scan cannot read: nothing written, the partition is looked at again next time.
  log.reads_left = 0;
  auto stats = compact_partition(log, eager(), 10'000, progress, "t-0");
  EXPECT_FALSE(stats.cleaned);
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_EQ(log.replaces, 0);
  EXPECT_EQ(progress.checked_end, -1);

  // The scan reads, the filtering pass cannot: abandoned before writing anything.
  log.reads_left = 1;
  stats = compact_partition(log, eager(), 10'000, progress, "t-0");
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_EQ(log.replaces, 0);
  EXPECT_EQ(progress.checked_end, -1);
  EXPECT_EQ(progress.cleaned_to, 0);

  // The log reads again: the next pass cleans.
  log.reads_left = -1;
  stats = compact_partition(log, eager(), 10'000, progress, "t-0");
  EXPECT_TRUE(stats.cleaned);
  EXPECT_EQ(stats.failures, 0u);
  EXPECT_EQ(stats.records_removed, 1u);
  EXPECT_EQ(progress.cleaned_to, 2);
}

TEST(RetentionOnFailingLog, DropsNothingAndRetriesAtTheNextTick) {
  topic_state topic;
  topic.name = "t";
  topic.configs.overrides["retention.ms"] = "1000";
  partition_state p;
  auto owned = std::make_unique<read_failing_log>();
  auto& log = *owned;
  p.log = std::move(owned);
  append(log, {{"a", "1", 100}});  // old
  append(log, {{"b", "2", 200}});  // old
  append(log, {{"c", "3", 9'500}});  // recent

  log.reads_left = 0;
  EXPECT_EQ(apply_retention(topic, p, 10'000), 0u);
  EXPECT_EQ(log.start_offset(), 0);
  // A failure after the first batch was judged: still nothing dropped.
  log.reads_left = 1;
  EXPECT_EQ(apply_retention(topic, p, 10'000), 0u);
  EXPECT_EQ(log.start_offset(), 0);

  log.reads_left = -1;
  EXPECT_EQ(apply_retention(topic, p, 10'000), 2u);
  EXPECT_EQ(log.start_offset(), 2);
}

}  // namespace
}  // namespace mk
