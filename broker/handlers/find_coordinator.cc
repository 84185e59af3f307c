// FindCoordinator: versions 0-6 (v4+ batched coordinator_keys).
//
// Behaviour:
//  * The coordinator of a group or transactional id is the leader of the key's partition of
//    Kafka's __consumer_offsets / __transaction_state (Utils.abs(key.hashCode) % 50, kept
//    internally: cluster::coordinator), unless the group's coordinator was moved (cluster
//    operations). Any broker answers, naming the coordinator's endpoint.
//  * COORDINATOR_NOT_AVAILABLE while that partition has no live leader (brokers down).
//  * key_type must be 0 (group) or 1 (transaction): INVALID_REQUEST otherwise. An empty group id
//    gets INVALID_GROUP_ID.
// Served already by the core broker because librdkafka enables LZ4 only when FindCoordinator v0
// is advertised (CLIENTS.md §1.2); the group APIs are in broker/handlers/groups.cc over the
// groups service (broker/services/groups.h).
#include "broker/handlers/handler.h"

namespace mk::handlers {

proto::find_coordinator_response find_coordinator(request_context& ctx, proto::find_coordinator_request& req) {
  proto::find_coordinator_response resp;
  auto& cl = ctx.svc().cluster;
  auto answer = [&](const std::string& key, int16_t& err, std::optional<std::string>& msg, int32_t& node,
                    std::string& host, int32_t& port) {
    err = 0;
    msg = std::nullopt;
    node = -1;
    host.clear();
    port = -1;
    if (req.key_type != 0 && req.key_type != 1) {
      err = code(error_code::invalid_request);
      msg = "Unknown coordinator type " + std::to_string(req.key_type);
    } else if (req.key_type == 0 && key.empty()) {
      err = code(error_code::invalid_group_id);
    } else if (const node_info* c = cl.node(cl.coordinator(static_cast<coordinator_kind>(req.key_type), key));
               !c || !c->up) {
      err = code(error_code::coordinator_not_available);
      msg = "The coordinator is not available.";
    } else {
      node = c->node_id;
      host = c->host;
      port = c->port;
    }
  };
  if (ctx.version() >= 4) {
    for (const auto& key : req.coordinator_keys) {
      auto& c = resp.coordinators.emplace_back();
      c.key = key;
      answer(key, c.error_code, c.error_message, c.node_id, c.host, c.port);
    }
  } else {
    answer(req.key, resp.error_code, resp.error_message, resp.node_id, resp.host, resp.port);
  }
  return resp;
}

}  // namespace mk::handlers
