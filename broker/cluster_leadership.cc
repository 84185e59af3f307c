// Leadership in the simulated cluster: brokers going down and up, leader moves and elections,
// leader epochs, and which broker coordinates a group or transactional id (cluster.h).
//
// The one log of a partition is shared by its replicas, so every live replica is in sync and a
// leader change never loses or truncates anything; what changes is which listener answers for
// the partition, and its leader epoch.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/cluster.h"
#include "broker/placement.h"
#include "protocol/records/byte_io.h"

namespace mk {

using proto::error_code;

namespace {

bool contains(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// The coordinator partitions of one internal topic, placed like any topic.
std::vector<partition_state> coordinator_partitions(const std::string& name, const std::vector<node_info>& nodes) {
  std::vector<int32_t> ids;
  for (const auto& n : nodes) ids.push_back(n.node_id);
  // Kafka's offsets.topic.replication.factor / transaction.state.log.replication.factor are 3.
  auto assignment = placement::assign_replicas(ids, placement::coordinator_partitions, 3,
                                               placement::start_index_for(name, ids.size()));
  std::vector<partition_state> out(assignment.size());
  for (size_t i = 0; i < assignment.size(); ++i) {
    out[i].index = static_cast<int32_t>(i);
    out[i].replicas = assignment[i];
    out[i].isr = assignment[i];
    out[i].leader_id = assignment[i].front();
    out[i].epoch_starts = {{0, 0}};
  }
  return out;
}

}  // namespace

epoch_end end_offset_for_epoch(const partition_state& p, int32_t requested) {
  if (requested < 0 || p.epoch_starts.empty() || requested > p.epoch_starts.back().first) return {};
  if (requested == p.epoch_starts.back().first) return {requested, p.log ? p.log->end_offset() : 0};
  // The first epoch newer than the one asked for began where the asked one ended.
  auto higher = std::upper_bound(p.epoch_starts.begin(), p.epoch_starts.end(), requested,
                                 [](int32_t e, const auto& entry) { return e < entry.first; });
  if (higher == p.epoch_starts.begin()) return {requested, higher->second};  // older than the history
  return {std::prev(higher)->first, higher->second};
}

void cluster::init_epochs(partition_state& p) {
  p.leader_epoch = 0;
  const int64_t end = p.log ? p.log->end_offset() : 0;
  if (p.log && end > p.log->start_offset()) {
    // partitionLeaderEpoch is bytes 12..15 of the last stored batch (outside its CRC).
    auto last = p.log->read(end - 1, 1);
    if (last && !last.value().chunks.empty() && last.value().chunks.front().size >= 16)
      p.leader_epoch = std::max(0, records::load_i32(last.value().chunks.front().data + 12));
  }
  // Offsets stored before this start count as the current epoch's, so positions in them validate.
  p.epoch_starts = {{p.leader_epoch, end}};
}

void cluster::init_coordinators() {
  offsets_partitions_ = coordinator_partitions("__consumer_offsets", nodes_);
  txn_partitions_ = coordinator_partitions("__transaction_state", nodes_);
}

template <typename F>
void cluster::for_each_partition(F&& f) {
  for (auto& [name, t] : topics_)
    for (auto& p : t->partitions) f(*p);
  for (auto& p : offsets_partitions_) f(p);
  for (auto& p : txn_partitions_) f(p);
}

void cluster::change_leader(partition_state& p, int32_t leader) {
  p.leader_id = leader;
  ++p.leader_epoch;
  p.epoch_starts.emplace_back(p.leader_epoch, p.log ? p.log->end_offset() : 0);
  p.notify_append();  // parked fetches re-check leadership and answer NOT_LEADER_OR_FOLLOWER
}

void cluster::broker_down(int32_t id) {
  node_info* n = nullptr;
  for (auto& x : nodes_)
    if (x.node_id == id) n = &x;
  if (!n || !n->up) return;
  n->up = false;
  int moved = 0, leaderless = 0;
  for_each_partition([&](partition_state& p) {
    if (!contains(p.replicas, id)) return;
    if (p.isr.size() > 1) std::erase(p.isr, id);
    if (p.leader_id != id) return;
    int32_t next = -1;
    for (int32_t r : p.replicas)
      if (r != id && node_up(r) && contains(p.isr, r)) {
        next = r;
        break;
      }
    change_leader(p, next);
    ++(next >= 0 ? moved : leaderless);
  });
  std::erase_if(coordinator_moves_, [id](const auto& m) { return m.second == id; });
  const auto live = live_node_ids();
  controller_id_ = live.empty() ? -1 : live.front();
  spdlog::info("broker {} down: {} partition(s) moved to another replica, {} left without a leader", id, moved,
               leaderless);
}

void cluster::broker_up(int32_t id) {
  node_info* n = nullptr;
  for (auto& x : nodes_)
    if (x.node_id == id) n = &x;
  if (!n || n->up) return;
  n->up = true;
  int led = 0;
  for_each_partition([&](partition_state& p) {
    if (!contains(p.replicas, id)) return;
    if (p.leader_id < 0) {
      // Only the last in-sync replica may lead again (no unclean election; ElectLeaders UNCLEAN
      // does that on request).
      if (!contains(p.isr, id)) return;
      p.isr.clear();  // with a leader again, every live replica is in sync (one shared log)
      for (int32_t r : p.replicas)
        if (node_up(r)) p.isr.push_back(r);
      change_leader(p, id);
      ++led;
      return;
    }
    if (!contains(p.isr, id)) {
      p.isr.clear();
      for (int32_t r : p.replicas)
        if (node_up(r)) p.isr.push_back(r);
    }
  });
  const auto live = live_node_ids();
  controller_id_ = live.front();
  spdlog::info("broker {} up: leads {} partition(s) that had no leader", id, led);
}

bool cluster::move_leader(partition_state& p, int32_t broker) {
  if (p.leader_id == broker) return false;
  if (!contains(p.replicas, broker)) {
    // A reassignment: the new leader takes the old one's place (or, without a leader, the first
    // down replica's, else the last replica's), so the replication factor stays.
    auto slot = std::find(p.replicas.begin(), p.replicas.end(), p.leader_id);
    if (slot == p.replicas.end())
      slot = std::find_if(p.replicas.begin(), p.replicas.end(), [this](int32_t r) { return !node_up(r); });
    if (slot == p.replicas.end()) slot = std::prev(p.replicas.end());
    std::erase(p.isr, *slot);
    *slot = broker;
  }
  if (!contains(p.isr, broker)) p.isr.push_back(broker);
  std::erase_if(p.isr, [this](int32_t r) { return !node_up(r); });
  change_leader(p, broker);
  return true;
}

error_code cluster::elect_leader(partition_state& p, int8_t election_type) {
  if (election_type == 0) {  // PREFERRED
    const int32_t preferred = p.replicas.front();
    if (p.leader_id == preferred) return error_code::election_not_needed;
    if (!node_up(preferred) || !contains(p.isr, preferred)) return error_code::preferred_leader_not_available;
    change_leader(p, preferred);
    return error_code::none;
  }
  // UNCLEAN
  if (p.leader_id >= 0) return error_code::election_not_needed;
  p.isr.clear();
  for (int32_t r : p.replicas)
    if (node_up(r)) p.isr.push_back(r);
  if (p.isr.empty()) {
    p.isr = {p.replicas.front()};
    return error_code::eligible_leaders_not_available;
  }
  change_leader(p, p.isr.front());
  return error_code::none;
}

int32_t cluster::coordinator(coordinator_kind kind, const std::string& key) const {
  if (kind == coordinator_kind::group) {
    auto moved = coordinator_moves_.find(key);
    if (moved != coordinator_moves_.end() && node_up(moved->second)) return moved->second;
  }
  const auto& parts = kind == coordinator_kind::group ? offsets_partitions_ : txn_partitions_;
  if (parts.empty()) return -1;
  const int32_t leader = parts[static_cast<size_t>(placement::coordinator_partition(key))].leader_id;
  return node_up(leader) ? leader : -1;
}

void cluster::move_coordinator(const std::string& group, int32_t broker) { coordinator_moves_[group] = broker; }

}  // namespace mk
