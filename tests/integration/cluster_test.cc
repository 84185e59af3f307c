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

#include "http_client.h"
#include "minikafka/broker.h"
#include "protocol/generated/all_messages.h"
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

}  // namespace
