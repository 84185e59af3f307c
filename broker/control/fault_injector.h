// Fault injection: rules that answer matching Kafka requests with an error in the API's own
// response shape, delay them, drop them (no answer: the client times out) or close the
// connection. Installed as a dispatcher interceptor (broker/dispatch/interceptor.h) only while at
// least one rule exists, so a broker without rules pays nothing.
//
// Matching (every field given must hold): API key, version range, topic (by name; a request
// that names topics by id is matched through the topic's id), partition (of the matched topic,
// or of any topic when no topic is given), broker (node id whose listener took the
// connection), client id, group id, transactional id (as protocol/generated/request_summary.h
// lists them). A rule without an API matches every API.
//
// Firing: `after` lets the first N matches through; then the rule fires on every match, on the
// next `count` matches only, or, with `probability`, on each match with that probability (a
// deterministic generator seeded by `seed`). `matched` counts matching requests, `fired` those
// the rule acted on. Rules are tried in the order they were added: each firing rule adds its
// delay; the first firing rule with an error, drop or close decides, and later rules do not see
// the request.
//
// The error goes into every error field of the response at the request's version (per topic
// and partition when the request lists them), as proto::error_response builds it; the handler
// does not run, so nothing is appended or committed. A rule naming a topic or partition fails
// only those partitions of a Produce or Fetch that names others too; the handler answers the
// rest (intercept_action::only, broker/dispatch/partial_errors.h). A Produce with acks=0 gets no
// response.
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/dispatch/interceptor.h"

namespace mk::services {
class topics_service;
}

namespace mk::control {

struct fault_rule {
  // Match. Unset fields match anything.
  std::optional<int16_t> api;  // API key
  std::optional<int16_t> min_version;
  std::optional<int16_t> max_version;
  std::optional<std::string> topic;
  std::optional<int32_t> partition;
  std::optional<int32_t> broker;
  std::optional<std::string> client_id;
  std::optional<std::string> group_id;
  std::optional<std::string> transactional_id;
  // Act: an error, a delay, or both; or drop/close (after the delay, if any).
  enum class action { none, drop, close };
  std::optional<int16_t> error;  // Kafka error code
  int32_t delay_ms = 0;
  action act = action::none;
  // How often.
  std::optional<int64_t> count;  // fire on the next N matches only (after `after`)
  int64_t after = 0;             // let the first N matches through
  std::optional<double> probability;  // in [0, 1]
  std::optional<uint64_t> seed;       // for `probability`; default: a random seed
};

struct fault_rule_status {
  int64_t id = 0;
  fault_rule rule;
  int64_t matched = 0;  // requests that matched
  int64_t fired = 0;    // requests the rule acted on
  bool exhausted = false;  // `count` reached: the rule no longer fires
};

// Lookups for names used by the control plane (case-insensitive):
// "Produce" / "produce" / "0" -> 0; nullopt when unknown.
std::optional<int16_t> api_key_from_name(const std::string& s);
// "NOT_LEADER_OR_FOLLOWER" / "not_leader_or_follower" / "6" -> 6; nullopt when unknown.
std::optional<int16_t> error_from_name(const std::string& s);
// Kafka's API name ("Produce"), or "ApiKey<n>" for keys not in the generated table.
std::string api_name(int16_t key);
// Kafka's error name in upper case ("NOT_LEADER_OR_FOLLOWER"), or the number.
std::string error_upper_name(int16_t code);

// Why a rule cannot be added ("" when it is valid): no effect, error together with drop/close,
// negative counts or delays, a probability outside [0, 1], an empty version range.
std::string validate(const fault_rule& r);

class fault_injector final : public interceptor {
 public:
  explicit fault_injector(const services::topics_service& topics) : topics_(topics) {}

  // Adds a valid rule (see validate()); returns its id (1, 2, ... per broker process).
  int64_t add(fault_rule r);
  bool remove(int64_t id);
  // Removes every rule `pred` selects; returns how many.
  size_t remove_if(const std::function<bool(const fault_rule&)>& pred);
  size_t clear();
  std::vector<fault_rule_status> list() const;
  std::optional<fault_rule_status> get(int64_t id) const;
  bool empty() const { return rules_.empty(); }

  // The rule that decided the request (connection, correlation id) now being answered, if any.
  // Valid from on_request() until this interceptor's on_response() for that request.
  std::optional<int64_t> decided_by(uint64_t connection_id, int32_t correlation_id) const;

  intercept_action on_request(const request_info& req) override;
  void on_response(const request_info& req, const response_info& resp) override;

 private:
  struct entry {
    fault_rule rule;
    int64_t matched = 0;
    int64_t fired = 0;
    std::mt19937_64 rng;
  };
  bool needs_summary(const fault_rule& r) const;

  const services::topics_service& topics_;
  std::map<int64_t, entry> rules_;  // by id = order added
  int64_t next_id_ = 1;
  std::unordered_map<uint64_t, int64_t> deciding_;  // (connection, correlation id) -> rule id
};

}  // namespace mk::control
