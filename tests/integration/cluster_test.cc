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

}  // namespace
