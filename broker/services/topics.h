// Topics: create, delete, describe, grow, auto-create. The one place every front end (Kafka
// handlers, the HTTP admin API, the embedding API) goes through to change the set of topics.
// Creation rules, validation and persistence are in the cluster state (broker/cluster.cc); this
// service is the seam where cross-cutting steps (control-plane resets, observers) attach.
// Runs on: broker state thread.
#pragma once

#include <string>

#include "broker/cluster.h"
#include "broker/control/change_feed.h"

namespace mk::services {

class topics_service {
 public:
  // `changes` is notified when the set of topics or partitions changes (awaits re-check).
  topics_service(cluster& state, control::change_feed& changes) : state_(state), changes_(changes) {}

  // Errors: see cluster::create_topic. `created` receives the new topic on success.
  topic_error create(const cluster::create_spec& spec, bool validate_only = false, topic_state** created = nullptr) {
    auto e = state_.create_topic(spec, validate_only, created);
    if (!e && !validate_only) changes_.notify();
    return e;
  }
  // UNKNOWN_TOPIC_OR_PARTITION when missing. Parked fetches on it are woken; observers (groups)
  // drop what refers to it.
  topic_error remove(const std::string& name) {
    auto e = state_.delete_topic(name);
    if (!e) changes_.notify();
    return e;
  }
  // INVALID_PARTITIONS unless count > current partitions; `assignments`: see
  // cluster::create_partitions.
  topic_error grow(topic_state& t, int32_t count, bool validate_only = false,
                   const std::vector<std::vector<int32_t>>& assignments = {}) {
    auto e = state_.create_partitions(t, count, validate_only, assignments);
    if (!e && !validate_only) changes_.notify();
    return e;
  }
  // The replica count a topic created now with replication factor `requested` gets.
  int16_t replicas_for(int16_t requested) const { return state_.replicas_for(requested); }

  topic_state* find(const std::string& name) const { return state_.find(name); }
  topic_state* find(const proto::uuid& id) const { return state_.find(id); }
  // The topic, auto-created when missing if auto-creation is on and the name is legal; else null.
  topic_state* find_or_create(const std::string& name) const {
    topic_state* t = state_.find(name);
    if (t) return t;
    t = state_.auto_create(name);
    if (t) changes_.notify();
    return t;
  }
  // The error Kafka gives for a topic name that is not there: INVALID_TOPIC_EXCEPTION for an
  // illegal name, else UNKNOWN_TOPIC_OR_PARTITION.
  static proto::error_code missing_topic_error(const std::string& name) {
    return cluster::validate_topic_name(name) ? proto::error_code::invalid_topic_exception
                                              : proto::error_code::unknown_topic_or_partition;
  }
  const std::map<std::string, std::unique_ptr<topic_state>>& all() const { return state_.topics(); }

 private:
  cluster& state_;
  control::change_feed& changes_;
};

}  // namespace mk::services
