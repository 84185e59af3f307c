// The groups service (broker/services/groups.h) on a manual clock: committed offsets are stored
// before they are applied and a failed store changes nothing; deletes reach the store; offset
// resets follow the group's state; deleting a topic drops its offsets in the group and the store.
#include <gtest/gtest.h>

#include "broker/cluster.h"
#include "broker/groups/group_coordinator.h"
#include "broker/services/services.h"
#include "broker/txn/transaction_coordinator.h"
#include "protocol/records/record_batch.h"
#include "storage/memory/memory_engine.h"
#include "storage/metadata_store.h"

namespace {

using mk::proto::error_code;
namespace st = mk::storage;

// Keeps offsets in a vector; fails every write while `failing`.
class recording_store final : public st::metadata_store {
 public:
  bool failing = false;
  std::vector<st::offset_record> offsets;
  std::vector<std::string> deletes;  // "group/topic/partition"

  st::status put_topic(const st::topic_record&) override { return st::ok(); }
  st::status delete_topic(const std::string&) override { return st::ok(); }
  st::result<std::vector<st::topic_record>> load_topics() const override { return std::vector<st::topic_record>{}; }
  st::status put_offsets(const std::vector<st::offset_record>& o) override {
    if (failing) return st::errc::io_error;
    offsets.insert(offsets.end(), o.begin(), o.end());
    return st::ok();
  }
  st::status delete_offsets(const std::string& group, const std::string& topic, int32_t partition) override {
    if (failing) return st::errc::io_error;
    deletes.push_back(group + "/" + topic + "/" + std::to_string(partition));
    return st::ok();
  }
  st::result<std::vector<st::offset_record>> load_offsets() const override { return offsets; }
};

class GroupsService : public ::testing::Test {
 protected:
  GroupsService()
      : cluster_(cfg_, engine_),
        gc_(mk::groups::coordinator_config{}, [this] { return clock_.steady_ms(); }, [] { return std::string("x"); }),
        tc_(mk::txn::coordinator_config{}, [this] { return clock_.steady_ms(); }, [this] { return cluster_.next_producer_id(); },
            [this](const mk::txn::completion& c) { svc_.transactions.complete(c); }),
        svc_(cluster_, gc_, tc_, store_, clock_, cfg_, "memory", [this] { ++changes_; }) {
    cluster_.set_node_port(1, 9092);
    mk::cluster::create_spec spec;
    spec.name = "t";
    spec.partitions = 2;
    EXPECT_FALSE(svc_.topics.create(spec));
  }
  std::vector<mk::groups::offset_commit> commit_of(int64_t offset) { return {{"t", 0, offset, -1, std::nullopt}}; }

  mk::broker_config cfg_;
  st::memory_engine engine_;
  recording_store store_;
  mk::manual_clock clock_;
  mk::cluster cluster_;
  mk::groups::group_coordinator gc_;
  mk::txn::transaction_coordinator tc_;
  mk::services::broker_services svc_;
  int changes_ = 0;
};

TEST_F(GroupsService, CommitIsStoredWithTheClocksTimeAndSignalsAChange) {
  clock_.advance(1234);
  auto errs = svc_.groups.commit("g", -1, "", std::nullopt, commit_of(5));
  ASSERT_EQ(errs, std::vector<error_code>{error_code::none});
  ASSERT_EQ(store_.offsets.size(), 1u);
  EXPECT_EQ(store_.offsets[0].offset, 5);
  EXPECT_EQ(store_.offsets[0].commit_timestamp, clock_.wall_ms());
  EXPECT_EQ(svc_.groups.committed("g", "t", 0)->offset, 5);
  EXPECT_GT(changes_, 0);
}

TEST_F(GroupsService, FailedStoreChangesNothingAndAnswersNotCoordinator) {
  ASSERT_EQ(svc_.groups.commit("g", -1, "", std::nullopt, commit_of(5)).front(), error_code::none);
  store_.failing = true;
  auto errs = svc_.groups.commit("g", -1, "", std::nullopt, commit_of(9));
  EXPECT_EQ(errs.front(), error_code::not_coordinator);
  EXPECT_EQ(svc_.groups.committed("g", "t", 0)->offset, 5);  // the old commit stays
}

TEST_F(GroupsService, UnknownPartitionIsRefusedBeforeTheStore) {
  auto errs = svc_.groups.commit("g", -1, "", std::nullopt, {{"t", 7, 1, -1, std::nullopt}});
  EXPECT_EQ(errs.front(), error_code::unknown_topic_or_partition);
  EXPECT_TRUE(store_.offsets.empty());
}

TEST_F(GroupsService, DeletingAGroupRemovesItsStoredOffsetsOrSaysItCouldNot) {
  ASSERT_EQ(svc_.groups.commit("g", -1, "", std::nullopt, commit_of(5)).front(), error_code::none);
  ASSERT_EQ(svc_.groups.commit("h", -1, "", std::nullopt, commit_of(5)).front(), error_code::none);
  EXPECT_EQ(svc_.groups.remove("g"), error_code::none);
  EXPECT_EQ(store_.deletes, std::vector<std::string>{"g//-1"});
  store_.failing = true;
  EXPECT_EQ(svc_.groups.remove("h"), error_code::kafka_storage_error);
  EXPECT_EQ(svc_.groups.remove("nobody"), error_code::group_id_not_found);
}

TEST_F(GroupsService, OffsetDeleteReportsUnknownPartitionsAndStorageFailures) {
  ASSERT_EQ(svc_.groups.commit("g", -1, "", std::nullopt, commit_of(5)).front(), error_code::none);
  std::vector<error_code> per;
  EXPECT_EQ(svc_.groups.delete_offsets("g", {{"t", 0}, {"t", 9}}, per), error_code::none);
  EXPECT_EQ(per, (std::vector<error_code>{error_code::none, error_code::unknown_topic_or_partition}));
  EXPECT_FALSE(svc_.groups.committed("g", "t", 0));
  ASSERT_EQ(svc_.groups.commit("g", -1, "", std::nullopt, commit_of(6)).front(), error_code::none);
  store_.failing = true;
  EXPECT_EQ(svc_.groups.delete_offsets("g", {{"t", 0}}, per), error_code::none);
  EXPECT_EQ(per.front(), error_code::kafka_storage_error);
}

TEST_F(GroupsService, ResetMovesAnEmptyGroupAndRefusesAnActiveOne) {
  using mk::services::reset_target;
  auto r = svc_.groups.reset_offsets("g", "t", {}, reset_target{reset_target::kind::latest, 0});
  EXPECT_FALSE(r) << r.message;
  EXPECT_EQ(svc_.groups.committed("g", "t", 1)->offset, 0);
  EXPECT_EQ(svc_.groups.reset_offsets("g", "missing", {}, {}).error, error_code::unknown_topic_or_partition);
  EXPECT_EQ(svc_.groups.reset_offsets("g", "t", {5}, {}).error, error_code::unknown_topic_or_partition);

  // A member joins: the group is no longer empty.
  mk::groups::join_request jr;
  jr.group_id = "g";
  jr.member_id = "";
  jr.session_timeout_ms = 10000;
  jr.rebalance_timeout_ms = 10000;
  jr.protocol_type = "consumer";
  jr.protocols = {{"range", ""}};
  jr.require_known_member_id = false;
  error_code joined = error_code::unknown_server_error;
  svc_.groups.join(jr, [&](const mk::groups::join_result& res) { joined = res.error; });
  ASSERT_EQ(joined, error_code::none);
  EXPECT_EQ(svc_.groups.reset_offsets("g", "t", {}, {}).error, error_code::non_empty_group);

  // Its session expires on the manual clock: empty again.
  clock_.advance(10001);
  gc_.tick();
  EXPECT_FALSE(svc_.groups.reset_offsets("g", "t", {}, {}));
}

TEST_F(GroupsService, DeletedTopicTakesItsOffsetsWithIt) {
  ASSERT_EQ(svc_.groups.commit("g", -1, "", std::nullopt, commit_of(5)).front(), error_code::none);
  EXPECT_FALSE(svc_.topics.remove("t"));
  EXPECT_FALSE(svc_.groups.committed("g", "t", 0));
  EXPECT_EQ(store_.deletes, std::vector<std::string>{"/t/-1"});
}

TEST_F(GroupsService, RecoverRestoresStoredOffsets) {
  store_.offsets.push_back(st::offset_record{"g", "t", 1, 42, 3, "meta", 99});
  svc_.groups.recover();
  auto c = svc_.groups.committed("g", "t", 1);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offset, 42);
  EXPECT_EQ(c->metadata, "meta");
}

TEST_F(GroupsService, TransactionalOffsetsArePendingUntilCommitAndDroppedOnAbort) {
  auto init = svc_.transactions.init_producer_id(std::string("tx"), 60000, -1, -1);
  ASSERT_EQ(init.error, error_code::none);
  const int64_t pid = init.producer_id;
  const int16_t epoch = init.epoch;
  // Without AddOffsetsToTxn the group is not part of the transaction.
  EXPECT_EQ(svc_.transactions.commit_offsets("tx", "g", pid, epoch, -1, "", std::nullopt, commit_of(3)).front(),
            error_code::invalid_txn_state);
  ASSERT_EQ(svc_.transactions.add_offsets("tx", pid, epoch, "g"), error_code::none);
  ASSERT_EQ(svc_.transactions.commit_offsets("tx", "g", pid, epoch, -1, "", std::nullopt, commit_of(3)).front(),
            error_code::none);
  EXPECT_FALSE(svc_.groups.committed("g", "t", 0));
  EXPECT_TRUE(svc_.groups.has_pending("g", "t", 0));
  EXPECT_TRUE(store_.offsets.empty());
  ASSERT_EQ(svc_.transactions.end("tx", pid, epoch, /*commit=*/true), error_code::none);
  EXPECT_EQ(svc_.groups.committed("g", "t", 0)->offset, 3);
  EXPECT_FALSE(svc_.groups.has_pending("g", "t", 0));
  ASSERT_EQ(store_.offsets.size(), 1u);

  ASSERT_EQ(svc_.transactions.add_offsets("tx", pid, epoch, "g"), error_code::none);
  ASSERT_EQ(svc_.transactions.commit_offsets("tx", "g", pid, epoch, -1, "", std::nullopt, commit_of(9)).front(),
            error_code::none);
  ASSERT_EQ(svc_.transactions.end("tx", pid, epoch, /*commit=*/false), error_code::none);
  EXPECT_EQ(svc_.groups.committed("g", "t", 0)->offset, 3);
  EXPECT_FALSE(svc_.groups.has_pending("g", "t", 0));
  // Another producer's epoch or id is refused and changes nothing.
  EXPECT_EQ(svc_.transactions.add_offsets("tx", pid, static_cast<int16_t>(epoch + 1), "g"), error_code::producer_fenced);
  EXPECT_EQ(svc_.transactions.add_offsets("tx", pid + 1, epoch, "g"), error_code::invalid_producer_id_mapping);
}

TEST_F(GroupsService, TransactionMarkersCloseTheTransactionOnEachPartition) {
  auto init = svc_.transactions.init_producer_id(std::string("tx"), 60000, -1, -1);
  auto* t = svc_.topics.find("t");
  ASSERT_TRUE(t);
  auto added = svc_.transactions.add_partitions("tx", init.producer_id, init.epoch, {{"t", 0}, {"t", 1}});
  for (const auto& r : added) EXPECT_EQ(r.error, error_code::none);
  // What a transactional producer's first batch does on partition 0 (the records service path).
  mk::records::batch_builder b(mk::records::codec::none, 0, init.producer_id, init.epoch, 0);
  b.set_attributes_extra(mk::records::attr_transactional);
  b.add(clock_.wall_ms(), std::string_view("k"), std::string_view("v"));
  auto out = svc_.records.append(*t, *t->partitions[0], mk::shared_chunk::adopt(b.finish()));
  ASSERT_EQ(out.error, error_code::none);
  EXPECT_EQ(t->partitions[0]->last_stable_offset(), 0);
  ASSERT_EQ(svc_.transactions.end("tx", init.producer_id, init.epoch, /*commit=*/false), error_code::none);
  // Abort markers on both partitions; partition 0 records the aborted range.
  EXPECT_EQ(t->partitions[0]->log->end_offset(), 2);
  EXPECT_EQ(t->partitions[1]->log->end_offset(), 1);
  EXPECT_EQ(t->partitions[0]->last_stable_offset(), 2);
  ASSERT_EQ(t->partitions[0]->aborted.size(), 1u);
  EXPECT_EQ(t->partitions[0]->aborted[0].first_offset, 0);
  EXPECT_EQ(t->partitions[0]->aborted[0].last_offset, 1);
  EXPECT_TRUE(t->partitions[1]->aborted.empty());  // nothing was written there before the marker
}

}  // namespace
