#include "broker/control/control_service.h"

#include <algorithm>
#include <stdexcept>

#include "broker/clock.h"
#include "broker/cluster.h"
#include "broker/config.h"
#include "broker/dispatch/dispatcher.h"
#include "broker/services/groups.h"
#include "broker/services/topics.h"

namespace mk::control {

control_service::control_service(change_feed& feed, services::topics_service& topics, services::groups_service& groups,
                                 mk::clock& clk, const broker_config& cfg)
    : feed_(feed), topics_(topics), groups_(groups), clock_(clk), cfg_(cfg),
      faults_(std::make_shared<fault_injector>(topics)),
      trace_(std::make_shared<request_trace>(cfg.trace_capacity, topics, feed, *faults_)),
      trace_capacity_(cfg.trace_capacity) {}

control_service::~control_service() = default;

void control_service::attach(dispatcher& d, int32_t node_id) {
  attached a;
  a.d = &d;
  a.node_id = node_id;
  dispatchers_.push_back(std::move(a));
  sync_interceptors();
  if (!cfg_.emulate_kafka_version.empty()) {
    std::string why = set_api_versions(node_id, cfg_.emulate_kafka_version, {});
    if (!why.empty()) throw std::runtime_error("--emulate-kafka-version: " + why);
  }
}

void control_service::detach(dispatcher& d) {
  d.remove_interceptor(trace_.get());
  d.remove_interceptor(faults_.get());
  std::erase_if(dispatchers_, [&](const attached& a) { return a.d == &d; });
}

void control_service::sync_interceptors() {
  // Order matters: the trace first, so that it sees (and counts) requests a fault rule ends.
  const bool want_trace = trace_capacity_ > 0;
  const bool want_faults = !faults_->empty();
  for (auto& a : dispatchers_) {
    if (a.trace_installed == want_trace && a.faults_installed == want_faults) continue;
    a.d->remove_interceptor(trace_.get());
    a.d->remove_interceptor(faults_.get());
    if (want_trace) a.d->add_interceptor(trace_);
    if (want_faults) a.d->add_interceptor(faults_);
    a.trace_installed = want_trace;
    a.faults_installed = want_faults;
  }
}

void control_service::set_trace_capacity(size_t n) {
  trace_capacity_ = n;
  trace_->set_capacity(n);
  if (n == 0) trace_->clear();
  sync_interceptors();
}

std::optional<uint64_t> control_service::requests_seen(std::optional<int16_t> api,
                                                       const std::optional<std::string>& client_id) const {
  if (trace_capacity_ == 0) return std::nullopt;
  return trace_->count(api, client_id);
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
  if (prefix.empty()) out.trace_entries = trace_->clear();
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

bool group_condition(const group_view& g, const std::string& state, std::optional<int64_t> members) {
  if (!state.empty() && g.state != state) return false;
  if (members && static_cast<int64_t>(g.member_ids.size()) != *members) return false;
  return state.empty() && !members ? g.exists : true;
}

group_view control_service::group(const std::string& group_id) const {
  group_view v;
  v.group_id = group_id;
  v.exists = groups_.exists(group_id);
  auto d = groups_.describe(group_id);
  v.state = groups::to_string(v.exists ? d.state : groups::group_state::dead);
  v.generation_id = d.generation_id;
  for (const auto& m : d.members) v.member_ids.push_back(m.member_id);
  return v;
}

lag_view control_service::lag(const std::string& group_id, const std::optional<std::string>& topic) const {
  lag_view v;
  v.group_id = group_id;
  v.topic = topic;
  if (!topic) {
    for (const auto& l : groups_.lag(group_id)) {
      topic_state* t = topics_.find(l.topic);
      const partition_state* p = t ? t->partition(l.partition) : nullptr;
      v.partitions.push_back({l.topic, l.partition, l.committed, p ? p->log->start_offset() : 0, l.end_offset, l.lag});
      v.total += l.lag;
    }
    return v;
  }
  topic_state* t = topics_.find(*topic);
  v.topic_exists = t != nullptr;
  if (!t) return v;
  for (const auto& p : t->partitions) {
    lag_view::partition out;
    out.topic = *topic;
    out.partition = p->index;
    out.start_offset = p->log->start_offset();
    out.end_offset = p->log->end_offset();
    if (auto c = groups_.committed(group_id, *topic, p->index); c && c->offset >= 0) out.committed = c->offset;
    const int64_t from = std::max(out.committed, out.start_offset);
    out.lag = std::max<int64_t>(0, out.end_offset - from);
    v.total += out.lag;
    v.partitions.push_back(out);
  }
  return v;
}

records_view control_service::records(const std::string& topic, std::optional<int32_t> partition) const {
  records_view v;
  v.topic = topic;
  v.only_partition = partition;
  topic_state* t = topics_.find(topic);
  v.exists = t != nullptr;
  if (!t) return v;
  for (const auto& p : t->partitions) {
    if (partition && p->index != *partition) continue;
    v.partitions.push_back({p->index, p->log->start_offset(), p->log->end_offset()});
    v.records += p->log->end_offset();
  }
  return v;
}

boost::asio::awaitable<bool> control_service::wait_until(std::function<bool()> check, std::chrono::milliseconds timeout) {
  if (check()) co_return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  // A change cancels the wait; the loop re-checks. Notifications come only while this coroutine
  // is suspended (one thread), so none is lost between a check and the next wait.
  auto sub = feed_.subscribe([&timer] { timer.cancel(); });
  for (;;) {
    if (stopping_) co_return false;
    timer.expires_at(deadline);
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (stopping_) co_return false;
    if (check()) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
  }
}

std::string control_service::set_api_versions(std::optional<int32_t> broker, const std::string& kafka_version,
                                              const std::map<int16_t, api_override>& apis) {
  const kafka_release* rel = nullptr;
  if (!kafka_version.empty()) {
    rel = find_kafka_release(kafka_version);
    if (!rel) {
      std::string known;
      for (const auto& r : kafka_releases()) known += std::string(known.empty() ? "" : ", ") + r.version;
      return "unknown Kafka version '" + kafka_version + "' (known: " + known + ")";
    }
  }
  const api_table own = api_table::defaults();
  api_table t = own;
  if (rel) {
    for (const api_entry& e : own.entries()) {
      const api_range* r = nullptr;
      for (const auto& a : rel->apis)
        if (a.key == e.key) r = &a;
      const int16_t lo = r ? std::max(e.min_version, r->min_version) : 0;
      const int16_t hi = r ? std::min(e.max_version, r->max_version) : -1;
      if (!r || lo > hi) t.remove(e.key);
      else t.set_range(e.key, lo, hi);
    }
  }
  for (const auto& [key, o] : apis) {
    const api_entry* cur = t.find(key);
    const api_entry* ours = own.find(key);
    if (!ours) return "minikafka does not serve " + api_name(key);
    if (o.disabled) {
      t.remove(key);
      continue;
    }
    if (!cur) return api_name(key) + " is not served by Kafka " + kafka_version;
    const int16_t lo = o.min_version.value_or(cur->min_version), hi = o.max_version.value_or(cur->max_version);
    if (!t.set_range(key, lo, hi))
      return api_name(key) + " " + std::to_string(lo) + "-" + std::to_string(hi) + " is not within what minikafka serves (" +
             std::to_string(ours->min_version) + "-" + std::to_string(ours->max_version) + ")";
  }
  bool any = false;
  for (auto& a : dispatchers_) {
    if (broker && a.node_id != *broker) continue;
    any = true;
  }
  if (!any) return "no broker " + std::to_string(broker.value_or(-1));
  for (auto& a : dispatchers_) {
    if (broker && a.node_id != *broker) continue;
    a.d->apis() = t;
    a.kafka_version = rel ? rel->version : "";
    a.overridden = !apis.empty();
  }
  return "";
}

std::string control_service::narrow_api(std::optional<int32_t> broker, int16_t key, int16_t min_version,
                                        int16_t max_version) {
  bool any = false;
  for (auto& a : dispatchers_) {
    if (broker && a.node_id != *broker) continue;
    any = true;
    if (!a.d->apis().find(key)) return api_name(key) + " is not served";
    api_table t = a.d->apis();
    if (!t.set_range(key, min_version, max_version))
      return api_name(key) + " " + std::to_string(min_version) + "-" + std::to_string(max_version) +
             " is not within what minikafka serves";
  }
  if (!any) return "no broker " + std::to_string(broker.value_or(-1));
  for (auto& a : dispatchers_) {
    if (broker && a.node_id != *broker) continue;
    a.d->apis().set_range(key, min_version, max_version);
    a.overridden = true;
  }
  return "";
}

std::string control_service::restore_api_versions(std::optional<int32_t> broker) {
  bool any = false;
  for (auto& a : dispatchers_) {
    if (broker && a.node_id != *broker) continue;
    any = true;
    a.d->apis() = api_table::defaults();
    a.kafka_version.clear();
    a.overridden = false;
  }
  return any ? "" : "no broker " + std::to_string(broker.value_or(-1));
}

std::vector<api_versions_view> control_service::api_versions() const {
  std::vector<api_versions_view> out;
  for (const auto& a : dispatchers_) {
    api_versions_view v{a.node_id, a.kafka_version, a.overridden, {}};
    for (const auto& e : a.d->apis().entries()) v.apis.push_back(api_range{e.key, e.min_version, e.max_version});
    std::sort(v.apis.begin(), v.apis.end(), [](const api_range& x, const api_range& y) { return x.key < y.key; });
    out.push_back(std::move(v));
  }
  return out;
}

void control_service::shutdown() {
  stopping_ = true;
  feed_.notify();
}

}  // namespace mk::control
