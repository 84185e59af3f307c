// Producer ids and transactions as front ends see them: InitProducerId (idempotent and
// transactional producers), AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn over
// the transaction coordinator (broker/txn/), which this service completes by writing commit or
// abort markers to the transaction's partitions and applying or dropping its groups' offsets.
// Runs on: broker state thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/clock.h"
#include "broker/cluster.h"
#include "broker/services/groups.h"
#include "broker/txn/transaction_coordinator.h"

namespace mk::services {

class transactions_service {
 public:
  transactions_service(txn::transaction_coordinator& tc, cluster& state, groups_service& groups, const clock& clk,
                       std::function<void()> changed)
      : tc_(tc), state_(state), groups_(groups), clock_(clk), changed_(std::move(changed)) {}

  // InitProducerId. Without a transactional id: a new idempotent producer id, or (KIP-360) the
  // given producer's next epoch. With one: the transaction coordinator's answer (fencing).
  txn::transaction_coordinator::init_result init_producer_id(const std::optional<std::string>& transactional_id,
                                                             int32_t timeout_ms, int64_t producer_id, int16_t epoch);

  struct partition_result {
    txn::topic_partition partition;
    proto::error_code error = proto::error_code::none;
  };
  // AddPartitionsToTxn for one transaction. Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION
  // and the others OPERATION_NOT_ATTEMPTED, as Kafka answers; otherwise every partition gets the
  // coordinator's answer.
  std::vector<partition_result> add_partitions(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                                               const std::vector<txn::topic_partition>& partitions);
  proto::error_code add_offsets(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                                const std::string& group_id);
  // TxnOffsetCommit: the producer must own the transaction and have added the group
  // (INVALID_TXN_STATE otherwise); then the group's checks; the offsets stay pending until
  // EndTxn.
  std::vector<proto::error_code> commit_offsets(const std::string& transactional_id, const std::string& group_id,
                                                int64_t producer_id, int16_t epoch, int32_t generation_id,
                                                const std::string& member_id,
                                                const std::optional<std::string>& instance_id,
                                                const std::vector<groups::offset_commit>& offsets);
  proto::error_code end(const std::string& transactional_id, int64_t producer_id, int16_t epoch, bool commit);

  // Restart of a persistent backend: rebuilds every partition's producer state from its log and
  // aborts the transactions left open there (their coordinator state did not survive), so they
  // neither hold back read_committed consumers nor become visible.
  void recover();

  // The coordinator's completion: markers on every partition, then the groups' offsets.
  void complete(const txn::completion& c);

  const txn::transaction_coordinator& coordinator() const { return tc_; }

 private:
  txn::transaction_coordinator& tc_;
  cluster& state_;
  groups_service& groups_;
  const clock& clock_;
  std::function<void()> changed_;
};

}  // namespace mk::services
