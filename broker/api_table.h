// The one place that says which APIs and versions a broker serves. ApiVersions is built from it,
// so the broker cannot advertise what it does not serve. Each dispatcher copies the default
// table, so one broker's advertised ranges can be narrowed (Kafka-version emulation, tests)
// without touching another's.
#pragma once

#include "broker/asio.h"
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/framing.h"
#include "protocol/wire.h"

namespace mk {

class clock;
struct broker_config;
namespace services {
struct broker_services;
}

// What a handler produces: the encoded response body, or nothing (acks=0 produce), or a decode
// failure that closes the connection.
struct reply {
  bool ok = true;        // false: the request could not be decoded; the connection closes
  bool respond = true;   // false: send nothing (Produce with acks=0)
  bool close_after = false;  // close the connection after sending (or instead of sending)
  std::string error;     // why, for the log line
  int errors = 0;        // error codes in the response (for metrics), when the handler counts them
  // The distinct non-zero error codes of the response, at any depth: filled only when the
  // request context asks for them (collect_error_codes; interceptors such as the trace read them).
  std::vector<int16_t> error_codes;
  proto::writer body;
};

// What handlers may use, owned by the server: the services, the clock, the configuration, and
// whether the broker is shutting down (parked requests answer at once then).
struct handler_env {
  services::broker_services& svc;
  mk::clock& clock;
  const broker_config& config;
  const bool& stopping;
};

class api_table;

struct request_context {
  const handler_env& env;
  const api_table& apis;  // what the listener this request arrived on serves (ApiVersions)
  const proto::request_header& header;
  int32_t node_id;  // the node whose listener accepted this connection
  const std::string& peer;
  bool collect_error_codes = false;  // fill reply::error_codes (set when interceptors are installed)
  int16_t version() const { return header.api_version; }
  services::broker_services& svc() const { return env.svc; }
};

using handler_fn = boost::asio::awaitable<reply> (*)(request_context&, proto::reader&);

struct api_entry {
  int16_t key;
  const char* name;
  int16_t min_version;
  int16_t max_version;
  handler_fn fn;
};

class api_table {
 public:
  static api_table defaults();
  const api_entry* find(int16_t key) const {
    return key >= 0 && static_cast<size_t>(key) < by_key_.size() && by_key_[static_cast<size_t>(key)] >= 0
               ? &entries_[static_cast<size_t>(by_key_[static_cast<size_t>(key)])]
               : nullptr;
  }
  const std::vector<api_entry>& entries() const { return entries_; }
  // Narrows an API's advertised and served range (Kafka-version emulation, tests). Returns false
  // when the API is not served or the range is empty or outside what it implements.
  bool set_range(int16_t key, int16_t min_version, int16_t max_version);
  // Stops serving (and advertising) an API, as a Kafka release without it would: its requests
  // then close the connection like any unknown API. False when it is not served.
  bool remove(int16_t key);

 private:
  void index();
  std::vector<api_entry> entries_;
  std::vector<int> by_key_;  // API key -> index in entries_, -1 when not served
};

}  // namespace mk
