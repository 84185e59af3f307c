// The embedding API (include/minikafka/broker.h) on top of mk::server: every call is posted to
// the broker's state thread and awaited.
#include "minikafka/broker.h"

#include <spdlog/spdlog.h>

#include <cctype>
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
