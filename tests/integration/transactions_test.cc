// Transactions through the wire protocol (test_client.h): the admin views (DescribeTransactions,
// ListTransactions, DescribeProducers) and the bad-input cases Kafka answers with its error codes,
// leaving the state as it was.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "minikafka/broker.h"
#include "protocol/generated/all_messages.h"
#include "protocol/records/record_batch.h"
#include "test_client.h"

namespace {

using namespace mk::proto;
using mk::test::client;

constexpr int16_t NONE = 0;
constexpr int16_t UNKNOWN_TOPIC_OR_PARTITION = 3;
constexpr int16_t OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
constexpr int16_t INVALID_PRODUCER_EPOCH = 47;
constexpr int16_t INVALID_TXN_STATE = 48;
constexpr int16_t INVALID_PRODUCER_ID_MAPPING = 49;
constexpr int16_t OPERATION_NOT_ATTEMPTED = 55;
constexpr int16_t TRANSACTIONAL_ID_NOT_FOUND = 105;
constexpr int16_t PRODUCER_FENCED = 90;

class Transactions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { minikafka::set_log_level("error"); }
  void SetUp() override {
    broker_.start();
    broker_.create_topic("t", 2);
    c_ = std::make_unique<client>(broker_.port());
  }
  template <typename Resp, typename Req>
  Resp call(const Req& req, int16_t v) {
    int32_t corr = c_->send(req, v);
    return c_->receive<Resp>(v, corr);
  }
  init_producer_id_response init(const std::string& tid) {
    init_producer_id_request r;
    r.transactional_id = tid;
    r.transaction_timeout_ms = 60000;
    return call<init_producer_id_response>(r, 4);
  }
  add_partitions_to_txn_response add(const std::string& tid, int64_t pid, int16_t epoch,
                                     std::vector<std::pair<std::string, int32_t>> parts, int16_t v = 3) {
    add_partitions_to_txn_request r;
    r.v3_and_below_transactional_id = tid;
    r.v3_and_below_producer_id = pid;
    r.v3_and_below_producer_epoch = epoch;
    for (auto& [t, p] : parts) {
      if (r.v3_and_below_topics.empty() || r.v3_and_below_topics.back().name != t)
        r.v3_and_below_topics.emplace_back().name = t;
      r.v3_and_below_topics.back().partitions.push_back(p);
    }
    return call<add_partitions_to_txn_response>(r, v);
  }
  int16_t end(const std::string& tid, int64_t pid, int16_t epoch, bool commit, int16_t v = 3) {
    end_txn_request r;
    r.transactional_id = tid;
    r.producer_id = pid;
    r.producer_epoch = epoch;
    r.committed = commit;
    return call<end_txn_response>(r, v).error_code;
  }
  // Produce v9 of one batch of `n` records with the given producer fields.
  produce_response::partition_produce_response produce(int64_t pid, int16_t epoch, int32_t seq, int n,
                                                         bool transactional, int32_t partition = 0) {
    mk::records::batch_builder b(mk::records::codec::none, 0, pid, epoch, seq);
    if (transactional) b.set_attributes_extra(mk::records::attr_transactional);
    for (int i = 0; i < n; ++i) b.add(1700000000000, std::string_view("k"), std::string_view("v"));
    produce_request p;
    p.acks = -1;
    p.timeout_ms = 1000;
    auto& td = p.topic_data.emplace_back();
    td.name = "t";
    auto& pd = td.partition_data.emplace_back();
    pd.index = partition;
    pd.records_ = records{false, {mk::shared_chunk::adopt(b.finish())}};
    return call<produce_response>(p, 9).responses.at(0).partition_responses.at(0);
  }
  minikafka::broker broker_;
  std::unique_ptr<client> c_;
};

TEST_F(Transactions, AdminViewsShowOpenTransactionsAndProducers) {
  auto i = init("tx-a");
  ASSERT_EQ(i.error_code, NONE);
  auto a = add("tx-a", i.producer_id, i.producer_epoch, {{"t", 0}, {"t", 1}});
  for (const auto& p : a.results_by_topic_v3_and_below.at(0).results_by_partition) EXPECT_EQ(p.partition_error_code, NONE);
  ASSERT_EQ(produce(i.producer_id, i.producer_epoch, 0, 3, true).error_code, NONE);

  describe_transactions_request d;
  d.transactional_ids = {"tx-a", "nobody"};
  auto dr = call<describe_transactions_response>(d, 0);
  ASSERT_EQ(dr.transaction_states.size(), 2u);
  EXPECT_EQ(dr.transaction_states[0].transaction_state, "Ongoing");
  EXPECT_EQ(dr.transaction_states[0].producer_id, i.producer_id);
  EXPECT_EQ(dr.transaction_states[0].topics.at(0).partitions, (std::vector<int32_t>{0, 1}));
  EXPECT_GT(dr.transaction_states[0].transaction_start_time_ms, 0);
  EXPECT_EQ(dr.transaction_states[1].error_code, TRANSACTIONAL_ID_NOT_FOUND);

  list_transactions_request l;
  l.state_filters = {"Ongoing", "Bogus"};
  auto lr = call<list_transactions_response>(l, 1);
  ASSERT_EQ(lr.transaction_states.size(), 1u);
  EXPECT_EQ(lr.transaction_states[0].transactional_id, "tx-a");
  EXPECT_EQ(lr.unknown_state_filters, std::vector<std::string>{"Bogus"});

  describe_producers_request dp;
  auto& dt = dp.topics.emplace_back();
  dt.name = "t";
  dt.partition_indexes = {0};
  auto dpr = call<describe_producers_response>(dp, 0);
  const auto& prods = dpr.topics.at(0).partitions.at(0).active_producers;
  ASSERT_EQ(prods.size(), 1u);
  EXPECT_EQ(prods[0].producer_id, i.producer_id);
  EXPECT_EQ(prods[0].last_sequence, 2);
  EXPECT_EQ(prods[0].current_txn_start_offset, 0);

  ASSERT_EQ(end("tx-a", i.producer_id, i.producer_epoch, true), NONE);
  dr = call<describe_transactions_response>(d, 0);
  EXPECT_EQ(dr.transaction_states[0].transaction_state, "CompleteCommit");
  dpr = call<describe_producers_response>(dp, 0);
  EXPECT_EQ(dpr.topics.at(0).partitions.at(0).active_producers.at(0).current_txn_start_offset, -1);
}

TEST_F(Transactions, BadInputGetsKafkasErrorsAndChangesNothing) {
  auto i = init("tx-b");
  // EndTxn with no transaction open.
  EXPECT_EQ(end("tx-b", i.producer_id, i.producer_epoch, true), INVALID_TXN_STATE);
  // A missing topic: UNKNOWN_TOPIC_OR_PARTITION for it, OPERATION_NOT_ATTEMPTED for the rest.
  auto a = add("tx-b", i.producer_id, i.producer_epoch, {{"missing", 0}, {"t", 0}});
  for (const auto& t : a.results_by_topic_v3_and_below)
    for (const auto& p : t.results_by_partition)
      EXPECT_EQ(p.partition_error_code, t.name == "missing" ? UNKNOWN_TOPIC_OR_PARTITION : OPERATION_NOT_ATTEMPTED);
  // ... and the transaction did not start.
  EXPECT_EQ(end("tx-b", i.producer_id, i.producer_epoch, false), INVALID_TXN_STATE);
  // Another producer id, a stale epoch (v1: INVALID_PRODUCER_EPOCH, v2+: PRODUCER_FENCED).
  EXPECT_EQ(add("tx-b", i.producer_id + 1, i.producer_epoch, {{"t", 0}}).results_by_topic_v3_and_below.at(0)
                .results_by_partition.at(0).partition_error_code,
            INVALID_PRODUCER_ID_MAPPING);
  auto newer = init("tx-b");
  EXPECT_EQ(add("tx-b", i.producer_id, i.producer_epoch, {{"t", 0}}, 1).results_by_topic_v3_and_below.at(0)
                .results_by_partition.at(0).partition_error_code,
            INVALID_PRODUCER_EPOCH);
  EXPECT_EQ(add("tx-b", i.producer_id, i.producer_epoch, {{"t", 0}}, 3).results_by_topic_v3_and_below.at(0)
                .results_by_partition.at(0).partition_error_code,
            PRODUCER_FENCED);
  EXPECT_EQ(end("tx-b", i.producer_id, i.producer_epoch, true, 1), INVALID_PRODUCER_EPOCH);

  // TxnOffsetCommit for a group the producer's transaction never added, and for another
  // producer's transactional id.
  ASSERT_EQ(add("tx-b", newer.producer_id, newer.producer_epoch, {{"t", 0}}).results_by_topic_v3_and_below.at(0)
                .results_by_partition.at(0).partition_error_code,
            NONE);
  txn_offset_commit_request oc;
  oc.transactional_id = "tx-b";
  oc.group_id = "g";
  oc.producer_id = newer.producer_id;
  oc.producer_epoch = newer.producer_epoch;
  auto& ot = oc.topics.emplace_back();
  ot.name = "t";
  ot.partitions.emplace_back().committed_offset = 1;
  EXPECT_EQ(call<txn_offset_commit_response>(oc, 3).topics.at(0).partitions.at(0).error_code, INVALID_TXN_STATE);
  auto other = init("tx-other");
  oc.producer_id = other.producer_id;
  EXPECT_EQ(call<txn_offset_commit_response>(oc, 3).topics.at(0).partitions.at(0).error_code,
            INVALID_PRODUCER_ID_MAPPING);
  EXPECT_EQ(end("tx-b", newer.producer_id, newer.producer_epoch, true), NONE);
}

TEST_F(Transactions, IdempotentProducerSequenceGapsAndStaleEpochsAreRefused) {
  init_producer_id_request r;
  r.transactional_id = std::nullopt;
  auto i = call<init_producer_id_response>(r, 4);
  ASSERT_EQ(produce(i.producer_id, 0, 0, 2, false).error_code, NONE);
  auto dup = produce(i.producer_id, 0, 0, 2, false);  // a retry: acknowledged, not stored again
  EXPECT_EQ(dup.error_code, NONE);
  EXPECT_EQ(dup.base_offset, 0);
  EXPECT_EQ(produce(i.producer_id, 0, 5, 1, false).error_code, OUT_OF_ORDER_SEQUENCE_NUMBER);
  ASSERT_EQ(produce(i.producer_id, 1, 0, 1, false).error_code, NONE);  // a bumped epoch restarts at 0
  EXPECT_EQ(produce(i.producer_id, 0, 2, 1, false).error_code, INVALID_PRODUCER_EPOCH);
  EXPECT_EQ(broker_.end_offset("t", 0), 3);
}

}  // namespace
