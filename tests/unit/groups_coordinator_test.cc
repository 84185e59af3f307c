// The classic group coordinator (broker/groups/group_coordinator.h) driven with a fake clock and
// a predictable id generator. Test names read as the specification: WIRE.md §5 and Kafka's
// GroupCoordinator behaviour.
#include "broker/groups/group_coordinator.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mk::groups {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

// Collects every answer a callback receives.
template <typename R>
struct answers {
  std::shared_ptr<std::vector<R>> got = std::make_shared<std::vector<R>>();
  std::function<void(const R&)> cb() const {
    auto g = got;
    return [g](const R& r) { g->push_back(r); };
  }
  bool done() const { return !got->empty(); }
  size_t count() const { return got->size(); }
  const R& operator*() const { return got->back(); }
  const R* operator->() const { return &got->back(); }
};
using join_answer = answers<join_result>;
using sync_answer = answers<sync_result>;

void put16(std::string& b, int16_t v) {
  b.push_back(static_cast<char>((v >> 8) & 0xff));
  b.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& b, int32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((v >> s) & 0xff));
}

// ConsumerProtocolSubscription v0: version INT16, topics ARRAY of STRING, user_data NULLABLE_BYTES.
std::string subscription(const std::vector<std::string>& topics, const std::optional<std::string>& user_data = std::string()) {
  std::string b;
  put16(b, 0);
  put32(b, static_cast<int32_t>(topics.size()));
  for (const auto& t : topics) {
    put16(b, static_cast<int16_t>(t.size()));
    b += t;
  }
  if (user_data) {
    put32(b, static_cast<int32_t>(user_data->size()));
    b += *user_data;
  } else {
    put32(b, -1);
  }
  return b;
}

constexpr int32_t kSession = 10000;
constexpr int32_t kRebalance = 30000;
const std::string kGroup = "g";

bool all_partitions_exist(const std::string&, int32_t) { return true; }

offset_commit oc(const std::string& topic, int32_t partition, int64_t offset) {
  return offset_commit{topic, partition, offset, -1, std::nullopt};
}

class coordinator_test : public ::testing::Test {
 protected:
  void SetUp() override { make({}); }

  void make(coordinator_config cfg) {
    gc = std::make_unique<group_coordinator>(
        cfg, [this] { return now; }, [this] { return "uuid" + std::to_string(++ids); });
  }

  // A JoinGroup as a v0-v3 client sends it (no KIP-394 round trip).
  join_request req(const std::string& member_id = {}, const std::string& client = "client",
                   std::vector<protocol_entry> protocols = {}) {
    join_request r;
    r.group_id = kGroup;
    r.member_id = member_id;
    r.client_id = client;
    r.client_host = "/10.0.0.1";
    r.session_timeout_ms = kSession;
    r.rebalance_timeout_ms = kRebalance;
    r.protocol_type = "consumer";
    r.protocols = protocols.empty() ? std::vector<protocol_entry>{{"range", "meta-" + client}} : std::move(protocols);
    return r;
  }

  join_answer join(const join_request& r) {
    join_answer a;
    gc->join(r, a.cb());
    return a;
  }

  sync_answer sync(const std::string& member, int32_t generation,
                   std::vector<std::pair<std::string, std::string>> assignments = {},
                   std::optional<std::string> instance = std::nullopt, const std::string& group = kGroup) {
    sync_request r;
    r.group_id = group;
    r.member_id = member;
    r.group_instance_id = std::move(instance);
    r.generation_id = generation;
    r.assignments = std::move(assignments);
    sync_answer a;
    gc->sync(r, a.cb());
    return a;
  }

  error_code heartbeat(const std::string& member, int32_t generation, std::optional<std::string> instance = std::nullopt) {
    return gc->heartbeat(kGroup, member, instance, generation);
  }

  std::vector<error_code> commit(int32_t generation, const std::string& member, std::vector<offset_commit> offsets,
                                 std::optional<std::string> instance = std::nullopt, const std::string& group = kGroup) {
    return gc->commit_offsets(group, generation, member, instance, offsets, /*wall_now_ms=*/1700000000000, all_partitions_exist);
  }

  error_code leave_one(const std::string& member, std::optional<std::string> instance = std::nullopt) {
    error_code top = error_code::none;
    auto per = gc->leave(kGroup, {leave_member{member, std::move(instance)}}, top);
    EXPECT_EQ(per.size(), 1u);
    return per.empty() ? top : per[0];
  }

  group_state state() const { return gc->describe(kGroup).state; }
  int32_t generation() const { return gc->describe(kGroup).generation_id; }
  size_t member_count() const { return gc->describe(kGroup).members.size(); }
  bool has_member(const std::string& id) const {
    for (const auto& m : gc->describe(kGroup).members)
      if (m.member_id == id) return true;
    return false;
  }

  // First member of an empty group (v0-v3 join): returns its id; the join completes at once.
  std::string join_alone(const std::string& client = "a") {
    auto a = join(req({}, client));
    EXPECT_TRUE(a.done());
    EXPECT_EQ(a->error, error_code::none);
    return a.done() ? a->member_id : std::string();
  }

  // Two dynamic members, Stable at generation 2, leader `a` (assigned "A") and follower `b` ("B").
  void two_member_stable(std::string& a, std::string& b) {
    a = join_alone("a");
    auto s1 = sync(a, 1, {{a, "A0"}});
    ASSERT_TRUE(s1.done());
    auto jb = join(req({}, "b"));
    ASSERT_FALSE(jb.done());
    auto ja = join(req(a, "a"));
    ASSERT_TRUE(ja.done());
    ASSERT_TRUE(jb.done());
    b = jb->member_id;
    ASSERT_EQ(ja->generation_id, 2);
    auto sa = sync(a, 2, {{a, "A"}, {b, "B"}});
    auto sb = sync(b, 2);
    ASSERT_TRUE(sa.done());
    ASSERT_TRUE(sb.done());
    ASSERT_EQ(state(), group_state::stable);
  }

  int64_t now = 1000000;
  int ids = 0;
  std::unique_ptr<group_coordinator> gc;
};

// ---------------------------------------------------------------------------------------------
// Joining a single member

TEST_F(coordinator_test, V4JoinWithoutMemberIdGetsMemberIdRequiredThenJoinsImmediatelyAndSyncsToStable) {
  auto r = req({}, "client");
  r.require_known_member_id = true;
  auto first = join(r);
  ASSERT_TRUE(first.done());
  EXPECT_EQ(first->error, error_code::member_id_required);
  ASSERT_FALSE(first->member_id.empty());
  EXPECT_EQ(first->member_id.rfind("client-", 0), 0u) << "KIP-394 ids are <client_id>-<uuid>";
  const std::string id = first->member_id;
  EXPECT_EQ(state(), group_state::empty);
  EXPECT_EQ(member_count(), 0u) << "a pending id is not a member yet";

  r.member_id = id;
  auto second = join(r);
  ASSERT_TRUE(second.done()) << "no waiting on timers";
  ASSERT_EQ(second.count(), 1u);
  EXPECT_EQ(second->error, error_code::none);
  EXPECT_EQ(second->generation_id, 1);
  EXPECT_EQ(second->member_id, id);
  EXPECT_EQ(second->leader, id);
  EXPECT_EQ(second->protocol_type, "consumer");
  EXPECT_EQ(second->protocol_name, "range");
  EXPECT_FALSE(second->skip_assignment);
  ASSERT_EQ(second->members.size(), 1u);
  EXPECT_EQ(second->members[0].member_id, id);
  EXPECT_EQ(second->members[0].metadata, "meta-client");
  EXPECT_EQ(state(), group_state::completing_rebalance);

  auto s = sync(id, 1, {{id, "assignment-bytes"}});
  ASSERT_TRUE(s.done()) << "no waiting on timers";
  EXPECT_EQ(s->error, error_code::none);
  EXPECT_EQ(s->assignment, "assignment-bytes");
  EXPECT_EQ(s->protocol_type, "consumer");
  EXPECT_EQ(s->protocol_name, "range");
  EXPECT_EQ(state(), group_state::stable);
  EXPECT_EQ(heartbeat(id, 1), error_code::none);
}

TEST_F(coordinator_test, V0ToV3JoinAddsTheMemberInOneRoundTrip) {
  auto a = join(req({}, "old-client"));
  ASSERT_TRUE(a.done());
  EXPECT_EQ(a->error, error_code::none);
  EXPECT_EQ(a->member_id.rfind("old-client-", 0), 0u);
  EXPECT_EQ(a->leader, a->member_id);
  EXPECT_EQ(a->generation_id, 1);
  ASSERT_EQ(a->members.size(), 1u);
  auto s = sync(a->member_id, 1, {{a->member_id, "x"}});
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s->assignment, "x");
  EXPECT_EQ(state(), group_state::stable);
}

TEST_F(coordinator_test, V0JoinWithoutRebalanceTimeoutUsesTheSessionTimeoutAsRebalanceTimeout) {
  auto ra = req({}, "a");
  ra.rebalance_timeout_ms = -1;  // JoinGroup v0 has no rebalance timeout
  const std::string a = join(ra)->member_id;
  sync(a, 1, {{a, "A"}});
  const int64_t start = now;
  auto rb = req({}, "b");
  rb.rebalance_timeout_ms = -1;
  auto jb = join(rb);
  EXPECT_FALSE(jb.done());
  now = start + kSession - 1000;
  EXPECT_EQ(heartbeat(a, 1), error_code::rebalance_in_progress);  // a stays, but does not rejoin
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(start + kSession));
  now = start + kSession - 1;
  gc->tick();
  EXPECT_FALSE(jb.done());
  now = start + kSession;
  gc->tick();
  ASSERT_TRUE(jb.done()) << "the rebalance timeout is the session timeout";
  EXPECT_EQ(jb->members.size(), 1u);
  EXPECT_FALSE(has_member(a));
}

// ---------------------------------------------------------------------------------------------
// Rebalancing with two members

TEST_F(coordinator_test, SecondMemberTriggersRebalanceCompletedOnlyWhenEveryoneRejoined) {
  const std::string a = join_alone("a");
  ASSERT_TRUE(sync(a, 1, {{a, "A1"}}).done());
  ASSERT_EQ(state(), group_state::stable);

  auto jb = join(req({}, "b"));
  EXPECT_FALSE(jb.done()) << "b waits until a rejoined";
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  EXPECT_EQ(generation(), 1);
  EXPECT_EQ(heartbeat(a, 1), error_code::rebalance_in_progress);
  EXPECT_FALSE(jb.done());

  auto ja = join(req(a, "a"));
  ASSERT_TRUE(ja.done());
  ASSERT_TRUE(jb.done());
  EXPECT_EQ(ja.count(), 1u);
  EXPECT_EQ(jb.count(), 1u);
  const std::string b = jb->member_id;
  EXPECT_EQ(ja->error, error_code::none);
  EXPECT_EQ(jb->error, error_code::none);
  EXPECT_EQ(ja->generation_id, 2);
  EXPECT_EQ(jb->generation_id, 2);
  EXPECT_EQ(ja->leader, a) << "the first member stays leader";
  EXPECT_EQ(jb->leader, a);
  ASSERT_EQ(ja->members.size(), 2u) << "the leader gets every member's metadata";
  EXPECT_EQ(ja->members[0].member_id, a);
  EXPECT_EQ(ja->members[0].metadata, "meta-a");
  EXPECT_EQ(ja->members[1].member_id, b);
  EXPECT_EQ(ja->members[1].metadata, "meta-b");
  EXPECT_TRUE(jb->members.empty()) << "only the leader gets the members";
  EXPECT_EQ(state(), group_state::completing_rebalance);

  // The follower's SyncGroup is held until the leader's arrives.
  auto sb = sync(b, 2);
  EXPECT_FALSE(sb.done());
  EXPECT_EQ(heartbeat(a, 2), error_code::none) << "heartbeats are fine while completing";
  auto sa = sync(a, 2, {{a, "A2"}, {b, "B2"}});
  ASSERT_TRUE(sa.done());
  ASSERT_TRUE(sb.done());
  EXPECT_EQ(sa->error, error_code::none);
  EXPECT_EQ(sb->error, error_code::none);
  EXPECT_EQ(sa->assignment, "A2");
  EXPECT_EQ(sb->assignment, "B2");
  EXPECT_EQ(state(), group_state::stable);

  // A follower that syncs after the leader gets its assignment at once.
  auto again = sync(b, 2);
  ASSERT_TRUE(again.done());
  EXPECT_EQ(again->assignment, "B2");
}

TEST_F(coordinator_test, LeaderMissingFromAssignmentsGetsEmptyAssignment) {
  std::string a, b;
  two_member_stable(a, b);
  auto jb = join(req(b, "b", {{"range", "changed"}}));  // b's metadata changed: rebalance
  EXPECT_FALSE(jb.done());
  auto ja = join(req(a, "a"));
  ASSERT_TRUE(jb.done());
  auto sb = sync(b, 3);
  auto sa = sync(a, 3, {{b, "only-b"}});
  ASSERT_TRUE(sa.done());
  EXPECT_EQ(sa->assignment, "");
  EXPECT_EQ(sb->assignment, "only-b");
}

TEST_F(coordinator_test, FollowerRejoiningWithSameMetadataWhileStableGetsCurrentGenerationWithoutRebalance) {
  std::string a, b;
  two_member_stable(a, b);
  auto jb = join(req(b, "b"));
  ASSERT_TRUE(jb.done());
  EXPECT_EQ(jb->error, error_code::none);
  EXPECT_EQ(jb->generation_id, 2);
  EXPECT_EQ(jb->leader, a);
  EXPECT_EQ(state(), group_state::stable);
  auto sb = sync(b, 2);
  ASSERT_TRUE(sb.done());
  EXPECT_EQ(sb->assignment, "B");
}

TEST_F(coordinator_test, LeaderRejoiningWhileStableForcesRebalance) {
  std::string a, b;
  two_member_stable(a, b);
  auto ja = join(req(a, "a"));
  EXPECT_FALSE(ja.done());
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  auto jb = join(req(b, "b"));
  ASSERT_TRUE(ja.done());
  EXPECT_EQ(ja->generation_id, 3);
}

TEST_F(coordinator_test, JoinDuringCompletingRebalanceWithSameMetadataReturnsCurrentGeneration) {
  const std::string a = join_alone("a");
  auto again = join(req(a, "a"));
  ASSERT_TRUE(again.done());
  EXPECT_EQ(again->generation_id, 1);
  EXPECT_EQ(again->members.size(), 1u) << "the leader gets the members again";
  EXPECT_EQ(state(), group_state::completing_rebalance);
}

TEST_F(coordinator_test, NewMemberDuringCompletingRebalanceFailsHeldSyncsWithRebalanceInProgress) {
  std::string a, b;
  two_member_stable(a, b);
  auto jb = join(req(b, "b", {{"range", "v2"}}));
  auto ja = join(req(a, "a"));
  ASSERT_TRUE(jb.done());
  auto sb = sync(b, 3);
  EXPECT_FALSE(sb.done());
  auto jc = join(req({}, "c"));
  ASSERT_TRUE(sb.done());
  EXPECT_EQ(sb->error, error_code::rebalance_in_progress);
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  EXPECT_FALSE(jc.done());
}

// ---------------------------------------------------------------------------------------------
// Rebalance timeout

TEST_F(coordinator_test, MemberNotRejoiningIsRemovedAtRebalanceTimeoutAndTheRestComplete) {
  std::string a, b;
  two_member_stable(a, b);
  const int64_t start = now;
  auto jc = join(req({}, "c"));
  ASSERT_EQ(state(), group_state::preparing_rebalance);
  ASSERT_EQ(gc->next_deadline(), std::optional<int64_t>(start + kSession)) << "a's and b's sessions come first";

  now = start + 5000;
  auto ja = join(req(a, "a"));  // a rejoins; b keeps heartbeating but never rejoins
  EXPECT_FALSE(ja.done());
  for (int64_t t = start + 8000; t < start + kRebalance; t += 8000) {
    now = t;
    EXPECT_EQ(heartbeat(b, 2), error_code::rebalance_in_progress);
    gc->tick();
  }
  now = start + kRebalance - 1;
  gc->tick();
  EXPECT_FALSE(ja.done()) << "a rejoin does not extend the rebalance timeout, but it has not passed yet";
  EXPECT_FALSE(jc.done());
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(start + kRebalance));

  now = start + kRebalance;
  gc->tick();
  ASSERT_TRUE(ja.done());
  ASSERT_TRUE(jc.done());
  EXPECT_EQ(ja->error, error_code::none);
  EXPECT_EQ(ja->generation_id, 3);
  EXPECT_EQ(ja->members.size(), 2u);
  EXPECT_FALSE(has_member(b));
  EXPECT_EQ(heartbeat(b, 2), error_code::unknown_member_id);
  EXPECT_EQ(state(), group_state::completing_rebalance);
}

TEST_F(coordinator_test, LeaderNotRejoiningIsReplacedByAMemberThatRejoined) {
  std::string a, b;
  two_member_stable(a, b);
  const int64_t start = now;
  auto jb = join(req(b, "b", {{"range", "new"}}));
  for (int64_t t = start + 8000; t <= start + kRebalance; t += 8000) {
    now = t;
    heartbeat(a, 2);
    gc->tick();
  }
  now = start + kRebalance;
  gc->tick();
  ASSERT_TRUE(jb.done());
  EXPECT_EQ(jb->leader, b);
  EXPECT_EQ(jb->members.size(), 1u);
  EXPECT_FALSE(has_member(a));
}

// ---------------------------------------------------------------------------------------------
// Session timeout

TEST_F(coordinator_test, SilentMemberIsRemovedAfterSessionTimeoutAndGroupRebalances) {
  std::string a, b;
  two_member_stable(a, b);
  const int64_t last = now;
  now = last + kSession - 1;
  EXPECT_EQ(heartbeat(a, 2), error_code::none);
  gc->tick();
  EXPECT_TRUE(has_member(b)) << "just before the session timeout";
  EXPECT_EQ(state(), group_state::stable);

  now = last + kSession;
  gc->tick();
  EXPECT_FALSE(has_member(b));
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  EXPECT_EQ(heartbeat(a, 2), error_code::rebalance_in_progress);
  auto ja = join(req(a, "a"));
  ASSERT_TRUE(ja.done());
  EXPECT_EQ(ja->generation_id, 3);
  EXPECT_EQ(ja->members.size(), 1u);
}

TEST_F(coordinator_test, LastMemberSessionExpiryLeavesGroupEmptyWithGenerationBumped) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  now += kSession;
  gc->tick();
  EXPECT_EQ(state(), group_state::empty);
  EXPECT_EQ(generation(), 2);
  EXPECT_EQ(member_count(), 0u);
  EXPECT_EQ(heartbeat(a, 1), error_code::unknown_member_id);
  EXPECT_FALSE(gc->next_deadline().has_value());
  // Still listed (Kafka keeps an Empty group until offsets retention or DeleteGroups).
  auto listed = gc->list_groups();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state, group_state::empty);
  EXPECT_EQ(gc->delete_group(kGroup), error_code::none);
}

TEST_F(coordinator_test, HeartbeatsExtendTheSession) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  for (int i = 0; i < 5; ++i) {
    now += kSession - 1;
    EXPECT_EQ(heartbeat(a, 1), error_code::none);
    gc->tick();
    EXPECT_TRUE(has_member(a));
  }
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(now + kSession));
}

TEST_F(coordinator_test, CommitsAndSyncsAlsoExtendTheSession) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  now += kSession - 1;
  commit(1, a, {oc("t", 0, 5)});
  now += kSession - 1;
  sync(a, 1);
  now += kSession - 1;
  gc->tick();
  EXPECT_TRUE(has_member(a));
}

TEST_F(coordinator_test, MemberWhoseJoinIsHeldIsNotExpired) {
  std::string a, b;
  two_member_stable(a, b);
  const int64_t start = now;
  auto jc = join(req({}, "c"));
  auto ja = join(req(a, "a"));
  EXPECT_FALSE(ja.done());
  // Long after a's session would have run out: a is held, b silent and not rejoined.
  now = start + kSession + 5000;
  gc->tick();
  EXPECT_TRUE(has_member(a));
  EXPECT_FALSE(has_member(b)) << "b neither heartbeated nor rejoined";
  ASSERT_TRUE(ja.done()) << "with b gone everyone rejoined";
  EXPECT_EQ(ja->members.size(), 2u);
}

TEST_F(coordinator_test, MemberWhoseSyncIsHeldIsNotExpiredAndItsSessionRestartsWhenAnswered) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  auto jb = join(req({}, "b"));
  join(req(a, "a"));
  ASSERT_TRUE(jb.done());
  const std::string b = jb->member_id;
  const int64_t t0 = now;
  now = t0 + 1000;
  auto sb = sync(b, 2);  // held: the leader is slow
  for (int64_t t = t0 + 8000; t <= t0 + 40000; t += 8000) {
    now = t;
    EXPECT_EQ(heartbeat(a, 2), error_code::none);
    gc->tick();
    EXPECT_TRUE(has_member(b)) << "held SyncGroup at " << (t - t0);
  }
  EXPECT_FALSE(sb.done());
  now = t0 + 41000;
  auto sa = sync(a, 2, {{a, "A"}, {b, "B"}});
  ASSERT_TRUE(sb.done());
  EXPECT_EQ(sb->assignment, "B");
  now += 1;
  gc->tick();
  EXPECT_TRUE(has_member(b)) << "answering the held SyncGroup restarts b's session";
  now = t0 + 41000 + kSession - 1;
  heartbeat(a, 2);
  gc->tick();
  EXPECT_TRUE(has_member(b));
  now = t0 + 41000 + kSession;
  gc->tick();
  EXPECT_FALSE(has_member(b));
}

TEST_F(coordinator_test, HeldSyncFailedByANewRebalanceRestartsTheSession) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  auto jb = join(req({}, "b"));
  join(req(a, "a"));
  const std::string b = jb->member_id;
  const int64_t t0 = now;
  auto sb = sync(b, 2);
  now = t0 + kSession + 2000;  // b's session ran out while held
  heartbeat(a, 2);
  gc->tick();
  ASSERT_TRUE(has_member(b));
  auto jc = join(req({}, "c"));
  ASSERT_TRUE(sb.done());
  EXPECT_EQ(sb->error, error_code::rebalance_in_progress);
  now += 1;
  gc->tick();
  EXPECT_TRUE(has_member(b)) << "b has a full session to rejoin";
}

// ---------------------------------------------------------------------------------------------
// KIP-394 pending member ids

TEST_F(coordinator_test, PendingMemberIdThatNeverComesBackExpiresAfterSessionTimeout) {
  auto r = req({}, "client");
  r.require_known_member_id = true;
  auto first = join(r);
  const std::string id = first->member_id;
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(now + kSession));
  now += kSession - 1;
  gc->tick();
  now += 1;
  gc->tick();
  EXPECT_FALSE(gc->next_deadline().has_value());
  EXPECT_EQ(gc->describe(kGroup).state, group_state::dead) << "the group created for it is gone";
  EXPECT_TRUE(gc->list_groups().empty());
  r.member_id = id;
  auto late = join(r);
  ASSERT_TRUE(late.done());
  EXPECT_EQ(late->error, error_code::unknown_member_id);
}

TEST_F(coordinator_test, PendingMemberIdComingBackInTimeIsAdded) {
  auto r = req({}, "client");
  r.require_known_member_id = true;
  auto first = join(r);
  now += kSession - 1;
  gc->tick();
  r.member_id = first->member_id;
  auto second = join(r);
  ASSERT_TRUE(second.done());
  EXPECT_EQ(second->error, error_code::none);
}

TEST_F(coordinator_test, PendingMemberIdHoldsBackARebalanceUntilItJoinsOrExpires) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  auto r = req({}, "p");
  r.require_known_member_id = true;
  auto pending = join(r);
  ASSERT_EQ(pending->error, error_code::member_id_required);
  EXPECT_EQ(state(), group_state::stable) << "a pending id alone does not rebalance";

  auto jc = join(req({}, "c"));
  auto ja = join(req(a, "a"));
  EXPECT_FALSE(ja.done()) << "the pending member is expected to come back";
  now += kSession;
  gc->tick();
  ASSERT_TRUE(ja.done());
  EXPECT_EQ(ja->members.size(), 2u);
}

TEST_F(coordinator_test, LeaveOfPendingMemberIdSucceeds) {
  auto r = req({}, "client");
  r.require_known_member_id = true;
  auto first = join(r);
  EXPECT_EQ(leave_one(first->member_id), error_code::none);
  EXPECT_FALSE(gc->next_deadline().has_value());
}

// ---------------------------------------------------------------------------------------------
// LeaveGroup

TEST_F(coordinator_test, LeaveRemovesMemberAndTriggersRebalance) {
  std::string a, b;
  two_member_stable(a, b);
  EXPECT_EQ(leave_one(b), error_code::none);
  EXPECT_FALSE(has_member(b));
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  EXPECT_EQ(heartbeat(a, 2), error_code::rebalance_in_progress);
  auto ja = join(req(a, "a"));
  ASSERT_TRUE(ja.done());
  EXPECT_EQ(ja->generation_id, 3);
  EXPECT_EQ(ja->members.size(), 1u);
}

TEST_F(coordinator_test, LeaderLeavingHandsLeadershipToRemainingMember) {
  std::string a, b;
  two_member_stable(a, b);
  EXPECT_EQ(leave_one(a), error_code::none);
  auto jb = join(req(b, "b"));
  ASSERT_TRUE(jb.done());
  EXPECT_EQ(jb->leader, b);
  EXPECT_EQ(jb->members.size(), 1u);
}

TEST_F(coordinator_test, LastMemberLeavingMakesGroupEmptyAndBumpsGeneration) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  EXPECT_EQ(leave_one(a), error_code::none);
  EXPECT_EQ(state(), group_state::empty);
  EXPECT_EQ(generation(), 2);
  EXPECT_EQ(gc->describe(kGroup).leader, "");
  EXPECT_FALSE(gc->next_deadline().has_value());
  gc->tick();
  EXPECT_EQ(state(), group_state::empty);
}

TEST_F(coordinator_test, LeaveOfMemberHeldInJoinAnswersItsJoinWithUnknownMemberId) {
  std::string a, b;
  two_member_stable(a, b);
  auto jc = join(req({}, "c"));
  const std::string c = gc->describe(kGroup).members.back().member_id;
  EXPECT_EQ(leave_one(c), error_code::none);
  ASSERT_TRUE(jc.done());
  EXPECT_EQ(jc->error, error_code::unknown_member_id);
}

TEST_F(coordinator_test, LeaveOfUnknownMemberGetsUnknownMemberId) {
  std::string a, b;
  two_member_stable(a, b);
  EXPECT_EQ(leave_one("nobody"), error_code::unknown_member_id);
  error_code top = error_code::none;
  gc->leave(kGroup, {leave_member{"nobody", std::nullopt}}, top);
  EXPECT_EQ(top, error_code::unknown_member_id) << "v0-v2 report the single member's error at the top";
  EXPECT_EQ(state(), group_state::stable);

  auto per = gc->leave("no-such-group", {leave_member{"x", std::nullopt}, leave_member{"y", std::nullopt}}, top);
  EXPECT_EQ(per, (std::vector<error_code>{error_code::unknown_member_id, error_code::unknown_member_id}));
  gc->leave("", {leave_member{"x", std::nullopt}}, top);
  EXPECT_EQ(top, error_code::invalid_group_id);
}

TEST_F(coordinator_test, BatchLeaveV3WithInstanceIds) {
  auto s1 = req({}, "s1");
  s1.group_instance_id = "i1";
  auto j1 = join(s1);
  ASSERT_TRUE(j1.done());
  const std::string m1 = j1->member_id;
  sync(m1, 1, {{m1, "1"}});
  auto s2 = req({}, "s2");
  s2.group_instance_id = "i2";
  auto j2 = join(s2);
  auto jd = join(req({}, "d"));
  auto j1b = join(req(m1, "s1"));
  ASSERT_TRUE(j2.done());
  ASSERT_TRUE(jd.done());
  const std::string m2 = j2->member_id, d = jd->member_id;
  ASSERT_EQ(member_count(), 3u);

  error_code top = error_code::none;
  auto per = gc->leave(kGroup,
                       {leave_member{"", std::string("i1")},      // by instance id only (admin removal)
                        leave_member{d, std::nullopt},            // dynamic member
                        leave_member{"", std::string("unknown")},  // unknown instance
                        leave_member{"wrong-id", std::string("i2")}},
                       top);
  EXPECT_EQ(top, error_code::none);
  EXPECT_EQ(per, (std::vector<error_code>{error_code::none, error_code::none, error_code::unknown_member_id,
                                          error_code::fenced_instance_id}));
  EXPECT_FALSE(has_member(m1));
  EXPECT_FALSE(has_member(d));
  EXPECT_TRUE(has_member(m2));
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  // The right (member id, instance id) pair removes it.
  EXPECT_EQ(leave_one(m2, std::string("i2")), error_code::none);
  EXPECT_EQ(state(), group_state::empty);
}

// ---------------------------------------------------------------------------------------------
// Protocol selection

TEST_F(coordinator_test, ProtocolIsChosenByVotesAmongProtocolsEveryMemberSupports) {
  auto ja = join(req({}, "a", {{"range", "ra"}, {"roundrobin", "rra"}, {"sticky", "sa"}}));
  const std::string a = ja->member_id;
  sync(a, 1, {{a, "A"}});
  EXPECT_EQ(ja->protocol_name, "range");
  auto jb = join(req({}, "b", {{"roundrobin", "rrb"}, {"range", "rb"}}));
  auto jc = join(req({}, "c", {{"roundrobin", "rrc"}, {"range", "rc"}}));
  auto ja2 = join(req(a, "a", {{"range", "ra"}, {"roundrobin", "rra"}, {"sticky", "sa"}}));
  ASSERT_TRUE(ja2.done());
  // Candidates: range and roundrobin (sticky is not supported by b and c). Votes: a -> range,
  // b and c -> roundrobin.
  EXPECT_EQ(ja2->protocol_name, "roundrobin");
  EXPECT_EQ(jb->protocol_name, "roundrobin");
  ASSERT_EQ(ja2->members.size(), 3u);
  EXPECT_EQ(ja2->members[0].metadata, "rra") << "the metadata for the chosen protocol";
  EXPECT_EQ(ja2->members[1].metadata, "rrb");
  EXPECT_EQ(gc->describe(kGroup).protocol_name, "");  // CompletingRebalance: not described yet
}

TEST_F(coordinator_test, InconsistentGroupProtocolLeavesTheGroupIntact) {
  std::string a, b;
  two_member_stable(a, b);
  auto check_intact = [&] {
    auto d = gc->describe(kGroup);
    EXPECT_EQ(d.state, group_state::stable);
    EXPECT_EQ(d.generation_id, 2);
    EXPECT_EQ(d.members.size(), 2u);
    EXPECT_EQ(d.protocol_name, "range");
    EXPECT_EQ(d.leader, a);
  };
  auto no_common = join(req({}, "c", {{"roundrobin", "x"}}));
  ASSERT_TRUE(no_common.done());
  EXPECT_EQ(no_common->error, error_code::inconsistent_group_protocol);
  check_intact();

  auto other_type = req({}, "c");
  other_type.protocol_type = "connect";
  auto t = join(other_type);
  EXPECT_EQ(t->error, error_code::inconsistent_group_protocol);
  check_intact();

  auto empty_list = req({}, "c");
  empty_list.protocols.clear();
  auto e = join(empty_list);
  EXPECT_EQ(e->error, error_code::inconsistent_group_protocol);
  check_intact();

  auto member_change = join(req(b, "b", {{"roundrobin", "x"}}));  // a existing member too
  EXPECT_EQ(member_change->error, error_code::inconsistent_group_protocol);
  check_intact();
  EXPECT_EQ(heartbeat(b, 2), error_code::none);
}

TEST_F(coordinator_test, InconsistentGroupProtocolOnNewGroupCreatesNothing) {
  auto r = req({}, "a");
  r.protocols.clear();
  auto a = join(r);
  EXPECT_EQ(a->error, error_code::inconsistent_group_protocol);
  auto r2 = req({}, "a");
  r2.protocol_type = "";
  EXPECT_EQ(join(r2)->error, error_code::inconsistent_group_protocol);
  EXPECT_EQ(gc->describe(kGroup).state, group_state::dead);
  EXPECT_TRUE(gc->list_groups().empty());
}

// ---------------------------------------------------------------------------------------------
// Request errors

TEST_F(coordinator_test, InvalidSessionTimeoutOutsideConfiguredBounds) {
  auto r = req({}, "a");
  r.session_timeout_ms = 5999;
  EXPECT_EQ(join(r)->error, error_code::invalid_session_timeout);
  r.session_timeout_ms = 1800001;
  EXPECT_EQ(join(r)->error, error_code::invalid_session_timeout);
  EXPECT_TRUE(gc->list_groups().empty());
  r.session_timeout_ms = 6000;
  EXPECT_EQ(join(r)->error, error_code::none);
  r.group_id = "other";
  r.session_timeout_ms = 1800000;
  EXPECT_EQ(join(r)->error, error_code::none);
}

TEST_F(coordinator_test, EmptyGroupIdIsInvalidEverywhere) {
  auto r = req({}, "a");
  r.group_id = "";
  EXPECT_EQ(join(r)->error, error_code::invalid_group_id);
  EXPECT_EQ(sync("m", 1, {}, std::nullopt, "")->error, error_code::invalid_group_id);
  EXPECT_EQ(gc->heartbeat("", "m", std::nullopt, 1), error_code::invalid_group_id);
  EXPECT_EQ(commit(-1, "", {oc("t", 0, 1)}, std::nullopt, ""),
            std::vector<error_code>{error_code::invalid_group_id});
  EXPECT_EQ(gc->delete_group(""), error_code::invalid_group_id);
  std::vector<error_code> per;
  EXPECT_EQ(gc->delete_offsets("", {{"t", 0}}, per), error_code::invalid_group_id);
  EXPECT_TRUE(gc->list_groups().empty());
}

TEST_F(coordinator_test, UnknownMemberIdForUnknownMembers) {
  EXPECT_EQ(join(req("ghost", "a"))->error, error_code::unknown_member_id) << "missing group";
  EXPECT_TRUE(gc->list_groups().empty()) << "a join with a member id does not create the group";
  EXPECT_EQ(sync("ghost", 1)->error, error_code::unknown_member_id);
  EXPECT_EQ(heartbeat("ghost", 1), error_code::unknown_member_id);

  std::string a, b;
  two_member_stable(a, b);
  auto j = join(req("ghost", "a"));
  EXPECT_EQ(j->error, error_code::unknown_member_id);
  EXPECT_EQ(j->member_id, "ghost");
  EXPECT_EQ(sync("ghost", 2)->error, error_code::unknown_member_id);
  EXPECT_EQ(heartbeat("ghost", 2), error_code::unknown_member_id);
  EXPECT_EQ(commit(2, "ghost", {oc("t", 0, 1)}), std::vector<error_code>{error_code::unknown_member_id});
  EXPECT_EQ(state(), group_state::stable);
}

TEST_F(coordinator_test, IllegalGenerationForStaleGeneration) {
  std::string a, b;
  two_member_stable(a, b);
  EXPECT_EQ(sync(b, 1)->error, error_code::illegal_generation);
  EXPECT_EQ(heartbeat(b, 1), error_code::illegal_generation);
  EXPECT_EQ(heartbeat(b, 3), error_code::illegal_generation);
  EXPECT_EQ(commit(1, b, {oc("t", 0, 1)}), std::vector<error_code>{error_code::illegal_generation});
  EXPECT_FALSE(gc->committed(kGroup, "t", 0).has_value());
}

TEST_F(coordinator_test, SyncDuringPreparingRebalanceGetsRebalanceInProgress) {
  std::string a, b;
  two_member_stable(a, b);
  join(req({}, "c"));
  auto s = sync(b, 2);
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s->error, error_code::rebalance_in_progress);
}

TEST_F(coordinator_test, CommitDuringCompletingRebalanceGetsRebalanceInProgressButStaleGenerationComesFirst) {
  const std::string a = join_alone("a");
  ASSERT_EQ(state(), group_state::completing_rebalance);
  EXPECT_EQ(commit(1, a, {oc("t", 0, 1)}), std::vector<error_code>{error_code::rebalance_in_progress});
  EXPECT_EQ(commit(0, a, {oc("t", 0, 1)}), std::vector<error_code>{error_code::illegal_generation});
  EXPECT_EQ(commit(1, "ghost", {oc("t", 0, 1)}), std::vector<error_code>{error_code::unknown_member_id});
  EXPECT_FALSE(gc->committed(kGroup, "t", 0).has_value());
}

TEST_F(coordinator_test, CommitDuringPreparingRebalanceIsAccepted) {
  std::string a, b;
  two_member_stable(a, b);
  join(req({}, "c"));
  ASSERT_EQ(state(), group_state::preparing_rebalance);
  EXPECT_EQ(commit(2, b, {oc("t", 0, 42)}), std::vector<error_code>{error_code::none});
  EXPECT_EQ(gc->committed(kGroup, "t", 0)->offset, 42);
}

TEST_F(coordinator_test, SyncWithWrongProtocolTypeOrNameIsInconsistent) {
  const std::string a = join_alone("a");
  sync_request r;
  r.group_id = kGroup;
  r.member_id = a;
  r.generation_id = 1;
  r.protocol_type = "connect";
  sync_answer s;
  gc->sync(r, s.cb());
  EXPECT_EQ(s->error, error_code::inconsistent_group_protocol);
  r.protocol_type = "consumer";
  r.protocol_name = "roundrobin";
  sync_answer s2;
  gc->sync(r, s2.cb());
  EXPECT_EQ(s2->error, error_code::inconsistent_group_protocol);
  EXPECT_EQ(state(), group_state::completing_rebalance);
}

TEST_F(coordinator_test, SyncFromFollowerCarryingAssignmentsIsIgnored) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  auto jb = join(req({}, "b"));
  join(req(a, "a"));
  const std::string b = jb->member_id;
  auto sb = sync(b, 2, {{a, "evil-a"}, {b, "evil-b"}});
  EXPECT_FALSE(sb.done()) << "a follower's assignments do not complete the rebalance";
  EXPECT_EQ(state(), group_state::completing_rebalance);
  auto sa = sync(a, 2, {{a, "A2"}, {b, "B2"}});
  ASSERT_TRUE(sb.done());
  EXPECT_EQ(sa->assignment, "A2");
  EXPECT_EQ(sb->assignment, "B2");
  // Once Stable, the leader's assignments are ignored too.
  auto again = sync(a, 2, {{a, "late"}});
  EXPECT_EQ(again->assignment, "A2");
}

// ---------------------------------------------------------------------------------------------
// Static membership (KIP-345)

class static_membership_test : public coordinator_test {
 protected:
  join_request sreq(const std::string& instance, const std::string& member_id = {}, const std::string& meta = {}) {
    auto r = req(member_id, "client-" + instance, {{"range", meta.empty() ? "meta-" + instance : meta}});
    r.group_instance_id = instance;
    return r;
  }
  // i1 (leader, "A") and i2 ("B"), Stable at generation 2.
  void stable_pair() {
    auto j1 = join(sreq("i1"));
    ASSERT_TRUE(j1.done());
    ASSERT_EQ(j1->error, error_code::none) << "no MEMBER_ID_REQUIRED for static members";
    m1 = j1->member_id;
    EXPECT_EQ(m1.rfind("i1-", 0), 0u) << "static ids are <group_instance_id>-<uuid>";
    sync(m1, 1, {{m1, "A1"}});
    auto j2 = join(sreq("i2"));
    auto j1b = join(sreq("i1", m1));
    ASSERT_TRUE(j2.done());
    m2 = j2->member_id;
    sync(m1, 2, {{m1, "A"}, {m2, "B"}});
    ASSERT_EQ(sync(m2, 2, {}, "i2")->assignment, "B");
    ASSERT_EQ(state(), group_state::stable);
  }
  std::string m1, m2;
};

TEST_F(static_membership_test, RestartedFollowerGetsNewMemberIdSameGenerationAndPreviousAssignment) {
  stable_pair();
  auto j = join(sreq("i2"));
  ASSERT_TRUE(j.done()) << "no rebalance: answered at once";
  EXPECT_EQ(j->error, error_code::none);
  const std::string m2b = j->member_id;
  EXPECT_NE(m2b, m2);
  EXPECT_EQ(m2b.rfind("i2-", 0), 0u);
  EXPECT_EQ(j->generation_id, 2);
  EXPECT_EQ(j->leader, m1);
  EXPECT_FALSE(j->skip_assignment);
  EXPECT_TRUE(j->members.empty());
  EXPECT_EQ(state(), group_state::stable);
  EXPECT_EQ(heartbeat(m1, 2), error_code::none) << "nobody else is disturbed";

  auto s = sync(m2b, 2, {}, "i2");
  EXPECT_EQ(s->error, error_code::none);
  EXPECT_EQ(s->assignment, "B");

  // The old member id is fenced.
  EXPECT_EQ(heartbeat(m2, 2, "i2"), error_code::fenced_instance_id);
  EXPECT_EQ(sync(m2, 2, {}, "i2")->error, error_code::fenced_instance_id);
  EXPECT_EQ(commit(2, m2, {oc("t", 0, 1)}, "i2"), std::vector<error_code>{error_code::fenced_instance_id});
  EXPECT_EQ(join(sreq("i2", m2))->error, error_code::fenced_instance_id);
  EXPECT_EQ(leave_one(m2, "i2"), error_code::fenced_instance_id);
  EXPECT_EQ(heartbeat(m2, 2), error_code::unknown_member_id) << "without its instance id it is just unknown";
  EXPECT_EQ(heartbeat(m2b, 2, "i2"), error_code::none);
  EXPECT_EQ(commit(2, m2b, {oc("t", 0, 7)}, "i2"), std::vector<error_code>{error_code::none});
  auto d = gc->describe(kGroup);
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_EQ(d.members[1].member_id, m2b);
  EXPECT_EQ(d.members[1].group_instance_id, std::optional<std::string>("i2"));
  EXPECT_EQ(d.members[1].assignment, "B");
}

TEST_F(static_membership_test, RestartedLeaderIsToldToSkipAssignmentAndGetsTheMembers) {
  stable_pair();
  auto j = join(sreq("i1"));
  ASSERT_TRUE(j.done());
  const std::string m1b = j->member_id;
  EXPECT_NE(m1b, m1);
  EXPECT_EQ(j->generation_id, 2);
  EXPECT_EQ(j->leader, m1b);
  EXPECT_TRUE(j->skip_assignment);
  ASSERT_EQ(j->members.size(), 2u);
  EXPECT_EQ(j->members[0].member_id, m1b);
  EXPECT_EQ(j->members[0].group_instance_id, std::optional<std::string>("i1"));
  EXPECT_EQ(j->members[1].member_id, m2);
  EXPECT_EQ(j->members[1].metadata, "meta-i2");
  EXPECT_EQ(state(), group_state::stable);
  EXPECT_EQ(sync(m1b, 2, {}, "i1")->assignment, "A");
}

TEST_F(static_membership_test, RestartedLeaderBeforeJoinGroupV9GetsThePreviousLeaderIdAndNoMembers) {
  stable_pair();
  auto r = sreq("i1");
  r.supports_skip_assignment = false;
  auto j = join(r);
  ASSERT_TRUE(j.done());
  EXPECT_NE(j->member_id, m1);
  EXPECT_EQ(j->leader, m1) << "so the client does not see itself as leader";
  EXPECT_FALSE(j->skip_assignment);
  EXPECT_TRUE(j->members.empty());
  EXPECT_EQ(gc->describe(kGroup).leader, j->member_id);
}

TEST_F(static_membership_test, RestartWithChangedMetadataRebalances) {
  stable_pair();
  auto j = join(sreq("i2", {}, "new-subscription"));
  EXPECT_FALSE(j.done());
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  auto j1 = join(sreq("i1", m1));
  ASSERT_TRUE(j.done());
  EXPECT_EQ(j->generation_id, 3);
  EXPECT_EQ(j1->members[1].metadata, "new-subscription");
}

TEST_F(static_membership_test, RestartDuringCompletingRebalanceFencesTheOldHeldSyncAndRebalances) {
  stable_pair();
  auto j2 = join(sreq("i2", m2, "v2"));
  auto j1 = join(sreq("i1", m1));
  ASSERT_TRUE(j2.done());
  auto held = sync(m2, 3, {}, "i2");
  EXPECT_FALSE(held.done());
  auto restarted = join(sreq("i2", {}, "v2"));
  ASSERT_TRUE(held.done());
  EXPECT_EQ(held->error, error_code::fenced_instance_id);
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  EXPECT_FALSE(restarted.done());
  join(sreq("i1", m1));
  ASSERT_TRUE(restarted.done());
  EXPECT_EQ(restarted->generation_id, 4);
}

TEST_F(static_membership_test, RestartWhileHeldInJoinFencesTheOldJoin) {
  stable_pair();
  auto old_join = join(sreq("i2", m2, "v2"));
  EXPECT_FALSE(old_join.done());
  auto restarted = join(sreq("i2", {}, "v2"));
  ASSERT_TRUE(old_join.done());
  EXPECT_EQ(old_join->error, error_code::fenced_instance_id);
  EXPECT_EQ(old_join->member_id, m2);
  EXPECT_FALSE(restarted.done());
  join(sreq("i1", m1));
  ASSERT_TRUE(restarted.done());
  EXPECT_EQ(restarted->error, error_code::none);
}

TEST_F(static_membership_test, StaticMemberAwayDuringRebalanceStaysUntilItsSessionTimesOut) {
  // i1 has a long session, shorter rebalance timeout: a rebalance completes without it.
  auto r1 = sreq("i1");
  r1.session_timeout_ms = 60000;
  r1.rebalance_timeout_ms = 20000;
  auto j1 = join(r1);
  m1 = j1->member_id;
  sync(m1, 1, {{m1, "A"}});
  const int64_t start = now;
  auto rd = req({}, "d");
  rd.rebalance_timeout_ms = 20000;
  auto jd = join(rd);
  ASSERT_FALSE(jd.done());
  now = start + 20000;
  gc->tick();
  ASSERT_TRUE(jd.done()) << "completed at the rebalance timeout";
  const std::string d = jd->member_id;
  EXPECT_EQ(jd->generation_id, 2);
  EXPECT_TRUE(has_member(m1)) << "KIP-345: a static member is not dropped for not rejoining";
  EXPECT_EQ(jd->leader, d) << "the leader must be a member that rejoined";
  EXPECT_EQ(jd->members.size(), 2u) << "the away static member is part of the generation";
  sync(d, 2, {{d, "D"}, {m1, "A2"}});
  EXPECT_EQ(state(), group_state::stable);

  // It comes back with its member id and gets its new assignment without a rebalance.
  now = start + 30000;
  auto back = join(sreq("i1", m1));
  ASSERT_TRUE(back.done());
  EXPECT_EQ(back->generation_id, 2);
  EXPECT_EQ(sync(m1, 2, {}, "i1")->assignment, "A2");

  // Silent from now on: its session removes it.
  const int64_t last = now;
  for (int64_t t = last + 8000; t < last + 60000; t += 8000) {
    now = t;
    heartbeat(d, 2);
    gc->tick();
  }
  now = last + 60000 - 1;
  heartbeat(d, 2);
  gc->tick();
  EXPECT_TRUE(has_member(m1));
  now = last + 60000;
  gc->tick();
  EXPECT_FALSE(has_member(m1));
  EXPECT_EQ(state(), group_state::preparing_rebalance);
}

TEST_F(static_membership_test, RebalanceWhereNoMemberRejoinedIsPostponed) {
  auto r1 = sreq("i1");
  r1.session_timeout_ms = 60000;
  r1.rebalance_timeout_ms = 20000;
  auto r2 = sreq("i2");
  r2.session_timeout_ms = 60000;
  r2.rebalance_timeout_ms = 20000;
  m1 = join(r1)->member_id;
  sync(m1, 1, {{m1, "A"}});
  auto j2 = join(r2);
  r1.member_id = m1;
  join(r1);
  m2 = j2->member_id;
  sync(m1, 2, {{m1, "A"}, {m2, "B"}});
  auto rd = req({}, "d");
  rd.rebalance_timeout_ms = 20000;
  auto jd = join(rd);
  const std::string d = gc->describe(kGroup).members.back().member_id;
  EXPECT_EQ(leave_one(d), error_code::none);  // the only joined member leaves again
  ASSERT_TRUE(jd.done());
  const int64_t start = now;
  now = start + 20000;
  gc->tick();
  EXPECT_EQ(state(), group_state::preparing_rebalance) << "nobody rejoined: wait another rebalance timeout";
  EXPECT_EQ(generation(), 2);
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(now + 20000));
  auto back = join(sreq("i1", m1));
  EXPECT_FALSE(back.done());
  now += 20000;
  gc->tick();
  ASSERT_TRUE(back.done());
  EXPECT_EQ(back->generation_id, 3);
  EXPECT_EQ(back->leader, m1);
  EXPECT_EQ(back->members.size(), 2u);
}

TEST_F(static_membership_test, StaticMemberJoiningWithUnknownInstanceIdAndMemberIdIsUnknown) {
  stable_pair();
  auto r = sreq("i9", m2);
  EXPECT_EQ(join(r)->error, error_code::unknown_member_id);
  EXPECT_EQ(heartbeat(m2, 2, "i9"), error_code::unknown_member_id);
}

// ---------------------------------------------------------------------------------------------
// Initial rebalance delay

TEST_F(coordinator_test, InitialDelayHoldsFirstJoinAndIncludesMembersJoiningMeanwhile) {
  coordinator_config cfg;
  cfg.initial_rebalance_delay_ms = 3000;
  make(cfg);
  const int64_t t0 = now;
  auto ja = join(req({}, "a"));
  EXPECT_FALSE(ja.done());
  EXPECT_EQ(state(), group_state::preparing_rebalance);
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 3000));
  now = t0 + 2000;
  gc->tick();
  EXPECT_FALSE(ja.done());
  auto jb = join(req({}, "b"));
  EXPECT_FALSE(jb.done()) << "everyone joined, but the delay runs to its end";
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 5000)) << "extended by one delay";
  now = t0 + 4999;
  gc->tick();
  EXPECT_FALSE(ja.done());
  now = t0 + 5000;
  gc->tick();
  ASSERT_TRUE(ja.done());
  ASSERT_TRUE(jb.done());
  EXPECT_EQ(ja->generation_id, 1);
  EXPECT_EQ(ja->leader, ja->member_id);
  EXPECT_EQ(ja->members.size(), 2u);
}

TEST_F(coordinator_test, InitialDelayExtensionIsCappedAtTheRebalanceTimeout) {
  coordinator_config cfg;
  cfg.initial_rebalance_delay_ms = 3000;
  make(cfg);
  const int64_t t0 = now;
  auto r = req({}, "a");
  r.rebalance_timeout_ms = 4000;
  auto ja = join(r);
  now = t0 + 2000;
  auto jb = join(req({}, "b"));
  now = t0 + 3500;
  auto jc = join(req({}, "c"));
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 4000));
  now = t0 + 3999;
  gc->tick();
  EXPECT_FALSE(ja.done());
  now = t0 + 4000;
  gc->tick();
  ASSERT_TRUE(ja.done());
  ASSERT_TRUE(jc.done());
  EXPECT_EQ(ja->members.size(), 3u);
}

TEST_F(coordinator_test, InitialDelayLongerThanRebalanceTimeoutIsWaitedInFull) {
  coordinator_config cfg;
  cfg.initial_rebalance_delay_ms = 5000;
  make(cfg);
  const int64_t t0 = now;
  auto r = req({}, "a");
  r.rebalance_timeout_ms = 2000;
  auto ja = join(r);
  now = t0 + 4999;
  gc->tick();
  EXPECT_FALSE(ja.done());
  now = t0 + 5000;
  gc->tick();
  EXPECT_TRUE(ja.done());
}

TEST_F(coordinator_test, InitialDelayAppliesOnlyToAnEmptyGroup) {
  coordinator_config cfg;
  cfg.initial_rebalance_delay_ms = 3000;
  make(cfg);
  auto ja = join(req({}, "a"));
  now += 3000;
  gc->tick();
  const std::string a = ja->member_id;
  sync(a, 1, {{a, "A"}});
  auto jb = join(req({}, "b"));
  auto ja2 = join(req(a, "a"));
  EXPECT_TRUE(ja2.done()) << "a Stable group rebalances without the delay";
  EXPECT_TRUE(jb.done());
}

TEST_F(coordinator_test, InitialDelayWithEveryoneLeavingEndsEmpty) {
  coordinator_config cfg;
  cfg.initial_rebalance_delay_ms = 3000;
  make(cfg);
  auto ja = join(req({}, "a"));
  const std::string a = gc->describe(kGroup).members.at(0).member_id;
  EXPECT_EQ(leave_one(a), error_code::none);
  EXPECT_EQ(ja->error, error_code::unknown_member_id);
  now += 3000;
  gc->tick();
  EXPECT_EQ(state(), group_state::empty);
  EXPECT_FALSE(gc->next_deadline().has_value());
}

TEST_F(coordinator_test, ZeroInitialDelayDoesNotWait) {
  auto ja = join(req({}, "a"));
  EXPECT_TRUE(ja.done());
}

// ---------------------------------------------------------------------------------------------
// Offsets

TEST_F(coordinator_test, MemberCommitInCurrentGenerationIsStoredWithMetadataAndTimestamp) {
  std::string a, b;
  two_member_stable(a, b);
  auto errs = gc->commit_offsets(kGroup, 2, b, std::nullopt,
                                 {offset_commit{"t", 0, 100, 5, std::string("meta")}, oc("t", 1, 200)}, 123456,
                                 all_partitions_exist);
  EXPECT_EQ(errs, (std::vector<error_code>{error_code::none, error_code::none}));
  auto c = gc->committed(kGroup, "t", 0);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->offset, 100);
  EXPECT_EQ(c->leader_epoch, 5);
  EXPECT_EQ(c->metadata, "meta");
  EXPECT_EQ(c->commit_timestamp, 123456);
  auto c1 = gc->committed(kGroup, "t", 1);
  ASSERT_TRUE(c1.has_value());
  EXPECT_EQ(c1->offset, 200);
  EXPECT_EQ(c1->leader_epoch, -1);
  EXPECT_EQ(c1->metadata, "");
  auto all = gc->all_committed(kGroup);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all["t"].size(), 2u);
  // A later commit overwrites.
  commit(2, a, {oc("t", 0, 150)});
  EXPECT_EQ(gc->committed(kGroup, "t", 0)->offset, 150);
}

TEST_F(coordinator_test, SimpleCommitCreatesAnEmptyGroupAndIsAcceptedOnlyWhileEmpty) {
  EXPECT_EQ(commit(-1, "", {oc("t", 0, 9)}), std::vector<error_code>{error_code::none});
  EXPECT_EQ(gc->committed(kGroup, "t", 0)->offset, 9);
  auto listed = gc->list_groups();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].group_id, kGroup);
  EXPECT_EQ(listed[0].state, group_state::empty);
  EXPECT_EQ(listed[0].protocol_type, "");
  EXPECT_EQ(commit(-1, "", {oc("t", 0, 10)}), std::vector<error_code>{error_code::none});
  EXPECT_EQ(gc->committed(kGroup, "t", 0)->offset, 10);

  const std::string a = join_alone("a");
  EXPECT_EQ(commit(-1, "", {oc("t", 0, 11)}), std::vector<error_code>{error_code::unknown_member_id})
      << "only members commit while the group has members";
  sync(a, 1, {{a, "A"}});
  EXPECT_EQ(commit(-1, "", {oc("t", 0, 11)}), std::vector<error_code>{error_code::unknown_member_id});
  EXPECT_EQ(gc->committed(kGroup, "t", 0)->offset, 10);
}

TEST_F(coordinator_test, CommitToMissingGroupWithGenerationIsIllegalGeneration) {
  EXPECT_EQ(commit(3, "m", {oc("t", 0, 1)}), std::vector<error_code>{error_code::illegal_generation});
  EXPECT_EQ(commit(0, "", {oc("t", 0, 1)}), std::vector<error_code>{error_code::illegal_generation});
  EXPECT_TRUE(gc->list_groups().empty());
}

TEST_F(coordinator_test, OversizedMetadataIsRejectedPerPartition) {
  coordinator_config cfg;
  cfg.max_metadata_bytes = 10;
  make(cfg);
  auto errs = commit(-1, "", {offset_commit{"t", 0, 1, -1, std::string(10, 'x')}, offset_commit{"t", 1, 1, -1, std::string(11, 'x')}});
  EXPECT_EQ(errs, (std::vector<error_code>{error_code::none, error_code::offset_metadata_too_large}));
  EXPECT_TRUE(gc->committed(kGroup, "t", 0).has_value());
  EXPECT_FALSE(gc->committed(kGroup, "t", 1).has_value());
}

TEST_F(coordinator_test, UnknownPartitionGetsUnknownTopicOrPartition) {
  auto exists = [](const std::string& topic, int32_t p) { return topic == "t" && p < 2; };
  auto errs = gc->commit_offsets(kGroup, -1, "", std::nullopt,
                                 {oc("t", 0, 1), oc("t", 2, 1), oc("nope", 0, 1)}, 1, exists);
  EXPECT_EQ(errs, (std::vector<error_code>{error_code::none, error_code::unknown_topic_or_partition,
                                           error_code::unknown_topic_or_partition}));
  EXPECT_TRUE(gc->committed(kGroup, "t", 0).has_value());
  EXPECT_FALSE(gc->committed(kGroup, "t", 2).has_value());
  EXPECT_FALSE(gc->committed(kGroup, "nope", 0).has_value());

  // Reported as such even when the group refuses the rest.
  errs = gc->commit_offsets(kGroup, 5, "ghost", std::nullopt, {oc("t", 0, 1), oc("nope", 0, 1)}, 1, exists);
  EXPECT_EQ(errs, (std::vector<error_code>{error_code::unknown_member_id, error_code::unknown_topic_or_partition}));
  // Nothing valid: no group is created.
  errs = gc->commit_offsets("other", -1, "", std::nullopt, {oc("nope", 0, 1)}, 1, exists);
  EXPECT_EQ(errs, std::vector<error_code>{error_code::unknown_topic_or_partition});
  EXPECT_EQ(gc->describe("other").state, group_state::dead);
}

TEST_F(coordinator_test, CommittedWithoutCommitIsNullopt) {
  EXPECT_FALSE(gc->committed("missing", "t", 0).has_value());
  commit(-1, "", {oc("t", 0, 1)});
  EXPECT_FALSE(gc->committed(kGroup, "t", 1).has_value());
  EXPECT_FALSE(gc->committed(kGroup, "u", 0).has_value());
  EXPECT_TRUE(gc->all_committed("missing").empty());
}

TEST_F(coordinator_test, OffsetsSurviveTheGroupBecomingEmpty) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  commit(1, a, {oc("t", 0, 77)});
  EXPECT_EQ(leave_one(a), error_code::none);
  EXPECT_EQ(state(), group_state::empty);
  now += 100000;
  gc->tick();
  EXPECT_EQ(state(), group_state::empty);
  EXPECT_EQ(gc->committed(kGroup, "t", 0)->offset, 77);
  // A new member of the next generation sees them.
  const std::string b = join_alone("b");
  EXPECT_EQ(generation(), 3);
  EXPECT_EQ(gc->committed(kGroup, "t", 0)->offset, 77);
}

TEST_F(coordinator_test, TopicDeletionDropsItsOffsets) {
  commit(-1, "", {oc("t", 0, 1), oc("u", 0, 2)});
  commit(-1, "", {oc("t", 0, 3)}, std::nullopt, "other");
  gc->topic_deleted("t");
  EXPECT_FALSE(gc->committed(kGroup, "t", 0).has_value());
  EXPECT_EQ(gc->committed(kGroup, "u", 0)->offset, 2);
  EXPECT_EQ(gc->describe("other").state, group_state::dead) << "a simple group left with nothing is dropped";
  ASSERT_EQ(gc->list_groups().size(), 1u);
}

TEST_F(coordinator_test, DeleteGroup) {
  EXPECT_EQ(gc->delete_group("missing"), error_code::group_id_not_found);
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  commit(1, a, {oc("t", 0, 5)});
  EXPECT_EQ(gc->delete_group(kGroup), error_code::non_empty_group);
  EXPECT_EQ(gc->committed(kGroup, "t", 0)->offset, 5);
  leave_one(a);
  EXPECT_EQ(gc->delete_group(kGroup), error_code::none);
  EXPECT_FALSE(gc->committed(kGroup, "t", 0).has_value());
  EXPECT_EQ(gc->describe(kGroup).state, group_state::dead);
  EXPECT_TRUE(gc->list_groups().empty());
  EXPECT_EQ(gc->delete_group(kGroup), error_code::group_id_not_found);
}

TEST_F(coordinator_test, DeleteOffsetsRefusesTopicsAStableConsumerGroupSubscribesTo) {
  auto ja = join(req({}, "a", {{"range", subscription({"t1", "t3"})}}));
  const std::string a = ja->member_id;
  sync(a, 1, {{a, "A"}});
  commit(1, a, {oc("t1", 0, 1), oc("t2", 0, 2), oc("t2", 1, 3)});
  std::vector<error_code> per;
  EXPECT_EQ(gc->delete_offsets(kGroup, {{"t1", 0}, {"t2", 0}}, per), error_code::none);
  EXPECT_EQ(per, (std::vector<error_code>{error_code::group_subscribed_to_topic, error_code::none}));
  EXPECT_TRUE(gc->committed(kGroup, "t1", 0).has_value());
  EXPECT_FALSE(gc->committed(kGroup, "t2", 0).has_value());
  EXPECT_TRUE(gc->committed(kGroup, "t2", 1).has_value());

  EXPECT_EQ(gc->delete_offsets("missing", {{"t1", 0}}, per), error_code::group_id_not_found);

  // Once Empty, everything may go.
  leave_one(a);
  EXPECT_EQ(gc->delete_offsets(kGroup, {{"t1", 0}, {"t2", 1}}, per), error_code::none);
  EXPECT_EQ(per, (std::vector<error_code>{error_code::none, error_code::none}));
  EXPECT_TRUE(gc->all_committed(kGroup).empty());
}

TEST_F(coordinator_test, DeleteOffsetsWithNullUserDataAndNewerSubscriptionVersionsParsesTopics) {
  std::string v3 = subscription({"t1"}, std::nullopt);
  v3[1] = 3;                 // version 3: v0 prefix followed by more fields
  v3 += std::string(12, 0);  // owned partitions, generation, rack: ignored
  auto ja = join(req({}, "a", {{"range", v3}}));
  const std::string a = ja->member_id;
  sync(a, 1, {{a, "A"}});
  commit(1, a, {oc("t1", 0, 1), oc("t2", 0, 2)});
  std::vector<error_code> per;
  gc->delete_offsets(kGroup, {{"t1", 0}, {"t2", 0}}, per);
  EXPECT_EQ(per, (std::vector<error_code>{error_code::group_subscribed_to_topic, error_code::none}));
}

TEST_F(coordinator_test, DeleteOffsetsTreatsUnparseableSubscriptionAsSubscribedToEverything) {
  auto ja = join(req({}, "a", {{"range", std::string(3, '\0')}}));
  const std::string a = ja->member_id;
  sync(a, 1, {{a, "A"}});
  commit(1, a, {oc("t2", 0, 2)});
  std::vector<error_code> per;
  gc->delete_offsets(kGroup, {{"t2", 0}}, per);
  EXPECT_EQ(per, std::vector<error_code>{error_code::group_subscribed_to_topic});
  EXPECT_TRUE(gc->committed(kGroup, "t2", 0).has_value());
}

TEST_F(coordinator_test, DeleteOffsetsOfNonEmptyGroupOfAnotherProtocolTypeIsNonEmptyGroup) {
  auto r = req({}, "a");
  r.protocol_type = "connect";
  auto ja = join(r);
  const std::string a = ja->member_id;
  sync(a, 1, {{a, "A"}});
  commit(1, a, {oc("t", 0, 1)});
  std::vector<error_code> per;
  EXPECT_EQ(gc->delete_offsets(kGroup, {{"t", 0}}, per), error_code::non_empty_group);
  EXPECT_TRUE(gc->committed(kGroup, "t", 0).has_value());
}

// ---------------------------------------------------------------------------------------------
// ListGroups / DescribeGroups

TEST_F(coordinator_test, StateNames) {
  EXPECT_STREQ(to_string(group_state::empty), "Empty");
  EXPECT_STREQ(to_string(group_state::preparing_rebalance), "PreparingRebalance");
  EXPECT_STREQ(to_string(group_state::completing_rebalance), "CompletingRebalance");
  EXPECT_STREQ(to_string(group_state::stable), "Stable");
  EXPECT_STREQ(to_string(group_state::dead), "Dead");
  EXPECT_EQ(group_state_from_string("stable"), group_state::stable);
  EXPECT_EQ(group_state_from_string("PREPARINGREBALANCE"), group_state::preparing_rebalance);
  EXPECT_EQ(group_state_from_string("CompletingRebalance"), group_state::completing_rebalance);
  EXPECT_FALSE(group_state_from_string("bogus").has_value());
}

TEST_F(coordinator_test, ListAndDescribeGroups) {
  std::string a, b;
  two_member_stable(a, b);
  commit(-1, "", {oc("t", 0, 1)}, std::nullopt, "simple");
  auto listed = gc->list_groups();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].group_id, kGroup);
  EXPECT_EQ(listed[0].protocol_type, "consumer");
  EXPECT_EQ(listed[0].state, group_state::stable);
  EXPECT_EQ(listed[1].group_id, "simple");
  EXPECT_EQ(listed[1].state, group_state::empty);

  auto d = gc->describe(kGroup);
  EXPECT_EQ(d.group_id, kGroup);
  EXPECT_EQ(d.state, group_state::stable);
  EXPECT_EQ(d.protocol_type, "consumer");
  EXPECT_EQ(d.protocol_name, "range");
  EXPECT_EQ(d.generation_id, 2);
  EXPECT_EQ(d.leader, a);
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_EQ(d.members[0].member_id, a);
  EXPECT_EQ(d.members[0].client_id, "a");
  EXPECT_EQ(d.members[0].client_host, "/10.0.0.1");
  EXPECT_EQ(d.members[0].metadata, "meta-a");
  EXPECT_EQ(d.members[0].assignment, "A");
  EXPECT_FALSE(d.members[0].group_instance_id.has_value());
  EXPECT_EQ(d.members[1].member_id, b);
  EXPECT_EQ(d.members[1].assignment, "B");

  // While rebalancing: members without metadata or assignment, no protocol (Kafka's summary).
  join(req({}, "c"));
  d = gc->describe(kGroup);
  EXPECT_EQ(d.state, group_state::preparing_rebalance);
  EXPECT_EQ(d.protocol_name, "");
  ASSERT_EQ(d.members.size(), 3u);
  for (const auto& m : d.members) {
    EXPECT_EQ(m.metadata, "");
    EXPECT_EQ(m.assignment, "");
    EXPECT_FALSE(m.client_id.empty());
  }

  auto dead = gc->describe("nope");
  EXPECT_EQ(dead.group_id, "nope");
  EXPECT_EQ(dead.state, group_state::dead);
  EXPECT_TRUE(dead.members.empty());
  EXPECT_EQ(dead.protocol_type, "");
  EXPECT_EQ(dead.protocol_name, "");
}

// ---------------------------------------------------------------------------------------------
// next_deadline

TEST_F(coordinator_test, NextDeadlineReflectsEarliestSessionRebalanceOrPendingDeadline) {
  EXPECT_FALSE(gc->next_deadline().has_value()) << "nothing at all";
  commit(-1, "", {oc("t", 0, 1)});
  EXPECT_FALSE(gc->next_deadline().has_value()) << "an idle Empty group";

  const int64_t t0 = now;
  const std::string a = join_alone("a");
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + kSession));
  now = t0 + 4000;
  sync(a, 1, {{a, "A"}});
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 4000 + kSession));

  // A pending id expiring earlier than the session.
  now = t0 + 5000;
  auto r = req({}, "p");
  r.session_timeout_ms = 6000;
  r.require_known_member_id = true;
  join(r);
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 11000));

  // A rebalance: a's join is held (no session), b's rebalance timeout is short.
  now = t0 + 6000;
  auto ja = join(req(a, "a"));
  EXPECT_FALSE(ja.done()) << "the pending id holds it back";
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 11000));
  now = t0 + 11000;
  gc->tick();
  ASSERT_TRUE(ja.done());
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 11000 + kSession));

  sync(a, 2, {{a, "A"}});
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 11000 + kSession));
  leave_one(a);
  EXPECT_FALSE(gc->next_deadline().has_value()) << "Empty again";
}

TEST_F(coordinator_test, HeartbeatDuringRebalanceMovesTheSessionDeadline) {
  const std::string a = join_alone("a");
  sync(a, 1, {{a, "A"}});
  const int64_t t0 = now;
  auto r = req({}, "b");
  r.rebalance_timeout_ms = 7000;
  join(r);  // held; rebalance timeout = max(30000, 7000)
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + kSession));
  EXPECT_EQ(heartbeat(a, 1), error_code::rebalance_in_progress);
  now = t0 + 9000;
  EXPECT_EQ(heartbeat(a, 1), error_code::rebalance_in_progress);
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + 9000 + kSession));
  auto ja = join(req(a, "a"));
  EXPECT_TRUE(ja.done());
}

TEST_F(coordinator_test, NextDeadlineIsTheRebalanceTimeoutWhenItComesFirst) {
  auto ra = req({}, "a");
  ra.session_timeout_ms = 60000;
  ra.rebalance_timeout_ms = 5000;
  auto rb = req({}, "b");
  rb.session_timeout_ms = 60000;
  rb.rebalance_timeout_ms = 5000;
  const std::string a = join(ra)->member_id;
  sync(a, 1, {{a, "A"}});
  auto jb = join(rb);
  ra.member_id = a;
  join(ra);
  ASSERT_TRUE(jb.done());
  const std::string b = jb->member_id;
  sync(a, 2, {{a, "A"}, {b, "B"}});
  const int64_t t0 = now;
  auto jc = join(req({}, "c"));  // rebalance timeout 30 s: the group's largest
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + kRebalance));
  join(ra);
  EXPECT_FALSE(jc.done());
  rb.member_id = b;
  join(rb);
  EXPECT_TRUE(jc.done());
  EXPECT_EQ(gc->next_deadline(), std::optional<int64_t>(t0 + kSession)) << "c's session now";
}

}  // namespace
}  // namespace mk::groups
