// The transaction coordinator state machine (broker/txn/transaction_coordinator.h) on a fake
// clock: every transition and error path, fencing by epoch, timeouts.
#include <gtest/gtest.h>

#include "broker/txn/transaction_coordinator.h"

namespace {

using mk::proto::error_code;
using namespace mk::txn;

class TxnCoordinator : public ::testing::Test {
 protected:
  TxnCoordinator()
      : tc_(coordinator_config{60000}, [this] { return now_; }, [this] { return next_pid_++; },
            [this](const completion& c) { done_.push_back(c); }) {}

  transaction_coordinator::init_result init(const std::string& id = "tx", int32_t timeout = 10000) {
    return tc_.init_producer_id(id, timeout, -1, -1);
  }

  int64_t now_ = 1000;
  int64_t next_pid_ = 100;
  std::vector<completion> done_;
  transaction_coordinator tc_;
};

TEST_F(TxnCoordinator, NewIdGetsAProducerIdAtEpochZeroAndIsEmpty) {
  auto r = init();
  EXPECT_EQ(r.error, error_code::none);
  EXPECT_EQ(r.producer_id, 100);
  EXPECT_EQ(r.epoch, 0);
  EXPECT_EQ(tc_.find("tx")->state, txn_state::empty);
  EXPECT_STREQ(to_string(tc_.find("tx")->state), "Empty");
}

TEST_F(TxnCoordinator, TimeoutOutsideTheAllowedRangeIsRefused) {
  EXPECT_EQ(init("tx", 60001).error, error_code::invalid_transaction_timeout);
  EXPECT_EQ(init("tx", 0).error, error_code::invalid_transaction_timeout);
  EXPECT_EQ(tc_.find("tx"), nullptr);
}

TEST_F(TxnCoordinator, CommitCompletesWithItsPartitionsAndGroups) {
  auto r = init();
  ASSERT_EQ(tc_.add_partitions("tx", r.producer_id, r.epoch, {{"t", 0}, {"t", 1}}), error_code::none);
  ASSERT_EQ(tc_.add_group("tx", r.producer_id, r.epoch, "g"), error_code::none);
  EXPECT_EQ(tc_.find("tx")->state, txn_state::ongoing);
  EXPECT_EQ(tc_.check_group("tx", r.producer_id, r.epoch, "g"), error_code::none);
  EXPECT_EQ(tc_.check_group("tx", r.producer_id, r.epoch, "other"), error_code::invalid_txn_state);
  ASSERT_EQ(tc_.end("tx", r.producer_id, r.epoch, true), error_code::none);
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_TRUE(done_[0].commit);
  EXPECT_EQ(done_[0].partitions.size(), 2u);
  EXPECT_EQ(done_[0].groups, std::vector<std::string>{"g"});
  EXPECT_EQ(done_[0].epoch, r.epoch);
  EXPECT_EQ(tc_.find("tx")->state, txn_state::complete_commit);
  EXPECT_TRUE(tc_.find("tx")->partitions.empty());
}

TEST_F(TxnCoordinator, EndIsIdempotentForTheSameOutcomeOnly) {
  auto r = init();
  EXPECT_EQ(tc_.end("tx", r.producer_id, r.epoch, true), error_code::invalid_txn_state);  // nothing open
  ASSERT_EQ(tc_.add_partitions("tx", r.producer_id, r.epoch, {{"t", 0}}), error_code::none);
  ASSERT_EQ(tc_.end("tx", r.producer_id, r.epoch, false), error_code::none);
  EXPECT_EQ(tc_.end("tx", r.producer_id, r.epoch, false), error_code::none);  // a retried abort
  EXPECT_EQ(tc_.end("tx", r.producer_id, r.epoch, true), error_code::invalid_txn_state);
  EXPECT_EQ(done_.size(), 1u);
}

TEST_F(TxnCoordinator, WrongProducerIdOrEpochIsRefused) {
  auto r = init();
  EXPECT_EQ(tc_.add_partitions("nobody", r.producer_id, r.epoch, {{"t", 0}}), error_code::invalid_producer_id_mapping);
  EXPECT_EQ(tc_.add_partitions("tx", r.producer_id + 1, r.epoch, {{"t", 0}}), error_code::invalid_producer_id_mapping);
  EXPECT_EQ(tc_.add_partitions("tx", r.producer_id, static_cast<int16_t>(r.epoch + 1), {{"t", 0}}),
            error_code::producer_fenced);
  EXPECT_EQ(tc_.end("tx", r.producer_id + 1, r.epoch, true), error_code::invalid_producer_id_mapping);
  EXPECT_EQ(tc_.find("tx")->state, txn_state::empty);
}

TEST_F(TxnCoordinator, ReinitialisingFencesTheOldProducerAndAbortsItsTransaction) {
  auto first = init();
  ASSERT_EQ(tc_.add_partitions("tx", first.producer_id, first.epoch, {{"t", 0}}), error_code::none);
  auto second = init();
  EXPECT_EQ(second.producer_id, first.producer_id);
  EXPECT_GT(second.epoch, first.epoch);
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_FALSE(done_[0].commit);
  EXPECT_GT(done_[0].epoch, first.epoch);  // markers carry the fencing epoch
  EXPECT_EQ(tc_.end("tx", first.producer_id, first.epoch, true), error_code::producer_fenced);
  EXPECT_EQ(tc_.add_group("tx", first.producer_id, first.epoch, "g"), error_code::producer_fenced);
  EXPECT_EQ(tc_.add_group("tx", second.producer_id, second.epoch, "g"), error_code::none);
}

TEST_F(TxnCoordinator, Kip360RetryWithThePreviousEpochGetsTheCurrentOne) {
  auto a = init();
  auto b = tc_.init_producer_id("tx", 10000, a.producer_id, a.epoch);  // bump
  ASSERT_EQ(b.error, error_code::none);
  EXPECT_EQ(b.epoch, a.epoch + 1);
  auto retry = tc_.init_producer_id("tx", 10000, a.producer_id, a.epoch);  // the answer was lost
  EXPECT_EQ(retry.error, error_code::none);
  EXPECT_EQ(retry.epoch, b.epoch);
  EXPECT_EQ(tc_.init_producer_id("tx", 10000, a.producer_id, 42).error, error_code::producer_fenced);
  EXPECT_EQ(tc_.init_producer_id("tx", 10000, a.producer_id + 7, b.epoch).error, error_code::producer_fenced);
}

TEST_F(TxnCoordinator, ExhaustedEpochGetsANewProducerId) {
  auto a = init();
  int64_t pid = a.producer_id;
  int16_t epoch = a.epoch;
  for (int i = 0; i < 40000 && pid == a.producer_id; ++i) {
    auto r = init();
    pid = r.producer_id;
    epoch = r.epoch;
  }
  EXPECT_NE(pid, a.producer_id);
  EXPECT_EQ(epoch, 0);
}

TEST_F(TxnCoordinator, OpenTransactionPastItsTimeoutIsAbortedAndItsProducerFenced) {
  auto r = init("tx", 5000);
  EXPECT_FALSE(tc_.next_deadline());
  ASSERT_EQ(tc_.add_partitions("tx", r.producer_id, r.epoch, {{"t", 0}}), error_code::none);
  ASSERT_EQ(tc_.next_deadline(), 1000 + 5000);
  now_ = 5999;
  tc_.tick();
  EXPECT_EQ(tc_.find("tx")->state, txn_state::ongoing);
  now_ = 6000;
  tc_.tick();
  EXPECT_EQ(tc_.find("tx")->state, txn_state::complete_abort);
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_FALSE(done_[0].commit);
  EXPECT_EQ(tc_.end("tx", r.producer_id, r.epoch, true), error_code::producer_fenced);
  EXPECT_FALSE(tc_.next_deadline());
}

TEST_F(TxnCoordinator, RemoveIfAbortsOpenTransactionsAndForgetsThem) {
  auto a = init("t42-a");
  init("other");
  ASSERT_EQ(tc_.add_partitions("t42-a", a.producer_id, a.epoch, {{"t", 0}}), error_code::none);
  tc_.remove_if([](const std::string& id) { return id.rfind("t42-", 0) == 0; });
  EXPECT_EQ(tc_.find("t42-a"), nullptr);
  EXPECT_NE(tc_.find("other"), nullptr);
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_FALSE(done_[0].commit);
}

}  // namespace
