// The `minikafka` command: a Kafka-compatible broker for local development and tests.
//
// Prints one line per listener on stdout before anything else: "kafka HOST:PORT" for each broker
// (--brokers N: N lines, in id order), then "admin http://HOST:PORT", so scripts and test
// fixtures in any language can read the bootstrap addresses; logs go to stderr.
// SIGINT/SIGTERM stop it cleanly. `minikafka <tool> ...` runs the command-line tools
// (minikafka-tools, tools/cli/cli.h); `--storage rocksdb` loads the RocksDB plugin
// (broker/rocksdb_backend.h). Neither library is loaded otherwise.
#include <CLI/CLI.hpp>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "broker/plugins.h"
#include "broker/server.h"
#include "tools/cli/cli.h"

int main(int argc, char** argv) {
  // The tools use librdkafka, which the broker must not load: they are a program of their own.
  if (mk::cli::is_subcommand(argc, argv)) return mk::plugins::exec_program(mk::cli::tools_program, argv);
  mk::broker_config cfg;
  std::string log_level = "info";
  std::string auto_create = "true";
  CLI::App app{"minikafka: a Kafka-compatible broker in one small process.\n"
               "Tools (run `minikafka <tool> --help`): topics, console-producer, console-consumer, consumer-groups"};
  app.add_option("--host", cfg.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", cfg.port, "Kafka port (0 = ephemeral)")->capture_default_str();
  app.add_option("--advertised-host", cfg.advertised_host,
                 "Host name given to clients in Metadata (e.g. inside containers); default: --host");
  app.add_option("--node-id", cfg.node_id, "Broker id (of the first broker with --brokers)")->capture_default_str();
  app.add_option("--brokers", cfg.brokers,
                 "Simulated brokers in this process (ids from --node-id, ports from --port: P..P+N-1, or "
                 "each ephemeral with --port 0)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--cluster-id", cfg.cluster_id, "Cluster id reported in Metadata")->capture_default_str();
  app.add_option("--default-partitions", cfg.default_partitions, "Partitions of auto-created topics (num.partitions)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--auto-create-topics", auto_create, "Create unknown topics on Metadata/Produce (true|false)")
      ->capture_default_str()
      ->check(CLI::IsMember({"true", "false"}));
  app.add_flag("--strict-replication-factor", cfg.strict_replication_factor,
               "Reject replication factors above the broker count (INVALID_REPLICATION_FACTOR) like Kafka");
  app.add_option("--max-request-size", cfg.max_request_size, "Largest request frame in bytes (socket.request.max.bytes)")
      ->capture_default_str();
  app.add_option("--storage", cfg.storage, "Where data lives: memory (default) or rocksdb (survives restarts)")
      ->capture_default_str()
      ->check(CLI::IsMember({"memory", "rocksdb"}));
  app.add_option("--data-dir", cfg.data_dir, "RocksDB directory (with --storage rocksdb)");
  app.add_flag("--sync", cfg.sync,
               "RocksDB: fsync the write-ahead log before acknowledging each produce (survives power loss); "
               "without it, acknowledged data survives a process crash (kill -9) but not an OS crash");
  app.add_option("--max-memory-bytes", cfg.max_memory_bytes,
                 "Memory backend: cap on stored record bytes; past it produce gets KAFKA_STORAGE_ERROR (0 = no cap)")
      ->capture_default_str();
  app.add_option("--retention-check-interval-ms", cfg.retention_check_interval_ms,
                 "How often retention.ms / retention.bytes are enforced (log.retention.check.interval.ms)")
      ->capture_default_str();
  app.add_option("--group-initial-rebalance-delay-ms", cfg.group_initial_rebalance_delay_ms,
                 "Wait this long for more members when a group forms (Kafka's default is 3000)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--group-min-session-timeout-ms", cfg.group_min_session_timeout_ms,
                 "Smallest session timeout a consumer may ask for")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--group-max-session-timeout-ms", cfg.group_max_session_timeout_ms,
                 "Largest session timeout a consumer may ask for")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--record-requests", cfg.record_requests_dir,
                 "Debugging: write each request frame to DIR/<api>_request_v<N>_<client>.bin");
  auto* admin_port_opt = app.add_option("--admin-port", cfg.admin_port,
                                        "HTTP admin API port (default 9644; 0 = ephemeral, -1 = off; ephemeral when --port is 0)");
  app.add_option("--admin-host", cfg.admin_host, "Address the HTTP admin API binds to")->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.set_config("--config", "", "Read options from a TOML/INI file (key = value, names as the long flags)");
  // Every flag can also come from the environment: --admin-port <-> MINIKAFKA_ADMIN_PORT.
  for (CLI::Option* opt : app.get_options()) {
    std::string name = opt->get_single_name();
    if (name.empty() || name == "help" || name == "config") continue;
    std::string env = "MINIKAFKA_";
    for (char c : name) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    opt->envname(env);
  }
  cfg.admin_port = 9644;
  CLI11_PARSE(app, argc, argv);
  if (admin_port_opt->count() == 0 && std::getenv("MINIKAFKA_ADMIN_PORT") == nullptr && cfg.port == 0) cfg.admin_port = 0;
  cfg.auto_create_topics = auto_create == "true";

  auto logger = spdlog::stderr_color_mt("minikafka");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));

  // Block the stop signals before any thread starts, then wait for them synchronously.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<mk::server> srv_holder;
  try {
    srv_holder = std::make_unique<mk::server>(cfg);
  } catch (const std::exception& ex) {
    spdlog::critical("cannot start: {}", ex.what());
    return 1;
  }
  mk::server& srv = *srv_holder;
  try {
    srv.start();
  } catch (const std::exception& ex) {
    spdlog::critical("cannot listen on {}:{}: {}", cfg.host, cfg.port, ex.what());
    return 1;
  }
  for (int32_t id : srv.node_ids()) std::printf("kafka %s:%u\n", srv.advertised_host().c_str(), srv.port(id));
  if (srv.admin_port()) std::printf("admin http://%s:%u\n", cfg.admin_host.c_str(), srv.admin_port());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  srv.stop();
  return 0;
}
