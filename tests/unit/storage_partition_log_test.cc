// The storage specification: every partition_log backend must pass this suite.
//
// Written once and instantiated per backend (see kBackends at the bottom): adding a backend is one
// line there. Each test gets a fresh engine rooted in its own temporary directory (backends that
// keep nothing on disk ignore it) and one log opened from it. Batches are arbitrary byte blobs:
// storage does not parse Kafka, it keeps bytes and the integers given alongside. Every blob starts
// with its base offset (8 bytes, little-endian) so a test can tell which batch a chunk is.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "minikafka_common/shared_chunk.h"
#include "storage/memory/memory_engine.h"
#include "storage/partition_log.h"
#if MINIKAFKA_HAVE_ROCKSDB
#include "storage/rocksdb/rocksdb_engine.h"
#endif

namespace mk::storage {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Backends under test.

struct backend {
  std::string name;
  // Makes an engine that may keep its files under `dir` (an existing, empty directory).
  std::function<std::unique_ptr<storage_engine>(const std::string& dir)> make_engine;
  // read() returns the very chunks given to append() (same data pointer and owner).
  bool zero_copy = false;
  // A log destroyed and opened again (without drop_log) still holds its batches.
  bool persistent = false;
};

void PrintTo(const backend& b, std::ostream* os) { *os << b.name; }

// ---------------------------------------------------------------------------------------------
// Batch helpers.

constexpr char kTopic[] = "0123456789abcdef0123456789abcdef";
constexpr char kOtherTopic[] = "fedcba9876543210fedcba9876543210";

// A blob of `size` (>= 8) bytes starting with `base` and followed by a pattern derived from it.
shared_chunk blob(int64_t base, size_t size) {
  std::vector<uint8_t> v(std::max<size_t>(size, 8));
  const auto ubase = static_cast<uint64_t>(base);
  for (int i = 0; i < 8; ++i) v[i] = static_cast<uint8_t>(ubase >> (8 * i));
  for (size_t i = 8; i < v.size(); ++i) v[i] = static_cast<uint8_t>(ubase * 31 + i * 7);
  return shared_chunk::adopt(std::move(v));
}

int64_t base_in(const shared_chunk& c) {
  uint64_t v = 0;
  for (int i = 0; i < 8 && static_cast<size_t>(i) < c.size; ++i) {
    v |= static_cast<uint64_t>(c.data[i]) << (8 * i);
  }
  return static_cast<int64_t>(v);
}

bool same_bytes(const shared_chunk& a, const shared_chunk& b) {
  return a.size == b.size && (a.size == 0 || std::memcmp(a.data, b.data, a.size) == 0);
}

// A batch of `count` offsets starting at `base`.
batch_to_append batch(int64_t base, int64_t count, int64_t max_ts = 0, size_t size = 100) {
  return batch_to_append{base, base + count - 1, max_ts, blob(base, size)};
}

// Shape of a batch to append after whatever the log already holds.
struct shape {
  int64_t count = 1;
  int64_t max_ts = 0;
  size_t size = 100;
};

// Appends one batch per shape, contiguously from end_offset(), one append() call per batch.
// Returns the batches appended.
std::vector<batch_to_append> append_shapes(partition_log& log, const std::vector<shape>& shapes) {
  std::vector<batch_to_append> out;
  for (const auto& s : shapes) {
    auto b = batch(log.end_offset(), s.count, s.max_ts, s.size);
    auto r = log.append(std::span<const batch_to_append>(&b, 1));
    EXPECT_TRUE(r.ok()) << to_string(r.error());
    out.push_back(b);
  }
  return out;
}

std::vector<int64_t> bases_of(const read_result& r) {
  std::vector<int64_t> out;
  for (const auto& c : r.chunks) out.push_back(base_in(c));
  return out;
}

size_t sum_sizes(const read_result& r) {
  size_t n = 0;
  for (const auto& c : r.chunks) n += c.size;
  return n;
}

// The value of a read-side call expected to succeed (a failure fails the test and yields an
// empty value).
template <typename T>
T must(result<T> r) {
  EXPECT_TRUE(r.ok()) << "storage error: " << to_string(r.error());
  if (!r.ok()) return T{};
  return std::move(r.value());
}

// ---------------------------------------------------------------------------------------------
// Fixture: a fresh engine in a fresh temporary directory, and one open log.

class PartitionLogTest : public testing::TestWithParam<backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "minikafka-storage-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    engine_ = GetParam().make_engine(dir_);
    ASSERT_NE(engine_, nullptr);
    log_ = open(kTopic, 0);
    ASSERT_NE(log_, nullptr);
  }

  void TearDown() override {
    log_.reset();
    engine_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<partition_log> open(const std::string& topic, int32_t partition) {
    auto r = engine_->open_log(topic, partition);
    EXPECT_TRUE(r.ok()) << to_string(r.error());
    if (!r.ok()) return nullptr;
    return std::move(r.value());
  }

  partition_log& log() { return *log_; }

  // Destroys the log and the engine and makes a new engine over the same directory (a broker
  // restart), then opens the log again. Other logs of the engine must be destroyed first (a
  // live RocksDB log keeps its database open). Call through ASSERT_NO_FATAL_FAILURE.
  void reopen_engine() {
    log_.reset();
    engine_.reset();
    engine_ = GetParam().make_engine(dir_);
    ASSERT_NE(engine_, nullptr);
    log_ = open(kTopic, 0);
    ASSERT_NE(log_, nullptr);
  }

  // The log's observable state, to check that a failed call changed nothing.
  struct snapshot {
    int64_t start, end;
    size_t size;
    std::vector<int64_t> bases;
    bool operator==(const snapshot&) const = default;
  };
  snapshot snap() {
    return snapshot{log().start_offset(), log().end_offset(), log().size_bytes(),
                    bases_of(must(log().read(log().start_offset(), SIZE_MAX)))};
  }

  std::string dir_;
  std::unique_ptr<storage_engine> engine_;
  std::unique_ptr<partition_log> log_;
};

// ---------------------------------------------------------------------------------------------
// Empty log and append.

TEST_P(PartitionLogTest, EngineHasAName) { EXPECT_STRNE(engine_->name(), ""); }

TEST_P(PartitionLogTest, NewLogIsEmptyAtOffsetZero) {
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 0);
  EXPECT_EQ(log().size_bytes(), 0u);
  EXPECT_TRUE(must(log().read(0, SIZE_MAX)).chunks.empty());
  EXPECT_FALSE(must(log().find_by_timestamp(0)).has_value());
  EXPECT_FALSE(must(log().max_timestamp_batch()).has_value());
}

TEST_P(PartitionLogTest, AppendReturnsBaseOffsetAndAdvancesEnd) {
  auto b0 = batch(0, 5);
  auto r0 = log().append(std::span(&b0, 1));
  ASSERT_TRUE(r0.ok());
  EXPECT_EQ(r0.value(), 0);
  EXPECT_EQ(log().end_offset(), 5);

  auto b1 = batch(5, 1);
  auto r1 = log().append(std::span(&b1, 1));
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1.value(), 5);
  EXPECT_EQ(log().end_offset(), 6);
  EXPECT_EQ(log().start_offset(), 0);
}

TEST_P(PartitionLogTest, AppendSeveralBatchesAtOnceReturnsFirstBaseOffset) {
  append_shapes(log(), {{3}});
  std::vector<batch_to_append> bs = {batch(3, 2), batch(5, 10), batch(15, 1)};
  auto r = log().append(bs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 3);
  EXPECT_EQ(log().end_offset(), 16);
  EXPECT_EQ(bases_of(must(log().read(0, SIZE_MAX))), (std::vector<int64_t>{0, 3, 5, 15}));
}

TEST_P(PartitionLogTest, SizeBytesIsTheSumOfStoredBatchSizes) {
  append_shapes(log(), {{1, 0, 100}, {4, 0, 250}, {2, 0, 61}});
  EXPECT_EQ(log().size_bytes(), 411u);
}

TEST_P(PartitionLogTest, AppendRejectsFirstBatchNotAtEndOffset) {
  append_shapes(log(), {{10}});
  const auto before = snap();
  for (int64_t base : {0, 9, 11, 100}) {
    auto b = batch(base, 1);
    auto r = log().append(std::span(&b, 1));
    ASSERT_FALSE(r.ok()) << "base " << base;
    EXPECT_EQ(r.error(), errc::offset_mismatch);
    EXPECT_EQ(snap(), before);
  }
}

TEST_P(PartitionLogTest, AppendRejectsGapAndIsAllOrNothing) {
  append_shapes(log(), {{10}});
  const auto before = snap();

  // A gap between the second and third batch: none of the three is stored.
  std::vector<batch_to_append> gap = {batch(10, 5), batch(15, 5), batch(21, 5)};
  auto r = log().append(gap);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errc::offset_mismatch);
  EXPECT_EQ(snap(), before);

  // An overlap is rejected the same way.
  std::vector<batch_to_append> overlap = {batch(10, 5), batch(14, 5)};
  r = log().append(overlap);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errc::offset_mismatch);
  EXPECT_EQ(snap(), before);

  // So is a batch whose last offset is below its base offset.
  std::vector<batch_to_append> backwards = {batch(10, 5),
                                            batch_to_append{15, 14, 0, blob(15, 100)}};
  r = log().append(backwards);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errc::offset_mismatch);
  EXPECT_EQ(snap(), before);

  // The log still accepts the right batches afterwards.
  std::vector<batch_to_append> good = {batch(10, 5), batch(15, 5)};
  r = log().append(good);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 10);
  EXPECT_EQ(log().end_offset(), 20);
}

// ---------------------------------------------------------------------------------------------
// Read.

TEST_P(PartitionLogTest, ReadReturnsWholeBatchesInOrderWithTheirBytes) {
  const auto appended = append_shapes(log(), {{3, 0, 120}, {1, 0, 80}, {7, 0, 300}});
  const auto r = must(log().read(0, SIZE_MAX));
  ASSERT_EQ(r.chunks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_bytes(r.chunks[i], appended[i].bytes)) << i;
  EXPECT_EQ(r.bytes, 500u);
  EXPECT_EQ(r.bytes, sum_sizes(r));
}

TEST_P(PartitionLogTest, ReadFromMiddleOfBatchReturnsThatBatch) {
  append_shapes(log(), {{10}, {10}, {10}});
  EXPECT_EQ(bases_of(must(log().read(15, SIZE_MAX))), (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(bases_of(must(log().read(19, SIZE_MAX))), (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(bases_of(must(log().read(20, SIZE_MAX))), (std::vector<int64_t>{20}));
  EXPECT_EQ(bases_of(must(log().read(29, SIZE_MAX))), (std::vector<int64_t>{20}));
}

TEST_P(PartitionLogTest, ReadAlwaysReturnsFirstBatchEvenIfLargerThanMax) {
  append_shapes(log(), {{1, 0, 1000}, {1, 0, 10}});
  for (size_t max : {size_t{0}, size_t{1}, size_t{999}}) {
    const auto r = must(log().read(0, max));
    EXPECT_EQ(bases_of(r), (std::vector<int64_t>{0})) << "max " << max;
    EXPECT_EQ(r.bytes, 1000u);
  }
}

TEST_P(PartitionLogTest, ReadStopsBeforeExceedingMax) {
  append_shapes(log(), {{1, 0, 100}, {1, 0, 100}, {1, 0, 100}, {1, 0, 100}});
  EXPECT_EQ(bases_of(must(log().read(0, 299))), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(must(log().read(0, 299)).bytes, 200u);
  EXPECT_EQ(bases_of(must(log().read(1, 250))), (std::vector<int64_t>{1, 2}));
}

TEST_P(PartitionLogTest, ReadIncludesBatchThatExactlyFillsMax) {
  append_shapes(log(), {{1, 0, 100}, {1, 0, 100}, {1, 0, 100}});
  EXPECT_EQ(bases_of(must(log().read(0, 200))), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(bases_of(must(log().read(0, 300))), (std::vector<int64_t>{0, 1, 2}));
}

TEST_P(PartitionLogTest, ReadDoesNotSkipASmallBatchAfterOneThatDoesNotFit) {
  // Reads are a prefix of the log: a later batch that would fit is not returned after one that
  // does not.
  append_shapes(log(), {{1, 0, 100}, {1, 0, 500}, {1, 0, 10}});
  EXPECT_EQ(bases_of(must(log().read(0, 200))), (std::vector<int64_t>{0}));
}

TEST_P(PartitionLogTest, ReadOutsideRangeIsEmpty) {
  append_shapes(log(), {{10}, {10}});
  for (int64_t from : {int64_t{20}, int64_t{21}, int64_t{1} << 40, int64_t{-1}}) {
    const auto r = must(log().read(from, SIZE_MAX));
    EXPECT_TRUE(r.chunks.empty()) << "from " << from;
    EXPECT_EQ(r.bytes, 0u);
  }
  // Below the log start offset, even inside a kept straddling batch.
  ASSERT_TRUE(log().truncate_before(15).ok());
  EXPECT_TRUE(must(log().read(14, SIZE_MAX)).chunks.empty());
  EXPECT_TRUE(must(log().read(0, SIZE_MAX)).chunks.empty());
  EXPECT_EQ(bases_of(must(log().read(15, SIZE_MAX))), (std::vector<int64_t>{10}));
}

TEST_P(PartitionLogTest, ReadReturnsSameBytesWithoutCopy) {
  if (!GetParam().zero_copy) GTEST_SKIP() << GetParam().name << " does not declare zero-copy";
  const auto appended = append_shapes(log(), {{5, 0, 4096}, {5, 0, 4096}});
  const auto r = must(log().read(0, SIZE_MAX));
  ASSERT_EQ(r.chunks.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r.chunks[i].data, appended[i].bytes.data) << i;
    EXPECT_EQ(r.chunks[i].size, appended[i].bytes.size) << i;
    EXPECT_EQ(r.chunks[i].owner.get(), appended[i].bytes.owner.get()) << i;
  }
}

TEST_P(PartitionLogTest, AppendedSliceOfALargerBufferIsStoredAsThatSlice) {
  // The broker appends batches that are slices of a request frame.
  std::vector<uint8_t> frame(1000);
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i * 13);
  const auto whole = shared_chunk::adopt(std::move(frame));
  std::vector<batch_to_append> bs = {{0, 0, 0, whole.slice(100, 200)},
                                     {1, 3, 0, whole.slice(300, 500)}};
  ASSERT_TRUE(log().append(bs).ok());
  EXPECT_EQ(log().size_bytes(), 700u);
  const auto r = must(log().read(0, SIZE_MAX));
  ASSERT_EQ(r.chunks.size(), 2u);
  EXPECT_TRUE(same_bytes(r.chunks[0], bs[0].bytes));
  EXPECT_TRUE(same_bytes(r.chunks[1], bs[1].bytes));
}

TEST_P(PartitionLogTest, ReadChunksStayValidAfterTruncationAndLogDestruction) {
  const auto appended = append_shapes(log(), {{1, 0, 500}, {1, 0, 500}});
  const auto r = must(log().read(0, SIZE_MAX));
  ASSERT_TRUE(log().truncate_before(2).ok());
  log_.reset();
  ASSERT_EQ(r.chunks.size(), 2u);
  EXPECT_TRUE(same_bytes(r.chunks[0], appended[0].bytes));
  EXPECT_TRUE(same_bytes(r.chunks[1], appended[1].bytes));
}

// ---------------------------------------------------------------------------------------------
// Truncation.

TEST_P(PartitionLogTest, TruncateBeforeDropsWholeBatchesAndKeepsStraddling) {
  append_shapes(log(), {{10, 0, 100}, {10, 0, 200}, {10, 0, 300}});
  ASSERT_TRUE(log().truncate_before(15).ok());
  EXPECT_EQ(log().start_offset(), 15);
  EXPECT_EQ(log().end_offset(), 30);
  EXPECT_EQ(log().size_bytes(), 500u);  // [0, 9] dropped; [10, 19] straddles 15 and stays
  EXPECT_EQ(bases_of(must(log().read(15, SIZE_MAX))), (std::vector<int64_t>{10, 20}));
}

TEST_P(PartitionLogTest, TruncateAtBatchBoundaryDropsEverythingBefore) {
  append_shapes(log(), {{10, 0, 100}, {10, 0, 200}, {10, 0, 300}});
  ASSERT_TRUE(log().truncate_before(20).ok());
  EXPECT_EQ(log().start_offset(), 20);
  EXPECT_EQ(log().size_bytes(), 300u);
  EXPECT_EQ(bases_of(must(log().read(20, SIZE_MAX))), (std::vector<int64_t>{20}));
}

TEST_P(PartitionLogTest, TruncateAtOrBelowStartIsNoop) {
  append_shapes(log(), {{10}, {10}});
  ASSERT_TRUE(log().truncate_before(5).ok());
  const auto before = snap();
  for (int64_t off : {5, 4, 0, -1}) {
    ASSERT_TRUE(log().truncate_before(off).ok());
    EXPECT_EQ(snap(), before) << "offset " << off;
  }
}

TEST_P(PartitionLogTest, TruncateBeyondEndClamps) {
  append_shapes(log(), {{10}, {10}});
  ASSERT_TRUE(log().truncate_before(1000).ok());
  EXPECT_EQ(log().start_offset(), 20);
  EXPECT_EQ(log().end_offset(), 20);
  EXPECT_EQ(log().size_bytes(), 0u);
  EXPECT_TRUE(must(log().read(19, SIZE_MAX)).chunks.empty());
  EXPECT_TRUE(must(log().read(20, SIZE_MAX)).chunks.empty());
  EXPECT_FALSE(must(log().find_by_timestamp(-1)).has_value());
  EXPECT_FALSE(must(log().max_timestamp_batch()).has_value());
}

TEST_P(PartitionLogTest, TruncateEmptyLogClampsToZero) {
  ASSERT_TRUE(log().truncate_before(7).ok());
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 0);
}

TEST_P(PartitionLogTest, AppendAfterTruncateContinuesAtEndOffset) {
  append_shapes(log(), {{10}});
  ASSERT_TRUE(log().truncate_before(10).ok());
  auto b = batch(10, 3);
  auto r = log().append(std::span(&b, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 10);
  EXPECT_EQ(log().start_offset(), 10);
  EXPECT_EQ(log().end_offset(), 13);
  EXPECT_EQ(bases_of(must(log().read(10, SIZE_MAX))), (std::vector<int64_t>{10}));
  // Truncating inside that batch keeps it.
  ASSERT_TRUE(log().truncate_before(12).ok());
  EXPECT_EQ(bases_of(must(log().read(12, SIZE_MAX))), (std::vector<int64_t>{10}));
}

// ---------------------------------------------------------------------------------------------
// Timestamps.

TEST_P(PartitionLogTest, FindByTimestampReturnsFirstBatchWithMaxTimestampAtOrAbove) {
  // Timestamps need not increase along the log.
  append_shapes(log(), {{2, 100}, {2, 300}, {2, 200}, {2, 400}});
  const auto base_for = [&](int64_t ts) -> std::optional<int64_t> {
    auto b = must(log().find_by_timestamp(ts));
    if (!b) return std::nullopt;
    return b->base_offset;
  };
  EXPECT_EQ(base_for(-1), 0);
  EXPECT_EQ(base_for(100), 0);
  EXPECT_EQ(base_for(101), 2);
  EXPECT_EQ(base_for(200), 2);  // batch 4 has 200 but batch 2 (300) comes first
  EXPECT_EQ(base_for(300), 2);
  EXPECT_EQ(base_for(301), 6);
  EXPECT_EQ(base_for(400), 6);
  EXPECT_EQ(base_for(401), std::nullopt);
}

TEST_P(PartitionLogTest, FindByTimestampReturnsTheStoredBatch) {
  const auto appended = append_shapes(log(), {{3, 50, 70}, {4, 60, 90}});
  const auto b = must(log().find_by_timestamp(55));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->base_offset, 3);
  EXPECT_EQ(b->last_offset, 6);
  EXPECT_EQ(b->max_timestamp, 60);
  EXPECT_TRUE(same_bytes(b->bytes, appended[1].bytes));
}

TEST_P(PartitionLogTest, FindByTimestampIgnoresTruncatedBatches) {
  append_shapes(log(), {{5, 1000}, {5, 10}, {5, 20}, {5, 15}});
  EXPECT_EQ(must(log().find_by_timestamp(12))->base_offset, 0);
  ASSERT_TRUE(log().truncate_before(5).ok());
  EXPECT_EQ(must(log().find_by_timestamp(12))->base_offset, 10);
  EXPECT_EQ(must(log().find_by_timestamp(5))->base_offset, 5);
  EXPECT_FALSE(must(log().find_by_timestamp(21)).has_value());
  // A straddling batch is still found.
  ASSERT_TRUE(log().truncate_before(12).ok());
  EXPECT_EQ(must(log().find_by_timestamp(5))->base_offset, 10);
  EXPECT_EQ(must(log().find_by_timestamp(16))->base_offset, 10);
}

TEST_P(PartitionLogTest, MaxTimestampBatchIsTheLargestAndEarliestOnTies) {
  append_shapes(log(), {{1, 10}, {1, 30}, {1, 20}, {1, 30}, {1, 5}});
  const auto b = must(log().max_timestamp_batch());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->base_offset, 1);
  EXPECT_EQ(b->max_timestamp, 30);
}

TEST_P(PartitionLogTest, MaxTimestampBatchFollowsAppends) {
  append_shapes(log(), {{1, 10}});
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 0);
  append_shapes(log(), {{1, 10}});
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 0);
  append_shapes(log(), {{1, 11}});
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 2);
}

TEST_P(PartitionLogTest, MaxTimestampBatchAfterTruncationDropsIt) {
  append_shapes(log(), {{1, 500}, {1, 100}, {1, 300}, {1, 300}, {1, 200}});
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 0);
  ASSERT_TRUE(log().truncate_before(1).ok());
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 2);  // earliest of the two 300s
  ASSERT_TRUE(log().truncate_before(3).ok());
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 3);
  ASSERT_TRUE(log().truncate_before(4).ok());
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 4);
  EXPECT_EQ(must(log().max_timestamp_batch())->max_timestamp, 200);
  ASSERT_TRUE(log().truncate_before(5).ok());
  EXPECT_FALSE(must(log().max_timestamp_batch()).has_value());
}

TEST_P(PartitionLogTest, MaxTimestampBatchSurvivesTruncationThatKeepsIt) {
  append_shapes(log(), {{1, 100}, {1, 50}, {1, 900}, {1, 800}});
  ASSERT_TRUE(log().truncate_before(2).ok());
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 2);
  EXPECT_EQ(must(log().find_by_timestamp(60))->base_offset, 2);
}

// ---------------------------------------------------------------------------------------------
// Engine: several logs.

TEST_P(PartitionLogTest, LogsOfDifferentPartitionsAreIndependent) {
  auto p1 = open(kTopic, 1);
  auto other = open(kOtherTopic, 0);
  ASSERT_NE(p1, nullptr);
  ASSERT_NE(other, nullptr);
  append_shapes(log(), {{10, 0, 100}});
  append_shapes(*p1, {{3, 0, 50}, {3, 0, 50}});
  EXPECT_EQ(log().end_offset(), 10);
  EXPECT_EQ(p1->end_offset(), 6);
  EXPECT_EQ(other->end_offset(), 0);
  EXPECT_EQ(p1->size_bytes(), 100u);
  ASSERT_TRUE(p1->truncate_before(6).ok());
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().size_bytes(), 100u);
}

TEST_P(PartitionLogTest, DroppedLogReopensEmpty) {
  append_shapes(log(), {{10}});
  log_.reset();
  ASSERT_TRUE(engine_->drop_log(kTopic, 0).ok());
  log_ = open(kTopic, 0);
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 0);
  EXPECT_EQ(log().size_bytes(), 0u);
}

TEST_P(PartitionLogTest, ReopenedLogKeepsItsBatches) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " is not persistent";
  const auto appended = append_shapes(log(), {{10, 7, 100}, {5, 9, 200}});
  ASSERT_TRUE(log().truncate_before(3).ok());
  log_.reset();
  log_ = open(kTopic, 0);
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(log().start_offset(), 3);
  EXPECT_EQ(log().end_offset(), 15);
  const auto r = must(log().read(3, SIZE_MAX));
  ASSERT_EQ(r.chunks.size(), 2u);
  EXPECT_TRUE(same_bytes(r.chunks[0], appended[0].bytes));
  EXPECT_TRUE(same_bytes(r.chunks[1], appended[1].bytes));
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 10);
}

TEST_P(PartitionLogTest, DroppingANeverWrittenLogSucceeds) {
  EXPECT_TRUE(engine_->drop_log(kOtherTopic, 7).ok());
}

// ---------------------------------------------------------------------------------------------
// Persistence across engine restarts (backends with persistent = true).

TEST_P(PartitionLogTest, ReopenedEngineKeepsBatchesOffsetsStartAndTimestamps) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " is not persistent";
  const auto appended =
      append_shapes(log(), {{10, 500, 100}, {5, 100, 200}, {5, 300, 300}, {5, 300, 50}});
  ASSERT_TRUE(log().truncate_before(12).ok());  // drops [0, 9]; [10, 14] straddles and stays
  const auto before = snap();
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(snap(), before);
  EXPECT_EQ(log().start_offset(), 12);
  EXPECT_EQ(log().end_offset(), 25);
  EXPECT_EQ(log().size_bytes(), 550u);
  const auto r = must(log().read(12, SIZE_MAX));
  ASSERT_EQ(r.chunks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_bytes(r.chunks[i], appended[i + 1].bytes)) << i;
  EXPECT_TRUE(must(log().read(11, SIZE_MAX)).chunks.empty());
  // Timestamp index rebuilt: 500 was truncated away, the earliest 300 is the max.
  const auto max = must(log().max_timestamp_batch());
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->base_offset, 15);
  EXPECT_EQ(max->last_offset, 19);
  EXPECT_EQ(max->max_timestamp, 300);
  EXPECT_TRUE(same_bytes(max->bytes, appended[2].bytes));
  EXPECT_EQ(must(log().find_by_timestamp(50))->base_offset, 10);
  EXPECT_EQ(must(log().find_by_timestamp(101))->base_offset, 15);
  EXPECT_FALSE(must(log().find_by_timestamp(301)).has_value());
  // Appends continue at the recovered end offset and survive another restart.
  auto b = batch(25, 3, 900, 70);
  auto a = log().append(std::span(&b, 1));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value(), 25);
  auto wrong = batch(24, 1);
  EXPECT_EQ(log().append(std::span(&wrong, 1)).error(), errc::offset_mismatch);
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(log().end_offset(), 28);
  EXPECT_EQ(log().size_bytes(), 620u);
  EXPECT_EQ(bases_of(must(log().read(12, SIZE_MAX))), (std::vector<int64_t>{10, 15, 20, 25}));
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 25);
}

TEST_P(PartitionLogTest, ReopenAfterTruncatingEverythingKeepsOffsets) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " is not persistent";
  append_shapes(log(), {{10}, {10}});
  ASSERT_TRUE(log().truncate_before(1000).ok());
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(log().start_offset(), 20);
  EXPECT_EQ(log().end_offset(), 20);
  EXPECT_EQ(log().size_bytes(), 0u);
  EXPECT_FALSE(must(log().max_timestamp_batch()).has_value());
  auto b = batch(20, 2);
  auto r = log().append(std::span(&b, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 20);
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(log().start_offset(), 20);
  EXPECT_EQ(log().end_offset(), 22);
  EXPECT_EQ(bases_of(must(log().read(20, SIZE_MAX))), (std::vector<int64_t>{20}));
}

TEST_P(PartitionLogTest, ReopenKeepsEveryPartitionApart) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " is not persistent";
  {
    auto p1 = open(kTopic, 1);
    auto other = open(kOtherTopic, 0);
    ASSERT_NE(p1, nullptr);
    ASSERT_NE(other, nullptr);
    append_shapes(log(), {{10, 1, 100}});
    append_shapes(*p1, {{3, 2, 50}, {3, 3, 60}});
    append_shapes(*other, {{1, 4, 70}, {1, 5, 80}, {1, 6, 90}});
    ASSERT_TRUE(other->truncate_before(1).ok());
  }
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  auto p1 = open(kTopic, 1);
  auto other = open(kOtherTopic, 0);
  auto never = open(kOtherTopic, 5);
  ASSERT_NE(p1, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_NE(never, nullptr);
  EXPECT_EQ(log().end_offset(), 10);
  EXPECT_EQ(log().size_bytes(), 100u);
  EXPECT_EQ(p1->end_offset(), 6);
  EXPECT_EQ(p1->size_bytes(), 110u);
  EXPECT_EQ(bases_of(must(p1->read(0, SIZE_MAX))), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(other->start_offset(), 1);
  EXPECT_EQ(other->end_offset(), 3);
  EXPECT_EQ(other->size_bytes(), 170u);
  EXPECT_EQ(must(other->max_timestamp_batch())->base_offset, 2);
  EXPECT_EQ(never->start_offset(), 0);
  EXPECT_EQ(never->end_offset(), 0);
}

TEST_P(PartitionLogTest, DroppedLogStaysEmptyAcrossReopenAndOthersKeepTheirData) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " is not persistent";
  {
    auto p1 = open(kTopic, 1);
    ASSERT_NE(p1, nullptr);
    append_shapes(log(), {{10}, {10}});
    ASSERT_TRUE(log().truncate_before(5).ok());
    append_shapes(*p1, {{4}});
  }
  log_.reset();
  ASSERT_TRUE(engine_->drop_log(kTopic, 0).ok());
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 0);
  EXPECT_EQ(log().size_bytes(), 0u);
  EXPECT_TRUE(must(log().read(0, SIZE_MAX)).chunks.empty());
  EXPECT_FALSE(must(log().max_timestamp_batch()).has_value());
  auto p1 = open(kTopic, 1);
  ASSERT_NE(p1, nullptr);
  EXPECT_EQ(p1->end_offset(), 4);
  EXPECT_EQ(bases_of(must(p1->read(0, SIZE_MAX))), (std::vector<int64_t>{0}));
  p1.reset();  // a live log keeps the database open
  // The recreated log starts over at 0 and keeps its new data across a restart.
  append_shapes(log(), {{2}});
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 2);
  EXPECT_EQ(bases_of(must(log().read(0, SIZE_MAX))), (std::vector<int64_t>{0}));
}

// ---------------------------------------------------------------------------------------------
// replace_range (log compaction rewrites batches in place, keeping their offsets).

// The batch [base, last] with its own bytes (a compacted batch keeps base and last, shrinks).
batch_to_append span_batch(int64_t base, int64_t last, int64_t max_ts = 0, size_t size = 40) {
  return batch_to_append{base, last, max_ts, blob(base, size)};
}

// One batch as the span replace_range takes.
std::vector<batch_to_append> one(batch_to_append b) { return {std::move(b)}; }

TEST_P(PartitionLogTest, ReplaceRangeRewritesBatchesKeepingOffsets) {
  append_shapes(log(), {{10, 100, 100}, {5, 500, 100}, {5, 300, 100}, {5, 400, 100}});
  std::vector<batch_to_append> repl = {span_batch(10, 14, 200, 30), span_batch(15, 19, 250, 20)};
  ASSERT_TRUE(log().replace_range(10, 20, repl).ok());
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 25);
  EXPECT_EQ(log().size_bytes(), 250u);
  const auto r = must(log().read(0, SIZE_MAX));
  ASSERT_EQ(bases_of(r), (std::vector<int64_t>{0, 10, 15, 20}));
  EXPECT_TRUE(same_bytes(r.chunks[1], repl[0].bytes));
  EXPECT_TRUE(same_bytes(r.chunks[2], repl[1].bytes));
  if (GetParam().zero_copy) {
    EXPECT_EQ(r.chunks[1].data, repl[0].bytes.data);
  }
  // The timestamp index follows the new timestamps: 500 is gone, 400 is now the max.
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 20);
  EXPECT_EQ(must(log().find_by_timestamp(150))->base_offset, 10);
  EXPECT_EQ(must(log().find_by_timestamp(260))->base_offset, 20);
  EXPECT_TRUE(same_bytes(must(log().find_by_timestamp(210))->bytes, repl[1].bytes));
  // Appends continue at the unchanged end offset.
  auto b = batch(25, 1);
  EXPECT_TRUE(log().append(std::span(&b, 1)).ok());
}

TEST_P(PartitionLogTest, ReplaceRangeMayDropBatchesLeavingGaps) {
  append_shapes(log(), {{10, 1, 100}, {5, 2, 100}, {5, 3, 100}, {5, 4, 100}});
  // [0, 9] loses everything; [10, 14] keeps its tail offsets 12..14; [15, 19] goes.
  std::vector<batch_to_append> repl = {span_batch(12, 14, 2, 50)};
  ASSERT_TRUE(log().replace_range(0, 20, repl).ok());
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 25);
  EXPECT_EQ(log().size_bytes(), 150u);
  // Reads from a gap start at the next stored batch.
  EXPECT_EQ(bases_of(must(log().read(0, SIZE_MAX))), (std::vector<int64_t>{12, 20}));
  EXPECT_EQ(bases_of(must(log().read(11, SIZE_MAX))), (std::vector<int64_t>{12, 20}));
  EXPECT_EQ(bases_of(must(log().read(13, SIZE_MAX))), (std::vector<int64_t>{12, 20}));
  EXPECT_EQ(bases_of(must(log().read(15, SIZE_MAX))), (std::vector<int64_t>{20}));
  EXPECT_EQ(bases_of(must(log().read(16, 1))), (std::vector<int64_t>{20}));
  EXPECT_EQ(must(log().find_by_timestamp(0))->base_offset, 12);
  EXPECT_EQ(must(log().find_by_timestamp(3))->base_offset, 20);
  // Truncation and appends work across the gaps.
  ASSERT_TRUE(log().truncate_before(16).ok());
  EXPECT_EQ(log().start_offset(), 16);
  EXPECT_EQ(bases_of(must(log().read(16, SIZE_MAX))), (std::vector<int64_t>{20}));
  EXPECT_EQ(log().size_bytes(), 100u);
  auto b = batch(25, 2);
  ASSERT_TRUE(log().append(std::span(&b, 1)).ok());
  EXPECT_EQ(log().end_offset(), 27);
}

TEST_P(PartitionLogTest, ReplaceRangeEmptyingTheTailKeepsTheEndOffset) {
  append_shapes(log(), {{10, 1, 100}, {5, 2, 100}});
  ASSERT_TRUE(log().replace_range(10, 15, {}).ok());
  EXPECT_EQ(log().end_offset(), 15);
  EXPECT_EQ(bases_of(must(log().read(0, SIZE_MAX))), (std::vector<int64_t>{0}));
  EXPECT_TRUE(must(log().read(10, SIZE_MAX)).chunks.empty());
  ASSERT_TRUE(log().replace_range(0, 15, {}).ok());
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 15);
  EXPECT_EQ(log().size_bytes(), 0u);
  EXPECT_TRUE(must(log().read(0, SIZE_MAX)).chunks.empty());
  EXPECT_FALSE(must(log().max_timestamp_batch()).has_value());
  auto wrong = batch(10, 1);
  EXPECT_EQ(log().append(std::span(&wrong, 1)).error(), errc::offset_mismatch);
  auto b = batch(15, 3, 7);
  auto r = log().append(std::span(&b, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 15);
  EXPECT_EQ(bases_of(must(log().read(0, SIZE_MAX))), (std::vector<int64_t>{15}));
}

TEST_P(PartitionLogTest, ReplaceRangeRejectsBadArgumentsAndChangesNothing) {
  append_shapes(log(), {{10}, {5}, {5}});  // [0,9] [10,14] [15,19]
  const auto before = snap();
  const auto rejects = [&](int64_t from, int64_t to, std::vector<batch_to_append> bs) {
    auto st = log().replace_range(from, to, bs);
    ASSERT_FALSE(st.ok()) << from << ".." << to;
    EXPECT_EQ(st.error(), errc::offset_mismatch) << from << ".." << to;
    EXPECT_EQ(snap(), before) << from << ".." << to;
  };
  rejects(12, 20, {});                                         // cuts [10,14] at the front
  rejects(10, 17, {});                                         // cuts [15,19] at the back
  rejects(15, 10, {});                                         // from > to
  rejects(-1, 10, {});                                         // negative
  rejects(10, 21, {});                                         // beyond the end offset
  rejects(10, 15, {span_batch(9, 12)});                        // new batch starts before range
  rejects(10, 15, {span_batch(12, 15)});                       // new batch ends after range
  rejects(10, 20, {span_batch(10, 13), span_batch(13, 16)});   // overlapping
  rejects(10, 20, {span_batch(15, 16), span_batch(10, 12)});   // out of order
  rejects(10, 20, {span_batch(12, 11)});                       // last < base
  // A valid call still works afterwards; an empty range with no batches is a no-op.
  EXPECT_TRUE(log().replace_range(10, 10, {}).ok());
  EXPECT_EQ(snap(), before);
  EXPECT_TRUE(log().replace_range(10, 15, one(span_batch(11, 14))).ok());
  EXPECT_EQ(bases_of(must(log().read(0, SIZE_MAX))), (std::vector<int64_t>{0, 11, 15}));
}

TEST_P(PartitionLogTest, ReplaceRangeAroundTheLogStartKeepsTheStartOffset) {
  append_shapes(log(), {{10, 1}, {10, 2}, {10, 3}});
  ASSERT_TRUE(log().truncate_before(15).ok());  // [10,19] straddles and stays
  // The straddling batch is rewritten; it may keep offsets below the start.
  ASSERT_TRUE(log().replace_range(10, 20, one(span_batch(12, 19, 2))).ok());
  EXPECT_EQ(log().start_offset(), 15);
  EXPECT_EQ(bases_of(must(log().read(15, SIZE_MAX))), (std::vector<int64_t>{12, 20}));
  // A new batch wholly below the start offset is not kept (it could never be read).
  ASSERT_TRUE(log().replace_range(10, 20, one(span_batch(11, 13, 50, 20))).ok());
  EXPECT_EQ(log().start_offset(), 15);
  EXPECT_EQ(bases_of(must(log().read(15, SIZE_MAX))), (std::vector<int64_t>{20}));
  EXPECT_EQ(log().size_bytes(), 100u);
  EXPECT_EQ(must(log().find_by_timestamp(0))->base_offset, 20);
  EXPECT_TRUE(must(log().read(14, SIZE_MAX)).chunks.empty());
}

TEST_P(PartitionLogTest, ReplacedBatchesAndGapsSurviveReopen) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " is not persistent";
  append_shapes(log(), {{10, 100, 100}, {5, 500, 100}, {5, 300, 100}, {5, 400, 100}, {3, 1, 10}});
  ASSERT_TRUE(log().truncate_before(2).ok());
  std::vector<batch_to_append> repl = {span_batch(3, 9, 90, 33), span_batch(17, 19, 50, 44)};
  ASSERT_TRUE(log().replace_range(0, 20, repl).ok());
  const auto before = snap();
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(snap(), before);
  EXPECT_EQ(log().start_offset(), 2);
  EXPECT_EQ(log().end_offset(), 28);
  EXPECT_EQ(log().size_bytes(), 33u + 44u + 100u + 10u);
  const auto r = must(log().read(2, SIZE_MAX));
  ASSERT_EQ(bases_of(r), (std::vector<int64_t>{3, 17, 20, 25}));
  EXPECT_TRUE(same_bytes(r.chunks[0], repl[0].bytes));
  EXPECT_TRUE(same_bytes(r.chunks[1], repl[1].bytes));
  EXPECT_EQ(bases_of(must(log().read(12, SIZE_MAX))), (std::vector<int64_t>{17, 20, 25}));
  EXPECT_EQ(must(log().max_timestamp_batch())->base_offset, 20);
  EXPECT_EQ(must(log().find_by_timestamp(60))->base_offset, 3);
  EXPECT_EQ(must(log().find_by_timestamp(95))->base_offset, 20);
  // Rewriting the tail away keeps the end offset across a restart too.
  ASSERT_TRUE(log().replace_range(20, 28, one(span_batch(21, 23, 7, 12))).ok());
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(log().end_offset(), 28);
  EXPECT_EQ(bases_of(must(log().read(2, SIZE_MAX))), (std::vector<int64_t>{3, 17, 21}));
  ASSERT_TRUE(log().replace_range(0, 28, {}).ok());
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(log().start_offset(), 2);
  EXPECT_EQ(log().end_offset(), 28);
  EXPECT_EQ(log().size_bytes(), 0u);
  auto b = batch(28, 2, 9);
  auto a = log().append(std::span(&b, 1));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value(), 28);
  ASSERT_NO_FATAL_FAILURE(reopen_engine());
  EXPECT_EQ(log().end_offset(), 30);
  EXPECT_EQ(bases_of(must(log().read(2, SIZE_MAX))), (std::vector<int64_t>{28}));
}

TEST(MemoryLogReplaceRange, ChargesTheBudgetOnlyTheDifference) {
  auto budget = std::make_shared<memory_budget>(1000);
  memory_log log(budget);
  std::vector<batch_to_append> bs = {batch(0, 5, 0, 400), batch(5, 5, 0, 400)};
  ASSERT_TRUE(log.append(bs).ok());
  EXPECT_EQ(budget->used_bytes(), 800u);
  // Shrinking frees bytes.
  std::vector<batch_to_append> small = {span_batch(2, 4, 0, 100)};
  ASSERT_TRUE(log.replace_range(0, 5, small).ok());
  EXPECT_EQ(budget->used_bytes(), 500u);
  // Growing past the cap fails and changes nothing; growing within it is charged.
  std::vector<batch_to_append> huge = {span_batch(5, 9, 0, 1000)};
  auto st = log.replace_range(5, 10, huge);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), errc::out_of_memory);
  EXPECT_EQ(budget->used_bytes(), 500u);
  EXPECT_EQ(log.size_bytes(), 500u);
  std::vector<batch_to_append> bigger = {span_batch(5, 9, 0, 900)};
  ASSERT_TRUE(log.replace_range(5, 10, bigger).ok());
  EXPECT_EQ(budget->used_bytes(), 1000u);
  EXPECT_EQ(log.batch_count(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Many batches against a naive model.

// The obvious, linear implementation of the contract.
class naive_log {
 public:
  void append(const batch_to_append& b) {
    batches_.push_back(b);
    end_ = b.last_offset + 1;
  }
  void truncate_before(int64_t offset) {
    if (offset <= start_) return;
    start_ = std::min(offset, end_);
  }
  std::vector<int64_t> read(int64_t from, size_t max_bytes) const {
    std::vector<int64_t> out;
    if (from < start_ || from >= end_) return out;
    size_t total = 0;
    for (const auto& b : batches_) {
      if (b.last_offset < from) continue;
      if (!out.empty() && total + b.bytes.size > max_bytes) break;
      out.push_back(b.base_offset);
      total += b.bytes.size;
    }
    return out;
  }
  std::optional<int64_t> find_by_timestamp(int64_t ts) const {
    for (const auto& b : batches_) {
      if (b.last_offset >= start_ && b.max_timestamp >= ts) return b.base_offset;
    }
    return std::nullopt;
  }
  std::optional<int64_t> max_timestamp_batch() const {
    const batch_to_append* best = nullptr;
    for (const auto& b : batches_) {
      if (b.last_offset >= start_ && (!best || b.max_timestamp > best->max_timestamp)) best = &b;
    }
    if (!best) return std::nullopt;
    return best->base_offset;
  }
  // Replaces the batches with base in [from, to) (the caller respects the contract).
  void replace_range(int64_t from, int64_t to, const std::vector<batch_to_append>& bs) {
    std::vector<batch_to_append> out;
    bool inserted = false;
    for (const auto& b : batches_) {
      if (b.base_offset >= from && b.base_offset < to) {
        if (!inserted) out.insert(out.end(), bs.begin(), bs.end());
        inserted = true;
        continue;
      }
      if (!inserted && b.base_offset >= to) {
        out.insert(out.end(), bs.begin(), bs.end());
        inserted = true;
      }
      out.push_back(b);
    }
    if (!inserted) out.insert(out.end(), bs.begin(), bs.end());
    batches_ = std::move(out);
  }
  // Stored batches still (partly) at or above the start offset.
  std::vector<batch_to_append> live() const {
    std::vector<batch_to_append> out;
    for (const auto& b : batches_) {
      if (b.last_offset >= start_) out.push_back(b);
    }
    return out;
  }
  size_t size_bytes() const {
    size_t n = 0;
    for (const auto& b : batches_) n += b.last_offset >= start_ ? b.bytes.size : 0;
    return n;
  }
  int64_t start() const { return start_; }
  int64_t end() const { return end_; }

 private:
  std::vector<batch_to_append> batches_;
  int64_t start_ = 0;
  int64_t end_ = 0;
};

std::optional<int64_t> base_of(const std::optional<stored_batch>& b) {
  if (!b) return std::nullopt;
  return b->base_offset;
}

TEST_P(PartitionLogTest, ManyBatchesMatchNaiveModel) {
  constexpr uint64_t kSeed = 20240611;
  SCOPED_TRACE(testing::Message() << "seed " << kSeed);
  std::mt19937_64 rng(kSeed);
  const auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  naive_log model;
  int64_t clock = 1'000'000;

  const auto append_some = [&](int n) {
    std::vector<batch_to_append> bs;
    for (int i = 0; i < n; ++i) {
      const int64_t base = bs.empty() ? model.end() : bs.back().last_offset + 1;
      clock += uniform(-50, 100);  // mostly increasing, sometimes going back
      const int64_t ts = uniform(0, 20) == 0 ? clock - uniform(0, 5000) : clock;
      bs.push_back(batch(base, uniform(1, 50), ts, static_cast<size_t>(uniform(8, 2000))));
    }
    // Several batches per append() call, as a produce request would.
    for (size_t i = 0; i < bs.size();) {
      const size_t k = std::min<size_t>(bs.size() - i, static_cast<size_t>(uniform(1, 8)));
      auto r = log().append(std::span<const batch_to_append>(bs.data() + i, k));
      ASSERT_TRUE(r.ok()) << to_string(r.error());
      ASSERT_EQ(r.value(), bs[i].base_offset);
      for (size_t j = i; j < i + k; ++j) model.append(bs[j]);
      i += k;
    }
  };

  const auto check = [&](int reads) {
    ASSERT_EQ(log().start_offset(), model.start());
    ASSERT_EQ(log().end_offset(), model.end());
    ASSERT_EQ(log().size_bytes(), model.size_bytes());
    ASSERT_EQ(base_of(must(log().max_timestamp_batch())), model.max_timestamp_batch());
    for (int i = 0; i < reads; ++i) {
      const int64_t from = uniform(model.start() - 5, model.end() + 5);
      const auto max = static_cast<size_t>(uniform(0, 64 * 1024));
      const auto r = must(log().read(from, max));
      ASSERT_EQ(bases_of(r), model.read(from, max)) << "from " << from << " max " << max;
      ASSERT_EQ(r.bytes, sum_sizes(r));
      const int64_t ts = uniform(clock - 2'000'000, clock + 200);
      ASSERT_EQ(base_of(must(log().find_by_timestamp(ts))), model.find_by_timestamp(ts))
          << "ts " << ts;
    }
  };

  append_some(10'000);
  check(2000);
  // Retention and new appends interleaved.
  for (int round = 0; round < 20; ++round) {
    const int64_t span = model.end() - model.start();
    const int64_t to = model.start() + uniform(-5, span / 10 + 1);
    ASSERT_TRUE(log().truncate_before(to).ok());
    model.truncate_before(to);
    append_some(static_cast<int>(uniform(0, 300)));
    check(100);
  }
  ASSERT_TRUE(log().truncate_before(model.end() + 10).ok());
  model.truncate_before(model.end() + 10);
  check(50);
}

TEST_P(PartitionLogTest, UnorderedTimestampsMatchNaiveModelAcrossTruncations) {
  // Timestamps in no particular order (including decreasing runs), truncated a little at a time:
  // the max-timestamp batch and timestamp lookups must follow every truncation.
  constexpr uint64_t kSeed = 77;
  SCOPED_TRACE(testing::Message() << "seed " << kSeed);
  std::mt19937_64 rng(kSeed);
  const auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  naive_log model;
  for (int i = 0; i < 400; ++i) {
    // First half decreasing, second half random.
    const int64_t ts = i < 200 ? 10'000 - i * 10 : uniform(-1, 10'000);
    auto b = batch(model.end(), uniform(1, 4), ts, 32);
    ASSERT_TRUE(log().append(std::span(&b, 1)).ok());
    model.append(b);
  }
  while (model.start() < model.end()) {
    ASSERT_EQ(base_of(must(log().max_timestamp_batch())), model.max_timestamp_batch());
    for (int i = 0; i < 10; ++i) {
      const int64_t ts = uniform(-2, 10'001);
      ASSERT_EQ(base_of(must(log().find_by_timestamp(ts))), model.find_by_timestamp(ts))
          << "ts " << ts;
    }
    const int64_t to = model.start() + uniform(1, 3);
    ASSERT_TRUE(log().truncate_before(to).ok());
    model.truncate_before(to);
    ASSERT_EQ(log().start_offset(), model.start());
  }
  EXPECT_FALSE(must(log().max_timestamp_batch()).has_value());
}

TEST_P(PartitionLogTest, RandomOperationsAcrossReopensMatchNaiveModel) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " is not persistent";
  constexpr uint64_t kSeed = 4242;
  SCOPED_TRACE(testing::Message() << "seed " << kSeed);
  std::mt19937_64 rng(kSeed);
  const auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  naive_log model;
  for (int round = 0; round < 8; ++round) {
    std::vector<batch_to_append> bs;
    const int n = static_cast<int>(uniform(0, 200));
    for (int i = 0; i < n; ++i) {
      const int64_t base = bs.empty() ? model.end() : bs.back().last_offset + 1;
      bs.push_back(batch(base, uniform(1, 20), uniform(0, 10'000),
                         static_cast<size_t>(uniform(8, 3000))));
    }
    for (size_t i = 0; i < bs.size();) {
      const size_t k = std::min<size_t>(bs.size() - i, static_cast<size_t>(uniform(1, 6)));
      ASSERT_TRUE(log().append(std::span<const batch_to_append>(bs.data() + i, k)).ok());
      for (size_t j = i; j < i + k; ++j) model.append(bs[j]);
      i += k;
    }
    const int64_t to = model.start() + uniform(-3, (model.end() - model.start()) / 4 + 1);
    ASSERT_TRUE(log().truncate_before(to).ok());
    model.truncate_before(to);
    ASSERT_NO_FATAL_FAILURE(reopen_engine());
    ASSERT_EQ(log().start_offset(), model.start());
    ASSERT_EQ(log().end_offset(), model.end());
    ASSERT_EQ(log().size_bytes(), model.size_bytes());
    ASSERT_EQ(base_of(must(log().max_timestamp_batch())), model.max_timestamp_batch());
    for (int i = 0; i < 50; ++i) {
      const int64_t from = uniform(model.start() - 2, model.end() + 2);
      const auto max = static_cast<size_t>(uniform(0, 32 * 1024));
      ASSERT_EQ(bases_of(must(log().read(from, max))), model.read(from, max));
      const int64_t ts = uniform(-1, 10'001);
      ASSERT_EQ(base_of(must(log().find_by_timestamp(ts))), model.find_by_timestamp(ts))
          << "ts " << ts;
    }
  }
}

TEST_P(PartitionLogTest, RandomReplacementsMatchNaiveModel) {
  // Compaction-like rewrites (batches shrink to a sub-range of their offsets or vanish, get new
  // timestamps) interleaved with appends, truncations and, for persistent backends, restarts.
  constexpr uint64_t kSeed = 99173;
  SCOPED_TRACE(testing::Message() << "seed " << kSeed);
  std::mt19937_64 rng(kSeed);
  const auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  naive_log model;
  const auto check = [&](int reads) {
    ASSERT_EQ(log().start_offset(), model.start());
    ASSERT_EQ(log().end_offset(), model.end());
    ASSERT_EQ(log().size_bytes(), model.size_bytes());
    ASSERT_EQ(base_of(must(log().max_timestamp_batch())), model.max_timestamp_batch());
    for (int i = 0; i < reads; ++i) {
      const int64_t from = uniform(model.start() - 3, model.end() + 3);
      const auto max = static_cast<size_t>(uniform(0, 8 * 1024));
      ASSERT_EQ(bases_of(must(log().read(from, max))), model.read(from, max)) << "from " << from;
      const int64_t ts = uniform(-1, 10'001);
      ASSERT_EQ(base_of(must(log().find_by_timestamp(ts))), model.find_by_timestamp(ts))
          << "ts " << ts;
    }
  };
  for (int round = 0; round < 60; ++round) {
    std::vector<batch_to_append> bs;
    for (int i = static_cast<int>(uniform(0, 40)); i > 0; --i) {
      const int64_t base = bs.empty() ? model.end() : bs.back().last_offset + 1;
      bs.push_back(batch(base, uniform(1, 10), uniform(0, 10'000),
                         static_cast<size_t>(uniform(8, 500))));
    }
    if (!bs.empty()) {
      ASSERT_TRUE(log().append(bs).ok());
      for (const auto& b : bs) model.append(b);
    }
    // Rewrite a run of consecutive live batches.
    const auto live = model.live();
    if (!live.empty()) {
      const auto i = static_cast<size_t>(uniform(0, static_cast<int64_t>(live.size()) - 1));
      const auto j = std::min(live.size(), i + static_cast<size_t>(uniform(1, 15)));
      const int64_t from = live[i].base_offset;
      const int64_t to = live[j - 1].last_offset + 1;
      std::vector<batch_to_append> repl;
      for (size_t k = i; k < j; ++k) {
        if (uniform(0, 3) == 0) continue;  // all records removed
        const int64_t lo = uniform(live[k].base_offset, live[k].last_offset);
        const int64_t hi = uniform(lo, live[k].last_offset);
        repl.push_back(span_batch(lo, hi, uniform(0, 10'000), static_cast<size_t>(uniform(8, 300))));
      }
      ASSERT_TRUE(log().replace_range(from, to, repl).ok()) << from << ".." << to;
      model.replace_range(from, to, repl);
    }
    if (uniform(0, 4) == 0) {
      const int64_t to = model.start() + uniform(-3, (model.end() - model.start()) / 5 + 1);
      ASSERT_TRUE(log().truncate_before(to).ok());
      model.truncate_before(to);
    }
    ASSERT_NO_FATAL_FAILURE(check(30));
    if (GetParam().persistent && round % 10 == 9) {
      ASSERT_NO_FATAL_FAILURE(reopen_engine());
      ASSERT_NO_FATAL_FAILURE(check(30));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Backends. Add one line per backend.

#if MINIKAFKA_HAVE_ROCKSDB
std::unique_ptr<storage_engine> make_rocksdb(const std::string& dir) {
  std::string why;
  auto r = open_rocksdb_engine(dir, rocksdb_options{}, &why);
  EXPECT_TRUE(r.ok()) << why;
  if (!r.ok()) return nullptr;
  return std::move(r.value());
}
#endif

const backend kBackends[] = {
    {"memory", [](const std::string&) { return std::make_unique<memory_engine>(); },
     /*zero_copy=*/true, /*persistent=*/false},
#if MINIKAFKA_HAVE_ROCKSDB
    {"rocksdb", &make_rocksdb, /*zero_copy=*/false, /*persistent=*/true},
#endif
};

INSTANTIATE_TEST_SUITE_P(Backends, PartitionLogTest, testing::ValuesIn(kBackends),
                         [](const testing::TestParamInfo<backend>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------------------------
// RocksDB engine specifics: open failures are values, bad ids, sync mode.

#if MINIKAFKA_HAVE_ROCKSDB
class RocksdbEngineTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "minikafka-rocksdb-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(RocksdbEngineTest, OpenFailureIsReportedAsAValue) {
  // A regular file where the database directory should be.
  const std::string file = dir_ + "/not-a-dir";
  { std::ofstream(file) << "x"; }
  std::string why;
  auto r = open_rocksdb_engine(file + "/db", rocksdb_options{}, &why);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errc::io_error);
  EXPECT_FALSE(why.empty());

  // A directly constructed engine reports the same through is_open() and fails every call.
  rocksdb_engine engine(file + "/db", rocksdb_options{});
  EXPECT_FALSE(engine.is_open());
  EXPECT_FALSE(engine.open_error().empty());
  auto l = engine.open_log(kTopic, 0);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error(), errc::io_error);
  EXPECT_EQ(engine.drop_log(kTopic, 0).error(), errc::io_error);
  EXPECT_EQ(engine.metadata().load_topics().error(), errc::io_error);
  EXPECT_EQ(engine.metadata().put_topic(topic_record{}).error(), errc::io_error);
}

TEST_F(RocksdbEngineTest, SecondEngineOnAnOpenDirectoryFails) {
  auto first = open_rocksdb_engine(dir_ + "/db", rocksdb_options{});
  ASSERT_TRUE(first.ok());
  std::string why;
  auto second = open_rocksdb_engine(dir_ + "/db", rocksdb_options{}, &why);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error(), errc::io_error);
  EXPECT_NE(why.find("lock"), std::string::npos) << why;
  // Once the first is closed the directory opens again.
  first.value().reset();
  EXPECT_TRUE(open_rocksdb_engine(dir_ + "/db", rocksdb_options{}).ok());
}

TEST_F(RocksdbEngineTest, MalformedTopicIdOrPartitionIsNotFound) {
  auto engine = open_rocksdb_engine(dir_, rocksdb_options{});
  ASSERT_TRUE(engine.ok());
  auto& e = *engine.value();
  for (const std::string id : {"", "0123", "0123456789abcdef0123456789abcdeg",
                               "0123456789abcdef0123456789abcdef0"}) {
    auto r = e.open_log(id, 0);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error(), errc::not_found) << id;
    EXPECT_EQ(e.drop_log(id, 0).error(), errc::not_found) << id;
  }
  auto r = e.open_log(kTopic, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errc::not_found);
  // Upper-case hex names the same log as lower-case.
  auto lower = e.open_log(kTopic, 0);
  ASSERT_TRUE(lower.ok());
  append_shapes(*lower.value(), {{3}});
  lower.value().reset();
  std::string upper = kTopic;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto again = e.open_log(upper, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value()->end_offset(), 3);
}

TEST_F(RocksdbEngineTest, SyncModeAppendsAndRecovers) {
  rocksdb_options opts;
  opts.sync = true;
  std::vector<batch_to_append> appended;
  {
    auto engine = open_rocksdb_engine(dir_, opts);
    ASSERT_TRUE(engine.ok());
    EXPECT_TRUE(engine.value()->options().sync);
    auto l = engine.value()->open_log(kTopic, 3);
    ASSERT_TRUE(l.ok());
    appended = append_shapes(*l.value(), {{2, 10, 100}, {3, 20, 200}});
    ASSERT_TRUE(l.value()->truncate_before(1).ok());
  }
  auto engine = open_rocksdb_engine(dir_, opts);
  ASSERT_TRUE(engine.ok());
  auto l = engine.value()->open_log(kTopic, 3);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l.value()->start_offset(), 1);
  EXPECT_EQ(l.value()->end_offset(), 5);
  const auto r = must(l.value()->read(1, SIZE_MAX));
  ASSERT_EQ(r.chunks.size(), 2u);
  EXPECT_TRUE(same_bytes(r.chunks[0], appended[0].bytes));
  EXPECT_TRUE(same_bytes(r.chunks[1], appended[1].bytes));
}

TEST_F(RocksdbEngineTest, LargeBatchesRoundTrip) {
  auto engine = open_rocksdb_engine(dir_, rocksdb_options{});
  ASSERT_TRUE(engine.ok());
  auto l = engine.value()->open_log(kTopic, 0);
  ASSERT_TRUE(l.ok());
  // Batches larger than RocksDB's 64 KiB blocks, one of several MiB.
  const auto appended = append_shapes(*l.value(), {{1, 0, 200'000}, {1, 0, 5'000'000}, {1, 0, 9}});
  const auto r = must(l.value()->read(0, SIZE_MAX));
  ASSERT_EQ(r.chunks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_bytes(r.chunks[i], appended[i].bytes)) << i;
}
#endif

}  // namespace
}  // namespace mk::storage
