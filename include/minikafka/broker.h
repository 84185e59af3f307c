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
  int32_t node_id = 1;
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

  // "host:port" for clients' bootstrap.servers. Valid after start().
  std::string bootstrap() const;
  uint16_t port() const;
  // "http://127.0.0.1:PORT" of the admin API, or "" when it is off.
  std::string admin_url() const;

  // Creates a topic; throws minikafka::error (e.g. TOPIC_ALREADY_EXISTS).
  void create_topic(const std::string& name, int32_t partitions = 1,
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

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace minikafka
