// The one place that says which APIs and versions this broker serves. ApiVersions is built from
// it, so the broker cannot advertise what it does not serve. Each server copies the default
// table, so a test can narrow versions or disable an API on one broker only.
#pragma once

#include "broker/asio.h"
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/framing.h"
#include "protocol/wire.h"

namespace mk {

class server;

// What a handler produces: the encoded response body, or nothing (acks=0 produce), or a decode
// failure that closes the connection.
struct reply {
  bool ok = true;        // false: the request could not be decoded; the connection closes
  bool respond = true;   // false: send nothing (Produce with acks=0)
  bool close_after = false;  // close the connection after sending (or instead of sending)
  std::string error;     // why, for the log line
  int errors = 0;        // error codes in the response (for metrics), when the handler counts them
  proto::writer body;
};

struct request_context {
  server& srv;
  const proto::request_header& header;
  int32_t node_id;  // the node whose listener accepted this connection
  const std::string& peer;
  int16_t version() const { return header.api_version; }
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
  const api_entry* find(int16_t key) const;
  const std::vector<api_entry>& entries() const { return entries_; }
  // Test hooks: narrow an API's advertised range, or stop serving it.
  void set_range(int16_t key, int16_t min_version, int16_t max_version);
  void remove(int16_t key);
  void add(api_entry e);

 private:
  std::vector<api_entry> entries_;
};

}  // namespace mk
