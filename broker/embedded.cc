// The embedding API (include/minikafka/broker.h) on top of mk::server: every call is posted to
// the broker's state thread and awaited.
#include "minikafka/broker.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <future>
#include <optional>

#include "broker/admin/admin_api.h"
#include "broker/server.h"

namespace minikafka {

struct broker::impl {
  std::unique_ptr<mk::server> srv;
};

namespace {
mk::broker_config to_config(const broker_options& o) {
  mk::broker_config c;
  c.host = o.host;
  c.port = o.port;
  c.advertised_host = o.advertised_host;
  c.node_id = o.node_id;
  c.brokers = o.brokers;
  c.default_partitions = o.default_partitions;
  c.auto_create_topics = o.auto_create_topics;
  c.strict_replication_factor = o.strict_replication_factor;
  c.max_request_size = o.max_request_size;
  c.max_memory_bytes = o.max_memory_bytes;
  c.admin_port = o.admin_port;
  c.retention_check_interval_ms = o.retention_check_interval_ms;
  c.group_initial_rebalance_delay_ms = o.group_initial_rebalance_delay_ms;
  c.group_min_session_timeout_ms = o.group_min_session_timeout_ms;
  c.group_max_session_timeout_ms = o.group_max_session_timeout_ms;
  c.clock = o.clock;
  c.trace_capacity = o.trace_capacity;
  c.emulate_kafka_version = o.emulate_kafka_version;
  c.admin_host = o.admin_host;
  c.cluster_id = o.cluster_id;
  c.storage = o.storage;
  c.data_dir = o.data_dir;
  c.sync = o.sync;
  c.record_requests_dir = o.record_requests_dir;
  c.transaction_max_timeout_ms = o.transaction_max_timeout_ms;
  return c;
}

void throw_if(const mk::topic_error& e) {
  if (!e) return;
  std::string name = mk::proto::error_name(e.code);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  throw error(mk::proto::code(e.code), name + ": " + e.message);
}

mk::control::fault_rule to_internal(const fault_rule& r) {
  auto invalid = [](const std::string& m) { return error(42, "INVALID_REQUEST: " + m); };
  mk::control::fault_rule o;
  if (!r.api.empty()) {
    o.api = mk::control::api_key_from_name(r.api);
    if (!o.api) throw invalid("unknown API '" + r.api + "'");
  }
  o.min_version = r.min_version;
  o.max_version = r.max_version;
  o.topic = r.topic;
  o.partition = r.partition;
  o.broker = r.broker;
  o.client_id = r.client_id;
  o.group_id = r.group_id;
  o.transactional_id = r.transactional_id;
  if (!r.error.empty()) {
    o.error = mk::control::error_from_name(r.error);
    if (!o.error) throw invalid("unknown error '" + r.error + "'");
  }
  o.delay_ms = r.delay_ms;
  o.act = r.act == fault_rule::action::drop    ? mk::control::fault_rule::action::drop
          : r.act == fault_rule::action::close ? mk::control::fault_rule::action::close
                                               : mk::control::fault_rule::action::none;
  o.count = r.count;
  o.after = r.after;
  o.probability = r.probability;
  o.seed = r.seed;
  return o;
}

fault_rule_status to_public(const mk::control::fault_rule_status& s) {
  fault_rule_status out;
  out.id = s.id;
  out.matched = s.matched;
  out.fired = s.fired;
  out.exhausted = s.exhausted;
  const auto& r = s.rule;
  fault_rule& p = out.rule;
  if (r.api) p.api = mk::control::api_name(*r.api);
  p.min_version = r.min_version;
  p.max_version = r.max_version;
  p.topic = r.topic;
  p.partition = r.partition;
  p.broker = r.broker;
  p.client_id = r.client_id;
  p.group_id = r.group_id;
  p.transactional_id = r.transactional_id;
  if (r.error) p.error = mk::control::error_upper_name(*r.error);
  p.delay_ms = r.delay_ms;
  p.act = r.act == mk::control::fault_rule::action::drop    ? fault_rule::action::drop
          : r.act == mk::control::fault_rule::action::close ? fault_rule::action::close
                                                            : fault_rule::action::none;
  p.count = r.count;
  p.after = r.after;
  p.probability = r.probability;
  p.seed = r.seed;
  return out;
}
// Runs control_service::wait_until(check) on the state thread and blocks until it answers.
template <typename Check>
bool wait_on(mk::server& srv, Check check, std::chrono::milliseconds timeout) {
  if (!srv.serving()) return srv.call(check);
  std::promise<bool> done;
  auto fut = done.get_future();
  boost::asio::co_spawn(
      srv.io(),
      [&srv, check, timeout]() -> boost::asio::awaitable<bool> {
        co_return co_await srv.services().control.wait_until(check, timeout);
      },
      [&done](std::exception_ptr e, bool met) {
        if (e) done.set_exception(e);
        else done.set_value(met);
      });
  return fut.get();
}

void throw_if(const mk::services::cluster_op_result& r) {
  if (!r) return;
  std::string name = mk::proto::error_name(r.code);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  throw error(mk::proto::code(r.code), name + ": " + r.message);
}
}  // namespace

void set_log_level(const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); }

broker::broker(broker_options options) : impl_(std::make_unique<impl>()) {
  impl_->srv = std::make_unique<mk::server>(to_config(options));
}

broker::~broker() { stop(); }

void broker::start() { impl_->srv->start(); }
void broker::stop() { impl_->srv->stop(); }
std::string broker::bootstrap() const { return impl_->srv->bootstrap(); }
uint16_t broker::port() const { return impl_->srv->port(); }
uint16_t broker::port(int32_t broker_id) const { return impl_->srv->port(broker_id); }
std::vector<int32_t> broker::broker_ids() const { return impl_->srv->node_ids(); }
std::string broker::admin_url() const {
  auto p = impl_->srv->admin_port();
  return p ? "http://" + impl_->srv->config().admin_host + ":" + std::to_string(p) : std::string();
}

void broker::create_topic(const std::string& name, int32_t partitions, const std::map<std::string, std::string>& configs) {
  create_topic(name, partitions, -1, configs);
}

void broker::create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                          const std::map<std::string, std::string>& configs) {
  auto& srv = *impl_->srv;
  throw_if(srv.call([&] {
    mk::cluster::create_spec spec;
    spec.name = name;
    spec.partitions = partitions;
    spec.replication_factor = replication_factor;
    spec.configs = configs;
    return srv.services().topics.create(spec);
  }));
}

void broker::delete_topic(const std::string& name) {
  auto& srv = *impl_->srv;
  throw_if(srv.call([&] { return srv.services().topics.remove(name); }));
}

std::vector<std::string> broker::topics() const {
  auto& srv = *impl_->srv;
  return srv.call([&] {
    std::vector<std::string> out;
    for (const auto& [name, t] : srv.services().topics.all()) out.push_back(name);
    return out;
  });
}

int64_t broker::end_offset(const std::string& topic, int32_t partition) const {
  auto& srv = *impl_->srv;
  int64_t off = srv.call([&]() -> int64_t {
    auto* t = srv.services().topics.find(topic);
    auto* p = t ? t->partition(partition) : nullptr;
    return p ? p->log->end_offset() : -1;
  });
  if (off < 0) throw error(3, "UNKNOWN_TOPIC_OR_PARTITION: " + topic + "-" + std::to_string(partition));
  return off;
}

std::vector<partition_lag> broker::group_lag(const std::string& group_id) const {
  auto& srv = *impl_->srv;
  return srv.call([&] {
    std::vector<partition_lag> out;
    for (const auto& l : srv.services().groups.lag(group_id))
      out.push_back(partition_lag{l.topic, l.partition, l.committed, l.end_offset, l.lag});
    return out;
  });
}

int64_t broker::add_fault(const fault_rule& rule) {
  auto r = to_internal(rule);
  auto& srv = *impl_->srv;
  std::string why;
  auto id = srv.call([&] { return srv.services().control.add_fault(r, &why); });
  if (!id) throw error(42, "INVALID_REQUEST: " + why);
  return *id;
}

std::vector<fault_rule_status> broker::faults() const {
  auto& srv = *impl_->srv;
  auto list = srv.call([&] { return srv.services().control.faults(); });
  std::vector<fault_rule_status> out;
  for (const auto& s : list) out.push_back(to_public(s));
  return out;
}

bool broker::remove_fault(int64_t id) {
  auto& srv = *impl_->srv;
  return srv.call([&] { return srv.services().control.remove_fault(id); });
}

size_t broker::clear_faults() {
  auto& srv = *impl_->srv;
  return srv.call([&] { return srv.services().control.clear_faults(); });
}

reset_result broker::reset(const std::string& prefix) {
  auto& srv = *impl_->srv;
  auto r = srv.call([&] { return srv.services().control.reset(prefix); });
  return reset_result{std::move(r.topics), std::move(r.groups), r.fault_rules, r.trace_entries};
}

clock_reading broker::clock() const {
  auto& srv = *impl_->srv;
  auto c = srv.call([&] { return srv.services().control.clock(); });
  return clock_reading{c.manual, c.wall_ms, c.steady_ms};
}

void broker::advance_clock(int64_t ms) {
  auto& srv = *impl_->srv;
  if (ms < 0) throw error(42, "INVALID_REQUEST: advance_clock needs ms >= 0");
  if (!srv.call([&] { return srv.services().control.advance_clock(ms); }))
    throw error(42, "INVALID_REQUEST: the broker runs on the system clock (broker_options::clock = \"manual\")");
  // Handlers of the timers that came due were queued behind the advance: let them run.
  srv.call([] { return 0; });
}

bool broker::await_group(const std::string& group_id, const std::string& state, int members,
                         std::chrono::milliseconds timeout, group_status* last) {
  auto& srv = *impl_->srv;
  std::string want = state;
  if (!want.empty()) {
    auto s = mk::groups::group_state_from_string(state);
    if (!s) throw error(42, "INVALID_REQUEST: unknown group state '" + state + "'");
    want = mk::groups::to_string(*s);
  }
  auto& control = srv.services().control;
  const bool met = wait_on(
      srv,
      [&control, group_id, want, members] {
        return mk::control::group_condition(control.group(group_id), want,
                                            members >= 0 ? std::optional<int64_t>(members) : std::nullopt);
      },
      timeout);
  if (last) {
    auto g = srv.call([&] { return control.group(group_id); });
    *last = group_status{g.group_id, g.exists, g.state, g.generation_id, g.member_ids};
  }
  return met;
}

bool broker::await_lag(const std::string& group_id, const std::string& topic, int64_t max_lag,
                       std::chrono::milliseconds timeout, int64_t* last) {
  auto& srv = *impl_->srv;
  auto& control = srv.services().control;
  std::optional<std::string> t;
  if (!topic.empty()) t = topic;
  const bool met = wait_on(
      srv,
      [&control, group_id, t, max_lag] { return mk::control::lag_condition(control.lag(group_id, t), max_lag); },
      timeout);
  if (last) *last = srv.call([&] { return control.lag(group_id, t).total; });
  return met;
}

bool broker::await_records(const std::string& topic, int64_t min, int32_t partition, std::chrono::milliseconds timeout,
                           int64_t* last) {
  auto& srv = *impl_->srv;
  auto& control = srv.services().control;
  std::optional<int32_t> only;
  if (partition >= 0) only = partition;
  const bool met = wait_on(
      srv,
      [&control, topic, only, min] { return mk::control::records_condition(control.records(topic, only), min); },
      timeout);
  if (last) *last = srv.call([&] { return control.records(topic, only).records; });
  return met;
}

bool broker::await_requests(const std::string& api, const std::string& client_id, int64_t min,
                            std::chrono::milliseconds timeout, int64_t* last) {
  auto& srv = *impl_->srv;
  auto& control = srv.services().control;
  std::optional<int16_t> key;
  if (!api.empty()) {
    key = mk::control::api_key_from_name(api);
    if (!key) throw error(42, "INVALID_REQUEST: unknown API '" + api + "'");
  }
  std::optional<std::string> client;
  if (!client_id.empty()) client = client_id;
  if (!srv.call([&] { return control.requests_seen(key, client).has_value(); }))
    throw error(42, "INVALID_REQUEST: the request trace is off (broker_options::trace_capacity = 0)");
  const bool met = wait_on(
      srv,
      [&control, key, client, min] {
        return static_cast<int64_t>(control.requests_seen(key, client).value_or(0)) >= min;
      },
      timeout);
  if (last) *last = srv.call([&] { return static_cast<int64_t>(control.requests_seen(key, client).value_or(0)); });
  return met;
}

std::vector<traced_request> broker::trace(const std::string& api, const std::string& client_id, size_t limit) const {
  auto& srv = *impl_->srv;
  mk::control::trace_filter f;
  if (!api.empty()) {
    f.api = mk::control::api_key_from_name(api);
    if (!f.api) throw error(42, "INVALID_REQUEST: unknown API '" + api + "'");
  }
  if (!client_id.empty()) f.client_id = client_id;
  return srv.call([&] {
    std::vector<traced_request> out;
    const auto* t = srv.services().control.trace();
    if (!t) return out;
    for (const auto* e : t->entries(f, limit)) {
      traced_request r;
      r.seq = e->seq;
      r.time_ms = e->time_ms;
      r.latency_ms = e->latency_ms;
      r.broker = e->broker;
      r.connection = e->connection;
      r.peer = e->peer;
      r.client_id = e->client_id;
      r.client_software_name = e->software_name;
      r.client_software_version = e->software_version;
      r.api = mk::control::api_name(e->api_key);
      r.api_key = e->api_key;
      r.version = e->api_version;
      r.correlation_id = e->correlation_id;
      r.outcome = mk::control::to_string(e->result);
      r.reason = e->reason;
      r.fault_rule = e->fault_rule;
      for (int16_t c : e->error_codes) r.error_codes.push_back(mk::control::error_upper_name(c));
      for (const auto& tp : e->named().topics) r.topics.push_back({tp.name, tp.partitions});
      r.group_ids = e->named().group_ids;
      r.transactional_ids = e->named().transactional_ids;
      out.push_back(std::move(r));
    }
    return out;
  });
}

void broker::emulate_kafka_version(const std::string& version, int32_t broker_id) {
  auto& srv = *impl_->srv;
  std::optional<int32_t> b;
  if (broker_id >= 0) b = broker_id;
  auto why = srv.call([&] { return srv.services().control.set_api_versions(b, version, {}); });
  if (!why.empty()) throw error(42, "INVALID_REQUEST: " + why);
}

void broker::set_api_versions(const std::string& api, int16_t min_version, int16_t max_version, int32_t broker_id) {
  auto& srv = *impl_->srv;
  auto key = mk::control::api_key_from_name(api);
  if (!key) throw error(42, "INVALID_REQUEST: unknown API '" + api + "'");
  std::optional<int32_t> b;
  if (broker_id >= 0) b = broker_id;
  auto why = srv.call([&] { return srv.services().control.narrow_api(b, *key, min_version, max_version); });
  if (!why.empty()) throw error(42, "INVALID_REQUEST: " + why);
}

void broker::restore_api_versions(int32_t broker_id) {
  auto& srv = *impl_->srv;
  std::optional<int32_t> b;
  if (broker_id >= 0) b = broker_id;
  auto why = srv.call([&] { return srv.services().control.restore_api_versions(b); });
  if (!why.empty()) throw error(42, "INVALID_REQUEST: " + why);
}

std::vector<std::string> broker::kafka_versions() {
  std::vector<std::string> out;
  for (const auto& r : mk::control::kafka_releases()) out.push_back(r.version);
  return out;
}

std::vector<int64_t> broker::end_offsets(const std::string& topic) const {
  auto& srv = *impl_->srv;
  auto offsets = srv.call([&] {
    std::optional<std::vector<int64_t>> out;
    auto* t = srv.services().topics.find(topic);
    if (!t) return out;
    out.emplace();
    for (int32_t p = 0; p < static_cast<int32_t>(t->partitions.size()); ++p) out->push_back(t->partition(p)->log->end_offset());
    return out;
  });
  if (!offsets) throw error(3, "UNKNOWN_TOPIC_OR_PARTITION: " + topic);
  return *offsets;
}

admin_response broker::admin_request(const std::string& method, const std::string& target, const std::string& body) {
  auto r = impl_->srv->admin_request(mk::make_http_request(method, target, body));
  return admin_response{r.status, std::move(r.content_type), std::move(r.body)};
}

}  // namespace minikafka

namespace minikafka {

void broker::broker_down(int32_t broker_id) {
  auto& srv = *impl_->srv;
  throw_if(srv.call([&] { return srv.services().cluster.broker_down(broker_id); }));
}

void broker::broker_up(int32_t broker_id) {
  auto& srv = *impl_->srv;
  throw_if(srv.call([&] { return srv.services().cluster.broker_up(broker_id); }));
}

bool broker::broker_is_up(int32_t broker_id) const {
  auto& srv = *impl_->srv;
  return srv.call([&] { return srv.services().cluster.node_up(broker_id); });
}

void broker::move_leader(const std::string& topic, int32_t partition, int32_t broker_id) {
  auto& srv = *impl_->srv;
  throw_if(srv.call([&] { return srv.services().cluster.move_leader(topic, partition, broker_id); }));
}

void broker::move_coordinator(const std::string& group_id, int32_t broker_id) {
  auto& srv = *impl_->srv;
  throw_if(srv.call([&] { return srv.services().cluster.move_coordinator(group_id, broker_id); }));
}

partition_info broker::partition(const std::string& topic, int32_t partition) const {
  auto& srv = *impl_->srv;
  auto info = srv.call([&]() -> std::optional<partition_info> {
    auto* t = srv.services().topics.find(topic);
    auto* p = t ? t->partition(partition) : nullptr;
    if (!p) return std::nullopt;
    return partition_info{p->leader_id, p->leader_epoch, p->replicas, p->isr};
  });
  if (!info) throw error(3, "UNKNOWN_TOPIC_OR_PARTITION: " + topic + "-" + std::to_string(partition));
  return *info;
}

int32_t broker::coordinator(const std::string& group_id) const {
  auto& srv = *impl_->srv;
  return srv.call([&] { return srv.services().cluster.coordinator(mk::coordinator_kind::group, group_id); });
}

}  // namespace minikafka
