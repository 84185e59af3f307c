#include "broker/cluster.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "broker/placement.h"
#include "broker/storage_error.h"
#include "storage/metadata_store.h"

namespace mk {

using proto::error_code;

std::string advertised_host(const broker_config& cfg) {
  if (!cfg.advertised_host.empty()) return cfg.advertised_host;
  if (cfg.host == "0.0.0.0" || cfg.host == "::" || cfg.host.empty()) return "127.0.0.1";
  return cfg.host;
}

cluster::cluster(const broker_config& cfg, storage::storage_engine& engine)
    : cfg_(cfg), engine_(engine), controller_id_(cfg.node_id) {
  last_producer_id_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count() << 8;
  const std::string host = advertised_host(cfg_);
  for (int32_t i = 0; i < std::max(cfg_.brokers, 1); ++i) nodes_.push_back(node_info{cfg_.node_id + i, host, 0, std::nullopt, true});
  init_coordinators();
}

void cluster::set_node_port(int32_t id, uint16_t port) {
  for (auto& n : nodes_)
    if (n.node_id == id) n.port = port;
}

std::vector<int32_t> cluster::live_node_ids() const {
  std::vector<int32_t> out;
  for (const auto& n : nodes_)
    if (n.up) out.push_back(n.node_id);
  return out;
}

const node_info* cluster::node(int32_t id) const {
  for (const auto& n : nodes_)
    if (n.node_id == id) return &n;
  return nullptr;
}

topic_state* cluster::find(const std::string& name) {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

topic_state* cluster::find(const proto::uuid& id) {
  auto it = by_id_.find(id.to_hex());
  return it == by_id_.end() ? nullptr : it->second;
}

std::optional<std::string> cluster::validate_topic_name(const std::string& name) {
  if (name.empty()) return std::string("Topic name is illegal, it can't be empty");
  if (name == "." || name == "..") return std::string("Topic name cannot be \".\" or \"..\"");
  if (name.size() > 249)
    return "Topic name is illegal, it can't be longer than 249 characters, topic name: " + name;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok)
      return "Topic name \"" + name +
             "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
  }
  return std::nullopt;
}

bool cluster::is_internal_topic(const std::string& name) {
  return name == "__consumer_offsets" || name == "__transaction_state";
}

topic_error cluster::create_topic(const create_spec& spec, bool validate_only, topic_state** created) {
  if (auto bad = validate_topic_name(spec.name)) return {error_code::invalid_topic_exception, *bad};
  // Kafka 3.9 answers this for __cluster_metadata; its other internal topics exist from the first
  // group on and are managed by the broker. Here they never exist, so none is a client's to create.
  if (is_internal_topic(spec.name) || spec.name == "__cluster_metadata")
    return {error_code::invalid_request, "Creation of internal topic " + spec.name + " is prohibited."};
  if (topics_.count(spec.name)) return {error_code::topic_already_exists, "Topic '" + spec.name + "' already exists."};

  int32_t partitions = spec.partitions;
  int16_t rf = spec.replication_factor;
  std::vector<std::vector<int32_t>> assignment;
  if (!spec.assignments.empty()) {
    if (partitions != -1 || rf != -1)
      return {error_code::invalid_request,
              "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."};
    partitions = static_cast<int32_t>(spec.assignments.size());
    for (int32_t p = 0; p < partitions; ++p) {
      auto it = spec.assignments.find(p);
      if (it == spec.assignments.end() || it->second.empty())
        return {error_code::invalid_replica_assignment, "Partitions must be numbered 0..N-1 with at least one replica each"};
      assignment.push_back(it->second);
    }
    if (auto err = check_assignment(assignment, static_cast<int32_t>(assignment.front().size()))) return err;
    rf = static_cast<int16_t>(assignment.front().size());
  }
  if (partitions == -1) partitions = cfg_.default_partitions;
  if (rf == -1) rf = 1;
  if (partitions <= 0) return {error_code::invalid_partitions, "Number of partitions must be larger than 0."};
  if (partitions > 100000) return {error_code::invalid_partitions, "Number of partitions is too large (max 100000)."};
  if (rf <= 0) return {error_code::invalid_replication_factor, "Replication factor must be larger than 0."};
  for (const auto& [k, v] : spec.configs)
    if (auto bad = validate_topic_config(k, v)) return {error_code::invalid_config, *bad};
  if (assignment.empty())
    if (auto err = place(spec.name, 0, partitions, rf, -1, assignment)) return err;
  if (validate_only) return {};

  auto t = std::make_unique<topic_state>();
  t->name = spec.name;
  t->id = proto::uuid::random();
  t->configs.overrides = spec.configs;
  t->requested_replication_factor = rf;
  t->replication_factor = static_cast<int16_t>(assignment.front().size());
  if (auto err = add_partitions(*t, assignment)) return err;
  if (auto err = persist(*t)) return err;
  if (t->replication_factor < rf)
    spdlog::debug("topic {}: replication factor {} with {} live broker(s): {} replica(s) kept", spec.name, rf,
                 live_node_ids().size(), t->replication_factor);
  spdlog::debug("created topic {} (id {}, {} partitions)", spec.name, t->id.to_base64(), partitions);
  by_id_[t->id.to_hex()] = t.get();
  auto* raw = t.get();
  topics_[spec.name] = std::move(t);
  if (created) *created = raw;
  return {};
}

int16_t cluster::replicas_for(int16_t requested) const {
  if (requested == -1) requested = 1;
  const auto live = static_cast<int16_t>(live_node_ids().size());
  return cfg_.strict_replication_factor || live == 0 ? requested : std::min(requested, live);
}

topic_error cluster::place(const std::string& topic, int32_t first, int32_t count, int32_t rf, int32_t start_broker,
                           std::vector<std::vector<int32_t>>& out) const {
  const auto live = live_node_ids();
  const auto n = static_cast<int32_t>(live.size());
  if (rf > n && (cfg_.strict_replication_factor || n == 0))
    return {error_code::invalid_replication_factor,
            "Unable to replicate the partition " + std::to_string(rf) + " time(s): The target replication factor of " +
                std::to_string(rf) + " cannot be reached because only " + std::to_string(n) +
                " broker(s) are registered."};
  // A new topic starts where its name's hash says; a growing one where its partition 0's
  // preferred leader is (Kafka's addPartitions).
  int32_t start = placement::start_index_for(topic, live.size());
  if (start_broker >= 0) {
    auto it = std::find_if(live.begin(), live.end(), [&](int32_t id) { return id >= start_broker; });
    start = it == live.end() ? 0 : static_cast<int32_t>(it - live.begin());
  }
  out = placement::assign_replicas(live, count, std::min(rf, n), start, first);
  return {};
}

topic_error cluster::check_assignment(const std::vector<std::vector<int32_t>>& assignment, int32_t replication_factor) const {
  for (size_t p = 0; p < assignment.size(); ++p) {
    const auto& replicas = assignment[p];
    if (replicas.empty() || (replication_factor > 0 && static_cast<int32_t>(replicas.size()) != replication_factor))
      return {error_code::invalid_replica_assignment,
              "Inconsistent replication factor: every partition needs " + std::to_string(replication_factor) + " replica(s)"};
    bool any_live = false;
    for (size_t i = 0; i < replicas.size(); ++i) {
      if (!node(replicas[i]))
        return {error_code::invalid_replica_assignment, "Unknown broker id " + std::to_string(replicas[i]) + " in replica assignment"};
      if (std::find(replicas.begin(), replicas.begin() + static_cast<std::ptrdiff_t>(i), replicas[i]) !=
          replicas.begin() + static_cast<std::ptrdiff_t>(i))
        return {error_code::invalid_replica_assignment,
                "Duplicate broker id " + std::to_string(replicas[i]) + " in the replica assignment of a partition"};
      any_live = any_live || node_up(replicas[i]);
    }
    if (!any_live)
      return {error_code::invalid_replica_assignment,
              "All brokers specified in the manual partition assignment for a partition are down."};
  }
  return {};
}

topic_error cluster::add_partitions(topic_state& t, const std::vector<std::vector<int32_t>>& assignment) {
  for (const auto& replicas : assignment) {
    const auto i = static_cast<int32_t>(t.partitions.size());
    auto log = engine_.open_log(t.id.to_hex(), i);
    if (!log) return {storage_error_code(log.error()), std::string("cannot open log: ") + storage::to_string(log.error())};
    auto p = std::make_shared<partition_state>();
    p->index = i;
    p->replicas = replicas;
    for (int32_t r : replicas)
      if (node_up(r)) p->isr.push_back(r);
    p->leader_id = p->isr.empty() ? -1 : p->isr.front();
    if (p->isr.empty() && !replicas.empty()) p->isr = {replicas.front()};
    p->log = std::move(log.value());
    init_epochs(*p);
    t.partitions.push_back(std::move(p));
  }
  return {};
}

topic_error cluster::delete_topic(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return {error_code::unknown_topic_or_partition, "This server does not host this topic-partition."};
  std::unique_ptr<topic_state> t = std::move(it->second);
  topics_.erase(it);
  by_id_.erase(t->id.to_hex());
  if (auto st = engine_.metadata().delete_topic(t->id.to_hex()); !st)
    spdlog::warn("topic {}: removing its stored metadata failed: {}", name, storage::to_string(st.error()));
  for (auto& p : t->partitions) {
    p->notify_append();  // parked fetches re-evaluate and see the topic is gone
    p->log.reset();
    auto st = engine_.drop_log(t->id.to_hex(), p->index);
    if (!st) spdlog::warn("topic {} partition {}: dropping stored data failed: {}", name, p->index, storage::to_string(st.error()));
  }
  spdlog::debug("deleted topic {}", name);
  for (auto& f : deleted_observers_) f(name);
  return {};
}

topic_error cluster::create_partitions(topic_state& t, int32_t count, bool validate_only,
                                       const std::vector<std::vector<int32_t>>& assignments) {
  auto cur = static_cast<int32_t>(t.partitions.size());
  if (count <= cur)
    return {error_code::invalid_partitions,
            count == cur ? "Topic already has " + std::to_string(cur) + " partitions."
                         : "Topic currently has " + std::to_string(cur) + " partitions, which is higher than the requested " + std::to_string(count) + "."};
  if (count > 100000) return {error_code::invalid_partitions, "Number of partitions is too large (max 100000)."};
  std::vector<std::vector<int32_t>> assignment = assignments;
  if (!assignment.empty()) {
    if (static_cast<int32_t>(assignment.size()) != count - cur)
      return {error_code::invalid_replica_assignment,
              "Increasing the number of partitions by " + std::to_string(count - cur) + " but " +
                  std::to_string(assignment.size()) + " assignments provided."};
    if (auto err = check_assignment(assignment, t.replication_factor)) return err;
  } else {
    const int32_t preferred = t.partitions.empty() || t.partitions.front()->replicas.empty()
                                  ? -1
                                  : t.partitions.front()->replicas.front();
    if (auto err = place(t.name, cur, count - cur, t.replication_factor, std::max(preferred, 0), assignment)) return err;
  }
  if (validate_only) return {};
  if (auto err = add_partitions(t, assignment)) return err;
  return persist(t);
}

topic_error cluster::persist(const topic_state& t) {
  storage::topic_record r;
  r.name = t.name;
  r.id_hex = t.id.to_hex();
  r.partitions = static_cast<int32_t>(t.partitions.size());
  r.replication_factor = t.requested_replication_factor;
  r.configs = t.configs.overrides;
  if (auto st = engine_.metadata().put_topic(r); !st)
    return {storage_error_code(st.error()), std::string("cannot store topic metadata: ") + storage::to_string(st.error())};
  return {};
}

topic_error cluster::recover() {
  auto loaded = engine_.metadata().load_topics();
  if (!loaded) return {storage_error_code(loaded.error()), std::string("cannot load topics: ") + storage::to_string(loaded.error())};
  for (const auto& r : loaded.value()) {
    auto t = std::make_unique<topic_state>();
    t->name = r.name;
    for (size_t i = 0; i < 16 && 2 * i + 1 < r.id_hex.size(); ++i)
      t->id.bytes[i] = static_cast<uint8_t>(std::stoi(r.id_hex.substr(2 * i, 2), nullptr, 16));
    t->configs.overrides = r.configs;
    // Placement is derived again (every broker is up at startup), so a data directory may be
    // reopened with another broker count: replicas are capped at it, whatever the mode.
    t->requested_replication_factor = r.replication_factor;
    const auto brokers = static_cast<int32_t>(nodes_.size());
    std::vector<std::vector<int32_t>> assignment;
    std::vector<int32_t> all;
    for (const auto& n : nodes_) all.push_back(n.node_id);
    assignment = placement::assign_replicas(all, r.partitions, std::clamp<int32_t>(r.replication_factor, 1, brokers),
                                            placement::start_index_for(r.name, all.size()));
    t->replication_factor = assignment.empty() ? int16_t{1} : static_cast<int16_t>(assignment.front().size());
    if (auto err = add_partitions(*t, assignment)) return err;
    int64_t records = 0;
    for (auto& p : t->partitions) records += p->log->end_offset() - p->log->start_offset();
    spdlog::info("recovered topic {} ({} partitions, {} offsets retained)", r.name, r.partitions, records);
    by_id_[t->id.to_hex()] = t.get();
    topics_[r.name] = std::move(t);
  }
  return {};
}

topic_state* cluster::auto_create(const std::string& name) {
  if (!cfg_.auto_create_topics || validate_topic_name(name)) return nullptr;
  topic_state* t = nullptr;
  create_spec spec;
  spec.name = name;
  if (create_topic(spec, false, &t)) return nullptr;
  return t;
}

}  // namespace mk
