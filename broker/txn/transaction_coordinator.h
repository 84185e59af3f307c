// The transaction coordinator as an explicit state machine, separate from the network code and
// from the partitions (Kafka's TransactionCoordinator + TransactionMetadata).
//
// One transaction per transactional id:
//
//   Empty --AddPartitions/AddOffsets--> Ongoing --EndTxn(commit)--> PrepareCommit --> CompleteCommit
//                                          |    --EndTxn(abort)---> PrepareAbort  --> CompleteAbort
//                                          +--timeout / InitProducerId (fence)--> PrepareEpochFence
//                                                                    --> PrepareAbort --> CompleteAbort
//   Complete* --AddPartitions/AddOffsets--> Ongoing;   any --InitProducerId--> Empty (epoch + 1)
//
// Completing a transaction (writing commit/abort markers to its partitions, applying or dropping
// its groups' pending offsets) is the `complete` callback's job; it runs synchronously, so the
// Prepare* states last only for that call (they are visible to it, and to DescribeTransactions
// if ever asked from inside it).
//
// Fencing: InitProducerId for a transactional id bumps the epoch (a new producer id when the
// epoch would overflow), aborting an ongoing transaction first; the old producer's requests then
// carry a stale epoch and get PRODUCER_FENCED. A transaction open longer than its timeout is
// aborted with an epoch bump, fencing its producer the same way.
//
// Time comes from the injected clock (monotonic ms); tick() aborts expired transactions and
// next_deadline() says when it next has work.
// Runs on: broker state thread. Not thread-safe; never blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/error_code.h"

namespace mk::txn {

using proto::error_code;

enum class txn_state { empty, ongoing, prepare_commit, prepare_abort, complete_commit, complete_abort, dead,
                       prepare_epoch_fence };
// Kafka's names: "Empty", "Ongoing", "PrepareCommit", ...
const char* to_string(txn_state s);

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

struct coordinator_config {
  int32_t max_timeout_ms = 900000;  // transaction.max.timeout.ms
};

struct transaction {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int16_t last_epoch = -1;  // the epoch before the last bump (KIP-360 retries)
  int32_t timeout_ms = 60000;
  txn_state state = txn_state::empty;
  std::set<topic_partition> partitions;
  std::set<std::string> groups;  // AddOffsetsToTxn
  int64_t start_ms = -1;         // when it became Ongoing (-1: not ongoing)
  int64_t last_update_ms = -1;
};

// What completing a transaction must do to the rest of the broker.
struct completion {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t epoch = -1;  // the epoch the markers carry
  bool commit = false;
  std::vector<topic_partition> partitions;
  std::vector<std::string> groups;
};

class transaction_coordinator {
 public:
  using clock_fn = std::function<int64_t()>;          // monotonic ms
  using producer_id_fn = std::function<int64_t()>;    // a producer id never handed out before
  using complete_fn = std::function<void(const completion&)>;
  transaction_coordinator(coordinator_config cfg, clock_fn now, producer_id_fn new_producer_id, complete_fn complete);

  struct init_result {
    error_code error = error_code::none;
    int64_t producer_id = -1;
    int16_t epoch = -1;
  };
  // InitProducerId with a transactional id. `expected_*` (v3+, KIP-360) are -1 for a fresh
  // producer, else the producer's current id and epoch. Errors: INVALID_TRANSACTION_TIMEOUT,
  // PRODUCER_FENCED (expected id/epoch neither current nor the previous one).
  init_result init_producer_id(const std::string& transactional_id, int32_t timeout_ms, int64_t expected_producer_id,
                               int16_t expected_epoch);

  // The producer id and epoch check every transactional request makes: INVALID_PRODUCER_ID_MAPPING
  // (unknown id, other producer id), PRODUCER_FENCED (other epoch), CONCURRENT_TRANSACTIONS
  // (being completed).
  error_code check(const std::string& transactional_id, int64_t producer_id, int16_t epoch) const;

  // AddPartitionsToTxn (partitions already known to exist). Moves the transaction to Ongoing.
  error_code add_partitions(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                            const std::vector<topic_partition>& partitions);
  // AddOffsetsToTxn: the group's offsets committed in this transaction become visible on commit.
  error_code add_group(const std::string& transactional_id, int64_t producer_id, int16_t epoch, const std::string& group);
  // TxnOffsetCommit's check: the producer owns the transaction and the group was added to it
  // (else INVALID_TXN_STATE).
  error_code check_group(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                         const std::string& group) const;
  // EndTxn. Ongoing: completes (markers, offsets). A retry of the same outcome after completion
  // is NONE; the other outcome, or no transaction, is INVALID_TXN_STATE.
  error_code end(const std::string& transactional_id, int64_t producer_id, int16_t epoch, bool commit);

  // Aborts (and fences) transactions open longer than their timeout.
  void tick();
  std::optional<int64_t> next_deadline() const;

  const transaction* find(const std::string& transactional_id) const;
  const std::map<std::string, transaction>& all() const { return txns_; }
  // Forgets transactional ids (reset). Ongoing ones are aborted first.
  void remove_if(const std::function<bool(const std::string&)>& pred);
  const coordinator_config& config() const { return cfg_; }

 private:
  void complete(transaction& t, bool commit);
  void bump_epoch(transaction& t);

  coordinator_config cfg_;
  clock_fn now_;
  producer_id_fn new_producer_id_;
  complete_fn complete_;
  std::map<std::string, transaction> txns_;
};

}  // namespace mk::txn
