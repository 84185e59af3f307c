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

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
  // "system", or "manual": time moves only by advance_clock() (docs/TESTING.md, "Virtual clock").
  std::string clock = "system";
  size_t trace_capacity = 1000;  // requests kept by the request trace; 0 = off
  std::string emulate_kafka_version;  // e.g. "2.8": advertise what that Kafka release did ("" = all)
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

// A fault-injection rule (docs/TESTING.md, "Fault rules"; the same as POST /v1/control/faults).
// Match: every field that is set must hold; unset fields match anything, so a rule without
// `api` applies to every request it matches. Act: an error in the API's own response (in every
// error field, per topic and partition), a delay (alone or before the error), or drop (no
// response: the client times out) / close (the connection). How often: `after` lets the first
// N matches through; then every match, the next `count` matches, or each match with
// `probability` (deterministic for one `seed`).
//
//   minikafka::fault_rule r;
//   r.api = "Produce";
//   r.topic = "orders";
//   r.error = "NOT_LEADER_OR_FOLLOWER";
//   r.count = 3;
//   int64_t id = broker.add_fault(r);
struct fault_rule {
  enum class action { none, drop, close };

  std::string api;                      // "Produce" (any case) or the key ("0"); "" = every API
  std::optional<int16_t> min_version;   // request versions the rule matches
  std::optional<int16_t> max_version;
  std::optional<std::string> topic;     // a topic the request names (by name or id)
  std::optional<int32_t> partition;     // a partition the request names (of `topic`, if set)
  std::optional<int32_t> broker;        // node id whose listener took the connection
  std::optional<std::string> client_id;
  std::optional<std::string> group_id;
  std::optional<std::string> transactional_id;

  std::string error;                    // Kafka error name ("NOT_LEADER_OR_FOLLOWER") or code; "" = none
  int32_t delay_ms = 0;
  action act = action::none;            // drop or close (not with `error`)

  std::optional<int64_t> count;         // fire on the next N matches only
  int64_t after = 0;                    // let the first N matches through
  std::optional<double> probability;    // fire on each match with this probability
  std::optional<uint64_t> seed;         // for `probability`; default random
};

struct fault_rule_status {
  int64_t id = 0;
  fault_rule rule;          // api and error as canonical names ("Produce", "NOT_LEADER_OR_FOLLOWER")
  int64_t matched = 0;      // requests that matched
  int64_t fired = 0;        // requests the rule acted on
  bool exhausted = false;   // `count` reached
};

// The broker's clock (broker::clock()).
struct clock_reading {
  bool manual = false;
  int64_t wall_ms = 0;    // ms since the epoch: record timestamps, commit times
  int64_t steady_ms = 0;  // monotonic ms: deadlines
};

// A consumer group as broker::await_group() last saw it.
struct group_status {
  std::string group_id;
  bool exists = false;
  std::string state;  // "Empty", "PreparingRebalance", "CompletingRebalance", "Stable"; "Dead" when absent
  int32_t generation_id = 0;
  std::vector<std::string> member_ids;
};

// One request as the request trace recorded it (broker::trace(); GET /v1/trace).
struct traced_request {
  struct topic {
    std::string name;
    std::vector<int32_t> partitions;
  };
  uint64_t seq = 0;
  int64_t time_ms = 0;      // arrival, real ms since the epoch
  double latency_ms = 0;
  int32_t broker = 0;       // node id
  uint64_t connection = 0;
  std::string peer;         // client "host:port"
  std::string client_id;
  std::string client_software_name;     // from ApiVersions v3+, "" when not announced
  std::string client_software_version;
  std::string api;          // "Produce"
  int16_t api_key = 0;
  int16_t version = 0;
  int32_t correlation_id = 0;
  std::string outcome;      // "answered", "fault_error", "dropped", "closed", "not_answered", "refused"
  std::string reason;       // for "refused": the API or version this broker does not serve
  std::optional<int64_t> fault_rule;  // id of the fault rule that acted on it
  std::vector<std::string> error_codes;  // names of the response's non-zero error codes
  std::vector<topic> topics;
  std::vector<std::string> group_ids;
  std::vector<std::string> transactional_ids;
};

// What broker::reset() removed.
struct reset_result {
  std::vector<std::string> topics;
  std::vector<std::string> groups;
  size_t fault_rules = 0;
  size_t trace_entries = 0;
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

  // ---- test control plane (docs/TESTING.md; the HTTP routes under /v1/control do the same)

  // Adds a fault rule; returns its id. Throws minikafka::error (INVALID_REQUEST) for a rule
  // that does nothing or is inconsistent, or names an unknown API or error.
  int64_t add_fault(const fault_rule& rule);
  // Every rule with its counters, in the order they were added (= the order they are tried).
  std::vector<fault_rule_status> faults() const;
  // False when there is no such rule.
  bool remove_fault(int64_t id);
  // Removes every rule; returns how many there were.
  size_t clear_faults();

  // Deletes every topic (data, producer state), every group in any state (members rejoin) with its
  // committed offsets, every fault rule and the request trace, in milliseconds, so one broker
  // serves a whole test session. With a prefix: only topics and groups whose names start with
  // it, and the fault rules naming such a topic, group, transactional id or client id.
  reset_result reset(const std::string& prefix = "");

  // Await oracles: each blocks until its condition holds (true) or `timeout` passes (false),
  // re-checking whenever the state it depends on changes (no polling, no sleeps). `last`, when
  // given, receives what was last observed, for the failure message.
  //
  // The group is in `state` ("" = any) with `members` members (-1 = any); with neither, exists.
  bool await_group(const std::string& group_id, const std::string& state, int members = -1,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10), group_status* last = nullptr);
  // The group's lag on `topic` (every partition; uncommitted ones count from the log start) is at
  // most `max_lag`; with topic "" over the partitions it committed to.
  bool await_lag(const std::string& group_id, const std::string& topic, int64_t max_lag = 0,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10), int64_t* last = nullptr);
  // The topic holds at least `min` records appended (sum of end offsets), on one partition when
  // `partition` >= 0.
  bool await_records(const std::string& topic, int64_t min, int32_t partition = -1,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10), int64_t* last = nullptr);

  // At least `min` requests of `api` ("" = any) from `client_id` ("" = any) arrived since start
  // or the last reset (counted by the request trace; throws when the trace is off).
  bool await_requests(const std::string& api, const std::string& client_id, int64_t min,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10), int64_t* last = nullptr);

  // The request trace, oldest first: the newest `limit` entries of `api` ("" = any) from
  // `client_id` ("" = any). Empty when the trace is off (broker_options::trace_capacity = 0).
  std::vector<traced_request> trace(const std::string& api = "", const std::string& client_id = "",
                                    size_t limit = static_cast<size_t>(-1)) const;

  // Kafka-version emulation: advertise and serve only what Kafka `version` ("2.8", "0.11.0",
  // "4.0") advertised, so clients negotiate down exactly as against that release; on node
  // `broker_id` only, or every node (-1). Throws minikafka::error for an unknown release.
  void emulate_kafka_version(const std::string& version, int32_t broker_id = -1);
  // Narrows one API ("Fetch") to [min_version, max_version] on top of the current emulation
  // (within what minikafka implements; throws otherwise).
  void set_api_versions(const std::string& api, int16_t min_version, int16_t max_version, int32_t broker_id = -1);
  // Back to minikafka's own API table.
  void restore_api_versions(int32_t broker_id = -1);
  // The releases emulate_kafka_version() knows, oldest first.
  static std::vector<std::string> kafka_versions();

  // The broker's clock.
  clock_reading clock() const;
  // Moves a manual clock (broker_options::clock = "manual") forward by `ms`: group sessions and
  // rebalance timeouts expire, retention and compaction run, parked fetches whose max wait passed
  // answer, all before this returns. Throws minikafka::error on the system clock.
  void advance_clock(int64_t ms);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace minikafka
