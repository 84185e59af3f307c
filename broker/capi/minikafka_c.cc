// The C ABI (include/minikafka/minikafka.h) over the embedding API (include/minikafka/broker.h):
// options by the CLI flags' names, every C++ exception caught and turned into a return code and
// a thread-local message, strings and arrays handed out with malloc so C frees them with ours.
// Built only into libminikafka.so, whose version script (libminikafka.map) exports minikafka_*
// and nothing else.
#include "minikafka/minikafka.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <new>
#include <string>
#include <system_error>
#include <vector>

#include <boost/system/system_error.hpp>

#include "broker/services/cluster_info.h"
#include "minikafka/broker.h"
#include "protocol/error_code.h"

struct minikafka_broker {
  explicit minikafka_broker(minikafka::broker_options o) : broker(std::move(o)) {}
  minikafka::broker broker;
  // Set by start(), kept after stop() (the C strings handed out stay valid until destroy).
  std::string bootstrap;
  std::string admin_url;
  int port = 0;
};

namespace {

thread_local std::string last_error;

int fail(int code, std::string message) {
  last_error = std::move(message);
  return code;
}

int fail_kafka(const minikafka::error& e) {
  int code = e.code();
  return fail(code > 0 ? code : MINIKAFKA_ERR_UNKNOWN, e.what());
}

// Runs `f`, turning every exception into a return code. `f` returns MINIKAFKA_OK or an error.
template <typename F>
int guarded(F&& f) noexcept {
  try {
    return f();
  } catch (const minikafka::error& e) {
    return fail_kafka(e);
  } catch (const std::system_error& e) {
    return fail(MINIKAFKA_ERR_IO, e.what());
  } catch (const boost::system::system_error& e) {  // a listener cannot bind (mk::listen_error)
    return fail(MINIKAFKA_ERR_IO, e.what());
  } catch (const std::bad_alloc&) {
    return fail(MINIKAFKA_ERR_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(MINIKAFKA_ERR_UNKNOWN, e.what());
  } catch (...) {
    return fail(MINIKAFKA_ERR_UNKNOWN, "unknown error");
  }
}

char* copy_string(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

// ---- options ----------------------------------------------------------------------------------

struct bad_option : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename T>
T parse_int(const std::string& key, const std::string& v) {
  T out{};
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size())
    throw bad_option("option " + key + ": '" + v + "' is not a valid integer in range");
  return out;
}

bool parse_bool(const std::string& key, const std::string& v) {
  std::string l = v;
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "0" || l == "no" || l == "off") return false;
  throw bad_option("option " + key + ": '" + v + "' is not true or false");
}

// What minikafka_create does with options beyond broker_options.
struct create_extras {
  bool admin_port_set = false;
  std::string log_level;
};

using setter = std::function<void(minikafka::broker_options&, create_extras&, const std::string& key, const std::string& v)>;

const std::map<std::string, setter>& option_table() {
  static const std::map<std::string, setter> table = {
      {"host", [](auto& o, auto&, auto&, auto& v) { o.host = v; }},
      {"port", [](auto& o, auto&, auto& k, auto& v) { o.port = parse_int<uint16_t>(k, v); }},
      {"advertised-host", [](auto& o, auto&, auto&, auto& v) { o.advertised_host = v; }},
      {"admin-host", [](auto& o, auto&, auto&, auto& v) { o.admin_host = v; }},
      {"admin-port",
       [](auto& o, auto& x, auto& k, auto& v) {
         o.admin_port = parse_int<int32_t>(k, v);
         if (o.admin_port < -1 || o.admin_port > 65535) throw bad_option("option admin-port: out of range");
         x.admin_port_set = true;
       }},
      {"node-id", [](auto& o, auto&, auto& k, auto& v) { o.node_id = parse_int<int32_t>(k, v); }},
      {"cluster-id", [](auto& o, auto&, auto&, auto& v) { o.cluster_id = v; }},
      {"default-partitions",
       [](auto& o, auto&, auto& k, auto& v) {
         o.default_partitions = parse_int<int32_t>(k, v);
         if (o.default_partitions < 1 || o.default_partitions > 100000)
           throw bad_option("option default-partitions: must be 1..100000");
       }},
      {"auto-create-topics", [](auto& o, auto&, auto& k, auto& v) { o.auto_create_topics = parse_bool(k, v); }},
      {"strict-replication-factor",
       [](auto& o, auto&, auto& k, auto& v) { o.strict_replication_factor = parse_bool(k, v); }},
      {"max-request-size", [](auto& o, auto&, auto& k, auto& v) { o.max_request_size = parse_int<size_t>(k, v); }},
      {"storage",
       [](auto& o, auto&, auto&, auto& v) {
         if (v != "memory" && v != "rocksdb") throw bad_option("option storage: '" + v + "' is not memory or rocksdb");
         o.storage = v;
       }},
      {"data-dir", [](auto& o, auto&, auto&, auto& v) { o.data_dir = v; }},
      {"sync", [](auto& o, auto&, auto& k, auto& v) { o.sync = parse_bool(k, v); }},
      {"max-memory-bytes", [](auto& o, auto&, auto& k, auto& v) { o.max_memory_bytes = parse_int<size_t>(k, v); }},
      {"retention-check-interval-ms",
       [](auto& o, auto&, auto& k, auto& v) { o.retention_check_interval_ms = parse_int<int32_t>(k, v); }},
      {"group-initial-rebalance-delay-ms",
       [](auto& o, auto&, auto& k, auto& v) {
         o.group_initial_rebalance_delay_ms = parse_int<int32_t>(k, v);
         if (o.group_initial_rebalance_delay_ms < 0) throw bad_option("option " + k + ": must not be negative");
       }},
      {"group-min-session-timeout-ms",
       [](auto& o, auto&, auto& k, auto& v) {
         o.group_min_session_timeout_ms = parse_int<int32_t>(k, v);
         if (o.group_min_session_timeout_ms <= 0) throw bad_option("option " + k + ": must be positive");
       }},
      {"group-max-session-timeout-ms",
       [](auto& o, auto&, auto& k, auto& v) {
         o.group_max_session_timeout_ms = parse_int<int32_t>(k, v);
         if (o.group_max_session_timeout_ms <= 0) throw bad_option("option " + k + ": must be positive");
       }},
      {"transaction-max-timeout-ms",
       [](auto& o, auto&, auto& k, auto& v) {
         o.transaction_max_timeout_ms = parse_int<int32_t>(k, v);
         if (o.transaction_max_timeout_ms <= 0) throw bad_option("option " + k + ": must be positive");
       }},
      {"record-requests", [](auto& o, auto&, auto&, auto& v) { o.record_requests_dir = v; }},
      {"brokers",
       [](auto& o, auto&, auto& k, auto& v) {
         o.brokers = parse_int<int32_t>(k, v);
         if (o.brokers < 1) throw bad_option("option " + k + ": must be at least 1");
       }},
      {"clock",
       [](auto& o, auto&, auto& k, auto& v) {
         if (v != "system" && v != "manual") throw bad_option("option " + k + ": '" + v + "' is not system or manual");
         o.clock = v;
       }},
      {"trace-capacity", [](auto& o, auto&, auto& k, auto& v) { o.trace_capacity = parse_int<size_t>(k, v); }},
      {"emulate-kafka-version", [](auto& o, auto&, auto&, auto& v) { o.emulate_kafka_version = v; }},
      {"log-level",
       [](auto&, auto& x, auto&, auto& v) {
         static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
         if (std::find_if(std::begin(levels), std::end(levels), [&](const char* l) { return v == l; }) ==
             std::end(levels))
           throw bad_option("option log-level: '" + v + "' is not trace, debug, info, warn, error, critical or off");
         x.log_level = v;
       }},
  };
  return table;
}

// "--admin_port" and "admin-port" are the same key.
std::string normalise_key(const char* raw) {
  std::string k = raw;
  size_t skip = k.rfind("--", 0) == 0 ? 2 : 0;
  k.erase(0, skip);
  std::replace(k.begin(), k.end(), '_', '-');
  for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return k;
}

std::string upper(const char* s) {
  std::string out = s;
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

extern "C" {

const char* minikafka_version(void) { return mk::services::cluster_service::version(); }

int minikafka_abi_version(void) { return MINIKAFKA_ABI_VERSION; }

const char* minikafka_error_name(int code) {
  switch (code) {
    case MINIKAFKA_OK: return "OK";
    case MINIKAFKA_ERR_UNKNOWN: return "UNKNOWN";
    case MINIKAFKA_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case MINIKAFKA_ERR_STATE: return "STATE";
    case MINIKAFKA_ERR_IO: return "IO";
    case MINIKAFKA_ERR_NO_MEMORY: return "NO_MEMORY";
    case MINIKAFKA_ERR_HTTP: return "HTTP";
    default: break;
  }
  if (code <= 0 || code > INT16_MAX) return "UNKNOWN";
  // Kafka's names in upper case, made once (thread-safe static initialisation).
  static const std::map<int, std::string> names = [] {
    std::map<int, std::string> m;
#define MK_X(name, num, retriable) \
  if ((num) > 0) m[(num)] = upper(#name);
    MK_KAFKA_ERRORS(MK_X)
#undef MK_X
    return m;
  }();
  auto it = names.find(code);
  return it == names.end() ? "UNKNOWN" : it->second.c_str();
}

const char* minikafka_last_error(void) { return last_error.c_str(); }

int minikafka_create(const char* const* options, minikafka_broker** out) {
  if (out == nullptr) return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "minikafka_create: out is NULL");
  *out = nullptr;
  return guarded([&] {
    minikafka::broker_options o;
    create_extras x;
    o.port = 0;
    if (options != nullptr) {
      for (size_t i = 0; options[i] != nullptr; i += 2) {
        if (options[i + 1] == nullptr)
          return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, std::string("option ") + options[i] + " has no value");
        std::string key = normalise_key(options[i]);
        auto it = option_table().find(key);
        if (it == option_table().end()) {
          std::string known;
          for (const auto& [name, set] : option_table()) known += (known.empty() ? "" : ", ") + name;
          return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "unknown option '" + std::string(options[i]) + "' (known: " + known + ")");
        }
        try {
          it->second(o, x, key, options[i + 1]);
        } catch (const bad_option& e) {
          return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, e.what());
        }
      }
    }
    // As the binary: the admin API on 9644, or ephemeral when the Kafka port is.
    if (!x.admin_port_set) o.admin_port = o.port == 0 ? 0 : 9644;
    if (o.storage == "rocksdb" && o.data_dir.empty())
      return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "option storage rocksdb needs data-dir");
    if (!x.log_level.empty()) minikafka::set_log_level(x.log_level);
    *out = new minikafka_broker(std::move(o));
    return MINIKAFKA_OK;
  });
}

void minikafka_destroy(minikafka_broker* b) {
  if (b == nullptr) return;
  try {
    delete b;
  } catch (...) {
  }
}

int minikafka_start(minikafka_broker* b) {
  if (b == nullptr) return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker is NULL");
  return guarded([&] {
    b->broker.start();
    b->bootstrap = b->broker.bootstrap();
    b->admin_url = b->broker.admin_url();
    b->port = b->broker.port();
    return MINIKAFKA_OK;
  });
}

int minikafka_stop(minikafka_broker* b) {
  if (b == nullptr) return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker is NULL");
  return guarded([&] {
    b->broker.stop();
    return MINIKAFKA_OK;
  });
}

const char* minikafka_bootstrap(const minikafka_broker* b) { return b ? b->bootstrap.c_str() : ""; }
int minikafka_port(const minikafka_broker* b) { return b ? b->port : 0; }
const char* minikafka_admin_url(const minikafka_broker* b) { return b ? b->admin_url.c_str() : ""; }

int minikafka_topic_create(minikafka_broker* b, const char* name, int32_t partitions, const char* const* configs) {
  if (b == nullptr || name == nullptr) return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker or name is NULL");
  return guarded([&] {
    std::map<std::string, std::string> c;
    if (configs != nullptr) {
      for (size_t i = 0; configs[i] != nullptr; i += 2) {
        if (configs[i + 1] == nullptr)
          return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, std::string("topic config ") + configs[i] + " has no value");
        c[configs[i]] = configs[i + 1];
      }
    }
    b->broker.create_topic(name, partitions, c);
    return MINIKAFKA_OK;
  });
}

int minikafka_topic_delete(minikafka_broker* b, const char* name) {
  if (b == nullptr || name == nullptr) return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker or name is NULL");
  return guarded([&] {
    b->broker.delete_topic(name);
    return MINIKAFKA_OK;
  });
}

int minikafka_topics_list(minikafka_broker* b, char*** names, size_t* count) {
  if (b == nullptr || names == nullptr) return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker or names is NULL");
  *names = nullptr;
  if (count) *count = 0;
  return guarded([&] {
    auto list = b->broker.topics();
    std::sort(list.begin(), list.end());
    auto** out = static_cast<char**>(std::calloc(list.size() + 1, sizeof(char*)));
    if (out == nullptr) throw std::bad_alloc();
    try {
      for (size_t i = 0; i < list.size(); ++i) out[i] = copy_string(list[i]);
    } catch (...) {
      minikafka_strings_free(out);
      throw;
    }
    *names = out;
    if (count) *count = list.size();
    return MINIKAFKA_OK;
  });
}

void minikafka_strings_free(char** strings) {
  if (strings == nullptr) return;
  for (size_t i = 0; strings[i] != nullptr; ++i) std::free(strings[i]);
  std::free(strings);
}

int minikafka_end_offset(minikafka_broker* b, const char* topic, int32_t partition, int64_t* offset) {
  if (b == nullptr || topic == nullptr || offset == nullptr)
    return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker, topic or offset is NULL");
  return guarded([&] {
    *offset = b->broker.end_offset(topic, partition);
    return MINIKAFKA_OK;
  });
}

int minikafka_end_offsets(minikafka_broker* b, const char* topic, int64_t* offsets, size_t capacity,
                          size_t* partitions) {
  if (b == nullptr || topic == nullptr || (offsets == nullptr && capacity > 0))
    return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker or topic is NULL, or offsets is NULL with a capacity");
  return guarded([&] {
    auto all = b->broker.end_offsets(topic);
    std::copy_n(all.begin(), std::min(capacity, all.size()), offsets);
    if (partitions) *partitions = all.size();
    return MINIKAFKA_OK;
  });
}

int minikafka_group_lag(minikafka_broker* b, const char* group_id, minikafka_partition_lag** lags, size_t* count,
                        int64_t* total_lag) {
  if (b == nullptr || group_id == nullptr) return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker or group_id is NULL");
  if (lags) *lags = nullptr;
  if (count) *count = 0;
  if (total_lag) *total_lag = 0;
  return guarded([&] {
    auto list = b->broker.group_lag(group_id);
    int64_t total = 0;
    for (const auto& l : list) total += l.lag;
    if (lags) {
      auto* out = static_cast<minikafka_partition_lag*>(std::calloc(list.size() + 1, sizeof(minikafka_partition_lag)));
      if (out == nullptr) throw std::bad_alloc();
      try {
        for (size_t i = 0; i < list.size(); ++i) {
          out[i].topic = copy_string(list[i].topic);
          out[i].partition = list[i].partition;
          out[i].committed = list[i].committed;
          out[i].end_offset = list[i].end_offset;
          out[i].lag = list[i].lag;
        }
      } catch (...) {
        minikafka_group_lag_free(out, list.size());
        throw;
      }
      *lags = out;
    }
    if (count) *count = list.size();
    if (total_lag) *total_lag = total;
    return MINIKAFKA_OK;
  });
}

void minikafka_group_lag_free(minikafka_partition_lag* lags, size_t count) {
  if (lags == nullptr) return;
  for (size_t i = 0; i < count; ++i) std::free(const_cast<char*>(lags[i].topic));
  std::free(lags);
}

int minikafka_admin_request(minikafka_broker* b, const char* method, const char* target, const char* body, int* status,
                            char** response) {
  if (status) *status = 0;
  if (response) *response = nullptr;
  if (b == nullptr || method == nullptr || target == nullptr)
    return fail(MINIKAFKA_ERR_INVALID_ARGUMENT, "broker, method or target is NULL");
  return guarded([&] {
    auto r = b->broker.admin_request(method, target, body ? body : "");
    if (status) *status = r.status;
    if (response) *response = copy_string(r.body);
    if (r.status == 503 && r.body.find("not_serving") != std::string::npos)
      return fail(MINIKAFKA_ERR_STATE, r.body);
    if (r.status >= 400) return fail(MINIKAFKA_ERR_HTTP, std::to_string(r.status) + " " + r.body);
    return MINIKAFKA_OK;
  });
}

void minikafka_free(void* p) { std::free(p); }

}  // extern "C"
