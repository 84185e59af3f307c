// Consumer-group APIs over the group coordinator (broker/groups/group_coordinator.h):
// JoinGroup (0-9), SyncGroup (0-5), Heartbeat (0-4), LeaveGroup (0-5), OffsetCommit (0-9),
// OffsetFetch (0-9), ListGroups (0-5), DescribeGroups (0-5), DeleteGroups (0-2),
// OffsetDelete (0).
//
// Behaviour:
//  * The coordinator holds JoinGroup/SyncGroup answers back until the rebalance completes; the
//    handler parks on a slot the coordinator's callback fills. Only this connection waits.
//  * JoinGroup v4+ without group.instance.id: first join gets MEMBER_ID_REQUIRED (KIP-394).
//    v0 has no rebalance timeout (the session timeout is used). v7+ return the protocol type;
//    v9 skip_assignment for a static leader rejoining without a rebalance.
//  * OffsetCommit: members of the current generation, or "simple" commits (generation -1, no
//    member) while the group has no members. v0 has no generation (simple commit).
//  * OffsetFetch: -1 for partitions without a commit; null topics (v2+) = every committed
//    partition of the group; v8+ several groups per request.
//  * ListGroups v4+ filter by state (case-insensitive), v5+ by type ("classic" only here).
//  * DescribeGroups: unknown groups are reported as state "Dead" with no members (v0-v5).
//  * An empty group id gets INVALID_GROUP_ID everywhere.
//  * Only the group's coordinator (FindCoordinator, cluster::coordinator) serves it: every other
//    broker answers NOT_COORDINATOR (per group or per partition where the response has a place
//    for it), and ListGroups lists the groups this broker coordinates. A coordinator move
//    answers the requests held by the old coordinator with NOT_COORDINATOR.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/handler.h"

#include <spdlog/spdlog.h>

namespace mk::handlers {

namespace {

// A one-shot result the coordinator fills from a callback, awaited by the handler coroutine.
// Runs on: broker state thread.
template <typename T>
class result_slot {
 public:
  explicit result_slot(asio::any_io_executor ex) : timer_(ex) {}
  void set(T v) {
    value_ = std::move(v);
    timer_.cancel();
  }
  asio::awaitable<T> wait() {
    while (!value_) {
      timer_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return std::move(*value_);
  }

 private:
  asio::steady_timer timer_;
  std::optional<T> value_;
};

// Whether the broker this request arrived on coordinates the group.
bool coordinates(const request_context& ctx, const std::string& group_id) {
  return ctx.svc().cluster.coordinator(coordinator_kind::group, group_id) == ctx.node_id;
}

std::string client_host(const request_context& ctx) {
  auto colon = ctx.peer.rfind(':');
  return "/" + (colon == std::string::npos ? ctx.peer : ctx.peer.substr(0, colon));
}

}  // namespace

asio::awaitable<proto::join_group_response> join_group(request_context& ctx, proto::join_group_request& req) {
  const int16_t v = ctx.version();
  groups::join_request jr;
  jr.group_id = req.group_id;
  jr.member_id = req.member_id;
  jr.group_instance_id = req.group_instance_id;
  jr.client_id = ctx.header.client_id;
  jr.client_host = client_host(ctx);
  jr.session_timeout_ms = req.session_timeout_ms;
  jr.rebalance_timeout_ms = v >= 1 ? req.rebalance_timeout_ms : -1;
  jr.protocol_type = req.protocol_type;
  for (auto& p : req.protocols) jr.protocols.push_back(groups::protocol_entry{p.name, std::move(p.metadata)});
  jr.require_known_member_id = v >= 4 && !req.group_instance_id;
  jr.supports_skip_assignment = v >= 9;

  groups::join_result r;
  if (!jr.group_id.empty() && !coordinates(ctx, jr.group_id)) {
    r.error = error_code::not_coordinator;
    r.member_id = req.member_id;
  } else {
    auto slot = std::make_shared<result_slot<groups::join_result>>(co_await asio::this_coro::executor);
    ctx.svc().groups.join(jr, [slot](const groups::join_result& res) { slot->set(res); });
    r = co_await slot->wait();
  }

  proto::join_group_response resp;
  resp.error_code = code(r.error);
  resp.generation_id = r.generation_id;
  resp.protocol_type = r.error == error_code::none ? std::optional<std::string>(r.protocol_type) : std::nullopt;
  if (r.error != error_code::none && v >= 7) resp.protocol_name = std::nullopt;
  else resp.protocol_name = r.protocol_name;
  resp.leader = r.leader;
  resp.member_id = r.member_id;
  resp.skip_assignment = r.skip_assignment;
  for (auto& m : r.members) {
    auto& out = resp.members.emplace_back();
    out.member_id = m.member_id;
    out.group_instance_id = m.group_instance_id;
    out.metadata = m.metadata;
  }
  co_return resp;
}

asio::awaitable<proto::sync_group_response> sync_group(request_context& ctx, proto::sync_group_request& req) {
  groups::sync_request sr;
  sr.group_id = req.group_id;
  sr.member_id = req.member_id;
  sr.group_instance_id = req.group_instance_id;
  sr.generation_id = req.generation_id;
  sr.protocol_type = req.protocol_type;
  sr.protocol_name = req.protocol_name;
  for (auto& a : req.assignments) sr.assignments.emplace_back(a.member_id, std::move(a.assignment));
  groups::sync_result r;
  if (!sr.group_id.empty() && !coordinates(ctx, sr.group_id)) {
    r.error = error_code::not_coordinator;
  } else {
    auto slot = std::make_shared<result_slot<groups::sync_result>>(co_await asio::this_coro::executor);
    ctx.svc().groups.sync(sr, [slot](const groups::sync_result& res) { slot->set(res); });
    r = co_await slot->wait();
  }
  proto::sync_group_response resp;
  resp.error_code = code(r.error);
  if (r.error == error_code::none) {
    resp.protocol_type = r.protocol_type;
    resp.protocol_name = r.protocol_name;
  }
  resp.assignment = std::move(r.assignment);
  co_return resp;
}

proto::heartbeat_response heartbeat(request_context& ctx, proto::heartbeat_request& req) {
  proto::heartbeat_response resp;
  if (!req.group_id.empty() && !coordinates(ctx, req.group_id)) {
    resp.error_code = code(error_code::not_coordinator);
    return resp;
  }
  resp.error_code = code(ctx.svc().groups.heartbeat(req.group_id, req.member_id, req.group_instance_id, req.generation_id));
  return resp;
}

proto::leave_group_response leave_group(request_context& ctx, proto::leave_group_request& req) {
  proto::leave_group_response resp;
  if (!req.group_id.empty() && !coordinates(ctx, req.group_id)) {
    resp.error_code = code(error_code::not_coordinator);
    return resp;
  }
  std::vector<groups::leave_member> members;
  if (ctx.version() >= 3) {
    for (const auto& m : req.members) members.push_back(groups::leave_member{m.member_id, m.group_instance_id});
  } else {
    members.push_back(groups::leave_member{req.member_id, std::nullopt});
  }
  error_code top = error_code::none;
  auto errs = ctx.svc().groups.leave(req.group_id, members, top);
  if (ctx.version() >= 3) {
    // v3+: per-member errors; the top level reports only a bad group id (Kafka answers an
    // unknown group with NONE and UNKNOWN_MEMBER_ID per member).
    resp.error_code = code(top == error_code::invalid_group_id ? top : error_code::none);
    for (size_t i = 0; i < members.size(); ++i) {
      auto& out = resp.members.emplace_back();
      out.member_id = members[i].member_id;
      out.group_instance_id = members[i].group_instance_id;
      out.error_code = code(errs[i]);
    }
  } else {
    resp.error_code = code(top != error_code::none ? top : errs.front());
  }
  return resp;
}

proto::offset_commit_response offset_commit(request_context& ctx, proto::offset_commit_request& req) {
  const int16_t v = ctx.version();
  std::vector<groups::offset_commit> offsets;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions)
      offsets.push_back(groups::offset_commit{t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                                              p.committed_metadata});
  const int32_t generation = v >= 1 ? req.generation_id_or_member_epoch : -1;
  const std::string member = v >= 1 ? req.member_id : std::string();
  std::vector<error_code> errs;
  if (!req.group_id.empty() && !coordinates(ctx, req.group_id)) errs.assign(offsets.size(), error_code::not_coordinator);
  else errs = ctx.svc().groups.commit(req.group_id, generation, member, req.group_instance_id, offsets);
  proto::offset_commit_response resp;
  size_t i = 0;
  for (const auto& t : req.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    for (const auto& p : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      pr.error_code = code(errs[i++]);
    }
  }
  return resp;
}

namespace {

template <typename PartitionOut>
void fill_offset(PartitionOut& out, const std::optional<groups::committed_offset>& c) {
  out.committed_offset = c ? c->offset : -1;
  out.committed_leader_epoch = c ? c->leader_epoch : -1;
  out.metadata = c ? c->metadata : std::string();
  out.error_code = 0;
}

// require_stable (v7+): a partition with an offset pending in an open transaction answers
// UNSTABLE_OFFSET_COMMIT (retriable) instead of the committed offset.
template <typename PartitionOut>
void mark_unstable(request_context& ctx, bool require_stable, const std::string& group, const std::string& topic,
                   PartitionOut& out) {
  if (require_stable && ctx.svc().groups.has_pending(group, topic, out.partition_index)) {
    out.committed_offset = -1;
    out.error_code = code(error_code::unstable_offset_commit);
  }
}

// Answers one group's fetch: `topics` null means every committed partition.
template <typename TopicsOut, typename TopicsIn>
error_code fetch_group_offsets(request_context& ctx, bool require_stable, const std::string& group_id, const std::optional<TopicsIn>& topics,
                               TopicsOut& out) {
  if (group_id.empty()) return error_code::invalid_group_id;
  if (!coordinates(ctx, group_id)) return error_code::not_coordinator;
  auto& gc = ctx.svc().groups;
  if (!topics) {
    for (const auto& [topic, parts] : gc.all_committed(group_id)) {
      auto& tr = out.emplace_back();
      tr.name = topic;
      for (const auto& [p, c] : parts) {
        auto& pr = tr.partitions.emplace_back();
        pr.partition_index = p;
        fill_offset(pr, c);
        mark_unstable(ctx, require_stable, group_id, topic, pr);
      }
    }
    return error_code::none;
  }
  for (const auto& t : *topics) {
    auto& tr = out.emplace_back();
    tr.name = t.name;
    for (int32_t p : t.partition_indexes) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p;
      fill_offset(pr, gc.committed(group_id, t.name, p));
      mark_unstable(ctx, require_stable, group_id, t.name, pr);
    }
  }
  return error_code::none;
}

}  // namespace

proto::offset_fetch_response offset_fetch(request_context& ctx, proto::offset_fetch_request& req) {
  proto::offset_fetch_response resp;
  if (ctx.version() >= 8) {
    for (const auto& g : req.groups) {
      auto& gr = resp.groups.emplace_back();
      gr.group_id = g.group_id;
      gr.error_code = code(fetch_group_offsets(ctx, req.require_stable, g.group_id, g.topics, gr.topics));
    }
  } else {
    auto err = fetch_group_offsets(ctx, ctx.version() >= 7 && req.require_stable, req.group_id, req.topics, resp.topics);
    if (ctx.version() >= 2) {
      resp.error_code = code(err);
    } else if (err != error_code::none && req.topics) {
      // v0-1 have no top-level error: every partition asked for carries it.
      for (const auto& t : *req.topics) {
        auto& tr = resp.topics.emplace_back();
        tr.name = t.name;
        for (int32_t p : t.partition_indexes) {
          auto& pr = tr.partitions.emplace_back();
          pr.partition_index = p;
          pr.committed_offset = -1;
          pr.error_code = code(err);
        }
      }
    }
  }
  return resp;
}

proto::list_groups_response list_groups(request_context& ctx, proto::list_groups_request& req) {
  proto::list_groups_response resp;
  for (const auto& g : ctx.svc().groups.list()) {
    if (!coordinates(ctx, g.group_id)) continue;  // each broker lists the groups it coordinates
    if (!req.states_filter.empty()) {
      bool match = false;
      for (const auto& s : req.states_filter) match = match || groups::group_state_from_string(s) == g.state;
      if (!match) continue;
    }
    if (!req.types_filter.empty()) {
      bool match = false;
      for (const auto& t : req.types_filter) match = match || t == "classic" || t == "Classic";
      if (!match) continue;
    }
    auto& out = resp.groups.emplace_back();
    out.group_id = g.group_id;
    out.protocol_type = g.protocol_type;
    out.group_state = groups::to_string(g.state);
    out.group_type = "classic";
  }
  return resp;
}

proto::describe_groups_response describe_groups(request_context& ctx, proto::describe_groups_request& req) {
  proto::describe_groups_response resp;
  for (const auto& id : req.groups) {
    auto& out = resp.groups.emplace_back();
    out.group_id = id;
    if (id.empty() || !coordinates(ctx, id)) {
      out.error_code = code(id.empty() ? error_code::invalid_group_id : error_code::not_coordinator);
      out.group_state = id.empty() ? "Dead" : "";
      continue;
    }
    auto d = ctx.svc().groups.describe(id);
    out.group_state = groups::to_string(d.state);
    out.protocol_type = d.protocol_type;
    out.protocol_data = d.protocol_name;
    if (req.include_authorized_operations) out.authorized_operations = 0x0f98;  // no ACLs: everything
    for (auto& m : d.members) {
      auto& mo = out.members.emplace_back();
      mo.member_id = m.member_id;
      mo.group_instance_id = m.group_instance_id;
      mo.client_id = m.client_id;
      mo.client_host = m.client_host;
      mo.member_metadata = std::move(m.metadata);
      mo.member_assignment = std::move(m.assignment);
    }
  }
  return resp;
}

proto::delete_groups_response delete_groups(request_context& ctx, proto::delete_groups_request& req) {
  proto::delete_groups_response resp;
  for (const auto& id : req.groups_names) {
    auto& out = resp.results.emplace_back();
    out.group_id = id;
    out.error_code = code(!id.empty() && !coordinates(ctx, id) ? error_code::not_coordinator : ctx.svc().groups.remove(id));
  }
  return resp;
}

proto::offset_delete_response offset_delete(request_context& ctx, proto::offset_delete_request& req) {
  proto::offset_delete_response resp;
  std::vector<std::pair<std::string, int32_t>> parts;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions) parts.emplace_back(t.name, p.partition_index);
  std::vector<error_code> per;
  if (!req.group_id.empty() && !coordinates(ctx, req.group_id)) {
    resp.error_code = code(error_code::not_coordinator);
    return resp;
  }
  resp.error_code = code(ctx.svc().groups.delete_offsets(req.group_id, parts, per));
  if (resp.error_code != 0) return resp;
  size_t i = 0;
  for (const auto& t : req.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    for (const auto& p : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      pr.error_code = code(per[i++]);
    }
  }
  return resp;
}

}  // namespace mk::handlers
