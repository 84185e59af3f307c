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
// Version notes: v0-v3 get INVALID_PRODUCER_EPOCH where v4+ get PRODUCER_FENCED (KIP-588).
#include "broker/handlers/handler.h"

namespace mk::handlers {

proto::init_producer_id_response init_producer_id(request_context& ctx, proto::init_producer_id_request& req) {
  proto::init_producer_id_response resp;
  const int16_t v = ctx.version();
  auto r = ctx.svc().transactions.init_producer_id(req.transactional_id, req.transaction_timeout_ms,
                                                   v >= 3 ? req.producer_id : -1, v >= 3 ? req.producer_epoch : -1);
  if (r.error == error_code::producer_fenced && v < 4) r.error = error_code::invalid_producer_epoch;
  resp.error_code = code(r.error);
  resp.producer_id = r.producer_id;
  resp.producer_epoch = r.epoch;
  return resp;
}

}  // namespace mk::handlers
