// The `minikafka` command: a Kafka-compatible broker for local development and tests.
//
// Prints one line per listener on stdout before anything else: "kafka HOST:PORT" for each broker
// (--brokers N: N lines, in id order), then "admin http://HOST:PORT", so scripts and test
// fixtures in any language can read the bootstrap addresses; logs go to stderr (or --log-file)
// through an asynchronous logger that never makes the broker wait (broker/main_logging.h). A
// listener that cannot be bound is named, with its address and the flag that moves it; the
// default admin port (9644) moves to an ephemeral one when taken.
// SIGINT/SIGTERM stop it cleanly. `minikafka <tool> ...` runs the command-line tools
// (minikafka-tools, tools/cli/cli.h); `--storage rocksdb` loads the RocksDB plugin
// (broker/rocksdb_backend.h). Neither library is loaded otherwise.
//
// Exit codes, the same as the tools': 0 after a clean stop, --help or --version; 1 when the
// broker cannot start or keep running (a port in use, storage that cannot be opened); 2 for a
// usage error (an unknown flag or config-file key, a bad value, settings that contradict each
// other), with the reason on stderr.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <spdlog/spdlog.h>
#include <string_view>
#include <vector>

#include "broker/main_logging.h"
#include "broker/plugins.h"
#include "broker/server.h"
#include "tools/cli/cli.h"

extern char** environ;

namespace {

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;
constexpr int32_t default_admin_port = 9644;
constexpr std::string_view tool_names[] = {"topics", "console-producer", "console-consumer", "consumer-groups"};

// MINIKAFKA_* variables that are not broker flags but belong to the project (the tools' debug
// switch, the test harness, scripts/docker-emulate.sh): no warning for these.
constexpr std::string_view other_project_variables[] = {"MINIKAFKA_CLI_DEBUG", "MINIKAFKA_BIN", "MINIKAFKA_CLI",
                                                        "MINIKAFKA_ANCHOR", "MINIKAFKA_EMU_DIR"};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "minikafka: %s\nRun 'minikafka --help' for usage.\n", message.c_str());
  return exit_usage;
}

// Levenshtein distance (insertions, deletions, substitutions), for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate nearest to `word` (the first of equally near ones).
std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) best = c, best_distance = d;
  }
  return best;
}

// Long option names without "--"; `settings_only` leaves out --help, --version and --config,
// which a config file or the environment cannot set.
std::vector<std::string> option_names(const CLI::App& app, bool settings_only) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    std::string name = opt->get_single_name();
    if (name.empty()) continue;
    if (settings_only && (name == "help" || name == "version" || name == "config")) continue;
    names.push_back(name);
  }
  return names;
}

std::string env_name(const std::string& option) {
  std::string env = "MINIKAFKA_";
  for (char c : option) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return env;
}

// A usage message for arguments CLI11 did not expect: the first unknown option, with the nearest
// real one, or a stray word (often a mistyped tool name).
std::string explain_unexpected(const CLI::App& app, const std::vector<std::string>& extras) {
  for (const auto& x : extras) {
    if (x.size() < 2 || x[0] != '-') continue;
    std::string name = x.substr(x.find_first_not_of('-'));
    name = name.substr(0, name.find('='));
    return "unknown option " + x.substr(0, x.find('=')) + " (did you mean --" + nearest(name, option_names(app, false)) +
           "?)";
  }
  std::vector<std::string> tools(std::begin(tool_names), std::end(tool_names));
  const std::string& word = extras.empty() ? std::string() : extras.front();
  return "unexpected argument '" + word + "': the broker takes only --options, and the tools are " +
         "topics, console-producer, console-consumer and consumer-groups (did you mean '" + nearest(word, tools) + "'?)";
}

// Keys of the --config file(s) that name no broker setting: CLI11 skips them silently, so the
// file is read again here. Returns the usage message for the first one, and fills `keys` with
// every key the files set.
std::optional<std::string> check_config_keys(const CLI::App& app, std::set<std::string>& keys) {
  const CLI::Option* config = app.get_config_ptr();
  if (config == nullptr || config->count() == 0) return std::nullopt;
  const auto settings = option_names(app, true);
  for (const auto& path : config->as<std::vector<std::string>>()) {
    if (path.empty()) continue;
    for (const CLI::ConfigItem& item : app.get_config_formatter()->from_file(path)) {
      if (item.name == "++" || item.name == "--") continue;  // section markers
      const std::string key = item.fullname();
      keys.insert(key);
      if (item.parents.empty() && std::find(settings.begin(), settings.end(), item.name) != settings.end()) continue;
      return "unknown key '" + key + "' in config file " + path + " (did you mean '" + nearest(key, settings) +
             "'? The keys are the long flag names without the dashes, e.g. data-dir = \"/var/lib/minikafka\")";
    }
  }
  return std::nullopt;
}

// Warnings for MINIKAFKA_* variables that set nothing (a typo, or a flag of another version).
std::vector<std::string> unknown_environment(const CLI::App& app) {
  std::vector<std::string> known;
  for (const auto& name : option_names(app, true)) known.push_back(env_name(name));
  std::vector<std::string> warnings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("MINIKAFKA_")) continue;
    std::string name(entry.substr(0, entry.find('=')));
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    if (std::find(std::begin(other_project_variables), std::end(other_project_variables), name) !=
            std::end(other_project_variables) ||
        name.starts_with("MINIKAFKA_TEST_"))
      continue;
    warnings.push_back("environment variable " + name + " is not a minikafka setting and is ignored (did you mean " +
                       nearest(name, known) + "?)");
  }
  return warnings;
}

}  // namespace

int main(int argc, char** argv) {
  // The tools use librdkafka, which the broker must not load: they are a program of their own.
  if (mk::cli::is_subcommand(argc, argv)) return mk::plugins::exec_program(mk::cli::tools_program, argv);
  mk::broker_config cfg;
  mk::log_options log;
  std::string auto_create = "true";
  CLI::App app{"minikafka: a Kafka-compatible broker in one small process.\n"
               "Tools (run `minikafka <tool> --help`): topics, console-producer, console-consumer, consumer-groups"};
  app.set_version_flag("--version", std::string("minikafka ") + MINIKAFKA_VERSION);
  app.footer(
      "Every flag can also be set as an environment variable (--data-dir: MINIKAFKA_DATA_DIR) or as a key of a "
      "--config file (data-dir = \"DIR\"); flags win over the file, the file over the environment. Unknown keys "
      "in a config file are refused.\n"
      "Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 1 when the broker cannot start or run (e.g. a port in "
      "use), 2 for a usage error (unknown flag or config key, bad value, conflicting settings).");
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
  auto* storage_opt =
      app.add_option("--storage", cfg.storage,
                     "Where data lives: memory (the default) or rocksdb (survives restarts); --data-dir alone "
                     "means rocksdb")
          ->capture_default_str()
          ->check(CLI::IsMember({"memory", "rocksdb"}));
  auto* data_dir_opt = app.add_option("--data-dir", cfg.data_dir,
                                      "RocksDB directory; implies --storage rocksdb (refused with --storage memory)");
  auto* sync_opt = app.add_flag(
      "--sync", cfg.sync,
      "RocksDB: fsync the write-ahead log before acknowledging each produce (survives power loss); "
      "without it, acknowledged data survives a process crash (kill -9) but not an OS crash");
  auto* max_memory_opt =
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
  app.add_option("--clock", cfg.clock,
                 "system, or manual: time (group timeouts, retention, fetch max-wait, timestamps) moves only by "
                 "POST /v1/control/clock/advance")
      ->capture_default_str()
      ->check(CLI::IsMember({"system", "manual"}));
  app.add_option("--emulate-kafka-version", cfg.emulate_kafka_version,
                 "Advertise and serve only the API versions of this Kafka release (0.10.2 ... 4.0), so clients "
                 "negotiate down exactly as against it");
  app.add_option("--trace-capacity", cfg.trace_capacity,
                 "Requests kept by the request trace (GET /v1/trace, GET /v1/await/requests); 0 = off")
      ->capture_default_str();
  app.add_option("--transaction-max-timeout-ms", cfg.transaction_max_timeout_ms,
                 "Largest transaction.timeout.ms a producer may ask for (transaction.max.timeout.ms)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--record-requests", cfg.record_requests_dir,
                 "Debugging: write each request frame to DIR/<api>_request_v<N>_<client>.bin");
  auto* admin_port_opt = app.add_option(
      "--admin-port", cfg.admin_port,
      "HTTP admin API port (default 9644, or an ephemeral port with a warning when 9644 is taken; "
      "0 = ephemeral, -1 = off; ephemeral when --port is 0)");
  app.add_option("--admin-host", cfg.admin_host, "Address the HTTP admin API binds to")->capture_default_str();
  app.add_option("--log-level", log.level,
                 "trace, debug, info, warn, error, critical or off (per-connection and per-topic lines are debug)")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--log-format", log.format, "text, or json: one object per line with time, level, logger, message")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-file", log.file, "Append log lines to this file instead of stderr (errors also go to stderr)");
  app.set_config("--config", "", "Read options from a TOML/INI file (key = value, names as the long flags)");
  // Every setting can also come from the environment: --admin-port <-> MINIKAFKA_ADMIN_PORT.
  for (CLI::Option* opt : app.get_options()) {
    std::string name = opt->get_single_name();
    if (name.empty() || name == "help" || name == "config" || name == "version") continue;
    opt->envname(env_name(name));
  }
  cfg.admin_port = default_admin_port;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return 0;
  } catch (const CLI::ExtrasError&) {
    return usage_error(explain_unexpected(app, app.remaining()));
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  std::set<std::string> config_keys;
  try {
    if (auto bad = check_config_keys(app, config_keys)) return usage_error(*bad);
  } catch (const CLI::Error& e) {
    return usage_error(e.what());
  }

  // Storage settings that only one backend uses. Given as flags or in the config file, one that
  // the chosen backend would ignore is refused; from the environment it is only reported, because
  // environments are shared (docker/docker-compose.yml sets MINIKAFKA_DATA_DIR and switches the
  // backend with MINIKAFKA_STORAGE alone).
  auto given_explicitly = [&](const std::string& name) {
    for (int i = 1; i < argc; ++i) {
      std::string_view a(argv[i]);
      if (a == "--" + name || a.starts_with("--" + name + "=")) return true;
    }
    return config_keys.count(name) > 0;
  };
  std::vector<std::string> startup_notes;
  if (data_dir_opt->count() > 0 && !cfg.data_dir.empty() && storage_opt->count() == 0) {
    cfg.storage = "rocksdb";
    startup_notes.push_back("storage: rocksdb, because --data-dir is given without --storage");
  }
  struct backend_setting {
    CLI::Option* opt;
    const char* backend;
  };
  for (auto [opt, backend] : {backend_setting{data_dir_opt, "rocksdb"}, backend_setting{sync_opt, "rocksdb"},
                              backend_setting{max_memory_opt, "memory"}}) {
    if (opt->count() == 0 || cfg.storage == backend) continue;
    const std::string name = opt->get_single_name();
    if (given_explicitly(name)) {
      if (name == "data-dir")
        return usage_error("--data-dir " + cfg.data_dir +
                           " would be ignored: --storage memory keeps everything in memory. Leave out --storage "
                           "(--data-dir alone means rocksdb) or drop --data-dir");
      return usage_error("--" + name + " applies to --storage " + backend + " only, and the storage is " + cfg.storage +
                         (std::string(backend) == "rocksdb" ? " (add --data-dir DIR for RocksDB)" : ""));
    }
    startup_notes.push_back(env_name(name) + " is set but ignored: it applies to --storage " + backend +
                            " only, and the storage is " + cfg.storage);
  }
  if (cfg.storage == "rocksdb" && cfg.data_dir.empty())
    return usage_error("--storage rocksdb needs --data-dir DIR (where RocksDB keeps its files)");

  // The admin port may move when it is the default one, not when it was asked for (a flag,
  // MINIKAFKA_ADMIN_PORT or the config file all count as asking).
  if (admin_port_opt->count() == 0) {
    if (cfg.port == 0) cfg.admin_port = 0;
    cfg.admin_port_fallback = true;
  }
  cfg.auto_create_topics = auto_create == "true";

  // Block the stop signals before any thread starts (the log worker included), then wait for
  // them synchronously. A log reader that goes away must not kill the broker: SIGPIPE is ignored
  // and the write fails instead (the line is counted as dropped).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::optional<mk::log_output> log_out;
  try {
    log_out.emplace(log);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "minikafka: %s\n", ex.what());
    return exit_failure;
  }
  for (const auto& w : unknown_environment(app)) spdlog::warn("{}", w);
  for (const auto& note : startup_notes) spdlog::info("{}", note);

  std::unique_ptr<mk::server> srv_holder;
  try {
    srv_holder = std::make_unique<mk::server>(cfg);
  } catch (const std::exception& ex) {
    spdlog::critical("cannot start: {}", ex.what());
    return exit_failure;
  }
  mk::server& srv = *srv_holder;
  try {
    srv.start();
  } catch (const mk::listen_error& ex) {
    const bool kafka = ex.listener() == "kafka";
    const bool in_use = ex.code() == boost::asio::error::address_in_use;
    const char* hint = kafka ? (in_use ? "is another broker using it? --port moves the Kafka listener, --port 0 "
                                         "picks a free port"
                                       : "--host and --port set the Kafka listener's address")
                             : (in_use ? "is another minikafka using it? --admin-port moves the admin API, 0 picks a "
                                         "free port, -1 turns it off"
                                       : "--admin-host and --admin-port set the admin API's address, --admin-port -1 "
                                         "turns it off");
    spdlog::critical("cannot start the {} on {}:{}: {} ({})", kafka ? "Kafka listener" : "HTTP admin API listener",
                     ex.host(), ex.port(), ex.code().message(), hint);
    return exit_failure;
  } catch (const std::exception& ex) {
    spdlog::critical("cannot start: {}", ex.what());
    return exit_failure;
  }
  if (cfg.admin_port_fallback && cfg.admin_port > 0 && srv.admin_port() != cfg.admin_port)
    spdlog::warn("admin API: port {} on {} is in use (another minikafka?), so it listens on port {} instead; "
                 "--admin-port chooses the port, -1 turns it off",
                 cfg.admin_port, cfg.admin_host, srv.admin_port());
  for (int32_t id : srv.node_ids()) std::printf("kafka %s:%u\n", srv.advertised_host().c_str(), srv.port(id));
  if (srv.admin_port()) std::printf("admin http://%s:%u\n", cfg.admin_host.c_str(), srv.admin_port());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  srv.stop();
  srv_holder.reset();
  if (size_t dropped = log_out->dropped()) spdlog::warn("{} log line(s) were dropped in all", dropped);
  return 0;
}
