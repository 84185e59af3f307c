#include "tools/cli/common.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>

namespace mk::cli {

// ---------------------------------------------------------------------------------------------
// Arguments and output

void add_exit_codes_footer(CLI::App& app) {
  if (app.get_footer().find("Exit codes") != std::string::npos) return;
  app.footer("Exit codes (the same as the broker's): 0 success, 1 runtime failure (broker unreachable, request "
             "failed), 2 usage error (unknown option, missing or conflicting arguments, bad value).");
}

std::optional<int> parse_args(CLI::App& app, int argc, char** argv) {
  add_exit_codes_footer(app);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i] ? argv[i] : "";
    if (arg == "--zookeeper" || arg.starts_with("--zookeeper=")) {
      std::cerr << "Error: --zookeeper is not supported: Kafka's tools dropped it in Kafka 3.0, and there is no "
                   "ZooKeeper here. Use --bootstrap-server HOST:PORT, the broker's Kafka listener (minikafka prints "
                   "it at startup as 'kafka HOST:PORT'; default "
                << default_bootstrap << ").\n"
                << "Run '" << app.get_name() << " --help' for usage.\n";
      return exit_usage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return exit_ok;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    std::cerr << "Error: " << e.what() << "\n"
              << "Run '" << app.get_name() << " --help' for usage.\n";
    return exit_usage;
  }
  return std::nullopt;
}

int run_guarded(const char* tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const usage_error& e) {
    print_error(e.what());
    std::cerr << "Run 'minikafka " << tool << " --help' for usage.\n";
    return exit_usage;
  } catch (const runtime_failure& e) {
    print_error(e.what());
    return exit_failure;
  } catch (const std::exception& e) {
    print_error(e.what());
    return exit_failure;
  }
}

void print_error(const std::string& msg) {
  std::fflush(stdout);
  std::cerr << "Error: " << msg << std::endl;
}

void print_warning(const std::string& msg) {
  std::fflush(stdout);
  std::cerr << "WARN: " << msg << std::endl;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    if (p == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

std::optional<long long> parse_int(const std::string& s) {
  std::string t = trim(s);
  if (t.empty()) return std::nullopt;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return std::nullopt;
  for (size_t j = i; j < t.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(t[j]))) return std::nullopt;
  try {
    return std::stoll(t);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

properties parse_key_values(const std::vector<std::string>& args, const std::string& option) {
  properties out;
  for (const auto& a : args) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      throw usage_error("Invalid " + option + " '" + a + "': expected key=value");
    out[trim(a.substr(0, eq))] = a.substr(eq + 1);
  }
  return out;
}

properties load_properties_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw usage_error("Cannot read properties file '" + path + "'");
  properties out;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == '!') continue;
    size_t p = t.find_first_of("=:");
    if (p == std::string::npos) {
      out[t] = "";
      continue;
    }
    out[trim(t.substr(0, p))] = trim(t.substr(p + 1));
  }
  return out;
}

struct topic_matcher::impl {
  std::regex re;
};

topic_matcher::topic_matcher(const std::string& pattern) : impl_(std::make_shared<impl>()) {
  // Like Kafka's IncludeList: surrounding quotes are dropped and ',' separates alternatives.
  std::string p = trim(pattern);
  if (p.size() >= 2 && (p.front() == '"' || p.front() == '\'') && p.back() == p.front()) p = p.substr(1, p.size() - 2);
  for (auto& c : p)
    if (c == ',') c = '|';
  try {
    impl_->re = std::regex(p, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw usage_error("Invalid topic expression '" + pattern + "': " + e.what());
  }
}

bool topic_matcher::matches(const std::string& topic) const { return std::regex_match(topic, impl_->re); }

bool is_internal_topic(const std::string& name) {
  return name == "__consumer_offsets" || name == "__transaction_state";
}

properties base_properties(const std::string& bootstrap, const std::string& client_id,
                           const std::string& config_file, const std::vector<std::string>& overrides,
                           const std::string& overrides_option) {
  properties p;
  p["client.id"] = client_id;
  if (!config_file.empty())
    for (auto& [k, v] : load_properties_file(config_file)) p[k] = v;
  for (auto& [k, v] : parse_key_values(overrides, overrides_option)) p[k] = v;
  p["bootstrap.servers"] = bootstrap;
  return p;
}

// ---------------------------------------------------------------------------------------------
// client

namespace {

const char* debug_env() {
  const char* d = std::getenv("MINIKAFKA_CLI_DEBUG");
  return (d && *d && std::string(d) != "0") ? d : nullptr;
}

}  // namespace

client::client(rd_kafka_type_t type, const properties& props,
               const std::function<void(rd_kafka_conf_t*)>& configure)
{
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : props) {
    if (k == "bootstrap.servers") bootstrap_ = v;
    if (k == "security.protocol") {
      std::string proto = trim(v);
      for (auto& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      plaintext_ = proto == "plaintext";
    }
    auto r = rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr);
    if (r == RD_KAFKA_CONF_UNKNOWN) {
      print_warning("ignoring client property '" + k + "': not supported by this client");
    } else if (r != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw usage_error("Invalid client property " + k + "=" + v + ": " + errstr);
    }
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_error_cb(conf, &client::error_cb);
  if (const char* d = debug_env()) {
    if (std::string(d) != "1") rd_kafka_conf_set(conf, "debug", d, errstr, sizeof errstr);
  } else {
    rd_kafka_conf_set_log_cb(conf, &client::log_cb);
  }
  if (configure) configure(conf);
  rk_ = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    throw usage_error(std::string("Cannot create the Kafka client: ") + errstr);
  }
}

client::~client() {
  if (rk_) rd_kafka_destroy(rk_);
}

void client::error_cb(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<client*>(opaque);
  if (!self) return;
  std::lock_guard<std::mutex> lock(self->mu_);
  // "1/1 brokers are down" says less than the connection error that caused it.
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !self->last_error_.empty()) return;
  self->last_error_ = reason ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err));
}

// librdkafka's log lines are not printed, but errors among them (connection refused, name not
// resolved) are kept: they are what explains a timeout best. Log callbacks run on librdkafka's
// threads right away, while error_cb waits for the application to poll.
void client::log_cb(const rd_kafka_t* rk, int level, const char*, const char* buf) {
  if (level > 3 || !buf) return;
  auto* self = static_cast<client*>(rd_kafka_opaque(rk));
  if (!self) return;
  std::lock_guard<std::mutex> lock(self->mu_);
  self->last_error_ = buf;
}

std::string client::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

std::string client::explain(rd_kafka_resp_err_t err, const std::string& what) const {
  std::string msg = what.empty() ? rd_kafka_err2str(err) : what;
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
      err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE) {
    std::string last = last_error();
    if (!last.empty() && msg.find(last) == std::string::npos) msg += " (last connection error: " + last + ")";
  }
  return msg;
}

void client::ensure_connected(int timeout_ms) {
  probe_bootstrap(bootstrap_, plaintext_, timeout_ms);
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk_, 0, nullptr, &md, timeout_ms);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_metadata_destroy(md);
    return;
  }
  rd_kafka_poll(rk_, 0);  // serves pending error callbacks
  std::string last = last_error();
  std::string msg = "Could not reach a Kafka broker at " + bootstrap_ + " within " + std::to_string(timeout_ms) +
                    " ms: " + (last.empty() ? rd_kafka_err2str(err) : last);
  throw runtime_failure(msg);
}

metadata_ptr client::metadata(bool all_topics, int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk_, all_topics ? 1 : 0, nullptr, &md, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw runtime_failure(explain(err, std::string("Metadata request failed: ") + rd_kafka_err2str(err)));
  return metadata_ptr(md);
}

metadata_ptr client::topic_metadata(const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  if (!rkt) throw runtime_failure("Invalid topic '" + topic + "'");
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk_, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw runtime_failure(explain(err, std::string("Metadata request failed: ") + rd_kafka_err2str(err)));
  return metadata_ptr(md);
}

event_ptr client::admin(rd_kafka_admin_op_t op, rd_kafka_event_type_t expected, int timeout_ms,
                        const std::function<void(const rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& issue,
                        bool set_operation_timeout) {
  char errstr[512];
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk_);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk_, op);
  rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof errstr);
  if (set_operation_timeout) rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof errstr);
  issue(opts, q);
  rd_kafka_AdminOptions_destroy(opts);
  // librdkafka enforces the request timeout itself; the margin only guards against a lost event.
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
  rd_kafka_queue_destroy(q);
  if (!ev)
    throw runtime_failure(explain(RD_KAFKA_RESP_ERR__TIMED_OUT, "Timed out waiting for the broker after " +
                                                                     std::to_string(timeout_ms) + " ms"));
  event_ptr out(ev);
  if (rd_kafka_event_type(ev) != expected)
    throw runtime_failure(std::string("Unexpected reply from librdkafka: ") + rd_kafka_event_name(ev));
  if (auto err = rd_kafka_event_error(ev)) {
    const char* s = rd_kafka_event_error_string(ev);
    throw runtime_failure(explain(err, s ? s : rd_kafka_err2str(err)));
  }
  return out;
}

std::optional<watermarks> query_watermarks(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                                           int timeout_ms) {
  watermarks w;
  auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &w.low, &w.high, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  return w;
}

}  // namespace mk::cli
