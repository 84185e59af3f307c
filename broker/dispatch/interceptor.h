// Interceptors: hooks in front of every Kafka request, run by the dispatcher in the order they
// were added (fault injection, request tracing, version checks, authentication).
//
// An interceptor sees the decoded request header, the connection, and the request body as a
// reader it may copy and decode (proto::summarize_request gives topics, partitions, group and
// transactional ids without knowing the API). It answers with an action: pass to the handler,
// answer an error in that API's own response shape at that version (without running the
// handler), drop the request (no response: the client times out), or close the connection; any
// of them after a delay. The first action other than `pass` ends the chain; delays add up.
// After the request is answered every interceptor's on_response() sees the outcome.
//
// With no interceptor installed the dispatcher does not build any of this.
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "protocol/error_code.h"
#include "protocol/framing.h"
#include "protocol/wire.h"

namespace mk {

struct request_info {
  const proto::request_header& header;
  uint64_t connection_id;
  int32_t node_id;          // the broker whose listener accepted the connection
  const std::string& peer;  // "host:port" of the client
  proto::reader body;       // the request body (a view; copy it to decode)
};

struct intercept_action {
  enum class kind { pass, error, drop, close };
  // Selects partitions of a request by topic name (empty when the request names it by id only),
  // topic id (zero when by name only) and partition index.
  using partition_filter = std::function<bool(const std::string& topic, const proto::uuid& topic_id, int32_t partition)>;

  kind what = kind::pass;
  proto::error_code error = proto::error_code::none;  // for kind::error
  int32_t delay_ms = 0;                               // wait this long before acting (real time)
  // kind::error only: when set, just the partitions it selects get the error and the handler
  // answers the others, in one response (Produce and Fetch; other APIs get the error in every
  // error field). See broker/dispatch/partial_errors.h.
  partition_filter only;

  static intercept_action pass() { return {}; }
  static intercept_action fail(proto::error_code e) { return make(kind::error, e, 0); }
  static intercept_action drop() { return make(kind::drop, proto::error_code::none, 0); }
  static intercept_action close() { return make(kind::close, proto::error_code::none, 0); }
  static intercept_action delay(int32_t ms) { return make(kind::pass, proto::error_code::none, ms); }

 private:
  static intercept_action make(kind k, proto::error_code e, int32_t ms) {
    intercept_action a;
    a.what = k;
    a.error = e;
    a.delay_ms = ms;
    return a;
  }
};

struct response_info {
  intercept_action::kind outcome = intercept_action::kind::pass;  // what the chain decided
  bool responded = false;   // a response was queued
  int error_count = 0;      // error codes in the response (as the per-API error metric counts)
  const std::vector<int16_t>* error_codes = nullptr;  // distinct non-zero codes, at any depth
  double seconds = 0;       // from arrival to response
};

class interceptor {
 public:
  virtual ~interceptor() = default;
  virtual intercept_action on_request(const request_info& req) = 0;
  virtual void on_response(const request_info&, const response_info&) {}
  // The dispatcher answered the request without any handler or chain because this broker does
  // not serve its API or version (closing the connection, or the KIP-511 ApiVersions answer);
  // `reason` says which. on_request/on_response are not called for it.
  virtual void on_refused(const request_info&, const std::string& /*reason*/) {}
};

}  // namespace mk
