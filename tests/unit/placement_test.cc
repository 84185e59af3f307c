// Replica placement and coordinator partitions as Kafka computes them (broker/placement.h).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "broker/placement.h"

namespace {

using namespace mk::placement;
using ids = std::vector<int32_t>;

TEST(JavaStringHash, MatchesJavaForAsciiAndNonAscii) {
  // Values from Java's "...".hashCode().
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("a"), 97);
  EXPECT_EQ(java_string_hash("hello"), 99162322);
  EXPECT_EQ(java_string_hash("my-group"), -1906497762);  // negative: wrapped past 2^31
  EXPECT_EQ(java_string_hash("\xC3\xA9"), 233);          // "é": one UTF-16 unit
  EXPECT_EQ(java_string_hash("\xF0\x9F\x98\x80"), 1772899);  // U+1F600: a surrogate pair
  EXPECT_EQ(java_string_hash("\xFF"), 0xFFFD);           // invalid byte: U+FFFD
}

TEST(CoordinatorPartition, IsAbsHashModuloFifty) {
  EXPECT_EQ(coordinator_partition("my-group"), 1906497762 % 50);
  EXPECT_EQ(kafka_abs(INT32_MIN), 0);
  EXPECT_EQ(kafka_abs(-5), 5);
  for (const char* g : {"a", "group-1", "console-consumer-12345", ""}) {
    int32_t p = coordinator_partition(g);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 50);
  }
}

// Kafka's AssignmentTest / AdminRackAwareTest.testReplicaAssignment: brokers 0..4, 10 partitions,
// replication factor 3, fixed start index 0.
TEST(AssignReplicas, MatchesKafkaRackUnawareAssignment) {
  auto a = assign_replicas({0, 1, 2, 3, 4}, 10, 3, 0);
  std::vector<ids> expected = {{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0}, {4, 0, 1},
                               {0, 2, 3}, {1, 3, 4}, {2, 4, 0}, {3, 0, 1}, {4, 1, 2}};
  EXPECT_EQ(a, expected);
}

TEST(AssignReplicas, SpreadsLeadersAndUsesTheGivenIds) {
  auto a = assign_replicas({1, 2, 3}, 6, 1, 1);
  std::vector<ids> expected = {{2}, {3}, {1}, {2}, {3}, {1}};
  EXPECT_EQ(a, expected);
  auto b = assign_replicas({1, 2, 3}, 3, 3, 0);
  for (const auto& r : b) EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(b[0], (ids{1, 2, 3}));
  EXPECT_EQ(b[1], (ids{2, 3, 1}));
}

TEST(AssignReplicas, CapsReplicasAtBrokersAndHandlesNone) {
  EXPECT_EQ(assign_replicas({7}, 2, 3, 0), (std::vector<ids>{{7}, {7}}));
  EXPECT_TRUE(assign_replicas({}, 2, 1, 0).empty());
}

TEST(AssignReplicas, GrowingContinuesFromTheStartPartition) {
  // Kafka's addPartitions: partitions 3.. with the start index of partition 0's leader.
  auto a = assign_replicas({1, 2, 3}, 3, 2, 0, 3);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].front(), 1);
  EXPECT_EQ(a[1].front(), 2);
  EXPECT_EQ(a[2].front(), 3);
}

TEST(StartIndex, IsStablePerTopicAndWithinRange) {
  EXPECT_EQ(start_index_for("orders", 3), start_index_for("orders", 3));
  std::map<int32_t, int> seen;
  for (int i = 0; i < 30; ++i) {
    int32_t s = start_index_for("topic-" + std::to_string(i), 3);
    ASSERT_GE(s, 0);
    ASSERT_LT(s, 3);
    seen[s]++;
  }
  EXPECT_EQ(seen.size(), 3u);  // different topics start on different brokers
  EXPECT_EQ(start_index_for("x", 0), 0);
}

}  // namespace
