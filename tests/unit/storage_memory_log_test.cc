// What the in-memory backend promises beyond the partition_log contract (which
// storage_partition_log_test.cc checks for every backend): the engine-wide byte cap, batch_count,
// and appending no batches.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "minikafka_common/shared_chunk.h"
#include "storage/memory/memory_engine.h"
#include "storage/memory/memory_log.h"

namespace mk::storage {
namespace {

batch_to_append batch(int64_t base, int64_t count, size_t size) {
  return batch_to_append{base, base + count - 1, 0,
                         shared_chunk::adopt(std::vector<uint8_t>(size, 0xab))};
}

std::unique_ptr<partition_log> open(memory_engine& e, int32_t partition) {
  auto r = e.open_log("0123456789abcdef0123456789abcdef", partition);
  EXPECT_TRUE(r.ok());
  return std::move(r.value());
}

TEST(MemoryEngineTest, NameIsMemory) { EXPECT_STREQ(memory_engine().name(), "memory"); }

TEST(MemoryEngineTest, OpenLogAlwaysGivesANewEmptyLog) {
  memory_engine e;
  auto a = open(e, 0);
  auto b0 = batch(0, 3, 10);
  ASSERT_TRUE(a->append(std::span(&b0, 1)).ok());
  auto b = open(e, 0);
  EXPECT_EQ(b->end_offset(), 0);
  EXPECT_EQ(a->end_offset(), 3);
}

TEST(MemoryLogTest, AppendOfNoBatchesIsANoopReturningEndOffset) {
  memory_log log;
  auto b = batch(0, 4, 10);
  ASSERT_TRUE(log.append(std::span(&b, 1)).ok());
  auto r = log.append(std::span<const batch_to_append>());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 4);
  EXPECT_EQ(log.end_offset(), 4);
  EXPECT_EQ(log.batch_count(), 1u);
}

TEST(MemoryLogTest, BatchCountFollowsAppendAndTruncate) {
  memory_log log;
  std::vector<batch_to_append> bs = {batch(0, 2, 10), batch(2, 2, 10), batch(4, 2, 10)};
  ASSERT_TRUE(log.append(bs).ok());
  EXPECT_EQ(log.batch_count(), 3u);
  ASSERT_TRUE(log.truncate_before(3).ok());
  EXPECT_EQ(log.batch_count(), 2u);
  ASSERT_TRUE(log.truncate_before(100).ok());
  EXPECT_EQ(log.batch_count(), 0u);
}

TEST(MemoryLogTest, AppendRejectsLastOffsetThatWouldOverflowTheEndOffset) {
  memory_log log;
  std::vector<batch_to_append> bs = {
      batch_to_append{0, INT64_MAX, 0, shared_chunk::adopt(std::vector<uint8_t>(8))}};
  auto r = log.append(bs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errc::offset_mismatch);
  EXPECT_EQ(log.end_offset(), 0);
}

TEST(MemoryEngineTest, NoCapByDefault) {
  memory_engine e;
  EXPECT_EQ(e.max_total_bytes(), 0u);
  auto log = open(e, 0);
  auto b = batch(0, 1, 1 << 20);
  ASSERT_TRUE(log->append(std::span(&b, 1)).ok());
  EXPECT_EQ(e.used_bytes(), size_t{1} << 20);
}

TEST(MemoryEngineTest, CapIsSharedByAllLogsAndRejectsWithOutOfMemory) {
  memory_engine e(1000);
  auto p0 = open(e, 0);
  auto p1 = open(e, 1);
  std::vector<batch_to_append> a = {batch(0, 1, 300), batch(1, 1, 300)};
  ASSERT_TRUE(p0->append(a).ok());
  EXPECT_EQ(e.used_bytes(), 600u);

  // 600 + 300 + 300 > 1000: neither batch goes in.
  std::vector<batch_to_append> b = {batch(0, 1, 300), batch(1, 1, 300)};
  auto r = p1->append(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errc::out_of_memory);
  EXPECT_EQ(p1->end_offset(), 0);
  EXPECT_EQ(p1->size_bytes(), 0u);
  EXPECT_EQ(e.used_bytes(), 600u);

  // Exactly reaching the cap is allowed.
  auto c = batch(0, 1, 400);
  ASSERT_TRUE(p1->append(std::span(&c, 1)).ok());
  EXPECT_EQ(e.used_bytes(), 1000u);
  auto d = batch(1, 1, 1);
  EXPECT_EQ(p1->append(std::span(&d, 1)).error(), errc::out_of_memory);
}

TEST(MemoryEngineTest, TruncationAndDestructionReturnBytesToTheCap) {
  memory_engine e(1000);
  auto p0 = open(e, 0);
  std::vector<batch_to_append> a = {batch(0, 1, 400), batch(1, 1, 400)};
  ASSERT_TRUE(p0->append(a).ok());
  ASSERT_TRUE(p0->truncate_before(1).ok());
  EXPECT_EQ(e.used_bytes(), 400u);
  p0.reset();
  EXPECT_EQ(e.used_bytes(), 0u);

  auto p1 = open(e, 1);
  auto b = batch(0, 1, 1000);
  EXPECT_TRUE(p1->append(std::span(&b, 1)).ok());
}

TEST(MemoryEngineTest, LogsMayOutliveTheEngine) {
  auto e = std::make_unique<memory_engine>(100);
  auto log = open(*e, 0);
  e.reset();
  auto b = batch(0, 1, 50);
  EXPECT_TRUE(log->append(std::span(&b, 1)).ok());
  log.reset();
}

TEST(MemoryBudgetTest, ReserveNeverOverflows) {
  memory_budget budget(100);
  EXPECT_TRUE(budget.try_reserve(60));
  EXPECT_FALSE(budget.try_reserve(SIZE_MAX));
  EXPECT_FALSE(budget.try_reserve(41));
  EXPECT_TRUE(budget.try_reserve(40));
  budget.release(100);
  EXPECT_EQ(budget.used_bytes(), 0u);
}

}  // namespace
}  // namespace mk::storage
