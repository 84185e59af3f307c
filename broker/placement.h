// Where partitions live in the simulated cluster: replica placement and coordinator partitions,
// computed as Kafka computes them, as pure functions (no state; unit-tested alone).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace mk::placement {

// Java's String.hashCode() of a UTF-8 string (decoded to UTF-16 code units as Java's decoder
// would, invalid bytes as U+FFFD), so group and transactional ids hash as in Kafka.
int32_t java_string_hash(std::string_view utf8);

// Kafka's Utils.abs: |n|, and 0 for INT32_MIN.
inline int32_t kafka_abs(int32_t n) { return n == INT32_MIN ? 0 : (n < 0 ? -n : n); }

// The partition of Kafka's __consumer_offsets (groups) or __transaction_state (transactional
// ids) that holds `key`: Utils.abs(key.hashCode) % partitions (Kafka's default 50 for both).
inline constexpr int32_t coordinator_partitions = 50;
inline int32_t coordinator_partition(std::string_view key, int32_t partitions = coordinator_partitions) {
  return kafka_abs(java_string_hash(key)) % partitions;
}

// Kafka's rack-unaware replica assignment (AdminUtils.assignReplicasToBrokersRackUnaware) with a
// fixed start index: partition p's first replica (its preferred leader) is
// brokers[(p + start_index) % n]; the others follow at a shift that grows by one every n
// partitions, so leaders and followers spread evenly. `brokers` must be sorted and distinct;
// 1 <= replication_factor <= brokers.size(). Partitions start_partition..start_partition +
// partitions - 1 are assigned (start_partition > 0 when a topic grows, as Kafka's
// addPartitions does). Returns one replica list per partition.
std::vector<std::vector<int32_t>> assign_replicas(const std::vector<int32_t>& brokers, int32_t partitions,
                                                  int32_t replication_factor, int32_t start_index,
                                                  int32_t start_partition = 0);

// Kafka draws the start index (and first shift) at random; minikafka derives it from the topic
// name, Utils.abs(name.hashCode) % brokers, so a topic lands on the same brokers in every run and
// after a restart, while different topics still start on different brokers.
inline int32_t start_index_for(std::string_view topic, size_t brokers) {
  return brokers == 0 ? 0 : kafka_abs(java_string_hash(topic)) % static_cast<int32_t>(brokers);
}

}  // namespace mk::placement
