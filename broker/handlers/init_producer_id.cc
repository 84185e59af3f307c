// InitProducerId: versions 0-5, for idempotent producers.
//
// Behaviour:
//  * Hands out a new producer id (epoch 0), unique within this broker's lifetime. With an
//    existing id and epoch (v3+, KIP-360) the same id comes back with the epoch bumped.
//  * Produce then checks sequences per (producer id, partition): see broker/log_append.cc.
//  * Transactions are not served (AddPartitionsToTxn & co are not advertised), so a
//    transactional id only gets a producer id; transactional producers fail at their next step.
#include "broker/handlers/handler.h"

namespace mk::handlers {

proto::init_producer_id_response init_producer_id(request_context& ctx, proto::init_producer_id_request& req) {
  proto::init_producer_id_response resp;
  if (req.producer_id >= 0 && req.producer_epoch >= 0) {
    resp.producer_id = req.producer_id;
    resp.producer_epoch = static_cast<int16_t>(req.producer_epoch + 1);
    if (resp.producer_epoch < 0) {  // epoch exhausted: a fresh id
      resp.producer_id = ctx.svc().cluster.next_producer_id();
      resp.producer_epoch = 0;
    }
    return resp;
  }
  resp.producer_id = ctx.svc().cluster.next_producer_id();
  resp.producer_epoch = 0;
  return resp;
}

}  // namespace mk::handlers
