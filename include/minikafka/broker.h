// minikafka embedding API: run a Kafka-compatible broker inside your process.
//
//   minikafka::broker b;                 // 127.0.0.1, ephemeral port, in-memory storage
//   b.start();
//   std::string servers = b.bootstrap();  // "127.0.0.1:41234" for bootstrap.servers
//   b.create_topic("orders", 3);
//   ...
//   b.stop();                            // also done by the destructor
//
// Several brokers may run in one process at once; each owns its own thread and state. All
// member functions are thread-safe and may be called from any thread except the broker's own.
// When create_topic() returns, the topic exists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace minikafka {

struct broker_options {
  std::string host = "127.0.0.1";  // address to bind
  uint16_t port = 0;               // 0 = ephemeral
  std::string advertised_host;     // host put in Metadata; empty = host
  int32_t node_id = 1;             // id of the first broker
  // Simulated brokers, one shared state: ids node_id..node_id+brokers-1, each with its own
  // listener (ports port..port+brokers-1, or each ephemeral when port is 0).
  int32_t brokers = 1;
  int32_t default_partitions = 1;  // partitions of auto-created topics
  bool auto_create_topics = true;
  bool strict_replication_factor = false;  // reject replication factor > broker count like Kafka
  size_t max_request_size = 100 * 1024 * 1024;
  int32_t admin_port = -1;      // HTTP admin API: -1 = off (default when embedded), 0 = ephemeral
  size_t max_memory_bytes = 0;  // cap on stored record bytes (0 = none)
  int32_t retention_check_interval_ms = 1000;
  int32_t group_initial_rebalance_delay_ms = 0;  // Kafka: 3000
  int32_t group_min_session_timeout_ms = 6000;
  int32_t group_max_session_timeout_ms = 1800000;
  std::string admin_host = "127.0.0.1";  // address the HTTP admin API binds to
  std::string cluster_id = "minikafka-cluster";
  std::string storage = "memory";  // "memory" or "rocksdb" (needs data_dir)
  std::string data_dir;
  bool sync = false;               // rocksdb: fsync the WAL before acknowledging a produce
  std::string record_requests_dir;  // debugging: dump every request frame here
  int32_t transaction_max_timeout_ms = 900000;  // longer transaction.timeout.ms are refused
};

// The answer of an admin API route called in-process (broker::admin_request).
struct admin_response {
  int status = 0;             // HTTP status: 200, 400, 404, ...
  std::string content_type;   // "application/json" (errors: {"error": code, "message": text})
  std::string body;
};

// Consumer lag of one partition for a group: end offset minus committed offset.
struct partition_lag {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;   // -1: nothing committed
  int64_t end_offset = 0;   // high watermark
  int64_t lag = 0;          // end_offset - committed, or end_offset - log start when nothing is committed
};

// Where one partition lives in the (simulated) cluster.
struct partition_info {
  int32_t leader = -1;  // -1: no live leader
  int32_t leader_epoch = 0;
  std::vector<int32_t> replicas;  // the preferred leader first
  std::vector<int32_t> isr;       // in-sync replicas
};

// Thrown by broker operations that fail (the message carries Kafka's error name and text).
class error : public std::runtime_error {
 public:
  error(int16_t code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int16_t code() const { return code_; }  // Kafka error code

 private:
  int16_t code_;
};

// Sets the level of minikafka's log output (stderr) for the whole process: "trace", "debug",
// "info" (default), "warn", "error", "critical" or "off".
void set_log_level(const std::string& level);

class broker {
 public:
  explicit broker(broker_options options = {});
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  // Binds the listener and starts serving. Throws std::system_error when the port is taken.
  void start();
  // Stops serving and closes every connection. Idempotent.
  void stop();

  // "host:port" of every broker, comma-separated, for clients' bootstrap.servers. Valid after
  // start().
  std::string bootstrap() const;
  uint16_t port() const;                  // the first broker's port
  uint16_t port(int32_t broker_id) const;  // 0 for an unknown id
  std::vector<int32_t> broker_ids() const;  // in id order
  // "http://127.0.0.1:PORT" of the admin API, or "" when it is off.
  std::string admin_url() const;

  // Creates a topic; throws minikafka::error (e.g. TOPIC_ALREADY_EXISTS).
  void create_topic(const std::string& name, int32_t partitions = 1,
                    const std::map<std::string, std::string>& configs = {});
  // The same with a replication factor: replicas are placed over the live brokers as Kafka
  // does; more than there are live brokers is capped at their count, or refused
  // (INVALID_REPLICATION_FACTOR) with strict_replication_factor.
  void create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                    const std::map<std::string, std::string>& configs = {});
  // Deletes a topic and its data; throws minikafka::error when it does not exist.
  void delete_topic(const std::string& name);
  // Names of all topics.
  std::vector<std::string> topics() const;
  // Offset of the next record of topic/partition (the high watermark); throws when missing.
  int64_t end_offset(const std::string& topic, int32_t partition) const;
  // Per-partition lag of a consumer group over every partition it committed to.
  std::vector<partition_lag> group_lag(const std::string& group_id) const;
  // End offset (high watermark) of every partition of a topic, by partition; throws when missing.
  std::vector<int64_t> end_offsets(const std::string& topic) const;

  // Calls a route of the HTTP admin API in-process (broker/admin/admin_api.h lists them; the
  // control plane's /v1/control/ and /v1/await/ routes too), whether or not its HTTP listener
  // is on: `target` is the path with an optional query ("/v1/topics/t/partitions/0/records?offset=0"),
  // `body` the JSON body. Waits for the answer (an await route waits for its condition). Never
  // throws for an HTTP error: the status says it (503 when the broker is not started).
  admin_response admin_request(const std::string& method, const std::string& target,
                               const std::string& body = "");

  // ---- The simulated cluster (broker_options::brokers > 1), the same operations as the admin
  // API's /v1/control routes. They throw minikafka::error when refused: BROKER_NOT_AVAILABLE (8)
  // for an unknown broker id, UNKNOWN_TOPIC_OR_PARTITION (3), LEADER_NOT_AVAILABLE (5) /
  // COORDINATOR_NOT_AVAILABLE (15) for a move to a broker that is down, INVALID_GROUP_ID (24).

  // Takes a broker down: its listener closes every connection and refuses new ones; partitions
  // it led move to another live in-sync replica (leader epoch bumped) or are left without a
  // leader; groups it coordinated move. Idempotent.
  void broker_down(int32_t broker_id);
  // Brings it back on the same port, as a follower (leadership stays where it moved). Idempotent.
  void broker_up(int32_t broker_id);
  bool broker_is_up(int32_t broker_id) const;
  // Moves the leadership of topic/partition to `broker_id` (leader epoch bumped); a broker that is
  // not a replica replaces the old leader among the replicas.
  void move_leader(const std::string& topic, int32_t partition, int32_t broker_id);
  // Makes `broker_id` coordinate the group (which need not exist yet); the old coordinator
  // answers NOT_COORDINATOR.
  void move_coordinator(const std::string& group_id, int32_t broker_id);
  // Leader, epoch, replicas and ISR of a partition; throws when missing.
  partition_info partition(const std::string& topic, int32_t partition) const;
  // The broker coordinating a group, -1 when none is available.
  int32_t coordinator(const std::string& group_id) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace minikafka
