// Producer state rebuilt from a partition's log (broker/log_append.h: rebuild_producer_state), as
// a persistent backend's restart does: sequences for duplicate detection, epochs, open and
// aborted transactions.
#include <gtest/gtest.h>

#include "broker/log_append.h"
#include "protocol/records/record_batch.h"
#include "storage/memory/memory_log.h"

namespace {

using mk::proto::error_code;

std::vector<uint8_t> batch(int64_t pid, int16_t epoch, int32_t seq, int n, bool transactional) {
  mk::records::batch_builder b(mk::records::codec::none, 0, pid, epoch, seq);
  if (transactional) b.set_attributes_extra(mk::records::attr_transactional);
  for (int i = 0; i < n; ++i) b.add(1700000000000, std::string_view("k"), std::string_view("v"));
  return b.finish();
}

TEST(ProducerStateRebuild, RestoresSequencesEpochsAndTransactions) {
  mk::topic_state topic;
  topic.name = "t";
  auto live = std::make_shared<mk::partition_state>();
  live->log = std::make_unique<mk::storage::memory_log>();
  const mk::append_settings settings{true, 1700000000000, 0};
  auto put = [&](std::vector<uint8_t> b) {
    return mk::append_batches(topic, *live, mk::shared_chunk::adopt(std::move(b)), settings);
  };
  ASSERT_EQ(put(batch(7, 0, 0, 2, false)).error, error_code::none);   // idempotent 0-1
  ASSERT_EQ(put(batch(7, 0, 2, 1, false)).error, error_code::none);   // idempotent 2
  ASSERT_EQ(put(batch(9, 3, 0, 1, true)).error, error_code::none);    // txn, aborted below
  ASSERT_EQ(mk::append_marker(topic, *live, 9, 3, false, 1).error, error_code::none);
  ASSERT_EQ(put(batch(11, 1, 0, 1, true)).error, error_code::none);   // txn left open

  // A restart: the same stored log, fresh in-memory state.
  mk::partition_state restarted;
  restarted.log = std::move(live->log);
  auto open = mk::rebuild_producer_state(topic, restarted);
  EXPECT_EQ(open, std::vector<int64_t>{11});
  ASSERT_EQ(restarted.producers.at(7).recent.size(), 2u);
  EXPECT_EQ(restarted.producers.at(7).recent.back().first_seq, 2);
  EXPECT_EQ(restarted.producers.at(9).epoch, 3);
  ASSERT_EQ(restarted.aborted.size(), 1u);
  EXPECT_EQ(restarted.aborted[0].first_offset, 3);
  EXPECT_EQ(restarted.aborted[0].last_offset, 4);
  EXPECT_EQ(restarted.last_stable_offset(), 5);  // the open transaction starts at 5

  // Duplicate detection works across the restart: a retry of the last batch is acknowledged
  // with its first offset and not stored again; a gap is refused.
  auto dup = mk::append_batches(topic, restarted, mk::shared_chunk::adopt(batch(7, 0, 2, 1, false)), settings);
  EXPECT_EQ(dup.error, error_code::none);
  EXPECT_EQ(dup.base_offset, 2);
  EXPECT_EQ(restarted.log->end_offset(), 6);
  auto gap = mk::append_batches(topic, restarted, mk::shared_chunk::adopt(batch(7, 0, 9, 1, false)), settings);
  EXPECT_EQ(gap.error, error_code::out_of_order_sequence_number);
  auto stale = mk::append_batches(topic, restarted, mk::shared_chunk::adopt(batch(9, 2, 0, 1, true)), settings);
  EXPECT_EQ(stale.error, error_code::invalid_producer_epoch);
}

}  // namespace
