// The cluster as front ends describe it: nodes and their listeners, controller, ids, version,
// uptime, storage backend, and producer ids.
// Runs on: broker state thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/clock.h"
#include "broker/cluster.h"

namespace mk::services {

struct listener_info {
  std::string name;  // "kafka" or "admin"
  int32_t node_id = -1;  // -1 for the admin listener
  std::string host;
  uint16_t port = 0;
};

class cluster_service {
 public:
  cluster_service(cluster& state, const clock& clk, const char* storage_name)
      : state_(state), clock_(clk), storage_name_(storage_name), started_ms_(clk.steady_ms()) {}

  const std::vector<node_info>& nodes() const { return state_.nodes(); }
  const node_info* node(int32_t id) const { return state_.node(id); }
  int32_t controller_id() const { return state_.controller_id(); }
  const std::string& cluster_id() const { return state_.cluster_id(); }
  const char* storage() const { return storage_name_; }
  // The project version (CMakeLists.txt), as `minikafka --version` prints it.
  static const char* version();
  int64_t uptime_ms() const { return clock_.steady_ms() - started_ms_; }

  // Listeners, set by the server once bound.
  void set_listeners(std::vector<listener_info> l) { listeners_ = std::move(l); }
  const std::vector<listener_info>& listeners() const { return listeners_; }

  // A producer id never handed out before (InitProducerId).
  int64_t next_producer_id() { return state_.next_producer_id(); }

 private:
  cluster& state_;
  const clock& clock_;
  const char* storage_name_;
  int64_t started_ms_;
  std::vector<listener_info> listeners_;
};

}  // namespace mk::services
