#include "broker/groups/group_coordinator.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <string_view>

#include <spdlog/spdlog.h>

#include "protocol/generated/consumer_protocol_subscription.h"

namespace mk::groups {

namespace {
constexpr int64_t never = std::numeric_limits<int64_t>::max();
constexpr const char* left_group_reason = "left the group";  // LeaveGroup

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Topics a "consumer"-protocol subscription names: ConsumerProtocolSubscription after its INT16
// version, read with the v0 layout, which every later version extends (later fields ignored).
// nullopt when the bytes do not fit that layout, as Kafka's GroupMetadata.computeSubscribedTopics
// does on a SchemaException.
std::optional<std::vector<std::string>> subscribed_topics(const std::string& metadata) {
  proto::reader r(reinterpret_cast<const uint8_t*>(metadata.data()), metadata.size());
  r.skip(2);  // the subscription's version: the v0 prefix is read whatever it says
  proto::consumer_protocol_subscription sub;
  sub.decode(r, 0);
  if (!r.ok()) return std::nullopt;
  return std::move(sub.topics);
}
}  // namespace

const char* to_string(group_state s) {
  switch (s) {
    case group_state::empty:
      return "Empty";
    case group_state::preparing_rebalance:
      return "PreparingRebalance";
    case group_state::completing_rebalance:
      return "CompletingRebalance";
    case group_state::stable:
      return "Stable";
    case group_state::dead:
      return "Dead";
  }
  return "Unknown";
}

std::optional<group_state> group_state_from_string(const std::string& s) {
  for (auto st : {group_state::empty, group_state::preparing_rebalance, group_state::completing_rebalance,
                  group_state::stable, group_state::dead})
    if (lower(s) == lower(to_string(st))) return st;
  return std::nullopt;
}

struct group_coordinator::member {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<protocol_entry> protocols;
  std::string assignment;
  join_callback awaiting_join;  // set while a JoinGroup answer is held back
  sync_callback awaiting_sync;  // set while a SyncGroup answer is held back
  int64_t session_deadline = never;
  bool is_new = false;  // joined during the current rebalance (not yet through a generation)

  const std::string* metadata_for(const std::string& protocol) const {
    for (const auto& p : protocols)
      if (p.name == protocol) return &p.metadata;
    return nullptr;
  }
};

struct group_coordinator::group {
  std::string id;
  group_state state = group_state::empty;
  int32_t generation = 0;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader;
  std::map<std::string, std::unique_ptr<member>> members;  // by member id, ordered
  std::vector<std::string> join_order;                      // member ids in arrival order
  std::map<std::string, int64_t> pending;                   // KIP-394 ids handed out -> deadline
  std::map<std::string, std::string> static_members;        // instance id -> member id
  std::map<std::string, std::map<int32_t, committed_offset>> offsets;
  // Topics the members of a "consumer" group subscribe to, computed when a generation starts
  // (Kafka: GroupMetadata.subscribedTopics); nullopt = unknown (treated as every topic).
  std::optional<std::set<std::string>> subscribed;
  // PreparingRebalance ends at this time even if not every member rejoined (the largest
  // rebalance timeout among the members when the rebalance started; Kafka's DelayedJoin).
  int64_t rebalance_deadline = never;
  // Rebalance of an Empty group: completion waits until this time (group.initial.rebalance.delay.ms,
  // Kafka's InitialDelayedJoin), pushed back as members keep joining but never beyond the cap.
  int64_t initial_delay_until = never;
  int64_t initial_delay_cap = never;

  member* find(const std::string& mid) {
    auto it = members.find(mid);
    return it == members.end() ? nullptr : it->second.get();
  }
  bool all_joined() const {
    if (!pending.empty()) return false;
    for (const auto& [id, m] : members)
      if (!m->awaiting_join) return false;
    return true;
  }
  int32_t max_rebalance_timeout() const {
    int32_t t = 0;
    for (const auto& [id, m] : members) t = std::max(t, m->rebalance_timeout_ms);
    return t;
  }
};

group_coordinator::group_coordinator(coordinator_config cfg, clock_fn now, id_fn new_id)
    : cfg_(cfg), now_(std::move(now)), new_id_(std::move(new_id)) {}

group_coordinator::~group_coordinator() = default;

group_coordinator::group* group_coordinator::find(const std::string& id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}
const group_coordinator::group* group_coordinator::find(const std::string& id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

group_coordinator::group& group_coordinator::get_or_create(const std::string& id) {
  auto& g = groups_[id];
  if (!g) {
    g = std::make_unique<group>();
    g->id = id;
  }
  return *g;
}

void group_coordinator::maybe_drop(const std::string& group_id) {
  // A group created on the way (a first JoinGroup that failed, KIP-394 ids that never came back,
  // a simple commit whose offsets are gone) that never had a generation is not kept. A group that
  // went through a generation stays listed as Empty (Kafka keeps it until offsets retention
  // cleans it up or DeleteGroups removes it).
  group* g = find(group_id);
  if (g && g->state == group_state::empty && g->generation == 0 && g->members.empty() && g->pending.empty() &&
      g->offsets.empty())
    groups_.erase(group_id);
}

error_code group_coordinator::validate_member(const group& g, const std::string& member_id,
                                              const std::optional<std::string>& group_instance_id) {
  // Kafka's GroupCoordinator.validateCurrentMember: a given instance id must be known and mapped
  // to this member id (else FENCED_INSTANCE_ID), and the member must exist.
  if (group_instance_id) {
    auto it = g.static_members.find(*group_instance_id);
    if (it == g.static_members.end()) return error_code::unknown_member_id;
    if (it->second != member_id) return error_code::fenced_instance_id;
  }
  return g.members.count(member_id) ? error_code::none : error_code::unknown_member_id;
}

bool group_coordinator::supports_protocols(const group& g, const join_request& req) const {
  if (req.protocol_type.empty() || req.protocols.empty()) return false;
  if (g.state == group_state::empty && g.members.empty()) return true;
  if (!g.protocol_type.empty() && req.protocol_type != g.protocol_type) return false;
  // Some protocol must be supported by every current member and by the new one.
  for (const auto& p : req.protocols) {
    bool everyone = true;
    for (const auto& [id, m] : g.members)
      if (id != req.member_id && !m->metadata_for(p.name)) everyone = false;
    if (everyone) return true;
  }
  return false;
}

std::string group_coordinator::select_protocol(const group& g) const {
  // Candidates: supported by all members. Each member votes for its first candidate.
  std::map<std::string, int> votes;
  const member* first = g.members.empty() ? nullptr : g.members.begin()->second.get();
  if (!first) return {};
  std::vector<std::string> candidates;
  for (const auto& p : first->protocols) {
    bool all = true;
    for (const auto& [id, m] : g.members) all = all && m->metadata_for(p.name);
    if (all) candidates.push_back(p.name);
  }
  if (candidates.empty()) return {};
  for (const auto& [id, m] : g.members)
    for (const auto& p : m->protocols)
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        votes[p.name]++;
        break;
      }
  std::string best = candidates.front();
  for (const auto& c : candidates)
    if (votes[c] > votes[best]) best = c;
  return best;
}

void group_coordinator::schedule_session(group& g, member& m) {
  (void)g;
  m.session_deadline = now_() + m.session_timeout_ms;
}

void group_coordinator::join(const join_request& req, join_callback cb) {
  join_result err;
  err.member_id = req.member_id;
  auto fail = [&](error_code e) {
    err.error = e;
    cb(err);
  };
  if (req.group_id.empty()) return fail(error_code::invalid_group_id);
  if (req.session_timeout_ms < cfg_.min_session_timeout_ms || req.session_timeout_ms > cfg_.max_session_timeout_ms)
    return fail(error_code::invalid_session_timeout);

  group* existing = find(req.group_id);
  if (!existing && !req.member_id.empty()) return fail(error_code::unknown_member_id);
  group& g = existing ? *existing : get_or_create(req.group_id);
  if (g.state == group_state::dead) return fail(error_code::coordinator_not_available);
  if (!supports_protocols(g, req)) {
    maybe_drop(req.group_id);
    return fail(error_code::inconsistent_group_protocol);
  }

  if (req.member_id.empty()) {
    if (req.group_instance_id) {
      auto it = g.static_members.find(*req.group_instance_id);
      if (it != g.static_members.end()) {
        // A known static member restarted: it takes over under a new member id. The old id is
        // fenced (its requests get FENCED_INSTANCE_ID from now on).
        std::string old_id = it->second;
        member* old = g.find(old_id);
        std::string new_id = *req.group_instance_id + "-" + new_id_();
        if (!old) {
          g.static_members.erase(it);
        } else {
          auto node = g.members.extract(old_id);
          node.key() = new_id;
          node.mapped()->member_id = new_id;
          member& m = *node.mapped();
          g.members.insert(std::move(node));
          std::replace(g.join_order.begin(), g.join_order.end(), old_id, new_id);
          it->second = new_id;
          if (m.awaiting_join) {
            join_result fenced;
            fenced.error = error_code::fenced_instance_id;
            fenced.member_id = old_id;
            auto old_cb = std::move(m.awaiting_join);
            m.awaiting_join = nullptr;
            old_cb(fenced);
          }
          if (m.awaiting_sync) {
            auto old_cb = std::move(m.awaiting_sync);
            m.awaiting_sync = nullptr;
            old_cb(sync_result{error_code::fenced_instance_id, {}, {}, {}});
          }
          bool was_leader = g.leader == old_id;
          if (was_leader) g.leader = new_id;
          bool same_protocols = m.protocols.size() == req.protocols.size();
          for (size_t i = 0; same_protocols && i < m.protocols.size(); ++i)
            same_protocols = m.protocols[i].name == req.protocols[i].name && m.protocols[i].metadata == req.protocols[i].metadata;
          m.client_id = req.client_id;
          m.client_host = req.client_host;
          m.session_timeout_ms = req.session_timeout_ms;
          m.rebalance_timeout_ms = req.rebalance_timeout_ms < 0 ? req.session_timeout_ms : req.rebalance_timeout_ms;
          if (g.state == group_state::stable && same_protocols) {
            // KIP-345: no rebalance; the member gets the current generation back and its
            // assignment from SyncGroup. A returning leader is told to skip assigning.
            schedule_session(g, m);
            join_result r;
            r.generation_id = g.generation;
            r.protocol_type = g.protocol_type;
            r.protocol_name = g.protocol_name;
            r.leader = g.leader;
            r.member_id = new_id;
            if (was_leader && req.supports_skip_assignment) {
              // JoinGroup v9+ (KIP-814): it leads, but must not assign again.
              r.skip_assignment = true;
              for (const auto& id : g.join_order)
                if (member* x = g.find(id))
                  if (const std::string* md = x->metadata_for(g.protocol_name))
                    r.members.push_back(join_member{id, x->instance_id, *md});
            } else if (was_leader) {
              // Before v9: answer with the previous leader id so that the client does not see
              // itself as leader and run an assignment the Stable group would ignore.
              r.leader = old_id;
            }
            spdlog::debug("group {}: static member {} rejoined as {} without a rebalance", g.id, *req.group_instance_id, new_id);
            return cb(r);
          }
          return update_member_and_rebalance(g, m, req, std::move(cb));
        }
      }
      std::string new_id = *req.group_instance_id + "-" + new_id_();
      g.static_members[*req.group_instance_id] = new_id;
      return add_member_and_rebalance(g, req, new_id, std::move(cb));
    }
    std::string new_id = (req.client_id.empty() ? std::string("member") : req.client_id) + "-" + new_id_();
    if (req.require_known_member_id) {
      // KIP-394: hand out the id; the member is added when it comes back with it.
      g.pending[new_id] = now_() + req.session_timeout_ms;
      join_result r;
      r.error = error_code::member_id_required;
      r.member_id = new_id;
      return cb(r);
    }
    return add_member_and_rebalance(g, req, new_id, std::move(cb));
  }

  // A member id was given.
  if (auto pit = g.pending.find(req.member_id); pit != g.pending.end()) {
    g.pending.erase(pit);
    return add_member_and_rebalance(g, req, req.member_id, std::move(cb));
  }
  if (error_code e = validate_member(g, req.member_id, req.group_instance_id); e != error_code::none) return fail(e);
  member* m = g.find(req.member_id);

  bool same_protocols = m->protocols.size() == req.protocols.size();
  for (size_t i = 0; same_protocols && i < m->protocols.size(); ++i)
    same_protocols = m->protocols[i].name == req.protocols[i].name && m->protocols[i].metadata == req.protocols[i].metadata;
  switch (g.state) {
    case group_state::preparing_rebalance:
      return update_member_and_rebalance(g, *m, req, std::move(cb));
    case group_state::completing_rebalance:
    case group_state::stable:
      if (same_protocols && (g.state == group_state::completing_rebalance || m->member_id != g.leader)) {
        // Nothing changed: answer with the current generation (the leader gets the members).
        schedule_session(g, *m);
        join_result r;
        r.generation_id = g.generation;
        r.protocol_type = g.protocol_type;
        r.protocol_name = g.protocol_name;
        r.leader = g.leader;
        r.member_id = m->member_id;
        if (m->member_id == g.leader)
          for (const auto& id : g.join_order)
            if (member* x = g.find(id))
              if (const std::string* md = x->metadata_for(g.protocol_name)) r.members.push_back(join_member{id, x->instance_id, *md});
        return cb(r);
      }
      return update_member_and_rebalance(g, *m, req, std::move(cb));
    case group_state::empty:
    case group_state::dead:
      return fail(error_code::unknown_member_id);
  }
}

void group_coordinator::add_member_and_rebalance(group& g, const join_request& req, const std::string& member_id,
                                                 join_callback cb) {
  auto m = std::make_unique<member>();
  m->member_id = member_id;
  m->instance_id = req.group_instance_id;
  m->client_id = req.client_id;
  m->client_host = req.client_host;
  m->session_timeout_ms = req.session_timeout_ms;
  m->rebalance_timeout_ms = req.rebalance_timeout_ms < 0 ? req.session_timeout_ms : req.rebalance_timeout_ms;
  m->protocol_type = req.protocol_type;
  m->protocols = req.protocols;
  m->awaiting_join = std::move(cb);
  m->is_new = true;
  // While its JoinGroup is held the session timer does not run; it starts when the rebalance
  // completes (the rebalance timeout bounds the wait).
  m->session_deadline = never;
  if (g.members.empty()) g.protocol_type = req.protocol_type;
  if (g.leader.empty()) g.leader = member_id;
  g.join_order.push_back(member_id);
  g.members[member_id] = std::move(m);
  if (g.state == group_state::preparing_rebalance && g.initial_delay_until != never) {
    // A member joined during the initial delay: extend it by one step, within the cap.
    g.initial_delay_until = std::min(now_() + cfg_.initial_rebalance_delay_ms, g.initial_delay_cap);
  }
  prepare_rebalance(g, "member joined");
}

void group_coordinator::update_member_and_rebalance(group& g, member& m, const join_request& req, join_callback cb) {
  m.protocols = req.protocols;
  m.protocol_type = req.protocol_type;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms < 0 ? req.session_timeout_ms : req.rebalance_timeout_ms;
  if (m.awaiting_join) {
    // A duplicate join from the same member: the earlier one is superseded.
    join_result r;
    r.error = error_code::unknown_member_id;
    r.member_id = m.member_id;
    auto old = std::move(m.awaiting_join);
    old(r);
  }
  m.awaiting_join = std::move(cb);
  prepare_rebalance(g, "member rejoined");
}

void group_coordinator::reset_and_propagate_sync_error(group& g, error_code e) {
  // Kafka's resetAndPropagateAssignmentError: every held SyncGroup gets the error, and the
  // session of each member answered starts again (it may have run out while the SyncGroup was
  // held, when expiry does not apply).
  std::vector<std::pair<sync_callback, sync_result>> calls;
  for (auto& [id, m] : g.members) {
    m->assignment.clear();
    if (m->awaiting_sync) {
      calls.emplace_back(std::move(m->awaiting_sync), sync_result{e, {}, {}, {}});
      m->awaiting_sync = nullptr;
      schedule_session(g, *m);
    }
  }
  for (auto& [cb, r] : calls) cb(r);
}

void group_coordinator::prepare_rebalance(group& g, const char* reason) {
  if (g.state == group_state::completing_rebalance) reset_and_propagate_sync_error(g, error_code::rebalance_in_progress);
  const int64_t now = now_();
  if (g.state != group_state::preparing_rebalance) {
    const bool initial = g.state == group_state::empty;
    g.state = group_state::preparing_rebalance;
    const int64_t rebalance_timeout = std::max(g.max_rebalance_timeout(), 0);
    if (initial && cfg_.initial_rebalance_delay_ms > 0) {
      // Kafka's InitialDelayedJoin: wait the delay (extended while members keep joining, up to
      // max(rebalance timeout, delay) in all), then complete with whoever joined.
      g.initial_delay_until = now + cfg_.initial_rebalance_delay_ms;
      g.initial_delay_cap = now + std::max<int64_t>(rebalance_timeout, cfg_.initial_rebalance_delay_ms);
      g.rebalance_deadline = never;
    } else {
      // Kafka's DelayedJoin: fixed when the rebalance starts; later (re)joins do not extend it.
      g.rebalance_deadline = now + rebalance_timeout;
    }
    spdlog::debug("group {}: preparing rebalance ({}), generation {}", g.id, reason, g.generation);
  }
  maybe_complete_join(g);
}

void group_coordinator::maybe_complete_join(group& g) {
  if (g.state != group_state::preparing_rebalance) return;
  if (g.initial_delay_until != never) return;  // the initial delay always runs to its end
  if (g.all_joined()) complete_join(g);
}

void group_coordinator::complete_join(group& g) {
  // Kafka's onCompleteJoin. Dynamic members that did not rejoin in time are dropped; static
  // members stay (KIP-345: only their session timeout or a LeaveGroup removes them).
  std::vector<std::string> gone;
  for (const auto& [id, m] : g.members)
    if (!m->awaiting_join && !m->instance_id) gone.push_back(id);
  for (const auto& id : gone) remove_member(g, id, "did not rejoin before the rebalance timeout");
  g.initial_delay_until = never;
  g.initial_delay_cap = never;
  g.rebalance_deadline = never;
  if (!g.members.empty()) {
    // The leader must be a member that rejoined (GroupMetadata.maybeElectNewJoinedLeader).
    member* leader = g.find(g.leader);
    if (!leader || !leader->awaiting_join) {
      std::string elected;
      for (const auto& id : g.join_order)
        if (member* x = g.find(id); x && x->awaiting_join) {
          elected = id;
          break;
        }
      if (elected.empty()) {
        // Nobody rejoined (only static members that are away): wait another rebalance timeout,
        // their sessions expire meanwhile unless they come back.
        g.rebalance_deadline = now_() + std::max(g.max_rebalance_timeout(), 0);
        spdlog::warn("group {}: no member rejoined, rebalance postponed", g.id);
        return;
      }
      g.leader = elected;
    }
  }
  g.generation++;
  if (g.members.empty()) {
    g.state = group_state::empty;
    g.protocol_name.clear();
    g.leader.clear();
    if (g.protocol_type == "consumer") g.subscribed = std::set<std::string>{};
    else g.subscribed.reset();
    spdlog::debug("group {}: empty at generation {}", g.id, g.generation);
    return;
  }
  g.protocol_name = select_protocol(g);
  g.state = group_state::completing_rebalance;
  g.subscribed.reset();
  if (g.protocol_type == "consumer") {
    std::set<std::string> topics;
    bool known = true;
    for (const auto& [id, m] : g.members) {
      const std::string* md = m->metadata_for(g.protocol_name);
      auto t = md ? subscribed_topics(*md) : std::nullopt;
      if (!t) {
        known = false;
        break;
      }
      topics.insert(t->begin(), t->end());
    }
    if (known) g.subscribed = std::move(topics);
  }
  spdlog::debug("group {}: generation {} with {} member(s), protocol {}, leader {}", g.id, g.generation, g.members.size(),
               g.protocol_name, g.leader);
  std::vector<join_member> all;
  for (const auto& id : g.join_order)
    if (member* m = g.find(id))
      if (const std::string* md = m->metadata_for(g.protocol_name)) all.push_back(join_member{id, m->instance_id, *md});
  // Collect callbacks first: a callback may re-enter the coordinator.
  std::vector<std::pair<join_callback, join_result>> calls;
  for (auto& [id, m] : g.members) {
    m->is_new = false;
    schedule_session(g, *m);
    if (!m->awaiting_join) continue;  // a static member that is away: it stays in the generation
    join_result r;
    r.generation_id = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol_name;
    r.leader = g.leader;
    r.member_id = id;
    if (id == g.leader) r.members = all;
    calls.emplace_back(std::move(m->awaiting_join), std::move(r));
    m->awaiting_join = nullptr;
  }
  for (auto& [cb, r] : calls) cb(r);
}

void group_coordinator::remove_member(group& g, const std::string& member_id, const char* reason) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  // A member that asked to leave is routine (debug); one that timed out is worth a line.
  spdlog::log(reason == std::string_view(left_group_reason) ? spdlog::level::debug : spdlog::level::info,
              "group {}: member {} removed: {}", g.id, member_id, reason);
  member& m = *it->second;
  if (m.instance_id) {
    auto s = g.static_members.find(*m.instance_id);
    if (s != g.static_members.end() && s->second == member_id) g.static_members.erase(s);
  }
  join_callback jcb = std::move(m.awaiting_join);
  sync_callback scb = std::move(m.awaiting_sync);
  g.members.erase(it);
  std::erase(g.join_order, member_id);
  if (g.leader == member_id) g.leader = g.join_order.empty() ? std::string() : g.join_order.front();
  if (jcb) {
    join_result r;
    r.error = error_code::unknown_member_id;
    r.member_id = member_id;
    jcb(r);
  }
  if (scb) scb(sync_result{error_code::unknown_member_id, {}, {}, {}});
}

void group_coordinator::sync(const sync_request& req, sync_callback cb) {
  auto fail = [&](error_code e) { cb(sync_result{e, {}, {}, {}}); };
  if (req.group_id.empty()) return fail(error_code::invalid_group_id);
  group* g = find(req.group_id);
  if (!g || g->state == group_state::dead) return fail(error_code::unknown_member_id);
  if (error_code e = validate_member(*g, req.member_id, req.group_instance_id); e != error_code::none) return fail(e);
  member* m = g->find(req.member_id);
  if (req.generation_id != g->generation) return fail(error_code::illegal_generation);
  if ((req.protocol_type && *req.protocol_type != g->protocol_type) ||
      (req.protocol_name && *req.protocol_name != g->protocol_name))
    return fail(error_code::inconsistent_group_protocol);
  switch (g->state) {
    case group_state::empty:
    case group_state::dead:
      return fail(error_code::unknown_member_id);
    case group_state::preparing_rebalance:
      return fail(error_code::rebalance_in_progress);
    case group_state::stable:
      schedule_session(*g, *m);
      return cb(sync_result{error_code::none, g->protocol_type, g->protocol_name, m->assignment});
    case group_state::completing_rebalance:
      break;
  }
  schedule_session(*g, *m);
  if (m->awaiting_sync) {
    auto old = std::move(m->awaiting_sync);
    old(sync_result{error_code::rebalance_in_progress, {}, {}, {}});
  }
  m->awaiting_sync = std::move(cb);
  // Only the leader's assignments count (a follower's are ignored, as in Kafka).
  if (req.member_id != g->leader) return;
  for (auto& [id, x] : g->members) x->assignment.clear();
  for (const auto& [id, bytes] : req.assignments)
    if (member* x = g->find(id)) x->assignment = bytes;
  g->state = group_state::stable;
  spdlog::debug("group {}: stable at generation {}", g->id, g->generation);
  std::vector<std::pair<sync_callback, sync_result>> calls;
  for (auto& [id, x] : g->members)
    if (x->awaiting_sync) {
      calls.emplace_back(std::move(x->awaiting_sync), sync_result{error_code::none, g->protocol_type, g->protocol_name, x->assignment});
      x->awaiting_sync = nullptr;
      // Kafka's propagateAssignment: the session starts again once the held SyncGroup is
      // answered (it may have run out while the member waited for the leader).
      schedule_session(*g, *x);
    }
  for (auto& [c, r] : calls) c(r);
}

error_code group_coordinator::heartbeat(const std::string& group_id, const std::string& member_id,
                                       const std::optional<std::string>& group_instance_id, int32_t generation_id) {
  if (group_id.empty()) return error_code::invalid_group_id;
  group* g = find(group_id);
  if (!g || g->state == group_state::dead) return error_code::unknown_member_id;
  if (error_code e = validate_member(*g, member_id, group_instance_id); e != error_code::none) return e;
  member* m = g->find(member_id);
  if (generation_id != g->generation) return error_code::illegal_generation;
  switch (g->state) {
    case group_state::preparing_rebalance:
      schedule_session(*g, *m);
      return error_code::rebalance_in_progress;
    case group_state::completing_rebalance:
    case group_state::stable:
      schedule_session(*g, *m);
      return error_code::none;
    case group_state::empty:
    case group_state::dead:
      return error_code::unknown_member_id;
  }
  return error_code::unknown_member_id;
}

std::vector<error_code> group_coordinator::leave(const std::string& group_id, const std::vector<leave_member>& members,
                                                 error_code& top) {
  std::vector<error_code> out(members.size(), error_code::none);
  top = error_code::none;
  if (group_id.empty()) {
    top = error_code::invalid_group_id;
    return out;
  }
  group* g = find(group_id);
  if (!g || g->state == group_state::dead) {
    top = error_code::unknown_member_id;
    std::fill(out.begin(), out.end(), error_code::unknown_member_id);
    return out;
  }
  bool removed = false;
  for (size_t i = 0; i < members.size(); ++i) {
    const auto& lm = members[i];
    std::string mid = lm.member_id;
    if (lm.group_instance_id) {
      auto it = g->static_members.find(*lm.group_instance_id);
      if (it == g->static_members.end()) {
        out[i] = error_code::unknown_member_id;
        continue;
      }
      if (!mid.empty() && it->second != mid) {
        out[i] = error_code::fenced_instance_id;
        continue;
      }
      mid = it->second;
    }
    if (auto p = g->pending.find(mid); p != g->pending.end()) {
      g->pending.erase(p);
      removed = true;
      continue;
    }
    if (!g->find(mid)) {
      out[i] = error_code::unknown_member_id;
      continue;
    }
    remove_member(*g, mid, left_group_reason);
    removed = true;
  }
  if (members.size() == 1 && out[0] != error_code::none) top = out[0];
  if (removed) {
    if (g->state == group_state::stable || g->state == group_state::completing_rebalance) prepare_rebalance(*g, "member left");
    else maybe_complete_join(*g);
  }
  return out;
}

std::vector<error_code> group_coordinator::commit_offsets(
    const std::string& group_id, int32_t generation_id, const std::string& member_id,
    const std::optional<std::string>& group_instance_id, const std::vector<offset_commit>& offsets, int64_t wall_now_ms,
    const std::function<bool(const std::string&, int32_t)>& partition_exists, const persist_fn& persist, bool apply) {
  std::vector<error_code> out(offsets.size(), error_code::none);
  if (group_id.empty()) {
    std::fill(out.begin(), out.end(), error_code::invalid_group_id);
    return out;
  }
  // Unknown partitions are answered first and never reach the group (Kafka's request handler
  // filters them before the coordinator).
  std::vector<size_t> valid;
  for (size_t i = 0; i < offsets.size(); ++i) {
    if (partition_exists(offsets[i].topic, offsets[i].partition)) valid.push_back(i);
    else out[i] = error_code::unknown_topic_or_partition;
  }
  if (valid.empty()) return out;
  auto all = [&](error_code e) {
    for (size_t i : valid) out[i] = e;
    return out;
  };
  group* g = find(group_id);
  if (!g) {
    // Only consumers that manage partitions themselves (assign()) commit without a group.
    if (generation_id >= 0) return all(error_code::illegal_generation);
    g = &get_or_create(group_id);
  }
  if (g->state == group_state::dead) return all(error_code::coordinator_not_available);
  // Kafka's validateOffsetCommit, then the state check of doCommitOffsets.
  error_code e = error_code::none;
  if (generation_id < 0 && g->state == group_state::empty) {
    // "Simple" commit: the group only stores offsets.
  } else if (generation_id >= 0 || !member_id.empty() || group_instance_id) {
    e = validate_member(*g, member_id, group_instance_id);
    if (e == error_code::none && generation_id != g->generation) e = error_code::illegal_generation;
  } else if (g->state != group_state::empty) {
    e = error_code::unknown_member_id;  // only members commit while the group has members
  }
  if (e == error_code::none && g->state == group_state::completing_rebalance) e = error_code::rebalance_in_progress;
  if (e != error_code::none) {
    maybe_drop(group_id);
    return all(e);
  }
  if (g->state == group_state::stable || g->state == group_state::preparing_rebalance)
    if (member* m = g->find(member_id)) schedule_session(*g, *m);
  std::vector<size_t> accepted;
  for (size_t i : valid) {
    const auto& o = offsets[i];
    if (o.metadata && o.metadata->size() > static_cast<size_t>(std::max(cfg_.max_metadata_bytes, 0))) out[i] = error_code::offset_metadata_too_large;
    else accepted.push_back(i);
  }
  // Stored before they are applied, so a failed store leaves the group as it was.
  if (persist && !accepted.empty())
    if (error_code pe = persist(accepted); pe != error_code::none) {
      for (size_t i : accepted) out[i] = pe;
      accepted.clear();
    }
  if (apply)
    for (size_t i : accepted) {
      const auto& o = offsets[i];
      g->offsets[o.topic][o.partition] = committed_offset{o.offset, o.leader_epoch, o.metadata.value_or(""), wall_now_ms};
    }
  maybe_drop(group_id);
  return out;
}

void group_coordinator::store_offsets(const std::string& group_id, const std::vector<offset_commit>& offsets,
                                      int64_t wall_now_ms) {
  if (group_id.empty() || offsets.empty()) return;
  group& g = get_or_create(group_id);
  for (const auto& o : offsets)
    g.offsets[o.topic][o.partition] = committed_offset{o.offset, o.leader_epoch, o.metadata.value_or(""), wall_now_ms};
}

std::optional<committed_offset> group_coordinator::committed(const std::string& group_id, const std::string& topic,
                                                             int32_t partition) const {
  const group* g = find(group_id);
  if (!g) return std::nullopt;
  auto t = g->offsets.find(topic);
  if (t == g->offsets.end()) return std::nullopt;
  auto p = t->second.find(partition);
  if (p == t->second.end()) return std::nullopt;
  return p->second;
}

std::map<std::string, std::map<int32_t, committed_offset>> group_coordinator::all_committed(const std::string& group_id) const {
  const group* g = find(group_id);
  return g ? g->offsets : std::map<std::string, std::map<int32_t, committed_offset>>{};
}

std::vector<group_coordinator::listed_group> group_coordinator::list_groups() const {
  std::vector<listed_group> out;
  for (const auto& [id, g] : groups_) out.push_back(listed_group{id, g->protocol_type, g->state});
  return out;
}

group_description group_coordinator::describe(const std::string& group_id) const {
  group_description d;
  d.group_id = group_id;
  const group* g = find(group_id);
  if (!g) return d;  // Dead
  d.state = g->state;
  d.protocol_type = g->protocol_type;
  // Kafka's GroupMetadata.summary: protocol, member metadata and assignments only while Stable.
  const bool stable = g->state == group_state::stable;
  d.protocol_name = stable ? g->protocol_name : "";
  d.generation_id = g->generation;
  d.leader = g->leader;
  for (const auto& id : g->join_order) {
    const auto it = g->members.find(id);
    if (it == g->members.end()) continue;
    const member& m = *it->second;
    member_description md;
    md.member_id = id;
    md.group_instance_id = m.instance_id;
    md.client_id = m.client_id;
    md.client_host = m.client_host;
    if (stable) {
      if (const std::string* meta = m.metadata_for(g->protocol_name)) md.metadata = *meta;
      md.assignment = m.assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

error_code group_coordinator::delete_group(const std::string& group_id) {
  if (group_id.empty()) return error_code::invalid_group_id;
  group* g = find(group_id);
  if (!g || g->state == group_state::dead) return error_code::group_id_not_found;
  if (g->state != group_state::empty) return error_code::non_empty_group;
  groups_.erase(group_id);
  return error_code::none;
}

bool group_coordinator::force_delete(const std::string& group_id) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return false;
  std::unique_ptr<group> g = std::move(it->second);
  groups_.erase(it);
  // Answered after the group is gone, so a callback that calls back in sees the new state.
  join_result jr;
  jr.error = error_code::coordinator_not_available;
  sync_result sr;
  sr.error = error_code::coordinator_not_available;
  for (auto& [mid, m] : g->members) {
    if (auto cb = std::exchange(m->awaiting_join, nullptr)) cb(jr);
    if (auto cb = std::exchange(m->awaiting_sync, nullptr)) cb(sr);
  }
  return true;
}

error_code group_coordinator::delete_offsets(const std::string& group_id,
                                             const std::vector<std::pair<std::string, int32_t>>& partitions,
                                             std::vector<error_code>& per_partition) {
  per_partition.assign(partitions.size(), error_code::none);
  if (group_id.empty()) return error_code::invalid_group_id;
  group* g = find(group_id);
  if (!g || g->state == group_state::dead) return error_code::group_id_not_found;
  // Kafka's handleDeleteOffsets: anything goes while Empty; a non-empty "consumer" group keeps
  // the offsets of topics it subscribes to; any other non-empty group refuses.
  const bool empty = g->state == group_state::empty;
  if (!empty && g->protocol_type != "consumer") return error_code::non_empty_group;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& [topic, part] = partitions[i];
    if (!empty && (!g->subscribed || g->subscribed->count(topic))) {
      per_partition[i] = error_code::group_subscribed_to_topic;
      continue;
    }
    auto t = g->offsets.find(topic);
    if (t != g->offsets.end()) {
      t->second.erase(part);
      if (t->second.empty()) g->offsets.erase(t);
    }
  }
  maybe_drop(group_id);
  return error_code::none;
}

void group_coordinator::topic_deleted(const std::string& topic) {
  std::vector<std::string> ids;
  for (auto& [id, g] : groups_) {
    g->offsets.erase(topic);
    ids.push_back(id);
  }
  for (const auto& id : ids) maybe_drop(id);
}

void group_coordinator::abandon_pending() {
  std::vector<join_callback> joins;
  std::vector<sync_callback> syncs;
  for (auto& [id, g] : groups_)
    for (auto& [mid, m] : g->members) {
      if (m->awaiting_join) joins.push_back(std::exchange(m->awaiting_join, nullptr));
      if (m->awaiting_sync) syncs.push_back(std::exchange(m->awaiting_sync, nullptr));
    }
  join_result jr;
  jr.error = error_code::coordinator_not_available;
  for (auto& cb : joins) cb(jr);
  sync_result sr;
  sr.error = error_code::coordinator_not_available;
  for (auto& cb : syncs) cb(sr);
}

void group_coordinator::unload(const std::string& group_id, error_code e) {
  group* g = find(group_id);
  if (!g) return;
  std::vector<join_callback> joins;
  std::vector<sync_callback> syncs;
  for (auto& [mid, m] : g->members) {
    if (m->awaiting_join) joins.push_back(std::exchange(m->awaiting_join, nullptr));
    if (m->awaiting_sync) syncs.push_back(std::exchange(m->awaiting_sync, nullptr));
    schedule_session(*g, *m);
  }
  join_result jr;
  jr.error = e;
  for (auto& cb : joins) cb(jr);
  sync_result sr;
  sr.error = e;
  for (auto& cb : syncs) cb(sr);
}

void group_coordinator::tick() {
  const int64_t now = now_();
  std::vector<std::string> ids;
  for (const auto& [id, g] : groups_) ids.push_back(id);
  for (const auto& id : ids) {
    group* g = find(id);
    if (!g) continue;
    // KIP-394 ids never used.
    for (auto it = g->pending.begin(); it != g->pending.end();) {
      if (it->second <= now) it = g->pending.erase(it);
      else ++it;
    }
    // Session expiry.
    std::vector<std::string> expired;
    for (const auto& [mid, m] : g->members)
      // A member whose JoinGroup/SyncGroup is held back by the coordinator is not expired.
      if (m->session_deadline <= now && !m->awaiting_join && !m->awaiting_sync) expired.push_back(mid);
    for (const auto& mid : expired) {
      remove_member(*g, mid, "session timeout expired");
      if (g->state == group_state::stable || g->state == group_state::completing_rebalance)
        prepare_rebalance(*g, "member session expired");
    }
    if (g->state == group_state::preparing_rebalance) {
      if (g->initial_delay_until != never) {
        if (g->initial_delay_until <= now) complete_join(*g);
      } else if (g->rebalance_deadline <= now) {
        complete_join(*g);
      } else {
        maybe_complete_join(*g);
      }
    }
    maybe_drop(id);
  }
}

std::optional<int64_t> group_coordinator::next_deadline() const {
  int64_t best = never;
  for (const auto& [id, g] : groups_) {
    for (const auto& [pid, d] : g->pending) best = std::min(best, d);
    for (const auto& [mid, m] : g->members)
      if (!m->awaiting_join && !m->awaiting_sync) best = std::min(best, m->session_deadline);
    if (g->state == group_state::preparing_rebalance) {
      best = std::min(best, g->rebalance_deadline);
      best = std::min(best, g->initial_delay_until);
    }
  }
  if (best == never) return std::nullopt;
  return best;
}

}  // namespace mk::groups
