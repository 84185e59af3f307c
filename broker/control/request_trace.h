// The request trace: a bounded ring of the most recent Kafka requests and how they were
// answered, for GET /v1/trace and for the request counts that GET /v1/await/requests waits on.
//
// A dispatcher interceptor (broker/dispatch/interceptor.h): on_request counts the request (API,
// client id) and remembers the client software that ApiVersions v3+ announced on the
// connection; on_response records the entry: arrival time, broker, connection, peer, client id
// and software, API, version, correlation id, latency, outcome (answered, injected error,
// dropped, closed, not answered), the fault rule that acted, the response's error codes, and
// the topics/partitions, group ids and transactional ids the request names
// (proto::summarize_request). Installed only while its capacity is > 0.
// Times are real (system clock) milliseconds, whatever the broker clock.
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/dispatch/interceptor.h"
#include "protocol/wire.h"

namespace mk::services {
class topics_service;
}

namespace mk::control {

class change_feed;
class fault_injector;

struct trace_entry {
  enum class outcome { answered, fault_error, dropped, closed, not_answered, refused };
  struct topic {
    std::string name;  // resolved from the id when the request names the topic by id only
    proto::uuid id;    // zero when the request names it by name
    std::vector<int32_t> partitions;
  };
  uint64_t seq = 0;       // 1, 2, ... in the order requests were answered
  int64_t time_ms = 0;    // arrival, ms since the epoch (real time)
  double latency_ms = 0;  // arrival to answer (or drop/close)
  int32_t broker = 0;
  uint64_t connection = 0;
  std::string peer;
  std::string client_id;
  std::string software_name;     // ApiVersions v3+ ClientSoftwareName on this connection, if any
  std::string software_version;
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  outcome result = outcome::answered;
  std::optional<int64_t> fault_rule;  // the rule that acted on it (delay, error, drop or close)
  std::vector<int16_t> error_codes;   // distinct non-zero codes of the response
  std::string reason;                 // for `refused`: why the broker did not serve it

  // What the request names. Small requests keep their body and are summarized when first read
  // (request_trace::entries()), so recording one costs no decoding.
  struct names {
    std::vector<topic> topics;
    std::vector<std::string> group_ids;
    std::vector<std::string> transactional_ids;
  };
  const names& named() const { return named_; }

 private:
  friend class request_trace;
  mutable names named_;
  mutable proto::reader body_;  // the request body until summarized (shares the frame)
  mutable bool summarized_ = false;
};

const char* to_string(trace_entry::outcome o);

// Which entries GET /v1/trace returns.
struct trace_filter {
  std::optional<int16_t> api;
  std::optional<std::string> client_id;
  std::optional<std::string> topic;
  std::optional<int64_t> since_ms;  // arrival at or after
  std::optional<uint64_t> after_seq;
  bool matches(const trace_entry& e) const;  // summarizes `e` when filtering by topic
};

class request_trace final : public interceptor {
 public:
  request_trace(size_t capacity, const services::topics_service& topics, change_feed& feed,
                const fault_injector& faults)
      : capacity_(capacity), topics_(topics), feed_(feed), faults_(faults) {}

  size_t capacity() const { return capacity_; }
  void set_capacity(size_t n);
  // Entries matching `f`, oldest first, at most the newest `limit`.
  std::vector<const trace_entry*> entries(const trace_filter& f, size_t limit) const;
  uint64_t last_seq() const { return next_seq_ - 1; }
  // Requests seen (counted on arrival) since start or clear(), for an API and/or client id.
  uint64_t count(std::optional<int16_t> api, const std::optional<std::string>& client_id) const;
  // Forgets every entry and count; returns how many entries there were.
  size_t clear();

  intercept_action on_request(const request_info& req) override;
  void on_response(const request_info& req, const response_info& resp) override;
  void on_refused(const request_info& req, const std::string& reason) override;

 private:
  trace_entry& next_slot();
  void fill(trace_entry& e, const request_info& req, double latency_ms);
  size_t capacity_;
  const services::topics_service& topics_;
  change_feed& feed_;
  const fault_injector& faults_;
  void summarize(const trace_entry& e) const;

  // The ring: slots are reused in place (their strings and vectors keep their capacity), so
  // recording an entry allocates nothing once the ring is full. Oldest at first_, size_ used.
  std::vector<trace_entry> ring_;
  size_t first_ = 0;
  size_t size_ = 0;
  trace_entry& slot(size_t i) { return ring_[(first_ + i) % ring_.size()]; }
  const trace_entry& slot(size_t i) const { return ring_[(first_ + i) % ring_.size()]; }
  uint64_t next_seq_ = 1;
  // client id -> requests per API key (heterogeneous lookup: counting allocates nothing)
  std::map<std::string, std::map<int16_t, uint64_t>, std::less<>> counts_;
  struct software {
    std::string name;
    std::string version;
  };
  std::map<uint64_t, software> software_;  // by connection id; the oldest are forgotten first
};

}  // namespace mk::control
