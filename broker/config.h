// Broker configuration: what the CLI flags and the embedding API set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mk {

struct broker_config {
  int32_t node_id = 1;             // id of the first broker
  // Simulated brokers in this process, one shared state: ids node_id..node_id+brokers-1, each on
  // its own Kafka listener at port..port+brokers-1 (port 0: each ephemeral).
  int32_t brokers = 1;
  std::string host = "127.0.0.1";  // address to bind
  uint16_t port = 9092;            // 0 = ephemeral
  std::string advertised_host;     // what Metadata tells clients; empty = host (or 127.0.0.1 for 0.0.0.0)
  std::string cluster_id = "minikafka-cluster";
  int32_t default_partitions = 1;  // num.partitions
  bool auto_create_topics = true;  // auto.create.topics.enable
  // Kafka rejects a replication factor above the (live) broker count. By default minikafka
  // accepts it and keeps one replica per broker (rf 3 on 1 broker: 1 replica), so scripts written
  // for a 3-broker cluster work unchanged; strict mode answers INVALID_REPLICATION_FACTOR as
  // Kafka does.
  bool strict_replication_factor = false;
  size_t max_request_size = 100 * 1024 * 1024;  // socket.request.max.bytes
  int32_t message_max_bytes = 1048588;          // message.max.bytes (topic default max.message.bytes)
  int32_t fetch_max_bytes = 57671680;           // fetch.max.bytes cap on a Fetch response
  // HTTP admin API. admin_port -1 = off, 0 = ephemeral.
  std::string admin_host = "127.0.0.1";
  int32_t admin_port = -1;
  // When admin_port is taken (address in use), listen on an ephemeral port instead of failing
  // (the executable sets this when the port is its default, not one asked for).
  bool admin_port_fallback = false;
  // Storage. "memory" (default) or "rocksdb" (needs data_dir).
  std::string storage = "memory";
  std::string data_dir;
  bool sync = false;              // rocksdb: fsync the WAL before acknowledging a produce
  size_t max_memory_bytes = 0;    // memory: cap on stored batch bytes (0 = none)
  int32_t retention_check_interval_ms = 1000;  // how often retention.ms/bytes are enforced
  // Consumer groups (Kafka defaults, except the initial delay: Kafka's 3 s is the most common
  // cause of slow tests, so minikafka starts groups at once unless asked otherwise).
  int32_t group_initial_rebalance_delay_ms = 0;
  int32_t group_min_session_timeout_ms = 6000;
  int32_t group_max_session_timeout_ms = 1800000;
  // "system", or "manual": time moves only by control_service::advance_clock (POST
  // /v1/control/clock/advance), for group timeouts, retention, fetch max-wait, timestamps.
  std::string clock = "system";
  // Advertise and serve only the API ranges of this Kafka release ("2.8", "0.11.0"; see
  // broker/control/kafka_versions.h); empty = minikafka's own.
  std::string emulate_kafka_version;
  // Request trace (GET /v1/trace, GET /v1/await/requests): how many recent requests are kept;
  // 0 turns the trace off (no interceptor at all).
  size_t trace_capacity = 1000;
  // transaction.max.timeout.ms: longer transaction.timeout.ms are refused (INVALID_TRANSACTION_TIMEOUT).
  int32_t transaction_max_timeout_ms = 900000;
  // When set, every request frame (header + body, without the size prefix) is written to
  // <dir>/<api>_request_v<version>_<client_id>.bin (last one wins); used to capture golden frames.
  std::string record_requests_dir;
};

}  // namespace mk
