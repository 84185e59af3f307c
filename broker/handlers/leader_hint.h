// KIP-951: a partition answered with NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH carries its
// current leader and leader epoch (Produce v10+, Fetch v12+, in tagged fields), and the response
// lists that leader's endpoint (Produce v10+, Fetch v16+), so a client can retry at the new
// leader without a Metadata round trip. The generated encoders leave out what a version cannot
// carry, so handlers fill these in at every version.
// Runs on: broker state thread.
#pragma once

#include "broker/handlers/handler.h"

namespace mk::handlers {

inline bool leadership_error(error_code e) {
  return e == error_code::not_leader_or_follower || e == error_code::fenced_leader_epoch;
}

// Sets `current` to p's leader and epoch, and adds the leader's endpoint (once) when it is up.
template <typename CurrentLeader, typename Endpoints>
void hint_leader(request_context& ctx, const partition_state& p, CurrentLeader& current, Endpoints& endpoints) {
  current.leader_id = p.leader_id;
  current.leader_epoch = p.leader_epoch;
  if (p.leader_id < 0) return;
  for (const auto& e : endpoints)
    if (e.node_id == p.leader_id) return;
  const node_info* n = ctx.svc().cluster.node(p.leader_id);
  if (!n || !n->up) return;
  auto& e = endpoints.emplace_back();
  e.node_id = n->node_id;
  e.host = n->host;
  e.port = n->port;
  e.rack = n->rack;
}

}  // namespace mk::handlers
