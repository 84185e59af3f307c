#include "broker/control/control_service.h"

#include <algorithm>

#include "broker/clock.h"
#include "broker/config.h"
#include "broker/dispatch/dispatcher.h"
#include "broker/services/groups.h"
#include "broker/services/topics.h"

namespace mk::control {

control_service::control_service(change_feed& feed, services::topics_service& topics, services::groups_service& groups,
                                 mk::clock& clk, const broker_config& cfg)
    : feed_(feed), topics_(topics), groups_(groups), clock_(clk), cfg_(cfg),
      faults_(std::make_shared<fault_injector>(topics)) {}

control_service::~control_service() = default;

void control_service::attach(dispatcher& d, int32_t node_id) {
  dispatchers_.push_back(attached{&d, node_id});
  sync_interceptors();
}

void control_service::detach(dispatcher& d) {
  for (auto& a : dispatchers_)
    if (a.d == &d && a.faults_installed) d.remove_interceptor(faults_.get());
  std::erase_if(dispatchers_, [&](const attached& a) { return a.d == &d; });
}

void control_service::sync_interceptors() {
  const bool want_faults = !faults_->empty();
  for (auto& a : dispatchers_) {
    if (want_faults && !a.faults_installed) a.d->add_interceptor(faults_);
    if (!want_faults && a.faults_installed) a.d->remove_interceptor(faults_.get());
    a.faults_installed = want_faults;
  }
}

std::optional<int64_t> control_service::add_fault(fault_rule r, std::string* why) {
  std::string err = validate(r);
  if (!err.empty()) {
    if (why) *why = err;
    return std::nullopt;
  }
  const int64_t id = faults_->add(std::move(r));
  sync_interceptors();
  return id;
}

bool control_service::remove_fault(int64_t id) {
  const bool removed = faults_->remove(id);
  sync_interceptors();
  return removed;
}

size_t control_service::clear_faults() {
  const size_t n = faults_->clear();
  sync_interceptors();
  return n;
}

reset_result control_service::reset(const std::string& prefix) {
  reset_result out;
  auto ours = [&](const std::string& name) { return name.compare(0, prefix.size(), prefix) == 0; };
  // Groups first: their members go before the topics they read, so nothing rebalances twice.
  for (const auto& g : groups_.list())
    if (ours(g.group_id)) out.groups.push_back(g.group_id);
  for (const auto& g : out.groups) groups_.force_remove(g);
  for (const auto& [name, t] : topics_.all())
    if (ours(name)) out.topics.push_back(name);
  for (const auto& name : out.topics) (void)topics_.remove(name);
  if (prefix.empty()) {
    out.fault_rules = faults_->clear();
  } else {
    auto named = [&](const std::optional<std::string>& s) { return s && ours(*s); };
    out.fault_rules = faults_->remove_if([&](const fault_rule& r) {
      return named(r.topic) || named(r.group_id) || named(r.transactional_id) || named(r.client_id);
    });
  }
  sync_interceptors();
  feed_.notify();
  return out;
}

clock_state control_service::clock() const {
  return clock_state{clock_.manual(), clock_.wall_ms(), clock_.steady_ms()};
}

bool control_service::advance_clock(int64_t ms) {
  if (!clock_.manual() || ms < 0) return false;
  static_cast<manual_clock&>(clock_).advance(ms);
  feed_.notify();
  return true;
}

void control_service::shutdown() {
  stopping_ = true;
  feed_.notify();
}

}  // namespace mk::control
