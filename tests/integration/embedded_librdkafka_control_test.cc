// The test control plane through the embedding API (include/minikafka/broker.h), with
// librdkafka's C++ API in the same process: the recipes of docs/TESTING.md for C++.
//
//   minikafka::fault_rule r;                       // "retry on NOT_LEADER"
//   r.api = "Produce"; r.error = "NOT_LEADER_OR_FOLLOWER"; r.count = 3;
//   broker.add_fault(r);
//   broker.await_lag("group", "topic", 0);          // "wait for lag 0", no sleeps
//   broker.advance_clock(11000);                    // "expire a member" (broker_options::clock = "manual")
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "minikafka/broker.h"

namespace {

using namespace std::chrono_literals;

std::unique_ptr<RdKafka::Conf> make_conf(const std::string& bootstrap, const std::map<std::string, std::string>& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  EXPECT_EQ(conf->set("bootstrap.servers", bootstrap, err), RdKafka::Conf::CONF_OK) << err;
  for (const auto& [k, v] : settings) EXPECT_EQ(conf->set(k, v, err), RdKafka::Conf::CONF_OK) << k << ": " << err;
  return conf;
}

class delivery_log : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override { errors.push_back(m.err()); }
  std::vector<RdKafka::ErrorCode> errors;
};

struct producer {
  delivery_log log;
  std::unique_ptr<RdKafka::Producer> handle;

  explicit producer(const std::string& bootstrap, std::map<std::string, std::string> settings = {}) {
    settings.emplace("retry.backoff.ms", "20");
    settings.emplace("linger.ms", "0");
    auto conf = make_conf(bootstrap, settings);
    std::string err;
    EXPECT_EQ(conf->set("dr_cb", &log, err), RdKafka::Conf::CONF_OK) << err;
    handle.reset(RdKafka::Producer::create(conf.get(), err));
    EXPECT_TRUE(handle) << err;
  }
  void send(const std::string& topic, const std::string& value) {
    auto rc = handle->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()), value.size(),
                              nullptr, 0, 0, nullptr, nullptr);
    ASSERT_EQ(rc, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(rc);
  }
  void flush() { ASSERT_EQ(handle->flush(30000), RdKafka::ERR_NO_ERROR); }
};

// ------------------------------------------------------------------------------ faults

TEST(ControlPlaneLibrdkafka, ProducerRetriesThroughThreeNotLeaderErrorsAndStoresEachRecordOnce) {
  minikafka::broker broker;
  broker.start();
  broker.create_topic("orders");
  producer p(broker.bootstrap());
  p.send("orders", "warm-up");
  p.flush();

  minikafka::fault_rule r;
  r.api = "Produce";
  r.topic = "orders";
  r.error = "NOT_LEADER_OR_FOLLOWER";
  r.count = 3;
  const int64_t id = broker.add_fault(r);
  for (int i = 0; i < 10; ++i) p.send("orders", "v" + std::to_string(i));
  p.flush();

  ASSERT_EQ(p.log.errors.size(), 11u);
  for (auto e : p.log.errors) EXPECT_EQ(e, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(e);
  auto rules = broker.faults();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].id, id);
  EXPECT_EQ(rules[0].fired, 3);
  EXPECT_EQ(broker.end_offset("orders", 0), 11) << "every record stored once";
}

// A subscribed consumer polled on its own thread, committing what it reads.
struct group_consumer {
  std::unique_ptr<RdKafka::KafkaConsumer> handle;
  std::atomic<bool> stop{false};
  std::atomic<int> received{0};
  std::thread poller;

  group_consumer(const std::string& bootstrap, const std::string& group, const std::string& topic,
                 const std::string& client_id = "rdkafka-consumer") {
    auto conf = make_conf(bootstrap, {{"group.id", group},
                                      {"client.id", client_id},
                                      {"auto.offset.reset", "earliest"},
                                      {"enable.auto.commit", "false"},
                                      {"session.timeout.ms", "10000"},
                                      {"heartbeat.interval.ms", "200"},
                                      {"fetch.wait.max.ms", "100"}});
    std::string err;
    handle.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    EXPECT_TRUE(handle) << err;
    EXPECT_EQ(handle->subscribe({topic}), RdKafka::ERR_NO_ERROR);
    poller = std::thread([this] {
      while (!stop) {
        std::unique_ptr<RdKafka::Message> m(handle->consume(100));
        if (m && m->err() == RdKafka::ERR_NO_ERROR) {
          received++;
          handle->commitSync(m.get());
        }
      }
    });
  }
  ~group_consumer() {
    stop = true;
    poller.join();
    handle->close();
  }
};

TEST(ControlPlaneLibrdkafka, WaitForAStableGroupAndLagZero) {
  minikafka::broker broker;
  broker.start();
  broker.create_topic("events", 2);
  group_consumer c(broker.bootstrap(), "readers", "events");
  minikafka::group_status g;
  ASSERT_TRUE(broker.await_group("readers", "Stable", 1, 20s, &g)) << g.state;
  producer p(broker.bootstrap());
  for (int i = 0; i < 20; ++i) p.send("events", "e" + std::to_string(i));
  p.flush();
  int64_t lag = -1;
  EXPECT_TRUE(broker.await_lag("readers", "events", 0, 20s, &lag)) << "lag " << lag;
  EXPECT_EQ(c.received.load(), 20);
}

TEST(ControlPlaneLibrdkafka, ManualClockExpiresABlackHoledMember) {
  minikafka::broker_options o;
  o.clock = "manual";
  minikafka::broker broker(o);
  broker.start();
  broker.create_topic("ticks");
  group_consumer c(broker.bootstrap(), "clocked", "ticks", "victim");
  ASSERT_TRUE(broker.await_group("clocked", "Stable", 1, 20s));

  minikafka::fault_rule drop;  // its heartbeats and rejoins vanish from now on
  drop.client_id = "victim";
  drop.act = minikafka::fault_rule::action::drop;
  broker.add_fault(drop);
  broker.advance_clock(11000);  // past session.timeout.ms
  minikafka::group_status g;
  EXPECT_TRUE(broker.await_group("clocked", "Empty", 0, 0ms, &g)) << g.state << " " << g.member_ids.size();
  broker.clear_faults();  // let the consumer close cleanly
}

TEST(ControlPlaneLibrdkafka, TraceShowsWhatLibrdkafkaSent) {
  minikafka::broker broker;
  broker.start();
  broker.create_topic("seen", 3);
  producer p(broker.bootstrap(), {{"client.id", "rdk-traced"}});
  p.send("seen", "hello");
  p.flush();
  auto produces = broker.trace("Produce", "rdk-traced");
  ASSERT_EQ(produces.size(), 1u);
  EXPECT_EQ(produces[0].client_software_name, "librdkafka");
  EXPECT_FALSE(produces[0].client_software_version.empty());
  ASSERT_EQ(produces[0].topics.size(), 1u);
  EXPECT_EQ(produces[0].topics[0].name, "seen");
  EXPECT_EQ(produces[0].topics[0].partitions, std::vector<int32_t>{0});
  EXPECT_EQ(produces[0].outcome, "answered");
  EXPECT_TRUE(broker.await_requests("ApiVersions", "rdk-traced", 1, 0ms));
}

TEST(ControlPlaneLibrdkafka, UsesOlderVersionsAgainstAnEmulatedKafka20) {
  minikafka::broker_options o;
  o.emulate_kafka_version = "2.0";
  minikafka::broker broker(o);
  broker.start();
  broker.create_topic("old");
  producer p(broker.bootstrap(), {{"client.id", "rdk-old"}});
  p.send("old", "v");
  p.flush();
  auto produces = broker.trace("Produce", "rdk-old");
  ASSERT_EQ(produces.size(), 1u);
  EXPECT_EQ(produces[0].version, 6) << "librdkafka 2.0.2 sends v7 to Kafka 2.1 and later";
  broker.restore_api_versions();
  p.send("old", "w");
  p.flush();
  EXPECT_EQ(broker.end_offset("old", 0), 2);
}

TEST(ControlPlaneLibrdkafka, ConsumerWhenTheBrokerIsDown) {
  minikafka::broker broker;
  broker.start();
  broker.create_topic("outage");
  group_consumer c(broker.bootstrap(), "outage-readers", "outage", "outage-consumer");
  producer p(broker.bootstrap());
  p.send("outage", "before");
  p.flush();
  ASSERT_TRUE(broker.await_lag("outage-readers", "outage", 0, 20s));

  // The broker is "down" for the consumer: each of its requests closes the connection. (Without
  // client_id the rule takes the broker down for every client.)
  minikafka::fault_rule down;
  down.client_id = "outage-consumer";
  down.act = minikafka::fault_rule::action::close;
  const int64_t id = broker.add_fault(down);
  // A fetch parked before the rule still answers (with whatever arrives); wait for the next one,
  // which the rule closes.
  int64_t fetches = 0;
  broker.await_requests("Fetch", "outage-consumer", INT64_MAX, 0ms, &fetches);
  ASSERT_TRUE(broker.await_requests("Fetch", "outage-consumer", fetches + 1, 10s));
  for (int i = 0; i < 3; ++i) p.send("outage", "while-down-" + std::to_string(i));
  p.flush();
  int64_t lag = 0;
  EXPECT_FALSE(broker.await_lag("outage-readers", "outage", 0, 1s, &lag)) << "nothing is consumed while down";
  EXPECT_EQ(lag, 3);
  EXPECT_EQ(c.received.load(), 1);

  broker.remove_fault(id);  // back up
  EXPECT_TRUE(broker.await_lag("outage-readers", "outage", 0, 30s, &lag)) << "lag " << lag;
  EXPECT_EQ(c.received.load(), 4);
}

}  // namespace
