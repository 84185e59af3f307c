// InitProducerId: versions 0-5, for idempotent and transactional producers.
//
// Behaviour:
//  * Without a transactional id: a new producer id (epoch 0), unique within this broker's
//    lifetime; with an existing id and epoch (v3+, KIP-360) the same id with the epoch bumped.
//  * With a transactional id: the transaction coordinator (broker/txn/) bumps the epoch of that
//    id (fencing the previous producer and aborting its open transaction), or creates it.
//    transaction.timeout.ms over --transaction-max-timeout-ms (Kafka: 900000) or <= 0:
//    INVALID_TRANSACTION_TIMEOUT. A KIP-360 retry with an id/epoch that is neither current nor
//    the previous one: PRODUCER_FENCED.
//  * Simulated cluster (--brokers N): a transactional id's InitProducerId is served by its
//    coordinator (FindCoordinator); other brokers answer NOT_COORDINATOR.
// Version notes: v0-v3 get INVALID_PRODUCER_EPOCH where v4+ get PRODUCER_FENCED (KIP-588).
#include "broker/handlers/handler.h"

namespace mk::handlers {

proto::init_producer_id_response init_producer_id(request_context& ctx, proto::init_producer_id_request& req) {
  proto::init_producer_id_response resp;
  const int16_t v = ctx.version();
  if (req.transactional_id && !req.transactional_id->empty() &&
      ctx.svc().cluster.coordinator(coordinator_kind::transaction, *req.transactional_id) != ctx.node_id) {
    resp.error_code = code(error_code::not_coordinator);
    resp.producer_id = -1;
    resp.producer_epoch = -1;
    return resp;
  }
  auto r = ctx.svc().transactions.init_producer_id(req.transactional_id, req.transaction_timeout_ms,
                                                   v >= 3 ? req.producer_id : -1, v >= 3 ? req.producer_epoch : -1);
  if (r.error == error_code::producer_fenced && v < 4) r.error = error_code::invalid_producer_epoch;
  resp.error_code = code(r.error);
  resp.producer_id = r.producer_id;
  resp.producer_epoch = r.epoch;
  return resp;
}

}  // namespace mk::handlers
