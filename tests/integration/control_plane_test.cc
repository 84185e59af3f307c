// The test control plane over HTTP and the embedding API (docs/TESTING.md), apart from fault
// rules (fault_injection_test.cc): reset, the virtual clock, await oracles, the request trace,
// Kafka-version emulation.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http_client.h"
#include "minikafka/broker.h"
#include "protocol/generated/all_messages.h"
#include "protocol/records/record_batch.h"
#include "test_client.h"

namespace {

using namespace std::chrono_literals;
using namespace mk::proto;
using json = nlohmann::json;
using mk::test::client;
using mk::test::http_call;
using steady = std::chrono::steady_clock;

records one_batch(const std::string& value, int64_t timestamp = 1700000000000) {
  mk::records::record_in r;
  r.key = "k";
  r.value = value;
  r.timestamp = timestamp;
  std::vector<mk::records::record_in> rs{r};
  return records{false, {mk::shared_chunk::adopt(mk::records::build_batch(rs, mk::records::codec::none))}};
}

int16_t produce(client& c, const std::string& topic, int32_t partition, const std::string& value,
                int64_t timestamp = 1700000000000) {
  produce_request req;
  req.acks = -1;
  req.timeout_ms = 5000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records_ = one_batch(value, timestamp);
  auto resp = c.call(req, 9);
  return resp.responses.at(0).partition_responses.at(0).error_code;
}

// A simple (generation -1) commit, which creates the group in state Empty.
int16_t commit(client& c, const std::string& group, const std::string& topic, int64_t offset) {
  offset_commit_request req;
  req.group_id = group;
  req.generation_id_or_member_epoch = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.committed_offset = offset;
  const int32_t corr = c.send(req, 8);
  auto resp = c.receive<offset_commit_response>(8, corr);
  return resp.topics.at(0).partitions.at(0).error_code;
}

class ControlPlane : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { minikafka::set_log_level("warn"); }
  virtual minikafka::broker_options options() const {
    minikafka::broker_options o;
    o.admin_port = 0;
    return o;
  }
  void SetUp() override {
    owned_ = std::make_unique<minikafka::broker>(options());
    owned_->start();
    admin_ = static_cast<uint16_t>(std::stoi(owned_->admin_url().substr(owned_->admin_url().rfind(':') + 1)));
  }
  minikafka::broker& b() { return *owned_; }
  json get(const std::string& path, int expect = 200) {
    auto r = http_call(admin_, "GET", path);
    EXPECT_EQ(r.status, expect) << path << ": " << r.body;
    return json::parse(r.body);
  }
  json post(const std::string& path, const json& body, int expect = 200) {
    auto r = http_call(admin_, "POST", path, body.is_null() ? std::string() : body.dump());
    EXPECT_EQ(r.status, expect) << path << ": " << r.body;
    return json::parse(r.body);
  }
  std::vector<std::string> group_ids() {
    std::vector<std::string> out;
    for (const auto& g : get("/v1/groups")) out.push_back(g["group_id"]);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<minikafka::broker> owned_;
  uint16_t admin_ = 0;
};

// ------------------------------------------------------------------------------------ reset

TEST_F(ControlPlane, ResetDeletesTopicsGroupsOffsetsAndRules) {
  b().create_topic("a", 2);
  b().create_topic("b");
  client c(b().port());
  ASSERT_EQ(produce(c, "a", 0, "x"), 0);
  ASSERT_EQ(commit(c, "g1", "a", 1), 0);
  ASSERT_EQ(commit(c, "g2", "b", 0), 0);
  post("/v1/control/faults", {{"api", "Fetch"}, {"delay_ms", 1}}, 201);

  auto r = post("/v1/control/reset", nullptr);
  EXPECT_EQ(r["deleted_topics"], json::array({"a", "b"}));
  EXPECT_EQ(r["deleted_groups"], json::array({"g1", "g2"}));
  EXPECT_EQ(r["deleted_fault_rules"], 1);
  EXPECT_TRUE(r["elapsed_ms"].is_number());
  EXPECT_EQ(get("/v1/topics").size(), 0u);
  EXPECT_TRUE(group_ids().empty());
  EXPECT_EQ(get("/v1/control/faults").size(), 0u);

  // The same names start afresh: no old records, no old offsets.
  b().create_topic("a", 1);
  EXPECT_EQ(b().end_offset("a", 0), 0);
  offset_fetch_request of;
  of.group_id = "g1";
  auto& t = of.topics.emplace();
  t.emplace_back().name = "a";
  t.back().partition_indexes = {0};
  const int32_t corr = c.send(of, 5);
  auto resp = c.receive<offset_fetch_response>(5, corr);
  EXPECT_EQ(resp.topics.at(0).partitions.at(0).committed_offset, -1);
}

TEST_F(ControlPlane, ResetWithAPrefixTouchesOnlyItsOwnNames) {
  for (const char* t : {"t42-in", "t42-out", "t43-in"}) b().create_topic(t);
  client c(b().port());
  ASSERT_EQ(commit(c, "t42-group", "t42-in", 0), 0);
  ASSERT_EQ(commit(c, "t43-group", "t43-in", 0), 0);
  post("/v1/control/faults", {{"topic", "t42-in"}, {"delay_ms", 1}}, 201);
  post("/v1/control/faults", {{"client_id", "t42-client"}, {"action", "drop"}}, 201);
  post("/v1/control/faults", {{"topic", "t43-in"}, {"delay_ms", 1}}, 201);

  auto r = post("/v1/control/reset", {{"prefix", "t42-"}});
  EXPECT_EQ(r["deleted_topics"], json::array({"t42-in", "t42-out"}));
  EXPECT_EQ(r["deleted_groups"], json::array({"t42-group"}));
  EXPECT_EQ(r["deleted_fault_rules"], 2);
  EXPECT_EQ(b().topics(), std::vector<std::string>{"t43-in"});
  EXPECT_EQ(group_ids(), std::vector<std::string>{"t43-group"});
  auto rules = get("/v1/control/faults");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]["topic"], "t43-in");
}

join_group_request join_req(const std::string& group, const std::string& member_id = "") {
  join_group_request req;
  req.group_id = group;
  req.session_timeout_ms = 10000;
  req.rebalance_timeout_ms = 10000;
  req.member_id = member_id;
  req.protocol_type = "consumer";
  req.protocols.emplace_back().name = "range";
  return req;
}

TEST_F(ControlPlane, ResetAnswersHeldJoinsAndRemovesGroupsWithMembers) {
  client a(b().port()), other(b().port());
  int32_t corr = a.send(join_req("busy"), 1);
  auto first = a.receive<join_group_response>(1, corr);
  ASSERT_EQ(first.error_code, 0);
  // A second member: its JoinGroup is held until the first rejoins (it never does here).
  corr = other.send(join_req("busy"), 1);
  EXPECT_FALSE(other.try_receive_frame(100ms).has_value()) << "held";
  EXPECT_EQ(get("/v1/groups/busy")["state"], "PreparingRebalance");

  auto r = post("/v1/control/reset", nullptr);
  EXPECT_EQ(r["deleted_groups"], json::array({"busy"}));
  auto held = other.receive<join_group_response>(1, corr, 2000ms);
  EXPECT_EQ(held.error_code, 15) << "COORDINATOR_NOT_AVAILABLE: find the coordinator and rejoin";
  EXPECT_TRUE(group_ids().empty());

  // The old member's next heartbeat finds no such member; a fresh join starts a new group.
  heartbeat_request hb;
  hb.group_id = "busy";
  hb.generation_id = first.generation_id;
  hb.member_id = first.member_id;
  corr = a.send(hb, 1);
  EXPECT_NE(a.receive<heartbeat_response>(1, corr).error_code, 0);
  corr = a.send(join_req("busy"), 1);
  auto again = a.receive<join_group_response>(1, corr);
  EXPECT_EQ(again.error_code, 0);
  EXPECT_EQ(again.generation_id, 1);
}

TEST_F(ControlPlane, ResetRefusesOtherMethodsAndBadBodies) {
  EXPECT_EQ(http_call(admin_, "GET", "/v1/control/reset").status, 405);
  EXPECT_EQ(http_call(admin_, "POST", "/v1/control/reset", R"({"prefix": 3})").status, 400);
  EXPECT_EQ(http_call(admin_, "POST", "/v1/control/reset", R"({"prefixes": "a"})").status, 400);
  EXPECT_EQ(http_call(admin_, "POST", "/v1/control/reset", "{}").status, 200);
}

TEST(ControlPlaneEmbedded, ResetThroughTheCppApi) {
  minikafka::broker b;
  b.start();
  b.create_topic("keep-1");
  b.create_topic("drop-1");
  minikafka::fault_rule r;
  r.topic = "drop-1";
  r.delay_ms = 5;
  b.add_fault(r);
  auto out = b.reset("drop-");
  EXPECT_EQ(out.topics, std::vector<std::string>{"drop-1"});
  EXPECT_EQ(out.fault_rules, 1u);
  EXPECT_EQ(b.topics(), std::vector<std::string>{"keep-1"});
  out = b.reset();
  EXPECT_EQ(out.topics, std::vector<std::string>{"keep-1"});
  EXPECT_TRUE(b.topics().empty());
}

// ---------------------------------------------------------------------------- virtual clock

TEST_F(ControlPlane, ClockRoutesOnTheSystemClock) {
  auto c = get("/v1/control/clock");
  EXPECT_EQ(c["mode"], "system");
  EXPECT_GT(c["wall_ms"].get<int64_t>(), 1700000000000);
  auto r = http_call(admin_, "POST", "/v1/control/clock/advance", R"({"ms": 1000})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(http_call(admin_, "POST", "/v1/control/clock", "{}").status, 405);
  EXPECT_THROW(b().advance_clock(10), minikafka::error);
}

class ManualClock : public ControlPlane {
 protected:
  minikafka::broker_options options() const override {
    minikafka::broker_options o = ControlPlane::options();
    o.clock = "manual";
    return o;
  }
  json advance(int64_t ms) { return post("/v1/control/clock/advance", {{"ms", ms}}); }
};

TEST_F(ManualClock, MovesOnlyWhenAdvanced) {
  auto c0 = get("/v1/control/clock");
  EXPECT_EQ(c0["mode"], "manual");
  auto c1 = get("/v1/control/clock");
  EXPECT_EQ(c1["wall_ms"], c0["wall_ms"]) << "time stands still";
  auto c2 = advance(5000);
  EXPECT_EQ(c2["wall_ms"].get<int64_t>(), c0["wall_ms"].get<int64_t>() + 5000);
  EXPECT_EQ(c2["steady_ms"].get<int64_t>(), c0["steady_ms"].get<int64_t>() + 5000);
  b().advance_clock(1000);
  EXPECT_EQ(b().clock().wall_ms, c0["wall_ms"].get<int64_t>() + 6000);
  EXPECT_TRUE(b().clock().manual);
  EXPECT_EQ(http_call(admin_, "POST", "/v1/control/clock/advance", R"({"ms": -1})").status, 400);
  EXPECT_EQ(http_call(admin_, "POST", "/v1/control/clock/advance", R"({})").status, 400);
  EXPECT_EQ(http_call(admin_, "GET", "/v1/control/clock/advance").status, 405);
}

TEST_F(ManualClock, ExpiresAGroupMemberWhenItsSessionTimeoutPasses) {
  client a(b().port());
  int32_t corr = a.send(join_req("clocked"), 1);  // session timeout 10 s
  auto joined = a.receive<join_group_response>(1, corr);
  ASSERT_EQ(joined.error_code, 0);
  EXPECT_EQ(get("/v1/groups/clocked")["members"].size(), 1u);
  advance(9000);
  EXPECT_EQ(get("/v1/groups/clocked")["members"].size(), 1u) << "not yet";
  advance(1500);
  auto g = get("/v1/groups/clocked");
  EXPECT_EQ(g["members"].size(), 0u) << g.dump();
  EXPECT_EQ(g["state"], "Empty");
}

TEST_F(ManualClock, RetentionWindowPassesWithoutWaiting) {
  b().create_topic("short", 1, {{"retention.ms", "60000"}});
  client c(b().port());
  const int64_t now = b().clock().wall_ms;
  ASSERT_EQ(produce(c, "short", 0, "a", now), 0);
  ASSERT_EQ(produce(c, "short", 0, "b", now), 0);
  advance(30000);
  EXPECT_EQ(get("/v1/topics/short")["partition_details"][0]["start_offset"], 0) << "inside the window";
  advance(31000);
  auto p = get("/v1/topics/short")["partition_details"][0];
  EXPECT_EQ(p["start_offset"], 2) << p.dump();
  EXPECT_EQ(p["end_offset"], 2);
}

TEST_F(ManualClock, LogAppendTimeIsTheManualClock) {
  b().create_topic("appended", 1, {{"message.timestamp.type", "LogAppendTime"}});
  b().advance_clock(123456);
  const int64_t now = b().clock().wall_ms;
  client c(b().port());
  ASSERT_EQ(produce(c, "appended", 0, "x"), 0);
  auto rec = get("/v1/topics/appended/partitions/0/records?offset=0");
  EXPECT_EQ(rec["records"][0]["timestamp"], now);
}

TEST_F(ManualClock, FetchMaxWaitRunsOnTheManualClock) {
  b().create_topic("waiting");
  client c(b().port());
  fetch_request f;
  f.max_wait_ms = 5000;
  f.min_bytes = 1;
  f.max_bytes = 1 << 20;
  auto& t = f.topics.emplace_back();
  t.topic = "waiting";
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.partition_max_bytes = 1 << 20;
  const int32_t corr = c.send(f, 4);
  EXPECT_FALSE(c.try_receive_frame(200ms).has_value()) << "parked: the manual clock has not moved";
  advance(5000);
  auto resp = c.receive<fetch_response>(4, corr, 2000ms);
  EXPECT_EQ(resp.responses.at(0).partitions.at(0).error_code, 0);
}

// ------------------------------------------------------------------------------ await oracles

// An HTTP call on another thread (awaits block until their condition holds).
std::future<mk::test::http_reply> call_async(uint16_t port, std::string target) {
  return std::async(std::launch::async, [port, target] { return http_call(port, "GET", target); });
}

TEST_F(ControlPlane, AwaitRecordsAnswersAsSoonAsTheRecordsArrive) {
  b().create_topic("arrivals", 2);
  auto pending = call_async(admin_, "/v1/await/topics/arrivals/records?min=3");
  client c(b().port());
  ASSERT_EQ(produce(c, "arrivals", 0, "a"), 0);
  ASSERT_EQ(produce(c, "arrivals", 1, "b"), 0);
  EXPECT_EQ(pending.wait_for(100ms), std::future_status::timeout) << "2 of 3: still waiting";
  const auto t0 = steady::now();
  ASSERT_EQ(produce(c, "arrivals", 1, "c"), 0);
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  const auto answered_after = steady::now() - t0;
  auto r = pending.get();
  EXPECT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["met"], true);
  EXPECT_EQ(j["state"]["records"], 3);
  EXPECT_LT(answered_after, 200ms) << "woken by the append, not by polling";
  // One partition only.
  EXPECT_EQ(get("/v1/await/topics/arrivals/records?min=2&partition=1")["state"]["records"], 2);
}

TEST_F(ControlPlane, AwaitTimesOutWith408AndTheLastObservedState) {
  b().create_topic("few");
  client c(b().port());
  ASSERT_EQ(produce(c, "few", 0, "a"), 0);
  const auto t0 = steady::now();
  auto r = http_call(admin_, "GET", "/v1/await/topics/few/records?min=5&timeout_ms=150");
  EXPECT_GE(steady::now() - t0, 150ms);
  EXPECT_EQ(r.status, 408) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["met"], false);
  EXPECT_EQ(j["error"], "timeout");
  EXPECT_EQ(j["state"]["records"], 1);
  EXPECT_EQ(j["state"]["partitions"][0]["end_offset"], 1);
  // A topic that does not exist yet: waits for it (here: times out, "exists": false).
  auto missing = http_call(admin_, "GET", "/v1/await/topics/nope/records?min=1&timeout_ms=10");
  EXPECT_EQ(missing.status, 408);
  EXPECT_EQ(json::parse(missing.body)["state"]["exists"], false);
}

TEST_F(ControlPlane, AwaitRecordsOnATopicCreatedMeanwhile) {
  auto pending = call_async(admin_, "/v1/await/topics/later/records?min=1");
  EXPECT_EQ(pending.wait_for(50ms), std::future_status::timeout);
  client c(b().port());
  ASSERT_EQ(produce(c, "later", 0, "auto-created by the produce"), 0);
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(pending.get().status, 200);
}

TEST_F(ControlPlane, AwaitGroupStateAndMembers) {
  auto pending = call_async(admin_, "/v1/await/groups/waiters?state=Stable&members=1");
  client a(b().port());
  int32_t corr = a.send(join_req("waiters"), 1);
  auto joined = a.receive<join_group_response>(1, corr);
  ASSERT_EQ(joined.error_code, 0);
  EXPECT_EQ(pending.wait_for(100ms), std::future_status::timeout) << "CompletingRebalance until SyncGroup";
  sync_group_request sync;
  sync.group_id = "waiters";
  sync.generation_id = joined.generation_id;
  sync.member_id = joined.member_id;
  sync.assignments.emplace_back().member_id = joined.member_id;
  corr = a.send(sync, 1);
  ASSERT_EQ(a.receive<sync_group_response>(1, corr).error_code, 0);
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  auto r = pending.get();
  EXPECT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body)["state"];
  EXPECT_EQ(j["state"], "Stable");
  EXPECT_EQ(j["members"], 1);
  EXPECT_EQ(j["member_ids"][0], joined.member_id);
  // Without conditions: the group exists. State names are Kafka's, in any case.
  EXPECT_EQ(get("/v1/await/groups/waiters")["met"], true);
  EXPECT_EQ(get("/v1/await/groups/waiters?state=stable")["met"], true);
  auto none = http_call(admin_, "GET", "/v1/await/groups/nobody?timeout_ms=10");
  EXPECT_EQ(none.status, 408);
  EXPECT_EQ(json::parse(none.body)["state"]["state"], "Dead");
  EXPECT_EQ(get("/v1/await/groups/nobody?state=Dead")["met"], true);
}

TEST_F(ControlPlane, AwaitLagCountsUncommittedPartitionsFromTheLogStart) {
  b().create_topic("lagging", 2);
  client c(b().port());
  ASSERT_EQ(produce(c, "lagging", 0, "a"), 0);
  ASSERT_EQ(produce(c, "lagging", 0, "b"), 0);
  ASSERT_EQ(produce(c, "lagging", 1, "c"), 0);
  auto r = http_call(admin_, "GET", "/v1/await/groups/readers/lag?topic=lagging&max=0&timeout_ms=20");
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(json::parse(r.body)["state"]["total_lag"], 3) << "no commits: everything from the log start";
  auto pending = call_async(admin_, "/v1/await/groups/readers/lag?topic=lagging&max=0");
  ASSERT_EQ(commit(c, "readers", "lagging", 2), 0);  // partition 0 done, partition 1 not
  EXPECT_EQ(pending.wait_for(100ms), std::future_status::timeout);
  EXPECT_EQ(get("/v1/await/groups/readers/lag?topic=lagging&max=1")["state"]["total_lag"], 1);
  offset_commit_request req;
  req.group_id = "readers";
  req.generation_id_or_member_epoch = -1;
  auto& t = req.topics.emplace_back();
  t.name = "lagging";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 1;
  p.committed_offset = 1;
  const int32_t corr = c.send(req, 8);
  ASSERT_EQ(c.receive<offset_commit_response>(8, corr).topics.at(0).partitions.at(0).error_code, 0);
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  auto done = pending.get();
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(json::parse(done.body)["state"]["total_lag"], 0);
}

TEST_F(ControlPlane, AwaitRoutesRefuseBadParameters) {
  for (const char* bad : {"/v1/await/groups/g?state=Bogus", "/v1/await/groups/g?members=-1",
                          "/v1/await/groups/g?timeout_ms=soon", "/v1/await/groups/g/lag?max=x",
                          "/v1/await/topics/t/records?min=-2", "/v1/await/topics/t/records?partition=a"}) {
    EXPECT_EQ(http_call(admin_, "GET", bad).status, 400) << bad;
  }
  EXPECT_EQ(http_call(admin_, "POST", "/v1/await/groups/g", "{}").status, 405);
  EXPECT_EQ(http_call(admin_, "GET", "/v1/await/elsewhere").status, 404);
}

TEST_F(ControlPlane, AwaitsAnswerWhenTheBrokerStops) {
  auto pending = call_async(admin_, "/v1/await/topics/never/records?min=1&timeout_ms=60000");
  EXPECT_EQ(pending.wait_for(50ms), std::future_status::timeout);
  const auto t0 = steady::now();
  b().stop();
  EXPECT_LT(steady::now() - t0, 3s) << "the parked await did not hold the shutdown";
  EXPECT_EQ(pending.wait_for(5s), std::future_status::ready);
  try {
    auto r = pending.get();
    EXPECT_EQ(r.status, 503) << r.body;
  } catch (const std::exception&) {
    // The connection was closed before the answer went out: also fine.
  }
}

TEST(ControlPlaneEmbedded, AwaitsThroughTheCppApi) {
  minikafka::broker br;
  br.start();
  br.create_topic("cpp-await", 1);
  auto later = std::async(std::launch::async, [&] { return br.await_records("cpp-await", 2, -1, 5s); });
  client c(br.port());
  ASSERT_EQ(produce(c, "cpp-await", 0, "a"), 0);
  ASSERT_EQ(produce(c, "cpp-await", 0, "b"), 0);
  EXPECT_TRUE(later.get());
  int64_t seen = -1;
  EXPECT_FALSE(br.await_records("cpp-await", 3, 0, 20ms, &seen));
  EXPECT_EQ(seen, 2);

  int64_t lag = -1;
  EXPECT_FALSE(br.await_lag("cpp-group", "cpp-await", 0, 20ms, &lag));
  EXPECT_EQ(lag, 2);
  ASSERT_EQ(commit(c, "cpp-group", "cpp-await", 2), 0);
  EXPECT_TRUE(br.await_lag("cpp-group", "cpp-await", 0, 1s, &lag));
  EXPECT_EQ(lag, 0);

  minikafka::group_status g;
  EXPECT_TRUE(br.await_group("cpp-group", "Empty", 0, 1s, &g));
  EXPECT_TRUE(g.exists);
  EXPECT_FALSE(br.await_group("cpp-group", "Stable", -1, 20ms, &g));
  EXPECT_EQ(g.state, "Empty");
  EXPECT_THROW(br.await_group("cpp-group", "Sleeping"), minikafka::error);
}

// ----------------------------------------------------------------------------- request trace

TEST_F(ControlPlane, TraceShowsWhatTheClientSentAndHowItWasAnswered) {
  b().create_topic("traced", 2);
  client c(b().port());
  c.client_id = "tracer";
  api_versions_request av;
  av.client_software_name = "mk-test";
  av.client_software_version = "1.2.3";
  ASSERT_EQ(c.call(av, 3).error_code, 0);
  ASSERT_EQ(produce(c, "traced", 1, "x"), 0);
  ASSERT_EQ(produce(c, "traced", 7, "no such partition"), 3);
  auto entries = get("/v1/trace?client_id=tracer");
  ASSERT_EQ(entries.size(), 3u) << entries.dump(2);
  EXPECT_EQ(entries[0]["api"], "ApiVersions");
  EXPECT_EQ(entries[0]["version"], 3);
  const auto& p = entries[1];
  EXPECT_EQ(p["api"], "Produce");
  EXPECT_EQ(p["api_key"], 0);
  EXPECT_EQ(p["version"], 9);
  EXPECT_EQ(p["client_id"], "tracer");
  EXPECT_EQ(p["client_software"]["name"], "mk-test");
  EXPECT_EQ(p["client_software"]["version"], "1.2.3");
  EXPECT_EQ(p["broker"], 1);
  EXPECT_EQ(p["outcome"], "answered");
  EXPECT_EQ(p["topics"], json::parse(R"([{"name": "traced", "partitions": [1]}])"));
  EXPECT_EQ(p["error_codes"], json::array());
  EXPECT_TRUE(p["latency_ms"].is_number());
  EXPECT_GT(p["time_ms"].get<int64_t>(), 1700000000000);
  EXPECT_GT(p["correlation_id"].get<int64_t>(), entries[0]["correlation_id"].get<int64_t>());
  EXPECT_EQ(entries[2]["error_codes"], json::array({"UNKNOWN_TOPIC_OR_PARTITION"}));
  EXPECT_LT(entries[0]["seq"].get<int64_t>(), entries[2]["seq"].get<int64_t>());
}

TEST_F(ControlPlane, TraceMarksFaultsAndFilters) {
  b().create_topic("marked");
  auto rule = post("/v1/control/faults", {{"api", "Produce"}, {"error", "NOT_LEADER_OR_FOLLOWER"}, {"count", 1}}, 201);
  post("/v1/control/faults", {{"api", "Metadata"}, {"action", "drop"}, {"client_id", "dropped"}}, 201);
  client c(b().port());
  c.client_id = "marker";
  ASSERT_EQ(produce(c, "marked", 0, "x"), 6);
  ASSERT_EQ(produce(c, "marked", 0, "y"), 0);
  client d(b().port());
  d.client_id = "dropped";
  d.send(metadata_request{}, 1);
  EXPECT_FALSE(d.try_receive_frame(50ms).has_value());

  auto produces = get("/v1/trace?api=Produce&client_id=marker");
  ASSERT_EQ(produces.size(), 2u);
  EXPECT_EQ(produces[0]["outcome"], "fault_error");
  EXPECT_EQ(produces[0]["fault_rule"], rule["id"]);
  EXPECT_EQ(produces[0]["error_codes"], json::array({"NOT_LEADER_OR_FOLLOWER"}));
  EXPECT_EQ(produces[1]["outcome"], "answered");
  EXPECT_FALSE(produces[1].contains("fault_rule"));
  auto dropped = get("/v1/trace?client_id=dropped");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]["outcome"], "dropped");

  EXPECT_EQ(get("/v1/trace?api=0&limit=1").size(), 1u);
  EXPECT_EQ(get("/v1/trace?api=Produce&limit=1")[0]["seq"], produces[1]["seq"]) << "the newest";
  EXPECT_EQ(get("/v1/trace?topic=marked").size(), 2u);
  EXPECT_EQ(get("/v1/trace?after_seq=" + std::to_string(produces[1]["seq"].get<int64_t>())).size(), 1u);
  EXPECT_EQ(get("/v1/trace?since_ms=99999999999999").size(), 0u);
  auto nd = http_call(admin_, "GET", "/v1/trace?client_id=marker&format=ndjson");
  EXPECT_EQ(nd.status, 200);
  EXPECT_EQ(std::count(nd.body.begin(), nd.body.end(), '\n'), 2);
  EXPECT_EQ(json::parse(nd.body.substr(0, nd.body.find('\n')))["api"], "Produce");
  for (const char* bad : {"/v1/trace?api=Nope", "/v1/trace?limit=-1", "/v1/trace?format=xml",
                          "/v1/trace?follow=true", "/v1/trace?since_ms=x"})
    EXPECT_EQ(http_call(admin_, "GET", bad).status, 400) << bad;
}

TEST_F(ControlPlane, TraceFollowStreamsNewEntries) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  b().create_topic("streamed");
  // Open the stream and read its header: from here on, new entries are streamed.
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(10s);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), admin_));
  http::request<http::empty_body> req{http::verb::get, "/v1/trace?format=ndjson&follow=true&client_id=streamer&timeout_ms=2000", 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  http::read_header(stream, buf, parser);
  EXPECT_EQ(parser.get().result_int(), 200u);
  EXPECT_TRUE(parser.chunked());

  client c(b().port());
  c.client_id = "streamer";
  ASSERT_EQ(produce(c, "streamed", 0, "a"), 0);
  ASSERT_EQ(produce(c, "streamed", 0, "b"), 0);
  http::read(stream, buf, parser);  // the rest, until the stream ends at timeout_ms
  const std::string body = parser.get().body();
  std::vector<json> lines;
  for (size_t at = 0; at < body.size();) {
    size_t nl = body.find('\n', at);
    lines.push_back(json::parse(body.substr(at, nl - at)));
    at = nl + 1;
  }
  ASSERT_EQ(lines.size(), 2u) << body;
  EXPECT_EQ(lines[0]["api"], "Produce");
  EXPECT_LT(lines[0]["seq"].get<int64_t>(), lines[1]["seq"].get<int64_t>());
}

TEST_F(ControlPlane, TraceShowsRefusedVersionsAndApis) {
  b().emulate_kafka_version("2.0");
  client c(b().port());
  c.client_id = "too-new";
  api_versions_request av;
  av.client_software_name = "x";
  av.client_software_version = "1";
  int32_t corr = c.send(av, 3);  // above 2.0's ApiVersions 0-2: the KIP-511 answer
  c.receive_frame();
  c.send(fetch_request{}, 11);  // above 2.0's Fetch 0-8: closed
  EXPECT_TRUE(c.closed_within(2s));
  auto entries = get("/v1/trace?client_id=too-new");
  ASSERT_EQ(entries.size(), 2u) << entries.dump(2);
  EXPECT_EQ(entries[0]["outcome"], "refused");
  EXPECT_EQ(entries[0]["api"], "ApiVersions");
  EXPECT_EQ(entries[0]["correlation_id"], corr);
  EXPECT_EQ(entries[0]["error_codes"], json::array({"UNSUPPORTED_VERSION"}));
  EXPECT_NE(entries[0]["reason"].get<std::string>().find("KIP-511"), std::string::npos);
  EXPECT_EQ(entries[1]["outcome"], "refused");
  EXPECT_EQ(entries[1]["version"], 11);
  EXPECT_NE(entries[1]["reason"].get<std::string>().find("0-8"), std::string::npos);
  EXPECT_EQ(get("/v1/await/requests?client_id=too-new&min=2")["met"], true) << "refused requests count as seen";
}

TEST_F(ControlPlane, AwaitRequestsCountsWhatArrives) {
  auto pending = call_async(admin_, "/v1/await/requests?api=Metadata&client_id=counted&min=2");
  client c(b().port());
  c.client_id = "counted";
  c.call(metadata_request{}, 1);
  c.call(api_versions_request{}, 0);
  EXPECT_EQ(pending.wait_for(50ms), std::future_status::timeout);
  c.call(metadata_request{}, 4);
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  auto r = pending.get();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["state"]["count"], 2);
  auto all = get("/v1/await/requests?client_id=counted&min=3");
  EXPECT_EQ(all["state"]["count"], 3);
  EXPECT_EQ(all["state"]["api"], nullptr);
  EXPECT_EQ(http_call(admin_, "GET", "/v1/await/requests?client_id=counted&min=4&timeout_ms=10").status, 408);
  // A reset forgets the trace and the counts.
  auto reset = post("/v1/control/reset", nullptr);
  EXPECT_GE(reset["deleted_trace_entries"].get<int64_t>(), 3);
  EXPECT_EQ(get("/v1/trace?client_id=counted").size(), 0u);
  EXPECT_EQ(http_call(admin_, "GET", "/v1/await/requests?client_id=counted&min=1&timeout_ms=10").status, 408);
}

TEST_F(ControlPlane, TraceCanBeTurnedOffAndOn) {
  auto t = http_call(admin_, "PUT", "/v1/control/trace", R"({"capacity": 0})");
  EXPECT_EQ(t.status, 200) << t.body;
  client c(b().port());
  c.call(metadata_request{}, 1);
  EXPECT_EQ(http_call(admin_, "GET", "/v1/trace").status, 409);
  EXPECT_EQ(http_call(admin_, "GET", "/v1/await/requests?min=1").status, 409);
  EXPECT_EQ(http_call(admin_, "PUT", "/v1/control/trace", R"({"capacity": 2})").status, 200);
  for (int i = 0; i < 3; ++i) c.call(metadata_request{}, 1);
  EXPECT_EQ(get("/v1/trace").size(), 2u) << "a ring of 2";
  EXPECT_EQ(get("/v1/control/trace")["capacity"], 2);
}

TEST(ControlPlaneEmbedded, TraceAndAwaitRequestsThroughTheCppApi) {
  minikafka::broker br;
  br.start();
  auto later = std::async(std::launch::async, [&] { return br.await_requests("Metadata", "cpp-client", 1, 5s); });
  client c(br.port());
  c.client_id = "cpp-client";
  c.call(metadata_request{}, 1);
  EXPECT_TRUE(later.get());
  auto entries = br.trace("metadata", "cpp-client");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].api, "Metadata");
  EXPECT_EQ(entries[0].version, 1);
  EXPECT_EQ(entries[0].outcome, "answered");
  int64_t seen = -1;
  EXPECT_FALSE(br.await_requests("", "cpp-client", 2, 10ms, &seen));
  EXPECT_EQ(seen, 1);

  minikafka::broker_options off;
  off.trace_capacity = 0;
  minikafka::broker quiet(off);
  quiet.start();
  EXPECT_TRUE(quiet.trace().empty());
  EXPECT_THROW(quiet.await_requests("", "", 1, 10ms), minikafka::error);
}

// ---------------------------------------------------------------------- Kafka-version emulation

std::map<int16_t, std::pair<int16_t, int16_t>> advertised(uint16_t port) {
  client c(port);
  auto resp = c.call(api_versions_request{}, 0);
  std::map<int16_t, std::pair<int16_t, int16_t>> out;
  for (const auto& k : resp.api_keys) out[k.api_key] = {k.min_version, k.max_version};
  return out;
}

using range = std::pair<int16_t, int16_t>;

TEST_F(ControlPlane, EmulatingKafka20AdvertisesAndServesItsRanges) {
  const auto own = advertised(b().port());
  auto r = http_call(admin_, "PUT", "/v1/control/api-versions", R"({"kafka_version": "2.0"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j[0]["kafka_version"], "2.0");
  EXPECT_EQ(j[0]["broker"], 1);
  auto v = advertised(b().port());
  EXPECT_EQ(v[0], range(0, 6)) << "Produce";
  EXPECT_EQ(v[1], range(0, 8)) << "Fetch";
  EXPECT_EQ(v[3], range(0, 6)) << "Metadata";
  EXPECT_EQ(v[18], range(0, 2)) << "ApiVersions";
  EXPECT_EQ(v[22], range(0, 1)) << "InitProducerId";
  EXPECT_EQ(v.count(47), 0u) << "OffsetDelete came with 2.4";
  EXPECT_LT(v.size(), own.size());

  // A version above the emulated range is refused like any unsupported version.
  client c(b().port());
  fetch_request f;
  c.send(f, 9);
  EXPECT_TRUE(c.closed_within(2s));
  client ok(b().port());
  EXPECT_EQ(ok.call(metadata_request{}, 6).brokers.size(), 1u);

  EXPECT_EQ(http_call(admin_, "DELETE", "/v1/control/api-versions").status, 200);
  EXPECT_EQ(advertised(b().port()), own);
  EXPECT_EQ(get("/v1/control/api-versions")[0]["kafka_version"], nullptr);
}

TEST_F(ControlPlane, ApiOverridesNarrowOrRemoveSingleApis) {
  auto r = http_call(admin_, "PUT", "/v1/control/api-versions",
                     R"({"apis": {"Fetch": {"max": 11}, "Produce": {"min": 3, "max": 7}, "DeleteRecords": null}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = advertised(b().port());
  EXPECT_EQ(v[1], range(0, 11));
  EXPECT_EQ(v[0], range(3, 7));
  EXPECT_EQ(v.count(21), 0u);
  EXPECT_EQ(json::parse(r.body)[0]["overridden"], true);
  // A release plus overrides: the overrides apply on top.
  r = http_call(admin_, "PUT", "/v1/control/api-versions", R"({"kafka_version": "2.8", "apis": {"Fetch": {"max": 10}}, "broker": 1})");
  ASSERT_EQ(r.status, 200) << r.body;
  v = advertised(b().port());
  EXPECT_EQ(v[1], range(0, 10));
  EXPECT_EQ(v[0], range(0, 9)) << "2.8's Produce";

  for (const char* bad : {R"({"kafka_version": "1.5"})", R"({"kafka_version": 2.8})", R"({"apis": {"Fetch": {"max": 99}}})",
                          R"({"apis": {"Fetch": {"max": -1}}})", R"({"apis": {"NoSuchApi": {"max": 1}}})",
                          R"({"apis": {"SaslHandshake": {"max": 1}}})", R"({"apis": {"Fetch": 3}})", R"({})",
                          R"({"kafka_version": "0.10.2", "apis": {"InitProducerId": {"max": 0}}})",
                          R"({"kafka_version": "2.0", "colour": "red"})"}) {
    auto bad_r = http_call(admin_, "PUT", "/v1/control/api-versions", bad);
    EXPECT_EQ(bad_r.status, 400) << bad << " -> " << bad_r.body;
  }
  EXPECT_EQ(http_call(admin_, "PUT", "/v1/control/api-versions", R"({"kafka_version": "2.0", "broker": 7})").status, 404);
  EXPECT_EQ(advertised(b().port())[1], range(0, 10)) << "refused requests changed nothing";
  EXPECT_EQ(http_call(admin_, "POST", "/v1/control/api-versions", "{}").status, 405);
}

TEST_F(ControlPlane, Kafka40RaisesMinimumsAnd0102LacksTransactions) {
  b().emulate_kafka_version("4.0");
  auto v = advertised(b().port());
  EXPECT_EQ(v[1], range(4, 17)) << "Fetch";
  EXPECT_EQ(v[0], range(0, 11)) << "Produce: 4.0 advertises 0-12, minikafka serves up to 11";
  EXPECT_EQ(v[11], range(2, 9)) << "JoinGroup";
  b().emulate_kafka_version("0.10.2");
  v = advertised(b().port());
  EXPECT_EQ(v.count(22), 0u) << "no InitProducerId";
  EXPECT_EQ(v[18], range(0, 0));
  EXPECT_EQ(v[1], range(0, 3));
  b().set_api_versions("Fetch", 0, 2);
  EXPECT_EQ(advertised(b().port())[1], range(0, 2));
  EXPECT_THROW(b().set_api_versions("Fetch", 0, 40), minikafka::error);
  EXPECT_THROW(b().emulate_kafka_version("9.9"), minikafka::error);
  b().restore_api_versions();
  EXPECT_EQ(advertised(b().port())[1], range(0, 17));
  EXPECT_EQ(minikafka::broker::kafka_versions().front(), "0.10.2");
  EXPECT_EQ(minikafka::broker::kafka_versions().back(), "4.0");
}

TEST(ControlPlaneEmbedded, EmulateKafkaVersionOption) {
  minikafka::broker_options o;
  o.emulate_kafka_version = "2.4.1";
  minikafka::broker br(o);
  br.start();
  EXPECT_EQ(advertised(br.port())[0], range(0, 8));
  minikafka::broker_options bad;
  bad.emulate_kafka_version = "0.8";
  EXPECT_ANY_THROW(minikafka::broker{bad});
}

}  // namespace
