// Shared pieces of the `minikafka <tool>` subcommands: argument parsing conventions, exit codes,
// client properties, and a small RAII layer over librdkafka (handles, metadata, admin calls)
// that never waits longer than the caller's timeout.
//
// Conventions for every tool:
//  * exit 0 on success, 1 on a runtime failure (broker unreachable, request failed), 2 on a
//    usage error (unknown option, missing or conflicting arguments, bad values);
//  * data goes to stdout, errors and warnings to stderr ("Error: ...");
//  * librdkafka's own log lines are suppressed (set MINIKAFKA_CLI_DEBUG=1 to see them, or
//    MINIKAFKA_CLI_DEBUG=<librdkafka debug contexts>, e.g. "broker,protocol").
#pragma once

#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mk::cli {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

constexpr const char* default_bootstrap = "localhost:9092";
constexpr int default_timeout_ms = 10000;

// Thrown for wrong arguments: the tool prints the message and exits 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Thrown for failures at run time: the tool prints the message and exits 1.
struct runtime_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses argv (argv[0] = the subcommand name) with CLI11. Returns an exit code when the tool
// should stop now (0 after --help; 2 after a usage error, with the message on stderr). --help
// ends with the exit codes (add_exit_codes_footer); --zookeeper is refused with a hint.
std::optional<int> parse_args(CLI::App& app, int argc, char** argv);

// Appends the exit-code convention to the app's --help (idempotent).
void add_exit_codes_footer(CLI::App& app);

// Runs a tool body, mapping usage_error / runtime_failure / other exceptions to exit codes.
int run_guarded(const char* tool, const std::function<int()>& body);

// Prints "Error: msg" on stderr.
void print_error(const std::string& msg);
void print_warning(const std::string& msg);

using properties = std::map<std::string, std::string>;

// "k=v" arguments (--property, --producer-property, ...). Throws usage_error on a missing '='.
properties parse_key_values(const std::vector<std::string>& args, const std::string& option);
// A Java-style .properties file: "key=value" or "key: value" lines, '#'/'!' comments.
properties load_properties_file(const std::string& path);

std::string trim(const std::string& s);
std::vector<std::string> split(const std::string& s, char sep);
// Parses a whole decimal integer; nullopt on anything else.
std::optional<long long> parse_int(const std::string& s);

// Full-match of a Kafka topic argument (a regular expression, like Kafka's tools).
// Throws usage_error for an invalid expression.
class topic_matcher {
 public:
  explicit topic_matcher(const std::string& pattern);
  bool matches(const std::string& topic) const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// Kafka's internal topics (listed unless --exclude-internal).
bool is_internal_topic(const std::string& name);

// ---------------------------------------------------------------------------------------------
// librdkafka

struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;

struct event_deleter {
  void operator()(rd_kafka_event_t* ev) const { rd_kafka_event_destroy(ev); }
};
using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;

struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

// One librdkafka handle plus the last error its callbacks reported (connection failures show
// up there long before any request times out).
class client {
 public:
  // `props` are librdkafka properties (bootstrap.servers included). Java-only client properties
  // (serializers, ...) are skipped with a warning; anything else librdkafka rejects is a
  // usage_error naming the property. `configure` may adjust the conf before the handle exists.
  client(rd_kafka_type_t type, const properties& props,
         const std::function<void(rd_kafka_conf_t*)>& configure = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  rd_kafka_t* rk() const { return rk_; }
  const std::string& bootstrap() const { return bootstrap_; }
  std::string last_error() const;

  // Waits until some broker answers a Metadata request; throws runtime_failure naming the
  // bootstrap servers and the last connection error otherwise. Refused connections, unknown
  // hosts and ports that answer in another protocol (HTTP) fail at once (probe_bootstrap).
  void ensure_connected(int timeout_ms);

  // Metadata for all topics (all_topics) or just the broker list; throws runtime_failure.
  metadata_ptr metadata(bool all_topics, int timeout_ms);
  // Metadata for one topic (its error, if any, is in the result); throws runtime_failure when the
  // request itself fails.
  metadata_ptr topic_metadata(const std::string& topic, int timeout_ms);

  // Issues an admin request and waits for its result event (of `expected` type). Throws
  // runtime_failure on a timeout or a request-level error.
  event_ptr admin(rd_kafka_admin_op_t op, rd_kafka_event_type_t expected, int timeout_ms,
                  const std::function<void(const rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& issue,
                  bool set_operation_timeout = false);

  // Describes a failure of a call that ended in `err`, adding the last connection error when
  // the broker was never reached.
  std::string explain(rd_kafka_resp_err_t err, const std::string& what) const;

  // Free for the tool's callbacks (rd_kafka_opaque() is this client).
  void* user = nullptr;

 private:
  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

  rd_kafka_t* rk_ = nullptr;
  std::string bootstrap_;
  bool plaintext_ = true;  // security.protocol unset or PLAINTEXT
  mutable std::mutex mu_;
  std::string last_error_;
};

// Builds the base properties of a tool: bootstrap.servers, client.id, optional properties file
// and key=value overrides (later ones win).
properties base_properties(const std::string& bootstrap, const std::string& client_id,
                           const std::string& config_file, const std::vector<std::string>& overrides,
                           const std::string& overrides_option);

// Tries each bootstrap server once before librdkafka does (which would retry a refused
// connection until its timeout, and call an HTTP port's answer an "Invalid response size"):
// returns when one accepts a connection and (plaintext only) answers an ApiVersions request like
// a Kafka broker, or does not answer within 2 s. Throws runtime_failure at once when every
// server refuses or cannot be resolved, when one speaks HTTP (naming minikafka's Kafka listener
// when the admin API can tell it) or another protocol; after `timeout_ms` when connects hang.
void probe_bootstrap(const std::string& servers, bool plaintext, int timeout_ms);

// Low and high watermark of a partition; nullopt when the broker cannot tell.
struct watermarks {
  int64_t low = -1;
  int64_t high = -1;
};
std::optional<watermarks> query_watermarks(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                                           int timeout_ms);

// Topic ids (Kafka's base64 form) by name, read with a direct Metadata v10+ request to
// host:port (librdkafka 2.0 does not expose topic ids). Empty when the broker has none or
// anything fails: the caller then leaves the id out, like Kafka's tool does for a zero id.
std::map<std::string, std::string> fetch_topic_ids(const std::string& host, int port,
                                                   const std::vector<std::string>& topics, int timeout_ms);

// A monotonic deadline helper.
class deadline {
 public:
  explicit deadline(int timeout_ms)
      : end_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)) {}
  int remaining_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end_ - std::chrono::steady_clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
  }
  bool expired() const { return remaining_ms() == 0; }

 private:
  std::chrono::steady_clock::time_point end_;
};

// The tools.
int topics_main(int argc, char** argv);
int console_producer_main(int argc, char** argv);
int console_consumer_main(int argc, char** argv);
int consumer_groups_main(int argc, char** argv);

}  // namespace mk::cli
