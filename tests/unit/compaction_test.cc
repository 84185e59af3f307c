// Log compaction (broker/compaction.h) over real partition logs of every backend: the latest
// record per key stays at its original offset, tombstones go after their delete horizon,
// batches keep their codec, offsets and valid CRCs, and nothing is rewritten when nothing has to.
#include "broker/compaction.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "broker/cluster.h"
#include "protocol/records/record_batch.h"
#include "storage/memory/memory_engine.h"
#include "storage/partition_log.h"
#if MINIKAFKA_HAVE_ROCKSDB
#include "storage/rocksdb/rocksdb_engine.h"
#endif

namespace mk {
namespace {

namespace fs = std::filesystem;
using records::codec;

// The value of a read-side call expected to succeed (a failure fails the test and yields an
// empty value).
template <typename T>
T must(storage::result<T> r) {
  EXPECT_TRUE(r.ok()) << "storage error: " << storage::to_string(r.error());
  if (!r.ok()) return T{};
  return std::move(r.value());
}

constexpr char kTopicId[] = "00112233445566778899aabbccddeeff";

struct rec {
  std::optional<std::string> key, value;
  int64_t ts = 1000;
};

// One record read back from the log.
struct stored_rec {
  int64_t offset;
  std::optional<std::string> key, value;
  int64_t ts;
  bool operator==(const stored_rec&) const = default;
};

std::ostream& operator<<(std::ostream& os, const stored_rec& r) {
  return os << r.offset << ":" << r.key.value_or("<null>") << "=" << r.value.value_or("<null>")
            << "@" << r.ts;
}

compaction_settings eager(int64_t delete_retention_ms = 1'000'000) {
  compaction_settings s;
  s.min_compaction_lag_ms = 0;
  s.delete_retention_ms = delete_retention_ms;
  s.min_cleanable_dirty_ratio = 0;
  return s;
}

class CompactionTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "minikafka-compaction-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    if (GetParam() == "memory") {
      engine_ = std::make_unique<storage::memory_engine>();
    } else {
#if MINIKAFKA_HAVE_ROCKSDB
      auto e = storage::open_rocksdb_engine(dir_, storage::rocksdb_options{});
      ASSERT_TRUE(e.ok());
      engine_ = std::move(e.value());
#endif
    }
    auto l = engine_->open_log(kTopicId, 0);
    ASSERT_TRUE(l.ok());
    log_ = std::move(l.value());
  }
  void TearDown() override {
    log_.reset();
    engine_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  storage::partition_log& log() { return *log_; }

  // Appends one batch holding `rs` at the end of the log; returns its base offset.
  int64_t append(const std::vector<rec>& rs, codec c = codec::none) {
    std::vector<records::record_in> in;
    int64_t max_ts = -1;
    for (const auto& r : rs) {
      in.push_back(records::record_in{r.key, r.value, {}, r.ts});
      max_ts = std::max(max_ts, r.ts);
    }
    const int64_t base = log().end_offset();
    auto bytes = records::build_batch(in, c, base);
    EXPECT_FALSE(bytes.empty());
    storage::batch_to_append b{base, base + static_cast<int64_t>(rs.size()) - 1, max_ts,
                               shared_chunk::adopt(std::move(bytes))};
    EXPECT_TRUE(log().append(std::span(&b, 1)).ok());
    codecs_[base] = c;
    return base;
  }

  // Appends a raw batch (e.g. a control batch) whose offsets are already right.
  void append_raw(std::vector<uint8_t> bytes) {
    const auto h = records::read_batch_header(bytes.data());
    storage::batch_to_append b{h.base_offset, h.last_offset(), h.max_timestamp,
                               shared_chunk::adopt(std::move(bytes))};
    ASSERT_TRUE(log().append(std::span(&b, 1)).ok());
  }

  // Every stored batch, checked: valid (CRC, counts), offsets where the log says, records in
  // order inside the batch's offset range, the codec it was produced with.
  std::vector<records::batch_header> headers() {
    std::vector<records::batch_header> out;
    const auto rd = must(log().read(log().start_offset(), SIZE_MAX));
    for (const auto& c : rd.chunks) {
      records::batch_header h;
      EXPECT_EQ(records::validate_batch(c.data, c.size, &h), records::batch_error::none);
      if (auto it = codecs_.find(h.base_offset); it != codecs_.end()) {
        EXPECT_EQ(h.compression(), it->second) << "batch at " << h.base_offset;
      }
      out.push_back(h);
    }
    return out;
  }

  std::vector<stored_rec> records_in_log() {
    std::vector<stored_rec> out;
    const auto rd = must(log().read(log().start_offset(), SIZE_MAX));
    std::vector<uint8_t> scratch;
    std::vector<records::record_view> rv;
    int64_t prev = -1;
    for (const auto& c : rd.chunks) {
      records::batch_header h;
      EXPECT_EQ(records::validate_batch(c.data, c.size, &h), records::batch_error::none);
      EXPECT_GT(h.base_offset, prev) << "batches out of order";
      EXPECT_TRUE(records::decode_records(c.data, c.size, scratch, rv));
      EXPECT_EQ(static_cast<size_t>(h.record_count), rv.size());
      for (const auto& r : rv) {
        EXPECT_GE(r.offset, h.base_offset);
        EXPECT_LE(r.offset, h.last_offset());
        EXPECT_GT(r.offset, prev);
        prev = r.offset;
        if (h.is_control()) continue;
        out.push_back(stored_rec{r.offset,
                                 r.key ? std::optional<std::string>(std::string(*r.key)) : std::nullopt,
                                 r.value ? std::optional<std::string>(std::string(*r.value)) : std::nullopt,
                                 r.timestamp});
      }
      prev = std::max(prev, h.last_offset());
    }
    return out;
  }

  compaction_stats compact(int64_t now, const compaction_settings& s = eager()) {
    return compact_partition(log(), s, now, progress_, "test-0");
  }

  std::string dir_;
  std::unique_ptr<storage::storage_engine> engine_;
  std::unique_ptr<storage::partition_log> log_;
  compaction_progress progress_;
  std::map<int64_t, codec> codecs_;
};

// prefix + n (spelled out: GCC 12 warns falsely (-Wrestrict) on "literal" + std::to_string()).
std::string cat(std::string prefix, int64_t n) {
  prefix += std::to_string(n);
  return prefix;
}

stored_rec R(int64_t offset, std::optional<std::string> key, std::optional<std::string> value,
             int64_t ts) {
  return stored_rec{offset, std::move(key), std::move(value), ts};
}

TEST_P(CompactionTest, KeepsTheLatestValuePerKeyAtItsOriginalOffset) {
  append({{"k1", "a", 100}, {"k2", "b", 101}});  // 0, 1
  append({{"k1", "c", 102}, {"k3", "x", 103}});  // 2, 3
  append({{"k2", "d", 104}});                    // 4: the last batch, not cleaned yet
  const auto st = compact(10'000);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.dirty_end, 4);
  EXPECT_EQ(st.records_removed, 1u);
  EXPECT_EQ(st.batches_rewritten, 1u);
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 5);
  EXPECT_EQ(records_in_log(), (std::vector<stored_rec>{R(1, "k2", "b", 101), R(2, "k1", "c", 102),
                                                       R(3, "k3", "x", 103), R(4, "k2", "d", 104)}));
  // The rewritten batch keeps its base offset and lastOffsetDelta: offset 1 at delta 1.
  const auto hs = headers();
  ASSERT_EQ(hs.size(), 3u);
  EXPECT_EQ(hs[0].base_offset, 0);
  EXPECT_EQ(hs[0].last_offset_delta, 1);
  EXPECT_EQ(hs[0].record_count, 1);
  EXPECT_EQ(hs[0].base_timestamp, 101);
  EXPECT_EQ(hs[0].max_timestamp, 101);
  EXPECT_EQ(hs[1].record_count, 2);  // untouched

  // Once k2=d is no longer in the last batch, k2=b goes, and with it the whole first batch.
  append({{"k4", "e", 105}});  // 5
  const auto st2 = compact(10'000);
  EXPECT_TRUE(st2.cleaned);
  EXPECT_EQ(st2.dirty_end, 5);
  EXPECT_EQ(st2.batches_removed, 1u);
  EXPECT_EQ(records_in_log(), (std::vector<stored_rec>{R(2, "k1", "c", 102), R(3, "k3", "x", 103),
                                                       R(4, "k2", "d", 104), R(5, "k4", "e", 105)}));
  EXPECT_EQ(log().start_offset(), 0);
  EXPECT_EQ(log().end_offset(), 6);
  // A consumer reading from offset 0 or 1 gets the batch at 2 first.
  EXPECT_EQ(records::read_batch_header(must(log().read(1, 1)).chunks.at(0).data).base_offset, 2);
  // Produce continues at the same offset.
  EXPECT_EQ(append({{"k1", "f", 106}}), 6);
}

TEST_P(CompactionTest, TombstonesStayUntilTheirDeleteHorizonThenGo) {
  append({{"k1", "a", 100}});                               // 0
  append({{"k1", std::nullopt, 110}, {"k2", "b", 120}});    // 1, 2
  append({{"k3", "c", 130}});                               // 3 (last)
  auto st = compact(5'000, eager(1'000));
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.records_removed, 1u);
  EXPECT_EQ(st.tombstones_removed, 0u);
  EXPECT_EQ(records_in_log(), (std::vector<stored_rec>{R(1, "k1", std::nullopt, 110),
                                                       R(2, "k2", "b", 120), R(3, "k3", "c", 130)}));
  // The tombstone's batch now carries its delete horizon (KIP-534); timestamps decode unchanged.
  auto hs = headers();
  ASSERT_EQ(hs.size(), 2u);
  EXPECT_TRUE(hs[0].has_delete_horizon());
  EXPECT_EQ(hs[0].base_timestamp, 6'000);
  EXPECT_EQ(hs[0].max_timestamp, 120);
  EXPECT_EQ(progress_.next_horizon_ms, 6'000);

  // Before the horizon nothing is done (and nothing is read).
  st = compact(5'999, eager(1'000));
  EXPECT_FALSE(st.cleaned);
  EXPECT_EQ(st.batches_read, 0u);
  EXPECT_EQ(records_in_log().size(), 3u);
  // At the horizon the tombstone goes, without any new append.
  st = compact(6'000, eager(1'000));
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.tombstones_removed, 1u);
  EXPECT_EQ(records_in_log(),
            (std::vector<stored_rec>{R(2, "k2", "b", 120), R(3, "k3", "c", 130)}));
  hs = headers();
  EXPECT_FALSE(hs[0].has_delete_horizon());
  EXPECT_EQ(hs[0].base_timestamp, 120);
  EXPECT_EQ(progress_.next_horizon_ms, std::numeric_limits<int64_t>::max());
  // Nothing left to do.
  EXPECT_FALSE(compact(100'000, eager(1'000)).cleaned);
}

TEST_P(CompactionTest, SupersededTombstoneGoesAtOnceAndZeroRetentionOnTheNextPass) {
  append({{"k1", "a", 1}, {"k2", "b", 2}});
  append({{"k1", std::nullopt, 3}, {"k2", std::nullopt, 4}});
  append({{"k1", "again", 5}});
  append({{"tail", "t", 6}});
  auto st = compact(1'000, eager(0));
  EXPECT_EQ(records_in_log(), (std::vector<stored_rec>{R(3, "k2", std::nullopt, 4),
                                                       R(4, "k1", "again", 5), R(5, "tail", "t", 6)}));
  st = compact(1'000, eager(0));
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.tombstones_removed, 1u);
  EXPECT_EQ(records_in_log(),
            (std::vector<stored_rec>{R(4, "k1", "again", 5), R(5, "tail", "t", 6)}));
}

TEST_P(CompactionTest, CompressedBatchesAreRewrittenWithTheirCodec) {
  for (codec c : {codec::gzip, codec::snappy, codec::lz4, codec::zstd}) {
    SCOPED_TRACE(records::to_string(c));
    const int64_t base = log().end_offset();
    std::vector<rec> rs;
    for (int i = 0; i < 50; ++i) {
      rs.push_back(rec{cat("key-", base) + cat("-", i % 5),
                       std::string(200, static_cast<char>('a' + i % 26)) + std::to_string(i), 1000 + i});
    }
    append(rs, c);
  }
  append({{"tail", "t", 5000}});
  const auto st = compact(10'000);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.batches_rewritten, 4u);
  EXPECT_EQ(st.records_removed, 4u * 45u);
  const auto hs = headers();  // checks each batch still has its codec
  ASSERT_EQ(hs.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(hs[i].record_count, 5);
    EXPECT_EQ(hs[i].last_offset_delta, 49);
  }
  const auto rs = records_in_log();
  ASSERT_EQ(rs.size(), 21u);
  for (size_t i = 0; i < 20; ++i) {
    const int64_t batch_base = static_cast<int64_t>(i / 5) * 50;
    const int64_t off = batch_base + 45 + static_cast<int64_t>(i % 5);
    EXPECT_EQ(rs[i].offset, off);
    EXPECT_EQ(rs[i].key, cat("key-", batch_base) + cat("-", off % 5));
    EXPECT_EQ(rs[i].ts, 1000 + off - batch_base);
  }
}

TEST_P(CompactionTest, NothingIsRewrittenWhenNothingHasTo) {
  // A single batch is the active tail: never touched, even with duplicates.
  append({{"k", "1", 1}, {"k", "2", 2}});
  auto st = compact(10'000);
  EXPECT_FALSE(st.cleaned);
  EXPECT_EQ(records_in_log().size(), 2u);
  // Unique keys: a pass runs but writes nothing; memory logs still return the appended chunks.
  std::vector<const uint8_t*> before;
  append({{"a", "1", 3}});
  append({{"b", "1", 4}});
  append({{"c", "1", 5}});
  {
    append({{"d", "1", 6}});
    const auto rd = must(log().read(0, SIZE_MAX));
    for (const auto& c : rd.chunks) before.push_back(c.data);
  }
  // Now the first batch is no longer the tail: its duplicate goes.
  st = compact(10'000);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.batches_rewritten, 1u);
  EXPECT_EQ(st.records_removed, 1u);
  const auto size_after_first = log().size_bytes();
  append({{"e", "1", 7}});
  const auto rd1 = must(log().read(0, SIZE_MAX));
  st = compact(10'000);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.batches_rewritten, 0u);
  EXPECT_EQ(st.batches_removed, 0u);
  EXPECT_EQ(st.records_removed, 0u);
  EXPECT_GT(log().size_bytes(), size_after_first);
  if (GetParam() == "memory") {
    const auto rd2 = must(log().read(0, SIZE_MAX));
    ASSERT_EQ(rd2.chunks.size(), rd1.chunks.size());
    for (size_t i = 0; i < rd1.chunks.size(); ++i) EXPECT_EQ(rd2.chunks[i].data, rd1.chunks[i].data);
    for (size_t i = 1; i < before.size(); ++i) EXPECT_EQ(rd2.chunks[i].data, before[i]);
  }
  // No append since: the next look is O(1), nothing read.
  for (int i = 0; i < 3; ++i) {
    st = compact(20'000 + i);
    EXPECT_FALSE(st.cleaned);
    EXPECT_EQ(st.batches_read, 0u);
  }
}

TEST_P(CompactionTest, MinCompactionLagHoldsBackRecentBatches) {
  compaction_settings s = eager();
  s.min_compaction_lag_ms = 1'000;
  append({{"k1", "a", 1000}});  // 0
  append({{"k1", "b", 2000}});  // 1
  append({{"k1", "c", 3000}});  // 2: newer than now - lag at 3500
  append({{"k2", "z", 3000}});  // 3: last
  auto st = compact(3'500, s);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.dirty_end, 2);
  EXPECT_EQ(records_in_log(), (std::vector<stored_rec>{R(1, "k1", "b", 2000), R(2, "k1", "c", 3000),
                                                       R(3, "k2", "z", 3000)}));
  EXPECT_EQ(progress_.recheck_at_ms, 4'000);
  // Not yet old enough: no look at all.
  st = compact(3'999, s);
  EXPECT_FALSE(st.cleaned);
  EXPECT_EQ(st.batches_read, 0u);
  // Old enough now, without any append.
  st = compact(4'000, s);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.dirty_end, 3);
  EXPECT_EQ(records_in_log(),
            (std::vector<stored_rec>{R(2, "k1", "c", 3000), R(3, "k2", "z", 3000)}));
}

TEST_P(CompactionTest, MinCleanableDirtyRatioDefersSmallDirtySections) {
  compaction_settings s = eager();
  s.min_cleanable_dirty_ratio = 0.5;
  for (int i = 0; i < 10; ++i) append({{cat("k", i), std::string(100, 'x'), i}});
  append({{"tail", "t", 100}});
  auto st = compact(10'000, s);  // nothing cleaned before: the whole log is dirty
  EXPECT_TRUE(st.cleaned);
  append({{"k1", "new", 101}});
  append({{"tail2", "t", 102}});
  st = compact(10'000, s);  // ~2 dirty batches of 12: below the ratio
  EXPECT_FALSE(st.cleaned);
  EXPECT_EQ(records_in_log().size(), 13u);
  for (int i = 0; i < 12; ++i) append({{cat("k", i), std::string(100, 'y'), 200 + i}});
  st = compact(10'000, s);
  EXPECT_TRUE(st.cleaned);
  // Every k0..k10 older value is gone except the last batch's k11 (tail) and the fresh ones.
  const auto rs = records_in_log();
  std::map<std::string, int> per_key;
  for (const auto& r : rs) per_key[*r.key]++;
  for (const auto& [k, n] : per_key) EXPECT_EQ(n, 1) << k;
}

TEST_P(CompactionTest, KeylessRecordsAreDroppedAndControlBatchesKept) {
  append({{std::nullopt, "no-key", 1}, {"k1", "a", 2}});  // 0, 1
  append_raw(records::build_control_batch(records::control_type::commit, 7, 0, 0, 3, 2));  // 2
  append({{"k1", "b", 4}});                                // 3
  append({{"tail", "t", 5}});                              // 4
  const auto st = compact(10'000);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.batches_removed, 1u);
  EXPECT_EQ(records_in_log(), (std::vector<stored_rec>{R(3, "k1", "b", 4), R(4, "tail", "t", 5)}));
  const auto hs = headers();
  ASSERT_EQ(hs.size(), 3u);
  EXPECT_TRUE(hs[0].is_control());
  EXPECT_EQ(hs[0].base_offset, 2);
}

TEST_P(CompactionTest, ManyBatchesAcrossPassesMatchTheLatestPerKey) {
  std::mt19937_64 rng(5150);
  const auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const codec codecs[] = {codec::none, codec::none, codec::gzip, codec::lz4, codec::zstd, codec::snappy};
  std::vector<stored_rec> all;  // every record ever produced
  int64_t ts = 1'000;
  for (int round = 0; round < 6; ++round) {
    for (int b = static_cast<int>(uniform(20, 120)); b > 0; --b) {
      std::vector<rec> rs;
      for (int i = static_cast<int>(uniform(1, 12)); i > 0; --i) {
        const std::string key = cat("key", uniform(0, 60));
        std::optional<std::string> value;
        if (uniform(0, 9) != 0) value = cat("v", ts) + std::string(uniform(0, 80), 'p');
        rs.push_back(rec{key, value, ts++});
      }
      const int64_t base = append(rs, codecs[uniform(0, 5)]);
      for (size_t i = 0; i < rs.size(); ++i) {
        all.push_back(stored_rec{base + static_cast<int64_t>(i), rs[i].key, rs[i].value, rs[i].ts});
      }
    }
    const auto st = compact(1'000'000);
    ASSERT_TRUE(st.cleaned);
    ASSERT_EQ(st.failures, 0u);
    // Expected: below dirty_end, the last record of each key (tombstones kept: long retention);
    // from dirty_end on (the last batch), everything.
    std::map<std::string, int64_t> last;
    for (const auto& r : all) {
      if (r.offset < st.dirty_end) last[*r.key] = r.offset;
    }
    std::vector<stored_rec> expected;
    for (const auto& r : all) {
      if (r.offset >= st.dirty_end || last[*r.key] == r.offset) expected.push_back(r);
    }
    ASSERT_EQ(records_in_log(), expected) << "round " << round;
    headers();
  }
  // With zero delete retention, two more passes (stamp, then remove) leave no tombstone below
  // the tail.
  append({{"final", "f", ts++}});
  compact(2'000'000, eager(0));
  compact(2'000'000, eager(0));
  for (const auto& r : records_in_log()) {
    if (r.offset < log().end_offset() - 1) {
      EXPECT_TRUE(r.value.has_value()) << r;
    }
  }
}

TEST_P(CompactionTest, LargeLogsAreRewrittenInSeveralWindows) {
  // ~9 MB of batches that each lose one record, ~10 MB of untouched batches, then a few more
  // changed ones: more than one replace window (8 MiB) of changes, and an unchanged stretch
  // longer than a window that must not be rewritten (nor held in memory).
  std::vector<stored_rec> expected;
  int64_t ts = 1;
  for (int i = 0; i < 150; ++i) {
    const std::string big(60'000, static_cast<char>('a' + i % 26));
    const int64_t base = append({{"dup", "old", ts}, {cat("a", i), big, ts + 1}});
    expected.push_back(R(base + 1, cat("a", i), big, ts + 1));
    ts += 2;
  }
  const int64_t untouched_from = log().end_offset();
  for (int i = 0; i < 120; ++i) {
    const std::string big(80'000, static_cast<char>('A' + i % 26));
    const int64_t base = append({{cat("b", i), big, ts}});
    expected.push_back(R(base, cat("b", i), big, ts++));
  }
  const int64_t untouched_to = log().end_offset();
  for (int i = 0; i < 5; ++i) {
    const int64_t base = append({{"dup", cat("v", i), ts}, {cat("c", i), "c", ts + 1}});
    if (i == 4) expected.push_back(R(base, "dup", "v4", ts));
    expected.push_back(R(base + 1, cat("c", i), "c", ts + 1));
    ts += 2;
  }
  const int64_t tail = append({{"tail", "t", ts}});
  expected.push_back(R(tail, "tail", "t", ts));
  std::vector<const uint8_t*> before;
  for (const auto& c : must(log().read(untouched_from, SIZE_MAX)).chunks) {
    if (records::read_batch_header(c.data).base_offset < untouched_to) before.push_back(c.data);
  }

  const auto st = compact(1'000'000);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.failures, 0u);
  EXPECT_EQ(st.records_removed, 154u);
  EXPECT_EQ(st.batches_rewritten, 154u);
  EXPECT_EQ(records_in_log(), expected);
  if (GetParam() == "memory") {
    const auto rd = must(log().read(untouched_from, SIZE_MAX));
    ASSERT_GE(rd.chunks.size(), before.size());
    for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(rd.chunks[i].data, before[i]) << i;
  }
}

TEST_P(CompactionTest, ResultSurvivesAReopenAndCompactionResumes) {
  if (GetParam() != "rocksdb") GTEST_SKIP() << "memory logs keep nothing";
  append({{"k1", "a", 1}, {"k2", "b", 2}});
  append({{"k1", "c", 3}});
  append({{"tail", "t", 4}});
  ASSERT_TRUE(compact(10'000).cleaned);
  const auto expected = records_in_log();
  log_.reset();
  engine_.reset();
#if MINIKAFKA_HAVE_ROCKSDB
  auto e = storage::open_rocksdb_engine(dir_, storage::rocksdb_options{});
  ASSERT_TRUE(e.ok());
  engine_ = std::move(e.value());
#endif
  auto l = engine_->open_log(kTopicId, 0);
  ASSERT_TRUE(l.ok());
  log_ = std::move(l.value());
  EXPECT_EQ(records_in_log(), expected);
  EXPECT_EQ(log().end_offset(), 4);
  // Fresh progress (a restarted broker): the whole log is looked at again, nothing changes.
  progress_ = compaction_progress{};
  const auto st = compact(10'000);
  EXPECT_TRUE(st.cleaned);
  EXPECT_EQ(st.records_removed, 0u);
  EXPECT_EQ(records_in_log(), expected);
}

INSTANTIATE_TEST_SUITE_P(Backends, CompactionTest,
                         testing::Values("memory"
#if MINIKAFKA_HAVE_ROCKSDB
                                         ,
                                         "rocksdb"
#endif
                                         ),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

// ---------------------------------------------------------------------------------------------
// log_compactor over a cluster: only compacted topics are touched.

TEST(LogCompactorTest, CompactsOnlyTopicsWithCompactPolicy) {
  storage::memory_engine engine;
  broker_config cfg;
  cluster cl(cfg, engine);
  topic_state* compacted = nullptr;
  topic_state* plain = nullptr;
  cluster::create_spec spec;
  spec.name = "changelog";
  spec.partitions = 2;
  spec.configs = {{"cleanup.policy", "compact,delete"}, {"min.cleanable.dirty.ratio", "0.01"}};
  ASSERT_FALSE(cl.create_topic(spec, false, &compacted));
  spec.name = "events";
  spec.configs = {};
  ASSERT_FALSE(cl.create_topic(spec, false, &plain));
  ASSERT_NE(compacted, nullptr);
  ASSERT_NE(plain, nullptr);

  const auto fill = [](storage::partition_log& log) {
    for (int i = 0; i < 3; ++i) {
      std::vector<records::record_in> in = {{std::string("k"), cat("v", i), {}, 1000 + i}};
      const int64_t base = log.end_offset();
      auto bytes = records::build_batch(in, codec::none, base);
      storage::batch_to_append b{base, base, 1000 + i, shared_chunk::adopt(std::move(bytes))};
      ASSERT_TRUE(log.append(std::span(&b, 1)).ok());
    }
  };
  for (auto& p : compacted->partitions) fill(*p->log);
  for (auto& p : plain->partitions) fill(*p->log);

  log_compactor compactor;
  EXPECT_EQ(compactor.run(cl, 10'000), 2u);  // both partitions of the compacted topic
  for (auto& p : compacted->partitions) {
    EXPECT_EQ(must(p->log->read(0, SIZE_MAX)).chunks.size(), 2u);  // k=v1 and the tail k=v2
    EXPECT_EQ(p->log->end_offset(), 3);
    ASSERT_NE(compactor.progress(compacted->id.to_hex(), p->index), nullptr);
  }
  for (auto& p : plain->partitions) EXPECT_EQ(must(p->log->read(0, SIZE_MAX)).chunks.size(), 3u);
  EXPECT_EQ(compactor.progress(plain->id.to_hex(), 0), nullptr);
  // Nothing new: nothing to do.
  EXPECT_EQ(compactor.run(cl, 10'001), 0u);
  // A deleted topic's progress is forgotten.
  const std::string id = compacted->id.to_hex();
  ASSERT_FALSE(cl.delete_topic("changelog"));
  compactor.run(cl, 10'002);
  EXPECT_EQ(compactor.progress(id, 0), nullptr);
}

}  // namespace
}  // namespace mk
