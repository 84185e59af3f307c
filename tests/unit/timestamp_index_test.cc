// storage::timestamp_index on its own, against a plain vector of timestamps standing for the log.
// The backends' use of it (through find_by_timestamp / max_timestamp_batch) is covered by
// storage_partition_log_test.cc for every backend.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "storage/timestamp_index.h"

namespace mk::storage {
namespace {

// A log of max_timestamps kept in step with its index, as a backend does.
class model_log {
 public:
  model_log() = default;
  explicit model_log(std::initializer_list<int64_t> ts) {
    for (int64_t t : ts) append(t);
  }

  void append(int64_t ts) {
    ts_.push_back(ts);
    index_.push_back(ts);
  }
  // Returns how many timestamps the index asked for.
  size_t drop_front(size_t n) {
    ts_.erase(ts_.begin(), ts_.begin() + static_cast<std::ptrdiff_t>(n));
    size_t calls = 0;
    index_.pop_front(n, [this, &calls](size_t i) {
      ++calls;
      return ts_.at(i);
    });
    return calls;
  }
  void replace_all(std::vector<int64_t> ts) {
    ts_ = std::move(ts);
    index_.assign(ts_.size(), [this](size_t i) { return ts_.at(i); });
  }

  // What the index must answer, by a linear scan.
  std::optional<size_t> expected_first_at_or_after(int64_t ts) const {
    for (size_t i = 0; i < ts_.size(); ++i) {
      if (ts_[i] >= ts) return i;
    }
    return std::nullopt;
  }
  std::optional<size_t> expected_max_position() const {
    std::optional<size_t> best;
    for (size_t i = 0; i < ts_.size(); ++i) {
      if (!best || ts_[i] > ts_[*best]) best = i;
    }
    return best;
  }

  const timestamp_index& index() const { return index_; }

 private:
  std::vector<int64_t> ts_;
  timestamp_index index_;
};

TEST(TimestampIndexTest, EmptyIndexFindsNothing) {
  timestamp_index idx;
  EXPECT_FALSE(idx.first_at_or_after(0).has_value());
  EXPECT_FALSE(idx.first_at_or_after(INT64_MIN).has_value());
  EXPECT_FALSE(idx.max_position().has_value());
  EXPECT_EQ(idx.batch_count(), 0u);
  EXPECT_EQ(idx.leader_count(), 0u);
}

TEST(TimestampIndexTest, IncreasingTimestampsAreAllLeaders) {
  timestamp_index idx;
  for (int64_t ts : {10, 20, 30}) idx.push_back(ts);
  EXPECT_EQ(idx.batch_count(), 3u);
  EXPECT_EQ(idx.leader_count(), 3u);
  EXPECT_EQ(idx.first_at_or_after(INT64_MIN), 0u);
  EXPECT_EQ(idx.first_at_or_after(10), 0u);
  EXPECT_EQ(idx.first_at_or_after(11), 1u);
  EXPECT_EQ(idx.first_at_or_after(20), 1u);
  EXPECT_EQ(idx.first_at_or_after(30), 2u);
  EXPECT_FALSE(idx.first_at_or_after(31).has_value());
  EXPECT_EQ(idx.max_position(), 2u);
}

TEST(TimestampIndexTest, OnlyRunningMaximaAreLeaders) {
  timestamp_index idx;
  for (int64_t ts : {50, 10, 60, 60, 20, 70}) idx.push_back(ts);
  EXPECT_EQ(idx.batch_count(), 6u);
  EXPECT_EQ(idx.leader_count(), 3u);  // 50, 60 (the first), 70
  EXPECT_EQ(idx.first_at_or_after(5), 0u);
  EXPECT_EQ(idx.first_at_or_after(15), 0u);  // batch 1 (10) comes after a larger one
  EXPECT_EQ(idx.first_at_or_after(55), 2u);
  EXPECT_EQ(idx.first_at_or_after(60), 2u);  // earliest of the two 60s
  EXPECT_EQ(idx.first_at_or_after(61), 5u);
  EXPECT_EQ(idx.max_position(), 5u);
}

TEST(TimestampIndexTest, MaxIsTheEarliestOnTies) {
  timestamp_index idx;
  for (int64_t ts : {5, 30, 30, 10, 30}) idx.push_back(ts);
  EXPECT_EQ(idx.max_position(), 1u);
  EXPECT_EQ(idx.first_at_or_after(30), 1u);
}

TEST(TimestampIndexTest, BatchesWithoutTimestampMinusOneAreIndexed) {
  timestamp_index idx;
  for (int64_t ts : {-1, -1, -1}) idx.push_back(ts);
  EXPECT_EQ(idx.leader_count(), 1u);
  EXPECT_EQ(idx.first_at_or_after(-1), 0u);
  EXPECT_FALSE(idx.first_at_or_after(0).has_value());
  EXPECT_EQ(idx.max_position(), 0u);
}

TEST(TimestampIndexTest, PopFrontOfNoBatchesChangesNothing) {
  model_log log{10, 5, 20};
  EXPECT_EQ(log.drop_front(0), 0u);
  EXPECT_EQ(log.index().batch_count(), 3u);
  EXPECT_EQ(log.index().leader_count(), 2u);
  EXPECT_EQ(log.index().first_at_or_after(6), 0u);
  EXPECT_EQ(log.index().max_position(), 2u);
}

// The first stored batch is always a leader, so every real drop drops one; when the new first
// batch is itself a leader there is nothing before it to rescan.
TEST(TimestampIndexTest, PopFrontUpToALeaderShiftsPositionsWithoutRescan) {
  model_log log{10, 20, 15, 12, 30};  // leaders at 0, 1, 4
  EXPECT_EQ(log.drop_front(1), 0u);   // {20, 15, 12, 30}
  EXPECT_EQ(log.index().batch_count(), 4u);
  EXPECT_EQ(log.index().leader_count(), 2u);
  EXPECT_EQ(log.index().first_at_or_after(16), 0u);
  EXPECT_EQ(log.index().first_at_or_after(21), 3u);
  EXPECT_EQ(log.index().max_position(), 3u);
}

TEST(TimestampIndexTest, PopFrontRescansOnlyUpToTheFirstSurvivingLeader) {
  model_log log{100, 40, 50, 45, 200, 150};  // leaders at 0 and 4
  // {40, 50, 45, 200, 150}: 40 and 50 become leaders, before 200. Only positions 0-2 are read,
  // not 200 nor what follows it.
  EXPECT_EQ(log.drop_front(1), 3u);
  EXPECT_EQ(log.index().leader_count(), 3u);
  EXPECT_EQ(log.index().first_at_or_after(0), 0u);
  EXPECT_EQ(log.index().first_at_or_after(41), 1u);
  EXPECT_EQ(log.index().first_at_or_after(51), 3u);
  EXPECT_EQ(log.index().max_position(), 3u);
}

TEST(TimestampIndexTest, PopFrontOfTheOnlyLeaderRescansTheRestOfTheLog) {
  model_log log{100, 90, 80, 85};  // decreasing: one leader
  EXPECT_EQ(log.index().leader_count(), 1u);
  EXPECT_EQ(log.drop_front(1), 3u);  // {90, 80, 85}
  EXPECT_EQ(log.index().leader_count(), 1u);
  EXPECT_EQ(log.index().max_position(), 0u);
  EXPECT_EQ(log.index().first_at_or_after(81), 0u);
  EXPECT_FALSE(log.index().first_at_or_after(91).has_value());
}

TEST(TimestampIndexTest, PopFrontOfEverythingEmptiesTheIndex) {
  model_log log{1, 2, 3};
  EXPECT_EQ(log.drop_front(3), 0u);
  EXPECT_EQ(log.index().batch_count(), 0u);
  EXPECT_EQ(log.index().leader_count(), 0u);
  EXPECT_FALSE(log.index().max_position().has_value());
  EXPECT_FALSE(log.index().first_at_or_after(INT64_MIN).has_value());

  log.append(7);  // and it goes on from there
  EXPECT_EQ(log.index().max_position(), 0u);
  EXPECT_EQ(log.index().first_at_or_after(7), 0u);
}

TEST(TimestampIndexTest, AppendsAfterPopFrontGetPositionsAfterTheRemainingBatches) {
  model_log log{1, 2, 3, 4};
  log.drop_front(2);  // {3, 4}
  log.append(10);     // {3, 4, 10}
  EXPECT_EQ(log.index().batch_count(), 3u);
  EXPECT_EQ(log.index().first_at_or_after(4), 1u);
  EXPECT_EQ(log.index().first_at_or_after(5), 2u);
  EXPECT_EQ(log.index().max_position(), 2u);
}

TEST(TimestampIndexTest, AssignReplacesEverything) {
  model_log log{1, 500, 3};
  log.drop_front(1);
  log.replace_all({300, 100, 400});
  EXPECT_EQ(log.index().batch_count(), 3u);
  EXPECT_EQ(log.index().leader_count(), 2u);
  EXPECT_EQ(log.index().max_position(), 2u);
  EXPECT_EQ(log.index().first_at_or_after(200), 0u);
  EXPECT_EQ(log.index().first_at_or_after(301), 2u);
  EXPECT_FALSE(log.index().first_at_or_after(401).has_value());

  log.replace_all({});
  EXPECT_EQ(log.index().batch_count(), 0u);
  EXPECT_FALSE(log.index().max_position().has_value());
}

// Random appends, front drops and reassignments, each followed by a comparison of every answer
// with a linear scan of the log.
TEST(TimestampIndexTest, MatchesALinearScanUnderRandomOperations) {
  std::mt19937_64 rng(20240611);
  auto pick = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  model_log log;
  size_t size = 0;
  for (int step = 0; step < 3000; ++step) {
    const int64_t op = pick(0, 9);
    if (op < 6) {
      // Mostly increasing timestamps, as produced, with some going back in time.
      log.append(pick(0, 3) == 0 ? pick(-1, 1000) : 500 + step);
      ++size;
    } else if (op < 9) {
      const auto n = static_cast<size_t>(pick(0, static_cast<int64_t>(size)));
      log.drop_front(n);
      size -= n;
    } else {
      std::vector<int64_t> ts(static_cast<size_t>(pick(0, 20)));
      for (auto& t : ts) t = pick(-1, 1000);
      size = ts.size();
      log.replace_all(std::move(ts));
    }
    ASSERT_EQ(log.index().batch_count(), size) << "step " << step;
    ASSERT_EQ(log.index().max_position(), log.expected_max_position()) << "step " << step;
    for (int64_t ts : {INT64_MIN, int64_t{-1}, int64_t{0}, pick(0, 1000), pick(500, 4000),
                       int64_t{4000}}) {
      ASSERT_EQ(log.index().first_at_or_after(ts), log.expected_first_at_or_after(ts))
          << "step " << step << " ts " << ts;
    }
  }
}

}  // namespace
}  // namespace mk::storage
