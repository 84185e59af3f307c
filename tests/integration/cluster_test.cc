// The simulated multi-broker cluster (--brokers N, broker_options::brokers) over real sockets:
// one listener per broker id, Metadata as Kafka gives it, replica placement, leadership checks
// with KIP-951 hints, group coordinators, and the cluster operations of the embedding API and
// of the HTTP admin API (brokers down and up, leader and coordinator moves).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <future>
#include <thread>

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

minikafka::broker_options three_brokers() {
  minikafka::broker_options o;
  o.brokers = 3;
  o.admin_port = 0;
  return o;
}

metadata_response metadata_from(uint16_t port, std::optional<std::vector<std::string>> topics = std::nullopt,
                                int16_t version = 12) {
  client c(port);
  metadata_request req;
  if (topics) {
    req.topics.emplace();
    for (const auto& t : *topics) {
      auto& rt = req.topics->emplace_back();
      rt.name = t;
    }
  }
  req.allow_auto_topic_creation = false;
  return c.call(req, version);
}

json get_json(uint16_t admin_port, const std::string& path) {
  auto r = mk::test::http_call(admin_port, "GET", path);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return json::parse(r.body);
}

uint16_t admin_port_of(const minikafka::broker& b) {
  auto url = b.admin_url();
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

// Kafka error codes used below.
constexpr int16_t NONE = 0;
constexpr int16_t LEADER_NOT_AVAILABLE = 5;
constexpr int16_t NOT_LEADER_OR_FOLLOWER = 6;
constexpr int16_t COORDINATOR_NOT_AVAILABLE = 15;
constexpr int16_t NOT_COORDINATOR = 16;
constexpr int16_t NOT_ENOUGH_REPLICAS = 19;
constexpr int16_t FENCED_LEADER_EPOCH = 74;
constexpr int16_t UNKNOWN_LEADER_EPOCH = 75;

// send + receive for any request/response pair.
template <typename Resp, typename Req>
Resp call_as(client& c, const Req& req, int16_t version) {
  int32_t corr = c.send(req, version);
  return c.receive<Resp>(version, corr);
}

records batch_of(int n, const std::string& prefix = "v") {
  std::vector<mk::records::record_in> rs;
  for (int i = 0; i < n; ++i) {
    mk::records::record_in r;
    r.key = "k" + std::to_string(i);
    r.value = prefix + std::to_string(i);
    r.timestamp = 1;
    rs.push_back(std::move(r));
  }
  return records{false, {mk::shared_chunk::adopt(mk::records::build_batch(rs, mk::records::codec::none))}};
}

produce_request produce_req(const std::string& topic, int32_t partition, records data, int16_t acks = -1) {
  produce_request req;
  req.acks = acks;
  req.timeout_ms = 5000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records_ = std::move(data);
  return req;
}

fetch_request fetch_req(const std::string& topic, int32_t partition, int64_t offset, int32_t max_wait_ms = 0,
                        int32_t current_leader_epoch = -1) {
  fetch_request req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = 1;
  req.max_bytes = 1 << 20;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = partition;
  p.fetch_offset = offset;
  p.partition_max_bytes = 1 << 20;
  p.current_leader_epoch = current_leader_epoch;
  return req;
}

// The leader's broker id according to a fresh Metadata request to `port`.
int32_t leader_of(uint16_t port, const std::string& topic, int32_t partition) {
  auto md = metadata_from(port, std::vector<std::string>{topic});
  return md.topics.at(0).partitions.at(static_cast<size_t>(partition)).leader_id;
}

int32_t other_than(int32_t id, int32_t n = 3) { return id % n + 1; }

find_coordinator_response find_group(uint16_t port, const std::string& group, int16_t version = 3) {
  client c(port);
  find_coordinator_request req;
  req.key = group;
  req.key_type = 0;
  return c.call(req, version);
}

// ------------------------------------------------------------------------------ listeners

TEST(ClusterListeners, EachBrokerListensOnItsOwnPortAndBootstrapListsThemAll) {
  minikafka::broker b(three_brokers());
  b.start();
  ASSERT_EQ(b.broker_ids(), (std::vector<int32_t>{1, 2, 3}));
  std::set<uint16_t> ports;
  std::string expected;
  for (int32_t id : b.broker_ids()) {
    ASSERT_NE(b.port(id), 0);
    ports.insert(b.port(id));
    expected += (expected.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(b.port(id));
  }
  EXPECT_EQ(ports.size(), 3u);
  EXPECT_EQ(b.bootstrap(), expected);
  EXPECT_EQ(b.port(), b.port(1));
  EXPECT_EQ(b.port(4), 0);
  // Every broker answers Metadata with all three, on their own ports, and one live controller.
  for (int32_t id : b.broker_ids()) {
    auto md = metadata_from(b.port(id));
    ASSERT_EQ(md.brokers.size(), 3u);
    for (const auto& br : md.brokers) EXPECT_EQ(br.port, b.port(br.node_id));
    EXPECT_EQ(md.controller_id, 1);
  }
}

TEST(ClusterListeners, NodeIdSetsTheFirstId) {
  auto o = three_brokers();
  o.node_id = 10;
  minikafka::broker b(o);
  b.start();
  EXPECT_EQ(b.broker_ids(), (std::vector<int32_t>{10, 11, 12}));
  auto md = metadata_from(b.port(12));
  std::vector<int32_t> ids;
  for (const auto& br : md.brokers) ids.push_back(br.node_id);
  EXPECT_EQ(ids, (std::vector<int32_t>{10, 11, 12}));
}

TEST(ClusterListeners, ClusterRouteListsBrokersAndController) {
  minikafka::broker b(three_brokers());
  b.start();
  json c = get_json(admin_port_of(b), "/v1/cluster");
  ASSERT_EQ(c["brokers"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c["brokers"][i]["id"], i + 1);
    EXPECT_EQ(c["brokers"][i]["host"], "127.0.0.1");
    EXPECT_EQ(c["brokers"][i]["port"], b.port(i + 1));
    EXPECT_EQ(c["brokers"][i]["up"], true);
  }
  EXPECT_EQ(c["controller_id"], 1);
  int kafka_listeners = 0;
  for (const auto& l : c["listeners"]) kafka_listeners += l["name"] == "kafka";
  EXPECT_EQ(kafka_listeners, 3);
}

TEST(ClusterListeners, OneBrokerIsUnchanged) {
  minikafka::broker b;
  b.start();
  EXPECT_EQ(b.bootstrap(), "127.0.0.1:" + std::to_string(b.port()));
  EXPECT_EQ(b.broker_ids(), (std::vector<int32_t>{1}));
  EXPECT_EQ(metadata_from(b.port()).brokers.size(), 1u);
}

// ------------------------------------------------------------------------------ placement

const metadata_response::metadata_response_topic& only_topic(const metadata_response& md) {
  EXPECT_EQ(md.topics.size(), 1u);
  return md.topics.front();
}

TEST(ClusterPlacement, ReplicationFactorThreeGivesThreeReplicasInSyncOnEveryBroker) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("rf3", 6, int16_t{3});
  auto md = metadata_from(b.port(2), std::vector<std::string>{"rf3"});
  const auto& t = only_topic(md);
  ASSERT_EQ(t.partitions.size(), 6u);
  std::map<int32_t, int> leaders;
  for (const auto& p : t.partitions) {
    EXPECT_EQ(p.error_code, 0);
    std::vector<int32_t> sorted = p.replica_nodes;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<int32_t>{1, 2, 3}));
    EXPECT_EQ(p.isr_nodes, p.replica_nodes);
    EXPECT_EQ(p.leader_id, p.replica_nodes.front());  // the preferred replica leads
    EXPECT_TRUE(p.offline_replicas.empty());
    leaders[p.leader_id]++;
  }
  EXPECT_EQ(leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));  // spread evenly
}

TEST(ClusterPlacement, ReplicationFactorAboveBrokersIsCappedAndReportedOneWay) {
  minikafka::broker b(three_brokers());
  b.start();
  client c(b.port());
  create_topics_request req;
  auto& t = req.topics.emplace_back();
  t.name = "rf5";
  t.num_partitions = 2;
  t.replication_factor = 5;
  auto resp = c.call(req, 7);
  ASSERT_EQ(resp.topics.size(), 1u);
  EXPECT_EQ(resp.topics[0].error_code, 0);
  EXPECT_EQ(resp.topics[0].replication_factor, 3);
  auto md = metadata_from(b.port(), std::vector<std::string>{"rf5"});
  for (const auto& p : only_topic(md).partitions) EXPECT_EQ(p.replica_nodes.size(), 3u);
  auto topics = get_json(admin_port_of(b), "/v1/topics");
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0]["replication_factor"], 3);
  auto detail = get_json(admin_port_of(b), "/v1/topics/rf5");
  for (const auto& p : detail["partition_details"]) {
    EXPECT_EQ(p["replicas"].size(), 3u);
    EXPECT_EQ(p["isr"], p["replicas"]);
  }
}

TEST(ClusterPlacement, StrictModeRefusesMoreReplicasThanBrokers) {
  auto o = three_brokers();
  o.strict_replication_factor = true;
  minikafka::broker b(o);
  b.start();
  EXPECT_NO_THROW(b.create_topic("ok3", 1, int16_t{3}));
  try {
    b.create_topic("too-many", 1, int16_t{4});
    FAIL() << "replication factor 4 on 3 brokers was accepted";
  } catch (const minikafka::error& e) {
    EXPECT_EQ(e.code(), 38);  // INVALID_REPLICATION_FACTOR
  }
}

TEST(ClusterPlacement, ManualAssignmentsAreKeptAndChecked) {
  minikafka::broker b(three_brokers());
  b.start();
  client c(b.port());
  auto create = [&](const std::string& name, std::vector<std::vector<int32_t>> replicas) {
    create_topics_request req;
    auto& t = req.topics.emplace_back();
    t.name = name;
    t.num_partitions = -1;
    t.replication_factor = -1;
    for (size_t i = 0; i < replicas.size(); ++i) {
      auto& a = t.assignments.emplace_back();
      a.partition_index = static_cast<int32_t>(i);
      a.broker_ids = replicas[i];
    }
    return c.call(req, 7).topics.at(0).error_code;
  };
  EXPECT_EQ(create("manual", {{3, 1}, {2, 3}}), 0);
  auto md = metadata_from(b.port(), std::vector<std::string>{"manual"});
  EXPECT_EQ(only_topic(md).partitions[0].replica_nodes, (std::vector<int32_t>{3, 1}));
  EXPECT_EQ(only_topic(md).partitions[0].leader_id, 3);
  EXPECT_EQ(only_topic(md).partitions[1].leader_id, 2);
  EXPECT_EQ(create("unknown-broker", {{4}}), 39);   // INVALID_REPLICA_ASSIGNMENT
  EXPECT_EQ(create("duplicate", {{1, 1}}), 39);
  EXPECT_EQ(create("uneven", {{1, 2}, {3}}), 39);

  // CreatePartitions: placed like Kafka's addPartitions, or as assigned.
  create_partitions_request grow;
  auto& g = grow.topics.emplace_back();
  g.name = "manual";
  g.count = 3;
  g.assignments.emplace();
  g.assignments->emplace_back().broker_ids = {1, 2};
  EXPECT_EQ(c.call(grow, 3).results.at(0).error_code, 0);
  md = metadata_from(b.port(), std::vector<std::string>{"manual"});
  EXPECT_EQ(only_topic(md).partitions.at(2).replica_nodes, (std::vector<int32_t>{1, 2}));
  g.count = 4;
  g.assignments->front().broker_ids = {1};  // the topic has 2 replicas per partition
  EXPECT_EQ(c.call(grow, 3).results.at(0).error_code, 39);
  g.assignments.reset();
  EXPECT_EQ(c.call(grow, 3).results.at(0).error_code, 0);
  md = metadata_from(b.port(), std::vector<std::string>{"manual"});
  EXPECT_EQ(only_topic(md).partitions.at(3).replica_nodes.size(), 2u);
}

// ------------------------------------------------------------------------------ leadership

TEST(ClusterLeadership, NonLeadersAnswerNotLeaderWithTheCurrentLeaderKip951) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 1);
  const int32_t leader = b.partition("t", 0).leader;
  const int32_t other = other_than(leader);
  client c(b.port(other));
  // Produce v11: tagged current_leader and the leader's endpoint.
  auto pr = c.call(produce_req("t", 0, batch_of(1)), 11);
  const auto& part = pr.responses.at(0).partition_responses.at(0);
  EXPECT_EQ(part.error_code, NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(part.current_leader.leader_id, leader);
  EXPECT_EQ(part.current_leader.leader_epoch, 0);
  ASSERT_EQ(pr.node_endpoints.size(), 1u);
  EXPECT_EQ(pr.node_endpoints[0].node_id, leader);
  EXPECT_EQ(pr.node_endpoints[0].port, b.port(leader));
  // Produce v9 has no place for them: same error, nothing else.
  auto old = c.call(produce_req("t", 0, batch_of(1)), 9);
  EXPECT_EQ(old.responses.at(0).partition_responses.at(0).error_code, NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(old.responses.at(0).partition_responses.at(0).current_leader.leader_id, -1);
  // Fetch v16 (by topic id): current leader and endpoint; v12: current leader only.
  auto by_id = fetch_req("t", 0, 0);
  by_id.topics[0].topic_id = metadata_from(b.port(), std::vector<std::string>{"t"}).topics.at(0).topic_id;
  auto fr = c.call(by_id, 16);
  EXPECT_EQ(fr.responses.at(0).partitions.at(0).error_code, NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(fr.responses.at(0).partitions.at(0).current_leader.leader_id, leader);
  ASSERT_EQ(fr.node_endpoints.size(), 1u);
  EXPECT_EQ(fr.node_endpoints[0].port, b.port(leader));
  auto fr12 = c.call(fetch_req("t", 0, 0), 12);
  EXPECT_EQ(fr12.responses.at(0).partitions.at(0).current_leader.leader_id, leader);
  // ListOffsets and the leader itself.
  list_offsets_request lo;
  lo.replica_id = -1;
  auto& lt = lo.topics.emplace_back();
  lt.name = "t";
  lt.partitions.emplace_back().timestamp = -1;
  EXPECT_EQ(c.call(lo, 7).topics.at(0).partitions.at(0).error_code, NOT_LEADER_OR_FOLLOWER);
  client l(b.port(leader));
  EXPECT_EQ(l.call(produce_req("t", 0, batch_of(2)), 11).responses.at(0).partition_responses.at(0).error_code, NONE);
}

TEST(ClusterLeadership, MovingTheLeaderBumpsTheEpochAndKeepsEveryRecord) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 1);
  const int32_t first = b.partition("t", 0).leader;
  const int32_t second = other_than(first);
  client c1(b.port(first));
  EXPECT_EQ(c1.call(produce_req("t", 0, batch_of(3, "a")), 11).responses.at(0).partition_responses.at(0).error_code, NONE);
  b.move_leader("t", 0, second);
  auto info = b.partition("t", 0);
  EXPECT_EQ(info.leader, second);
  EXPECT_EQ(info.leader_epoch, 1);
  EXPECT_EQ(info.replicas, (std::vector<int32_t>{second}));  // rf 1: the new leader replaces the old
  EXPECT_EQ(leader_of(b.port(first), "t", 0), second);
  // The old leader refuses, the new one appends after the old records.
  EXPECT_EQ(c1.call(produce_req("t", 0, batch_of(1)), 11).responses.at(0).partition_responses.at(0).error_code,
            NOT_LEADER_OR_FOLLOWER);
  client c2(b.port(second));
  auto pr = c2.call(produce_req("t", 0, batch_of(2, "b")), 11);
  EXPECT_EQ(pr.responses.at(0).partition_responses.at(0).error_code, NONE);
  EXPECT_EQ(pr.responses.at(0).partition_responses.at(0).base_offset, 3);
  // A fetch with the old epoch is fenced; a future one is unknown; the current one reads all 5.
  EXPECT_EQ(c2.call(fetch_req("t", 0, 0, 0, 0), 12).responses.at(0).partitions.at(0).error_code, FENCED_LEADER_EPOCH);
  EXPECT_EQ(c2.call(fetch_req("t", 0, 0, 0, 7), 12).responses.at(0).partitions.at(0).error_code, UNKNOWN_LEADER_EPOCH);
  auto fr = c2.call(fetch_req("t", 0, 0, 0, 1), 12);
  ASSERT_EQ(fr.responses.at(0).partitions.at(0).error_code, NONE);
  EXPECT_EQ(fr.responses.at(0).partitions.at(0).high_watermark, 5);
  // Stored batches carry the epoch they were appended in.
  std::vector<uint8_t> bytes;
  for (const auto& ch : fr.responses.at(0).partitions.at(0).records_.chunks) bytes.insert(bytes.end(), ch.data, ch.data + ch.size);
  std::vector<mk::records::batch_header> hs;
  ASSERT_EQ(mk::records::parse_batches(bytes.data(), bytes.size(), hs), mk::records::batch_error::none);
  ASSERT_EQ(hs.size(), 2u);
  EXPECT_EQ(hs[0].partition_leader_epoch, 0);
  EXPECT_EQ(hs[1].partition_leader_epoch, 1);
  // Moving to the current leader changes nothing.
  b.move_leader("t", 0, second);
  EXPECT_EQ(b.partition("t", 0).leader_epoch, 1);
}

TEST(ClusterLeadership, OffsetForLeaderEpochEndsEachEpochWhereTheNextBegan) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 1, int16_t{3});
  auto produce_at_leader = [&](int n) {
    client c(b.port(b.partition("t", 0).leader));
    ASSERT_EQ(c.call(produce_req("t", 0, batch_of(n)), 11).responses.at(0).partition_responses.at(0).error_code, NONE);
  };
  produce_at_leader(2);  // epoch 0: offsets 0-1
  b.move_leader("t", 0, other_than(b.partition("t", 0).leader));
  produce_at_leader(3);  // epoch 1: offsets 2-4
  b.move_leader("t", 0, other_than(b.partition("t", 0).leader));  // epoch 2 from 5
  client c(b.port(b.partition("t", 0).leader));
  auto ask = [&](int32_t epoch, int32_t current = -1) {
    offset_for_leader_epoch_request req;
    req.replica_id = -1;
    auto& t = req.topics.emplace_back();
    t.topic = "t";
    auto& p = t.partitions.emplace_back();
    p.partition = 0;
    p.leader_epoch = epoch;
    p.current_leader_epoch = current;
    return call_as<offset_for_leader_epoch_response>(c, req, 4).topics.at(0).partitions.at(0);
  };
  EXPECT_EQ(ask(0).end_offset, 2);
  EXPECT_EQ(ask(0).leader_epoch, 0);
  EXPECT_EQ(ask(1).end_offset, 5);
  EXPECT_EQ(ask(2).end_offset, 5);  // current epoch: the log end
  EXPECT_EQ(ask(9).end_offset, -1);
  EXPECT_EQ(ask(0, 1).error_code, FENCED_LEADER_EPOCH);
  EXPECT_EQ(ask(0, 2).error_code, NONE);
}

TEST(ClusterLeadership, AParkedFetchAnswersAtOnceWhenItsLeaderMoves) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 1);
  const int32_t leader = b.partition("t", 0).leader;
  client c(b.port(leader));
  const auto started = std::chrono::steady_clock::now();
  int32_t corr = c.send(fetch_req("t", 0, 0, 20000), 12);
  // Parked (no data) until the move.
  ASSERT_EQ(c.wait_readable(200ms), mk::test::wait_result::timeout);
  b.move_leader("t", 0, other_than(leader));
  auto resp = c.receive<fetch_response>(12, corr, 5s);
  EXPECT_EQ(resp.responses.at(0).partitions.at(0).error_code, NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(resp.responses.at(0).partitions.at(0).current_leader.leader_id, other_than(leader));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

// --------------------------------------------------------------------- brokers down and up

TEST(ClusterBrokers, ADownBrokerClosesConnectionsRefusesNewOnesAndItsPartitionsMove) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("rf3", 3, int16_t{3});
  b.create_topic("rf1", 3, int16_t{1});
  client victim_conn(b.port(2));
  b.broker_down(2);
  EXPECT_FALSE(b.broker_is_up(2));
  EXPECT_TRUE(victim_conn.closed_within(2s));
  EXPECT_THROW(client(b.port(2)), mk::test::client_error);
  auto md = metadata_from(b.port(1), std::vector<std::string>{"rf3", "rf1"});
  std::vector<int32_t> ids;
  for (const auto& br : md.brokers) ids.push_back(br.node_id);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 3}));
  for (const auto& p : md.topics.at(0).partitions) {  // rf3: another replica leads
    EXPECT_NE(p.leader_id, 2);
    EXPECT_EQ(p.error_code, NONE);
    EXPECT_EQ(p.isr_nodes.size(), 2u);
    EXPECT_EQ(p.offline_replicas, (std::vector<int32_t>{2}));
  }
  int leaderless = 0;
  for (const auto& p : md.topics.at(1).partitions)  // rf1: the partition on broker 2 has no leader
    if (p.replica_nodes == std::vector<int32_t>{2}) {
      ++leaderless;
      EXPECT_EQ(p.leader_id, -1);
      EXPECT_EQ(p.error_code, LEADER_NOT_AVAILABLE);
      EXPECT_EQ(p.isr_nodes, (std::vector<int32_t>{2}));  // Kafka keeps the last in-sync replica
    }
  EXPECT_EQ(leaderless, 1);
  // Back up on the same port: leaderless partitions it held are led again; moved ones stay.
  const auto moved = b.partition("rf3", 0);
  b.broker_up(2);
  EXPECT_TRUE(b.broker_is_up(2));
  client again(b.port(2));
  md = metadata_from(b.port(2), std::vector<std::string>{"rf3", "rf1"});
  EXPECT_EQ(md.brokers.size(), 3u);
  for (const auto& p : md.topics.at(0).partitions) EXPECT_EQ(p.isr_nodes.size(), 3u);
  EXPECT_EQ(b.partition("rf3", 0).leader, moved.leader);
  for (const auto& p : md.topics.at(1).partitions) EXPECT_EQ(p.leader_id, p.replica_nodes.front());
  // Idempotent, and unknown ids are refused.
  EXPECT_NO_THROW(b.broker_up(2));
  EXPECT_THROW(b.broker_down(9), minikafka::error);
}

TEST(ClusterBrokers, TheControllerIsTheLowestLiveBroker) {
  minikafka::broker b(three_brokers());
  b.start();
  b.broker_down(1);
  EXPECT_EQ(metadata_from(b.port(3)).controller_id, 2);
  b.broker_up(1);
  EXPECT_EQ(metadata_from(b.port(3)).controller_id, 1);
}

TEST(ClusterBrokers, MinInsyncReplicasRefusesAcksAllWhenTooFewAreLeft) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("safe", 1, int16_t{3}, {{"min.insync.replicas", "2"}});
  const int32_t leader = b.partition("safe", 0).leader;
  for (int32_t id : b.broker_ids())
    if (id != leader) b.broker_down(id);
  client c(b.port(leader));
  EXPECT_EQ(c.call(produce_req("safe", 0, batch_of(1), -1), 9).responses.at(0).partition_responses.at(0).error_code,
            NOT_ENOUGH_REPLICAS);
  EXPECT_EQ(c.call(produce_req("safe", 0, batch_of(1), 1), 9).responses.at(0).partition_responses.at(0).error_code, NONE);
}

TEST(ClusterBrokers, ElectionAfterEveryReplicaWentDown) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 1, int16_t{2});
  auto info = b.partition("t", 0);
  b.broker_down(info.replicas[0]);
  b.broker_down(info.replicas[1]);
  EXPECT_EQ(b.partition("t", 0).leader, -1);
  EXPECT_EQ(b.partition("t", 0).isr, (std::vector<int32_t>{info.replicas[1]}));
  // The first replica was not the last in sync: it does not lead when it comes back alone.
  b.broker_up(info.replicas[0]);
  EXPECT_EQ(b.partition("t", 0).leader, -1);
  b.broker_up(info.replicas[1]);
  EXPECT_EQ(b.partition("t", 0).leader, info.replicas[1]);
  EXPECT_EQ(b.partition("t", 0).isr.size(), 2u);
}

// ------------------------------------------------------------------------------ coordinators

TEST(ClusterCoordinators, EveryBrokerNamesTheSameCoordinatorAndOthersSayNotCoordinator) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 1);
  const std::string group = "g1";
  const int32_t coord = b.coordinator(group);
  ASSERT_GE(coord, 1);
  for (int32_t id : b.broker_ids()) {
    auto fc = find_group(b.port(id), group);
    EXPECT_EQ(fc.error_code, NONE);
    EXPECT_EQ(fc.node_id, coord);
    EXPECT_EQ(fc.port, b.port(coord));
  }
  // Groups spread over brokers: some group lands on each.
  std::set<int32_t> coordinators;
  for (int i = 0; i < 30; ++i) coordinators.insert(b.coordinator("group-" + std::to_string(i)));
  EXPECT_EQ(coordinators.size(), 3u);
  // A non-coordinator refuses the group's requests.
  client other(b.port(other_than(coord)));
  heartbeat_request hb;
  hb.group_id = group;
  hb.member_id = "m";
  hb.generation_id = 1;
  EXPECT_EQ(call_as<heartbeat_response>(other, hb, 4).error_code, NOT_COORDINATOR);
  offset_commit_request oc;
  oc.group_id = group;
  oc.generation_id_or_member_epoch = -1;
  auto& ot = oc.topics.emplace_back();
  ot.name = "t";
  ot.partitions.emplace_back().committed_offset = 1;
  EXPECT_EQ(call_as<offset_commit_response>(other, oc, 8).topics.at(0).partitions.at(0).error_code, NOT_COORDINATOR);
  client mine(b.port(coord));
  EXPECT_EQ(call_as<offset_commit_response>(mine, oc, 8).topics.at(0).partitions.at(0).error_code, NONE);
  // ListGroups: each broker lists the groups it coordinates.
  EXPECT_EQ(call_as<list_groups_response>(mine, list_groups_request{}, 4).groups.size(), 1u);
  EXPECT_TRUE(call_as<list_groups_response>(other, list_groups_request{}, 4).groups.empty());
  offset_fetch_request of;
  of.group_id = group;
  EXPECT_EQ(call_as<offset_fetch_response>(other, of, 7).error_code, NOT_COORDINATOR);
}

TEST(ClusterCoordinators, MovingACoordinatorKeepsOffsetsAndAnswersHeldJoinsNotCoordinator) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 1);
  const std::string group = "moving";
  const int32_t first = b.coordinator(group);
  client c(b.port(first));
  // A static member joins and is alone: answered at once. A second one's join is held while the
  // first has not rejoined.
  auto join = [&](client& cl, const std::string& instance) {
    join_group_request j;
    j.group_id = group;
    j.session_timeout_ms = 10000;
    j.rebalance_timeout_ms = 10000;
    j.group_instance_id = instance;
    j.protocol_type = "consumer";
    j.protocols.push_back({"range", "", {}});
    return cl.send(j, 5);
  };
  auto r1 = c.receive<join_group_response>(5, join(c, "a"));
  ASSERT_EQ(r1.error_code, NONE);
  client c2(b.port(first));
  int32_t held = join(c2, "b");
  ASSERT_EQ(c2.wait_readable(200ms), mk::test::wait_result::timeout);
  const int32_t second = other_than(first);
  b.move_coordinator(group, second);
  EXPECT_EQ(c2.receive<join_group_response>(5, held, 5s).error_code, NOT_COORDINATOR);
  EXPECT_EQ(b.coordinator(group), second);
  EXPECT_EQ(find_group(b.port(first), group).node_id, second);
  // The new coordinator knows the group (membership kept); the old one refuses it.
  heartbeat_request hb;
  hb.group_id = group;
  hb.member_id = r1.member_id;
  hb.group_instance_id = "a";
  hb.generation_id = r1.generation_id;
  EXPECT_EQ(call_as<heartbeat_response>(c, hb, 4).error_code, NOT_COORDINATOR);
  client n(b.port(second));
  EXPECT_NE(call_as<heartbeat_response>(n, hb, 4).error_code, NOT_COORDINATOR);
  // Taking the coordinator down moves the group again.
  b.broker_down(second);
  const int32_t third = b.coordinator(group);
  EXPECT_NE(third, second);
  EXPECT_GE(third, 1);
  EXPECT_THROW(b.move_coordinator(group, second), minikafka::error);  // down
  EXPECT_THROW(b.move_coordinator("", first), minikafka::error);
}

TEST(ClusterCoordinators, TransactionalIdsHaveACoordinatorToo) {
  minikafka::broker b(three_brokers());
  b.start();
  // Find the coordinator of a transactional id through FindCoordinator (key type 1).
  find_coordinator_request fc;
  fc.key = "txn-1";
  fc.key_type = 1;
  client any(b.port(1));
  auto where = any.call(fc, 3);
  ASSERT_EQ(where.error_code, NONE);
  const int32_t coord = where.node_id;
  ASSERT_GE(coord, 1);
  EXPECT_EQ(where.port, b.port(coord));
  init_producer_id_request ip;
  ip.transactional_id = "txn-1";
  ip.transaction_timeout_ms = 10000;
  client other(b.port(other_than(coord)));
  EXPECT_EQ(other.call(ip, 4).error_code, NOT_COORDINATOR);
  client mine(b.port(coord));
  auto ok = mine.call(ip, 4);
  EXPECT_EQ(ok.error_code, NONE);
  EXPECT_GE(ok.producer_id, 0);
  end_txn_request end;
  end.transactional_id = "txn-1";
  end.producer_id = ok.producer_id;
  end.producer_epoch = ok.producer_epoch;
  end.committed = false;
  EXPECT_EQ(call_as<end_txn_response>(other, end, 3).error_code, NOT_COORDINATOR);
  // ListTransactions: each broker lists what it coordinates.
  EXPECT_EQ(call_as<list_transactions_response>(mine, list_transactions_request{}, 1).transaction_states.size(), 1u);
  EXPECT_TRUE(call_as<list_transactions_response>(other, list_transactions_request{}, 1).transaction_states.empty());
  // Idempotent producers (no transactional id) are served anywhere.
  init_producer_id_request idem;
  idem.transactional_id = std::nullopt;
  EXPECT_EQ(other.call(idem, 4).error_code, NONE);
}

TEST(ClusterCoordinators, NoLiveBrokerMeansCoordinatorNotAvailable) {
  minikafka::broker b(three_brokers());
  b.start();
  b.broker_down(2);
  b.broker_down(3);
  const std::string group = "lonely";
  EXPECT_EQ(b.coordinator(group), 1);  // 3 replicas of each coordinator partition: 1 is left
  b.broker_up(2);
  b.broker_down(1);
  // Broker 1 was the last in-sync replica of every coordinator partition; 2 came back before 1
  // went down, so it is in sync again and leads.
  EXPECT_EQ(b.coordinator(group), 2);
  b.broker_down(2);
  EXPECT_EQ(b.coordinator(group), -1);
  b.broker_up(3);
  EXPECT_EQ(find_group(b.port(3), group).error_code, COORDINATOR_NOT_AVAILABLE);
}

// ----------------------------------------------------------------- admin APIs of the cluster

elect_leaders_response elect(client& c, int8_t type, std::optional<std::map<std::string, std::vector<int32_t>>> parts) {
  elect_leaders_request req;
  req.election_type = type;
  if (parts) {
    req.topic_partitions.emplace();
    for (const auto& [t, ps] : *parts) req.topic_partitions->push_back({t, ps, {}});
  }
  return call_as<elect_leaders_response>(c, req, 2);
}

TEST(ClusterAdminApis, ElectLeadersMovesLeadershipBackToThePreferredReplica) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 3, int16_t{3});
  const auto before = b.partition("t", 0);
  b.broker_down(before.replicas[0]);
  b.broker_up(before.replicas[0]);
  ASSERT_NE(b.partition("t", 0).leader, before.replicas[0]);  // leadership stayed where it moved
  client c(b.port(other_than(before.replicas[0])));
  auto r = elect(c, 0, std::map<std::string, std::vector<int32_t>>{{"t", {0, 1, 7}}});
  EXPECT_EQ(r.error_code, 0);
  ASSERT_EQ(r.replica_election_results.size(), 1u);
  const auto& pr = r.replica_election_results[0].partition_result;
  ASSERT_EQ(pr.size(), 3u);
  EXPECT_EQ(pr[0].error_code, 0);
  EXPECT_FALSE(pr[0].error_message.has_value());
  EXPECT_EQ(pr[1].error_code, 84);  // ELECTION_NOT_NEEDED
  EXPECT_EQ(pr[2].error_code, 3);   // UNKNOWN_TOPIC_OR_PARTITION
  EXPECT_EQ(b.partition("t", 0).leader, before.replicas[0]);
  EXPECT_EQ(b.partition("t", 0).leader_epoch, before.leader_epoch + 2);
  // Null partitions: every partition; only those not ELECTION_NOT_NEEDED are listed.
  b.broker_down(before.replicas[0]);
  b.broker_up(before.replicas[0]);
  auto all = elect(c, 0, std::nullopt);
  ASSERT_EQ(all.replica_election_results.size(), 1u);
  ASSERT_EQ(all.replica_election_results[0].partition_result.size(), 1u);
  EXPECT_EQ(all.replica_election_results[0].partition_result[0].partition_id, 0);
  // A preferred replica that is down cannot lead.
  b.broker_down(before.replicas[0]);
  auto down = elect(c, 0, std::map<std::string, std::vector<int32_t>>{{"t", {0}}});
  EXPECT_EQ(down.replica_election_results[0].partition_result[0].error_code, 80);  // PREFERRED_LEADER_NOT_AVAILABLE
}

TEST(ClusterAdminApis, UncleanElectionGivesALeaderlessPartitionAnyLiveReplica) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 1, int16_t{2});
  auto info = b.partition("t", 0);
  b.broker_down(info.replicas[0]);
  b.broker_down(info.replicas[1]);
  b.broker_up(info.replicas[0]);  // not the last in-sync replica: still leaderless
  const int32_t third = 6 - info.replicas[0] - info.replicas[1];
  client c(b.port(third));
  EXPECT_EQ(elect(c, 0, std::map<std::string, std::vector<int32_t>>{{"t", {0}}})
                .replica_election_results[0].partition_result[0].error_code,
            80);
  auto r = elect(c, 1, std::map<std::string, std::vector<int32_t>>{{"t", {0}}});
  EXPECT_EQ(r.replica_election_results[0].partition_result[0].error_code, 0);
  EXPECT_EQ(b.partition("t", 0).leader, info.replicas[0]);
  EXPECT_EQ(elect(c, 1, std::map<std::string, std::vector<int32_t>>{{"t", {0}}})
                .replica_election_results[0].partition_result[0].error_code,
            84);
  elect_leaders_request bad;
  bad.election_type = 5;
  EXPECT_EQ(call_as<elect_leaders_response>(c, bad, 1).error_code, 42);  // INVALID_REQUEST
}

TEST(ClusterAdminApis, DescribeClusterListsTheLiveBrokersAndController) {
  minikafka::broker b(three_brokers());
  b.start();
  b.broker_down(1);
  client c(b.port(2));
  describe_cluster_request req;
  req.include_cluster_authorized_operations = true;
  auto r = call_as<describe_cluster_response>(c, req, 1);
  EXPECT_EQ(r.error_code, 0);
  EXPECT_EQ(r.controller_id, 2);
  ASSERT_EQ(r.brokers.size(), 2u);
  EXPECT_EQ(r.brokers[0].broker_id, 2);
  EXPECT_EQ(r.brokers[1].port, b.port(3));
  EXPECT_EQ(r.cluster_id, "minikafka-cluster");
  EXPECT_NE(r.cluster_authorized_operations, INT32_MIN);
  req.endpoint_type = 2;
  EXPECT_EQ(call_as<describe_cluster_response>(c, req, 1).error_code, 115);  // UNSUPPORTED_ENDPOINT_TYPE
}

TEST(ClusterAdminApis, DescribeTopicPartitionsPagesWithACursor) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("a", 3, int16_t{2});
  b.create_topic("b", 2, int16_t{3});
  client c(b.port(1));
  describe_topic_partitions_request req;
  req.response_partition_limit = 2;
  std::vector<std::pair<std::string, int32_t>> seen;
  for (int page = 0; page < 5; ++page) {
    auto r = call_as<describe_topic_partitions_response>(c, req, 0);
    for (const auto& t : r.topics) {
      EXPECT_EQ(t.error_code, 0);
      for (const auto& p : t.partitions) {
        seen.emplace_back(*t.name, p.partition_index);
        auto info = b.partition(*t.name, p.partition_index);
        EXPECT_EQ(p.leader_id, info.leader);
        EXPECT_EQ(p.replica_nodes, info.replicas);
        EXPECT_EQ(p.isr_nodes, info.isr);
      }
    }
    if (!r.next_cursor) break;
    req.cursor.emplace();
    req.cursor->topic_name = r.next_cursor->topic_name;
    req.cursor->partition_index = r.next_cursor->partition_index;
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, int32_t>>{{"a", 0}, {"a", 1}, {"a", 2}, {"b", 0}, {"b", 1}}));
  describe_topic_partitions_request missing;
  missing.topics.push_back({"nope", {}});
  EXPECT_EQ(call_as<describe_topic_partitions_response>(c, missing, 0).topics.at(0).error_code, 3);
}

// ------------------------------------------------------------------------------ over HTTP

TEST(ClusterHttp, ControlRoutesMoveBrokersLeadersAndCoordinators) {
  minikafka::broker b(three_brokers());
  b.start();
  b.create_topic("t", 2, int16_t{2});
  const uint16_t admin = admin_port_of(b);
  using mk::test::http_call;
  auto down = http_call(admin, "POST", "/v1/control/brokers/3/down");
  ASSERT_EQ(down.status, 200) << down.body;
  json j = json::parse(down.body);
  EXPECT_EQ(j["id"], 3);
  EXPECT_EQ(j["up"], false);
  EXPECT_EQ(j["port"], b.port(3));
  json cl = get_json(admin, "/v1/cluster");
  EXPECT_EQ(cl["brokers"][2]["up"], false);
  EXPECT_EQ(http_call(admin, "POST", "/v1/control/brokers/3/down").status, 200);  // idempotent
  auto up = http_call(admin, "POST", "/v1/control/brokers/3/up");
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(json::parse(up.body)["up"], true);

  const int32_t leader = b.partition("t", 1).leader;
  const int32_t target = other_than(leader);
  auto mv = http_call(admin, "POST", "/v1/control/topics/t/partitions/1/leader", json{{"broker", target}}.dump());
  ASSERT_EQ(mv.status, 200) << mv.body;
  j = json::parse(mv.body);
  EXPECT_EQ(j["leader"], target);
  EXPECT_EQ(j["leader_epoch"], 1);
  EXPECT_EQ(j["topic"], "t");
  EXPECT_EQ(j["partition"], 1);
  EXPECT_EQ(get_json(admin, "/v1/topics/t")["partition_details"][1]["leader"], target);

  auto co = http_call(admin, "POST", "/v1/control/groups/g/coordinator", json{{"broker", 2}}.dump());
  ASSERT_EQ(co.status, 200) << co.body;
  EXPECT_EQ(json::parse(co.body)["coordinator"], 2);
  EXPECT_EQ(b.coordinator("g"), 2);

  // Errors in the admin API's format.
  auto expect_error = [&](const std::string& method, const std::string& path, const std::string& body, int status,
                          const std::string& error) {
    auto r = http_call(admin, method, path, body);
    EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
    if (r.status == status && status != 405) {
      EXPECT_EQ(json::parse(r.body)["error"].get<std::string>(), error) << r.body;
    }
  };
  expect_error("POST", "/v1/control/brokers/7/down", "", 404, "BROKER_NOT_AVAILABLE");
  expect_error("POST", "/v1/control/brokers/x/down", "", 400, "bad_request");
  expect_error("GET", "/v1/control/brokers/1/down", "", 405, "");
  expect_error("POST", "/v1/control/topics/nope/partitions/0/leader", R"({"broker": 1})", 404, "UNKNOWN_TOPIC_OR_PARTITION");
  expect_error("POST", "/v1/control/topics/t/partitions/5/leader", R"({"broker": 1})", 404, "UNKNOWN_TOPIC_OR_PARTITION");
  expect_error("POST", "/v1/control/topics/t/partitions/0/leader", R"({"broker": 9})", 404, "BROKER_NOT_AVAILABLE");
  expect_error("POST", "/v1/control/topics/t/partitions/0/leader", R"({})", 400, "bad_request");
  expect_error("POST", "/v1/control/topics/t/partitions/0/leader", R"({"broker": "2"})", 400, "bad_request");
  expect_error("POST", "/v1/control/groups/g/coordinator", "not json", 400, "bad_request");
  b.broker_down(1);
  expect_error("POST", "/v1/control/topics/t/partitions/0/leader", R"({"broker": 1})", 409, "LEADER_NOT_AVAILABLE");
  expect_error("POST", "/v1/control/groups/g/coordinator", R"({"broker": 1})", 409, "COORDINATOR_NOT_AVAILABLE");
  expect_error("POST", "/v1/control/nothing/here", "", 404, "not_found");
}

}  // namespace
