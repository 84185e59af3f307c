// `minikafka console-consumer`: kafka-console-consumer.sh over a librdkafka consumer.
//
// Subscribes to --topic (or the --include regular expression) as a member of --group; without
// --group it joins a random "console-consumer-NNNNN" group with auto-commit off, like Kafka's
// tool. With --partition it assigns that one partition instead (no group), starting at --offset
// (earliest, latest or a number; default latest, or earliest with --from-beginning).
//
// Each record is printed by Kafka's DefaultMessageFormatter rules, configured with --property
// (or a --formatter-config file): print.timestamp, print.partition, print.offset, print.headers,
// print.key, print.value (true), key.separator (tab), line.separator (newline), headers.separator
// (','), null.literal ("null"). --formatter takes the names Kafka's docs use for it
// (kafka.tools.DefaultMessageFormatter, org.apache.kafka.tools.consumer.DefaultMessageFormatter)
// and NoOpMessageFormatter (prints nothing); any other formatter is refused (exit 2) with the
// --property settings that do the same, or with the tool that shows the same data.
// Exits after --max-messages records, after --timeout-ms without a record, or on SIGINT/SIGTERM;
// then leaves the group (committing consumed offsets when auto-commit is on) and prints
// "Processed a total of N messages" on stderr.
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <random>
#include <set>

#include "tools/cli/common.h"

namespace mk::cli {

namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

struct formatter {
  bool print_timestamp = false, print_partition = false, print_offset = false, print_headers = false,
       print_key = false, print_value = true;
  std::string key_separator = "\t", line_separator = "\n", headers_separator = ",", headers_key_separator = ":",
              null_literal = "null";

  void write(std::string& out, const rd_kafka_message_t* m) const {
    auto sep = [&](bool more) { out += more ? key_separator : line_separator; };
    if (print_timestamp) {
      rd_kafka_timestamp_type_t type;
      int64_t ts = rd_kafka_message_timestamp(m, &type);
      if (type == RD_KAFKA_TIMESTAMP_CREATE_TIME) out += "CreateTime:" + std::to_string(ts);
      else if (type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME) out += "LogAppendTime:" + std::to_string(ts);
      else out += "NO_TIMESTAMP";
      sep(print_partition || print_offset || print_headers || print_key || print_value);
    }
    if (print_partition) {
      out += "Partition:" + std::to_string(m->partition);
      sep(print_offset || print_headers || print_key || print_value);
    }
    if (print_offset) {
      out += "Offset:" + std::to_string(m->offset);
      sep(print_headers || print_key || print_value);
    }
    if (print_headers) {
      rd_kafka_headers_t* hdrs = nullptr;
      size_t n = 0;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) n = rd_kafka_header_cnt(hdrs);
      if (n == 0) out += "NO_HEADERS";
      for (size_t i = 0; i < n; ++i) {
        const char* name = nullptr;
        const void* val = nullptr;
        size_t size = 0;
        rd_kafka_header_get_all(hdrs, i, &name, &val, &size);
        if (i) out += headers_separator;
        out += name;
        out += headers_key_separator;
        if (val) out.append(static_cast<const char*>(val), size);
        else out += null_literal;
      }
      sep(print_key || print_value);
    }
    if (print_key) {
      if (m->key) out.append(static_cast<const char*>(m->key), m->key_len);
      else out += null_literal;
      sep(print_value);
    }
    if (print_value) {
      if (m->payload) out.append(static_cast<const char*>(m->payload), m->len);
      else out += null_literal;
      out += line_separator;
    }
  }
};

// What --formatter NAME means here: true for DefaultMessageFormatter, false for
// NoOpMessageFormatter; throws usage_error for any other name.
bool default_formatter(const std::string& name) {
  std::string simple = trim(name);
  for (const char* prefix : {"kafka.tools.", "org.apache.kafka.tools.consumer."})
    if (simple.starts_with(prefix)) simple = simple.substr(std::string(prefix).size());
  if (simple == "DefaultMessageFormatter") return true;
  if (simple == "NoOpMessageFormatter") return false;
  const std::string properties_hint =
      "minikafka prints records with Kafka's DefaultMessageFormatter only (--formatter "
      "kafka.tools.DefaultMessageFormatter, or no --formatter), shaped by --property print.key=true, "
      "print.value=false, print.timestamp=true, print.partition=true, print.offset=true, print.headers=true, "
      "key.separator=SEP, line.separator=SEP, headers.separator=SEP, null.literal=TEXT";
  if (simple.find("Offsets") != std::string::npos || simple.find("GroupMetadata") != std::string::npos ||
      simple.find("TransactionLog") != std::string::npos)
    throw usage_error("--formatter " + name + " reads Kafka's internal __consumer_offsets / __transaction_state "
                      "topics, which minikafka does not have: 'minikafka consumer-groups --describe --group G' "
                      "shows the committed offsets and members instead");
  throw usage_error("Unknown --formatter " + name + ": " + properties_hint);
}

bool parse_bool(const properties& p, const std::string& k, bool def) {
  auto it = p.find(k);
  if (it == p.end()) return def;
  std::string v = trim(it->second);
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "true";
}

}  // namespace

int console_consumer_main(int argc, char** argv) {
  std::string bootstrap = default_bootstrap, topic, include, group, offset_arg, consumer_config,
              isolation = "read_uncommitted", formatter_name = "kafka.tools.DefaultMessageFormatter",
              formatter_config;
  std::vector<std::string> formatter_props, consumer_props;
  bool from_beginning = false, skip_on_error = false;
  long long max_messages = -1, timeout_ms = -1;
  int partition = -1;
  int connect_timeout_ms = default_timeout_ms;

  CLI::App app{"Read data from Kafka topics and write it to standard output (like kafka-console-consumer.sh).",
               "minikafka console-consumer"};
  app.add_option("--bootstrap-server", bootstrap, "The server(s) to connect to")->capture_default_str();
  auto* topic_opt = app.add_option("--topic", topic, "The topic to consume from");
  auto* include_opt = app.add_option("--include,--whitelist", include, "Regular expression of the topics to consume");
  auto* group_opt = app.add_option("--group", group, "The consumer group id of the consumer");
  app.add_flag("--from-beginning", from_beginning,
               "Without an established offset, start with the earliest message rather than the latest");
  app.add_option("--max-messages", max_messages, "Exit after consuming this many messages");
  app.add_option("--timeout-ms", timeout_ms, "Exit when no message arrives for this long");
  auto* partition_opt = app.add_option("--partition", partition, "Consume only this partition (needs --topic)");
  auto* offset_opt = app.add_option("--offset", offset_arg,
                                    "With --partition: where to start: earliest, latest or a non-negative offset");
  app.add_option("--property,--formatter-property", formatter_props,
                 "Formatter property, key=value: print.key, print.value, print.timestamp, print.partition, "
                 "print.offset, print.headers, key.separator, line.separator, headers.separator, null.literal")
      ->allow_extra_args(false);
  app.add_option("--formatter", formatter_name,
                 "kafka.tools.DefaultMessageFormatter (the default; also org.apache.kafka.tools.consumer."
                 "DefaultMessageFormatter) or NoOpMessageFormatter")
      ->capture_default_str();
  app.add_option("--formatter-config", formatter_config, "Formatter properties file (the --property keys)");
  app.add_option("--consumer-property,--command-property", consumer_props,
                 "A consumer config, key=value, librdkafka names (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--consumer.config,--command-config", consumer_config, "Consumer config properties file");
  app.add_option("--isolation-level", isolation, "read_committed or read_uncommitted")
      ->capture_default_str()
      ->check(CLI::IsMember({"read_committed", "read_uncommitted"}));
  app.add_flag("--skip-message-on-error", skip_on_error, "Accepted for compatibility (records are bytes here)");
  app.add_option("--connect-timeout-ms", connect_timeout_ms, "Fail when no broker can be reached within this time")
      ->capture_default_str();
  if (auto code = parse_args(app, argc, argv)) return *code;

  return run_guarded("console-consumer", [&]() -> int {
    if ((topic_opt->count() > 0) == (include_opt->count() > 0))
      throw usage_error("Exactly one of --topic or --include is required");
    if (topic_opt->count() && trim(topic).empty()) throw usage_error("--topic must not be empty");
    bool assign_mode = partition_opt->count() > 0;
    if (assign_mode) {
      if (!topic_opt->count()) throw usage_error("The topic is required when partition is specified.");
      if (from_beginning && offset_opt->count())
        throw usage_error("Options from-beginning and offset cannot be specified together.");
      if (partition < 0) throw usage_error("--partition must not be negative");
    } else if (offset_opt->count()) {
      throw usage_error("The partition is required when offset is specified.");
    }
    if (connect_timeout_ms <= 0) throw usage_error("--connect-timeout-ms must be positive");
    int64_t start_offset = from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    if (offset_opt->count()) {
      std::string o = trim(offset_arg);
      for (auto& ch : o) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (o == "earliest") start_offset = RD_KAFKA_OFFSET_BEGINNING;
      else if (o == "latest") start_offset = RD_KAFKA_OFFSET_END;
      else if (auto v = parse_int(o); v && *v >= 0) start_offset = *v;
      else
        throw usage_error("The provided offset value '" + offset_arg +
                          "' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.");
    }

    const bool print_records = default_formatter(formatter_name);
    properties fp = formatter_config.empty() ? properties{} : load_properties_file(formatter_config);
    for (auto& [k, v] : parse_key_values(formatter_props, "--property")) fp[k] = v;
    static const std::set<std::string> known = {
        "print.timestamp", "print.partition", "print.offset", "print.headers", "print.key", "print.value",
        "key.separator", "line.separator", "headers.separator", "headers.key.separator", "null.literal",
        "key.deserializer", "value.deserializer", "headers.deserializer"};
    for (const auto& [k, v] : fp) {
      if (!known.count(k))
        print_warning("ignoring formatter property '" + k + "' (known: print.key, print.value, print.timestamp, "
                      "print.partition, print.offset, print.headers, key.separator, line.separator, "
                      "headers.separator, null.literal)");
      else if (k.ends_with(".deserializer") && !v.ends_with("StringDeserializer") &&
               !v.ends_with("ByteArrayDeserializer"))
        print_warning("ignoring " + k + "=" + v + ": records are printed as the bytes they hold");
    }
    formatter fmt;
    fmt.print_timestamp = parse_bool(fp, "print.timestamp", false);
    fmt.print_partition = parse_bool(fp, "print.partition", false);
    fmt.print_offset = parse_bool(fp, "print.offset", false);
    fmt.print_headers = parse_bool(fp, "print.headers", false);
    fmt.print_key = parse_bool(fp, "print.key", false);
    fmt.print_value = parse_bool(fp, "print.value", true);
    if (fp.count("key.separator")) fmt.key_separator = fp["key.separator"];
    if (fp.count("line.separator")) fmt.line_separator = fp["line.separator"];
    if (fp.count("headers.separator")) fmt.headers_separator = fp["headers.separator"];
    if (fp.count("headers.key.separator")) fmt.headers_key_separator = fp["headers.key.separator"];
    if (fp.count("null.literal")) fmt.null_literal = fp["null.literal"];

    properties user = base_properties(bootstrap, "console-consumer", consumer_config, consumer_props,
                                      "--consumer-property");
    // The group id may come from --group, the properties file or --consumer-property; they must agree.
    std::set<std::string> groups;
    if (group_opt->count()) groups.insert(group);
    if (user.count("group.id")) groups.insert(user["group.id"]);
    if (groups.size() > 1)
      throw usage_error("The group ids provided in different places (directly using '--group', via "
                        "'--consumer-property', or via '--consumer.config') do not match.");
    if (!groups.empty() && assign_mode) throw usage_error("Options group and partition cannot be specified together.");
    if (!groups.empty() && trim(*groups.begin()).empty()) throw usage_error("--group must not be empty");

    properties p;
    if (user.count("auto.offset.reset")) {
      if (from_beginning && user["auto.offset.reset"] != "earliest" && user["auto.offset.reset"] != "smallest")
        throw usage_error("Can't simultaneously specify --from-beginning and 'auto.offset.reset=" +
                          user["auto.offset.reset"] + "', please remove one option");
    } else {
      p["auto.offset.reset"] = from_beginning ? "earliest" : "latest";
    }
    p["isolation.level"] = isolation;
    if (groups.empty()) {
      std::random_device rd;
      p["group.id"] = "console-consumer-" + std::to_string(rd() % 100000);
      // The generated group is not meant to be reused: do not fill the coordinator with offsets.
      if (!user.count("enable.auto.commit")) p["enable.auto.commit"] = "false";
    } else {
      p["group.id"] = *groups.begin();
    }
    if (assign_mode) p["enable.auto.commit"] = "false";
    for (auto& [k, v] : user) p[k] = v;
    if (assign_mode) p["enable.auto.commit"] = "false";

    client c(RD_KAFKA_CONSUMER, p);
    c.ensure_connected(connect_timeout_ms);
    rd_kafka_poll_set_consumer(c.rk());

    partition_list_ptr list(rd_kafka_topic_partition_list_new(1));
    if (assign_mode) {
      auto md = c.topic_metadata(topic, connect_timeout_ms);
      if (md->topic_cnt < 1 || md->topics[0].err)
        throw runtime_failure("Topic " + topic + " does not exist" +
                              (md->topic_cnt >= 1 ? std::string(" (") + rd_kafka_err2str(md->topics[0].err) + ")" : ""));
      if (partition >= md->topics[0].partition_cnt)
        throw runtime_failure("Partition " + std::to_string(partition) + " does not exist in topic " + topic + " (it has " +
                              std::to_string(md->topics[0].partition_cnt) + " partitions)");
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = start_offset;
      if (auto err = rd_kafka_assign(c.rk(), list.get()))
        throw runtime_failure(std::string("Cannot assign the partition: ") + rd_kafka_err2str(err));
    } else {
      std::string sub = topic_opt->count() ? topic : (include.starts_with("^") ? include : "^" + include);
      rd_kafka_topic_partition_list_add(list.get(), sub.c_str(), RD_KAFKA_PARTITION_UA);
      if (auto err = rd_kafka_subscribe(c.rk(), list.get()))
        throw runtime_failure(std::string("Cannot subscribe: ") + rd_kafka_err2str(err));
    }

    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    long long count = 0;
    int rc = exit_ok;
    std::set<std::string> warned;
    std::string out;
    bool pending = false;  // printed records not yet flushed
    auto last_record = std::chrono::steady_clock::now();
    while (!g_stop && (max_messages < 0 || count < max_messages)) {
      int wait_ms = 100;
      if (timeout_ms >= 0) {
        auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - last_record)
                        .count();
        if (idle >= timeout_ms) break;
        wait_ms = static_cast<int>(std::min<long long>(wait_ms, timeout_ms - idle));
      }
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk(), pending ? 0 : wait_ms);
      if (!m) {
        if (pending) {
          std::fflush(stdout);
          pending = false;
        }
        continue;
      }
      if (m->err) {
        auto err = m->err;
        std::string msg = rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
        char fatal[512];
        if (rd_kafka_fatal_error(c.rk(), fatal, sizeof fatal)) {
          print_error(std::string("Consumer failed: ") + fatal);
          rc = exit_failure;
          break;
        }
        if (warned.insert(msg).second) print_warning(msg);
        continue;
      }
      out.clear();
      if (print_records) fmt.write(out, m);
      rd_kafka_message_destroy(m);
      std::fwrite(out.data(), 1, out.size(), stdout);
      pending = true;
      ++count;
      last_record = std::chrono::steady_clock::now();
    }
    std::fflush(stdout);
    rd_kafka_consumer_close(c.rk());
    std::fprintf(stderr, "Processed a total of %lld messages\n", count);
    return rc;
  });
}

}  // namespace mk::cli
