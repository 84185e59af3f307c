// The test control plane as one service behind every front end (HTTP /v1/control/..., /v1/await/...,
// /v1/trace; the embedding API's fault/reset/clock/await calls): fault rules, reset, the virtual
// clock, await conditions, the request trace and Kafka-version emulation.
//
// It reaches the dispatchers through attach(): one call per broker node, after the node's
// dispatcher exists. Its interceptors are installed on a dispatcher only while they have work
// (a fault rule exists, the trace is on), so an untouched broker runs the plain dispatch path.
// Runs on: broker state thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/asio.h"
#include "broker/control/change_feed.h"
#include "broker/control/fault_injector.h"
#include "broker/control/kafka_versions.h"
#include "broker/control/request_trace.h"

namespace mk {
class clock;
class dispatcher;
struct broker_config;
namespace groups {
class group_coordinator;
}
}  // namespace mk

namespace mk::services {
class topics_service;
class groups_service;
}  // namespace mk::services

namespace mk::control {

// The broker clock as the control plane shows it.
struct clock_state {
  bool manual = false;
  int64_t wall_ms = 0;    // milliseconds since the epoch (record timestamps)
  int64_t steady_ms = 0;  // monotonic (deadlines)
};

// What the await oracles look at (and report when they time out).
struct group_view {
  std::string group_id;
  bool exists = false;
  std::string state;  // Kafka's name ("Stable"); "Dead" when the group does not exist
  int32_t generation_id = 0;
  std::vector<std::string> member_ids;
};

struct lag_view {
  struct partition {
    std::string topic;
    int32_t partition = 0;
    int64_t committed = -1;  // -1: no commit (counted from the log start)
    int64_t start_offset = 0;
    int64_t end_offset = 0;
    int64_t lag = 0;
  };
  std::string group_id;
  std::optional<std::string> topic;
  bool topic_exists = true;
  int64_t total = 0;
  std::vector<partition> partitions;
};

struct records_view {
  struct partition {
    int32_t partition = 0;
    int64_t start_offset = 0;
    int64_t end_offset = 0;
  };
  std::string topic;
  bool exists = false;
  std::optional<int32_t> only_partition;
  int64_t records = 0;  // sum of end offsets (records appended) over the partitions considered
  std::vector<partition> partitions;
};

// The await conditions (HTTP /v1/await/... and the embedding API's await_* share them).
// The group is in `state` ("" = any, Kafka's spelling) with `members` members; with neither, it
// exists.
bool group_condition(const group_view& g, const std::string& state, std::optional<int64_t> members);
// The topic exists and the total lag is at most `max_lag`.
inline bool lag_condition(const lag_view& l, int64_t max_lag) { return l.topic_exists && l.total <= max_lag; }
// The topic (and partition, if one is asked for) exists with at least `min` records appended.
inline bool records_condition(const records_view& r, int64_t min) {
  return r.exists && (!r.only_partition || !r.partitions.empty()) && r.records >= min;
}

// One API's emulated range (PUT /v1/control/api-versions "apis"): unset bounds keep the
// current ones; `disabled` stops serving the API.
struct api_override {
  std::optional<int16_t> min_version;
  std::optional<int16_t> max_version;
  bool disabled = false;
};

// What one broker node advertises.
struct api_versions_view {
  int32_t broker = 0;
  std::string kafka_version;  // "" when not emulating a release
  bool overridden = false;    // narrowed by hand ("apis")
  std::vector<api_range> apis;
};

// What a reset removed.
struct reset_result {
  std::vector<std::string> topics;
  std::vector<std::string> groups;
  size_t fault_rules = 0;
  size_t trace_entries = 0;
};

class control_service {
 public:
  control_service(change_feed& feed, services::topics_service& topics, services::groups_service& groups,
                  mk::clock& clk, const broker_config& cfg);
  ~control_service();
  control_service(const control_service&) = delete;
  control_service& operator=(const control_service&) = delete;

  // A broker node's dispatcher: the control plane's interceptors and API-version changes apply
  // to it. The dispatcher must outlive this service or be detached first.
  void attach(dispatcher& d, int32_t node_id);
  void detach(dispatcher& d);

  // ---- fault rules (broker/control/fault_injector.h)
  // Adds a rule; returns its id, or nullopt with `why` when validate() refuses it.
  std::optional<int64_t> add_fault(fault_rule r, std::string* why = nullptr);
  std::vector<fault_rule_status> faults() const { return faults_->list(); }
  std::optional<fault_rule_status> fault(int64_t id) const { return faults_->get(id); }
  bool remove_fault(int64_t id);
  size_t clear_faults();

  // ---- reset
  // Deletes every topic (with its data and producer state), every group (in any state: members
  // rejoin) with its committed offsets, every fault rule and the request trace. With a prefix,
  // only topics and groups whose names start with it, and the fault rules that name such a
  // topic, group, transactional id or client id; the trace is kept. The API-version table and
  // the clock are not touched.
  reset_result reset(const std::string& prefix = "");

  // ---- clock
  clock_state clock() const;
  // Moves a manual clock forward by `ms` (>= 0): timers that come due fire (group sessions and
  // rebalances expire at once; retention, compaction and parked fetches run from their timer
  // handlers, queued on the state thread: callers that need them done wait for one more turn of
  // the executor). False for the system clock.
  bool advance_clock(int64_t ms);

  // ---- await oracles
  group_view group(const std::string& group_id) const;
  // Lag of a group: with `topic`, over every partition of the topic (partitions without a commit
  // count from the log start); without, over every partition the group committed to.
  lag_view lag(const std::string& group_id, const std::optional<std::string>& topic) const;
  records_view records(const std::string& topic, std::optional<int32_t> partition) const;

  // Waits until `check()` is true: it runs now and again after every change notification (no
  // polling). True when it held, false when `timeout` (real time, whatever the broker clock)
  // passed first or the broker began to stop. The caller keeps `check` alive while waiting.
  // Runs on: the state thread's executor (co_spawn it there).
  boost::asio::awaitable<bool> wait_until(std::function<bool()> check, std::chrono::milliseconds timeout);

  // ---- request trace (broker/control/request_trace.h)
  // Null while the trace is off (capacity 0).
  const request_trace* trace() const { return trace_capacity_ > 0 ? trace_.get() : nullptr; }
  // Resizes the ring (keeping the newest entries); 0 turns the trace off, uninstalling it.
  void set_trace_capacity(size_t n);
  // Requests seen since start or the last reset (nullopt while the trace is off).
  std::optional<uint64_t> requests_seen(std::optional<int16_t> api, const std::optional<std::string>& client_id) const;

  // ---- Kafka-version emulation (broker/control/kafka_versions.h)
  // Replaces the API table of `broker` (every node when unset) with minikafka's own, narrowed to
  // what Kafka `kafka_version` advertised (when not empty: APIs that release lacks are no longer
  // served; ranges are intersected with ours), then applies `apis`. Returns "" on success, else
  // why (unknown release, broker or API, a range outside what minikafka implements) and changes
  // nothing. Clients that connect (or send ApiVersions) afterwards see the new table.
  std::string set_api_versions(std::optional<int32_t> broker, const std::string& kafka_version,
                               const std::map<int16_t, api_override>& apis);
  // Narrows (or widens, within what minikafka implements) one API of the current table. "" or why.
  std::string narrow_api(std::optional<int32_t> broker, int16_t key, int16_t min_version, int16_t max_version);
  // Back to minikafka's own table. "" or why (unknown broker).
  std::string restore_api_versions(std::optional<int32_t> broker);
  std::vector<api_versions_view> api_versions() const;

  // ---- state changes, for awaits
  change_feed& changes() { return feed_; }
  void notify() { feed_.notify(); }
  // Called by the server when it begins to stop: parked awaits answer at once.
  void shutdown();
  bool stopping() const { return stopping_; }

 private:
  void sync_interceptors();

  change_feed& feed_;
  services::topics_service& topics_;
  services::groups_service& groups_;
  mk::clock& clock_;
  const broker_config& cfg_;
  std::shared_ptr<fault_injector> faults_;
  std::shared_ptr<request_trace> trace_;
  size_t trace_capacity_;
  struct attached {
    dispatcher* d = nullptr;
    int32_t node_id = 0;
    bool trace_installed = false;
    bool faults_installed = false;
    std::string kafka_version;  // emulated release, "" for none
    bool overridden = false;
  };
  std::vector<attached> dispatchers_;
  bool stopping_ = false;
};

}  // namespace mk::control
