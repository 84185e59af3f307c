// `minikafka console-producer`: kafka-console-producer.sh over a librdkafka producer.
//
// Reads stdin line by line ("\n" or "\r\n" endings removed) and produces one record per line.
// Line parsing follows Kafka's LineMessageReader, configured with --property:
//   parse.key=true            "KEY<key.separator>VALUE" (key.separator defaults to a tab)
//   parse.headers=true        "h1:v1,h2:v2<headers.delimiter>..." before the key (delimiter: tab;
//                             headers.separator ','; headers.key.separator ':')
//   null.marker=STR           a key, value or header value equal to STR is sent as null
//   ignore.error=true         a line without the separator becomes a value with a null key
//                             instead of an error
// Waits for the delivery of every record before exiting; exits 1 when any delivery failed (the
// first errors are printed), 2 on usage errors. Keys are partitioned with murmur2 like the
// Java client, so keyed records land where Kafka's own tools would put them.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "tools/cli/common.h"

namespace mk::cli {

namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = g_stop + 1; }  // a second signal abandons the final flush

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read of stdin returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

struct delivery_state {
  std::string topic;
  std::atomic<long long> delivered{0};
  std::atomic<long long> failed{0};
  long long printed = 0;
};

constexpr long long max_printed_errors = 10;

void report_failure(delivery_state& st, const std::string& msg) {
  long long n = ++st.failed;
  if (n <= max_printed_errors) {
    std::fflush(stdout);
    std::fprintf(stderr, "Error: %s\n", msg.c_str());
  } else if (n == max_printed_errors + 1) {
    std::fprintf(stderr, "Error: more delivery failures follow; only the count is reported\n");
  }
}

void dr_msg_cb(rd_kafka_t* rk, const rd_kafka_message_t* m, void*) {
  auto* c = static_cast<client*>(rd_kafka_opaque(rk));
  auto& st = *static_cast<delivery_state*>(c->user);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++st.delivered;
    return;
  }
  std::string key = m->key ? std::to_string(m->key_len) + " bytes" : "null";
  std::string value = m->payload ? std::to_string(m->len) + " bytes" : "null";
  report_failure(st, "Error when sending message to topic " + st.topic + " with key: " + key + ", value: " + value +
                         " with error: " + c->explain(m->err, rd_kafka_err2str(m->err)));
}

bool is_true(const properties& p, const std::string& k) {
  auto it = p.find(k);
  if (it == p.end()) return false;
  std::string v = trim(it->second);
  for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return v == "true";
}

std::string prop(const properties& p, const std::string& k, const std::string& def) {
  auto it = p.find(k);
  return it == p.end() ? def : it->second;
}

struct line_reader_config {
  bool parse_key = false;
  std::string key_separator = "\t";
  bool parse_headers = false;
  std::string headers_delimiter = "\t";
  std::string headers_separator = ",";
  std::string headers_key_separator = ":";
  bool ignore_error = false;
  std::optional<std::string> null_marker;
};

struct parsed_record {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

// Parses one line; throws runtime_failure like Kafka's reader on a malformed line.
parsed_record parse_line(const line_reader_config& cfg, const std::string& line, long long line_no) {
  parsed_record rec;
  auto nullable = [&](std::string s) -> std::optional<std::string> {
    if (cfg.null_marker && s == *cfg.null_marker) return std::nullopt;
    return s;
  };
  std::string rest = line;
  if (cfg.parse_headers) {
    size_t idx = rest.find(cfg.headers_delimiter);
    if (idx == std::string::npos) {
      if (!cfg.ignore_error)
        throw runtime_failure("No headers delimiter found on line number " + std::to_string(line_no) + ": '" + line + "'");
    } else {
      std::string hs = rest.substr(0, idx);
      rest = rest.substr(idx + cfg.headers_delimiter.size());
      if (!(cfg.null_marker && hs == *cfg.null_marker) && !hs.empty()) {
        size_t start = 0;
        while (true) {
          size_t p = hs.find(cfg.headers_separator, start);
          std::string pair = hs.substr(start, p == std::string::npos ? std::string::npos : p - start);
          size_t k = pair.find(cfg.headers_key_separator);
          if (k == std::string::npos) {
            if (!cfg.ignore_error)
              throw runtime_failure("No header key separator found in pair '" + pair + "' on line number " +
                                    std::to_string(line_no));
            rec.headers.emplace_back(pair, std::nullopt);
          } else {
            rec.headers.emplace_back(pair.substr(0, k), nullable(pair.substr(k + cfg.headers_key_separator.size())));
          }
          if (p == std::string::npos) break;
          start = p + cfg.headers_separator.size();
        }
      }
    }
  }
  if (cfg.parse_key) {
    size_t idx = rest.find(cfg.key_separator);
    if (idx == std::string::npos) {
      if (!cfg.ignore_error)
        throw runtime_failure("No key separator found on line number " + std::to_string(line_no) + ": '" + line + "'");
      rec.value = nullable(rest);
      return rec;
    }
    rec.key = nullable(rest.substr(0, idx));
    rec.value = nullable(rest.substr(idx + cfg.key_separator.size()));
    return rec;
  }
  rec.value = nullable(rest);
  return rec;
}

// Produces one record, waiting for queue space when the local queue is full.
void produce(client& c, delivery_state& st, const std::string& topic, const parsed_record& rec) {
  while (true) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!rec.headers.empty()) {
      hdrs = rd_kafka_headers_new(rec.headers.size());
      for (const auto& [k, v] : rec.headers)
        rd_kafka_header_add(hdrs, k.data(), static_cast<ssize_t>(k.size()), v ? v->data() : nullptr,
                            v ? static_cast<ssize_t>(v->size()) : 0);
    }
    // (The RD_KAFKA_V_* macros cast their arguments: give them plain variables.)
    void* value = rec.value ? const_cast<char*>(rec.value->data()) : nullptr;
    size_t value_len = rec.value ? rec.value->size() : 0;
    const void* key = rec.key ? rec.key->data() : nullptr;
    size_t key_len = rec.key ? rec.key->size() : 0;
    auto err = rd_kafka_producev(c.rk(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_KEY(key, key_len),
                                 RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (hdrs) rd_kafka_headers_destroy(hdrs);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !g_stop) {
      rd_kafka_poll(c.rk(), 100);
      continue;
    }
    report_failure(st, "Error when sending message to topic " + topic + ": " + rd_kafka_err2str(err));
    return;
  }
}

}  // namespace

int console_producer_main(int argc, char** argv) {
  std::string bootstrap, broker_list, topic, compression, acks = "-1", producer_config;
  std::vector<std::string> reader_props, producer_props;
  int connect_timeout_ms = default_timeout_ms;
  long long batch_size = 0, linger_ms = 0, retries = 0, retry_backoff_ms = 0, request_timeout_ms = 0;
  bool sync = false;

  CLI::App app{"Read data from standard input and publish it to Kafka (like kafka-console-producer.sh).",
               "minikafka console-producer"};
  auto* bs = app.add_option("--bootstrap-server", bootstrap, "The server(s) to connect to (default: localhost:9092)");
  auto* bl = app.add_option("--broker-list", broker_list, "Deprecated alias of --bootstrap-server");
  app.add_option("--topic", topic, "REQUIRED: The topic id to produce messages to")->required();
  app.add_option("--property,--reader-property", reader_props,
                 "Line reader property, key=value: parse.key, key.separator, parse.headers, headers.delimiter, "
                 "headers.separator, headers.key.separator, null.marker, ignore.error (repeatable)")
      ->allow_extra_args(false);
  auto* codec = app.add_option("--compression-codec", compression,
                               "none, gzip, snappy, lz4 or zstd; without a value: gzip")
                    ->expected(0, 1)
                    ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  app.add_option("--producer-property,--command-property", producer_props,
                 "A producer config, key=value, librdkafka names (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--producer.config,--command-config", producer_config, "Producer config properties file");
  app.add_option("--request-required-acks", acks, "The required acks of the producer requests: -1/all, 0 or 1")
      ->capture_default_str()
      ->check(CLI::IsMember({"-1", "all", "0", "1"}));
  auto* rto = app.add_option("--request-timeout-ms", request_timeout_ms, "The ack timeout of the producer requests");
  auto* retr = app.add_option("--message-send-max-retries", retries, "How often a failed send is retried");
  auto* rbo = app.add_option("--retry-backoff-ms", retry_backoff_ms, "Wait before retrying a failed send");
  auto* bsz = app.add_option("--batch-size", batch_size, "Largest batch in bytes");
  auto* lng = app.add_option("--timeout", linger_ms, "How long a record may wait for more to batch with (linger.ms)");
  app.add_flag("--sync", sync, "Wait for each record's delivery before sending the next");
  app.add_option("--connect-timeout-ms,--max-block-ms", connect_timeout_ms,
                 "Fail when no broker can be reached within this time")
      ->capture_default_str();
  if (auto code = parse_args(app, argc, argv)) return *code;

  return run_guarded("console-producer", [&]() -> int {
    if (bs->count() && bl->count() && bootstrap != broker_list)
      throw usage_error("--bootstrap-server and --broker-list name different servers");
    std::string servers = bs->count() ? bootstrap : bl->count() ? broker_list : default_bootstrap;
    if (trim(topic).empty()) throw usage_error("--topic must not be empty");
    if (connect_timeout_ms <= 0) throw usage_error("--connect-timeout-ms must be positive");

    properties rp = parse_key_values(reader_props, "--property");
    line_reader_config lr;
    lr.parse_key = is_true(rp, "parse.key");
    lr.key_separator = prop(rp, "key.separator", "\t");
    lr.parse_headers = is_true(rp, "parse.headers");
    lr.headers_delimiter = prop(rp, "headers.delimiter", "\t");
    lr.headers_separator = prop(rp, "headers.separator", ",");
    lr.headers_key_separator = prop(rp, "headers.key.separator", ":");
    lr.ignore_error = is_true(rp, "ignore.error");
    if (rp.count("null.marker")) lr.null_marker = rp["null.marker"];
    if (lr.key_separator.empty() || lr.headers_delimiter.empty() || lr.headers_separator.empty() ||
        lr.headers_key_separator.empty())
      throw usage_error("Separators given with --property must not be empty");

    properties p;
    p["acks"] = acks == "-1" ? "all" : acks;
    p["partitioner"] = "murmur2_random";  // the Java client's partitioner
    p["message.timeout.ms"] = "30000";
    if (codec->count()) p["compression.codec"] = compression.empty() ? "gzip" : compression;
    if (rto->count()) p["request.timeout.ms"] = std::to_string(request_timeout_ms);
    if (retr->count()) p["message.send.max.retries"] = std::to_string(retries);
    if (rbo->count()) p["retry.backoff.ms"] = std::to_string(retry_backoff_ms);
    if (bsz->count()) p["batch.size"] = std::to_string(batch_size);
    if (lng->count()) p["linger.ms"] = std::to_string(linger_ms);
    auto user = base_properties(servers, "console-producer", producer_config, producer_props, "--producer-property");
    // delivery.timeout.ms is librdkafka's alias of message.timeout.ms: let the user's win.
    if (user.count("delivery.timeout.ms")) p.erase("message.timeout.ms");
    for (auto& [k, v] : user) p[k] = v;

    delivery_state st;
    st.topic = topic;
    client c(RD_KAFKA_PRODUCER, p, [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb); });
    c.user = &st;
    c.ensure_connected(connect_timeout_ms);

    install_stop_handlers();
    bool prompt = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    char* buf = nullptr;
    size_t cap = 0;
    long long line_no = 0;
    std::string parse_failure;
    while (!g_stop) {
      if (prompt) {
        std::fputs(">", stdout);
        std::fflush(stdout);
      }
      ssize_t n = getline(&buf, &cap, stdin);
      if (n < 0) break;
      std::string line(buf, static_cast<size_t>(n));
      if (!line.empty() && line.back() == '\n') line.pop_back();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      ++line_no;
      parsed_record rec;
      try {
        rec = parse_line(lr, line, line_no);
      } catch (const runtime_failure& e) {
        parse_failure = e.what();
        break;
      }
      produce(c, st, topic, rec);
      if (sync) {
        while (rd_kafka_outq_len(c.rk()) > 0 && !g_stop) rd_kafka_poll(c.rk(), 100);
      } else {
        rd_kafka_poll(c.rk(), 0);
      }
    }
    std::free(buf);

    // Wait for every outstanding delivery (librdkafka fails them after message.timeout.ms).
    while (rd_kafka_outq_len(c.rk()) > 0) {
      rd_kafka_flush(c.rk(), 100);
      if (g_stop > 1) break;
    }
    if (!parse_failure.empty()) {
      print_error(parse_failure);
      return exit_failure;
    }
    if (long long f = st.failed.load()) {
      std::fprintf(stderr, "Error: %lld of %lld records could not be delivered\n", f, f + st.delivered.load());
      return exit_failure;
    }
    return exit_ok;
  });
}

}  // namespace mk::cli
