// Example: testing Kafka client code against a simulated 3-broker cluster, in-process, with
// librdkafka's C++ API. The embedding API moves leaders and coordinators and takes brokers down
// and up while the client runs:
//
//   minikafka::broker_options o;
//   o.brokers = 3;                            // ids 1-3, three listeners, one shared state
//   minikafka::broker cluster(o);
//   cluster.start();                          // bootstrap() lists all three
//   cluster.create_topic("orders", 3, int16_t{3});
//   cluster.move_leader("orders", 0, 2);      // leader epoch bumped
//   cluster.broker_down(2); cluster.broker_up(2);
//   cluster.move_coordinator("my-group", 3);
//
// Shown: an idempotent producer keeps producing while its partition's leader moves and while the
// leader's broker is down, and every acknowledged message is read back exactly once, in order;
// a consumer group keeps consuming through a coordinator move and the loss of the coordinating
// broker, and its commits reach the new coordinator.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "minikafka/broker.h"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

std::unique_ptr<RdKafka::Conf> make_conf(const std::string& bootstrap, const std::map<std::string, std::string>& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  EXPECT_EQ(conf->set("bootstrap.servers", bootstrap, err), RdKafka::Conf::CONF_OK) << err;
  EXPECT_EQ(conf->set("log_level", "0", err), RdKafka::Conf::CONF_OK) << err;  // connection refused noise
  for (const auto& [k, v] : settings) EXPECT_EQ(conf->set(k, v, err), RdKafka::Conf::CONF_OK) << k << ": " << err;
  return conf;
}

// Waits (bounded) for a condition; the tests never sleep for a fixed time to wait for something.
template <typename F>
bool eventually(F&& f, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = clock_type::now() + timeout;
  while (!f()) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Acknowledged (value, offset) pairs, filled by the delivery callback.
class acks : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    std::lock_guard<std::mutex> l(mu);
    if (m.err() == RdKafka::ERR_NO_ERROR)
      acked.emplace_back(std::string(static_cast<const char*>(m.payload()), m.len()), m.offset());
    else
      failed.push_back(m.errstr());
  }
  size_t count() {
    std::lock_guard<std::mutex> l(mu);
    return acked.size();
  }
  std::mutex mu;
  std::vector<std::pair<std::string, int64_t>> acked;
  std::vector<std::string> failed;
};

class ClusterWithLibrdkafka : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { minikafka::set_log_level("warn"); }
  static minikafka::broker_options three() {
    minikafka::broker_options o;
    o.brokers = 3;
    o.group_min_session_timeout_ms = 1000;
    return o;
  }
  void SetUp() override { cluster_.start(); }

  // Waits until `count` passed `from` + 30: the client went on after a cluster event.
  template <typename F>
  void progress(F&& count, size_t from, const char* what) {
    ASSERT_TRUE(eventually([&] { return count() >= from + 30; })) << "no progress " << what << " (stuck at "
                                                                   << count() << ")";
  }

  minikafka::broker cluster_{three()};
};

TEST_F(ClusterWithLibrdkafka, BootstrapListsEveryBrokerAndMetadataShowsThreeReplicas) {
  EXPECT_EQ(cluster_.broker_ids(), (std::vector<int32_t>{1, 2, 3}));
  cluster_.create_topic("rf3", 3, int16_t{3});
  std::string err;
  auto conf = make_conf(cluster_.bootstrap(), {});
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
  ASSERT_TRUE(p) << err;
  RdKafka::Metadata* raw = nullptr;
  ASSERT_EQ(p->metadata(true, nullptr, &raw, 10000), RdKafka::ERR_NO_ERROR);
  std::unique_ptr<RdKafka::Metadata> md(raw);
  EXPECT_EQ(md->brokers()->size(), 3u);
  for (const auto* t : *md->topics()) {
    if (t->topic() != "rf3") continue;
    ASSERT_EQ(t->partitions()->size(), 3u);
    std::set<int32_t> leaders;
    for (const auto* part : *t->partitions()) {
      EXPECT_EQ(part->replicas()->size(), 3u);
      EXPECT_EQ(part->isrs()->size(), 3u);
      leaders.insert(part->leader());
    }
    EXPECT_EQ(leaders.size(), 3u);
  }
}

TEST_F(ClusterWithLibrdkafka, IdempotentProducerKeepsGoingThroughLeaderMovesAndABrokerLoss) {
  cluster_.create_topic("moving", 1, int16_t{3});
  acks log;
  std::string err;
  auto conf = make_conf(cluster_.bootstrap(), {{"enable.idempotence", "true"},
                                               {"linger.ms", "1"},
                                               {"retry.backoff.ms", "50"},
                                               {"reconnect.backoff.ms", "50"},
                                               {"reconnect.backoff.max.ms", "500"},
                                               {"topic.metadata.refresh.interval.ms", "1000"},
                                               {"message.timeout.ms", "60000"}});
  ASSERT_EQ(conf->set("dr_cb", &log, err), RdKafka::Conf::CONF_OK) << err;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  ASSERT_TRUE(producer) << err;
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    for (int i = 0; !stop; ++i) {
      std::string v = "m-" + std::to_string(i);
      while (producer->produce("moving", 0, RdKafka::Producer::RK_MSG_COPY, v.data(), v.size(), nullptr, 0, 0,
                               nullptr) == RdKafka::ERR__QUEUE_FULL)
        producer->poll(10);
      producer->poll(0);
      std::this_thread::sleep_for(200us);
    }
    producer->flush(60000);
  });
  auto count = [&] { return log.count(); };
  progress(count, 0, "before any move");
  const int32_t first = cluster_.partition("moving", 0).leader;
  const int32_t second = first % 3 + 1;
  cluster_.move_leader("moving", 0, second);
  EXPECT_EQ(cluster_.partition("moving", 0).leader_epoch, 1);
  progress(count, count(), "after a leader move");
  cluster_.broker_down(second);
  EXPECT_NE(cluster_.partition("moving", 0).leader, second);
  progress(count, count(), "with the leader's broker down");
  cluster_.broker_up(second);
  progress(count, count(), "after the broker came back");
  stop = true;
  worker.join();
  ASSERT_TRUE(log.failed.empty()) << log.failed.front();

  // Read everything back from the beginning.
  auto cconf = make_conf(cluster_.bootstrap(), {{"group.id", "readback"}, {"enable.auto.commit", "false"}});
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(cconf.get(), err));
  ASSERT_TRUE(consumer) << err;
  std::vector<RdKafka::TopicPartition*> tps{RdKafka::TopicPartition::create("moving", 0, RdKafka::Topic::OFFSET_BEGINNING)};
  ASSERT_EQ(consumer->assign(tps), RdKafka::ERR_NO_ERROR);
  RdKafka::TopicPartition::destroy(tps);
  const int64_t end = cluster_.end_offset("moving", 0);
  std::vector<std::pair<std::string, int64_t>> read;
  const auto deadline = clock_type::now() + 30s;
  while ((read.empty() || read.back().second < end - 1) && clock_type::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR)
      read.emplace_back(std::string(static_cast<const char*>(m->payload()), m->len()), m->offset());
  }
  ASSERT_FALSE(read.empty());
  ASSERT_EQ(read.back().second, end - 1) << "read back to the end";
  consumer->close();
  // Idempotence: no duplicates at all; every acknowledged message once, in order, at its offset.
  std::set<std::string> distinct;
  for (const auto& [v, o] : read) EXPECT_TRUE(distinct.insert(v).second) << v << " twice";
  std::map<std::string, int64_t> at(read.begin(), read.end());
  std::vector<std::string> acked_order, read_order;
  for (const auto& [v, o] : log.acked) {
    acked_order.push_back(v);
    EXPECT_EQ(at.count(v) ? at[v] : -1, o) << v;
  }
  std::set<std::string> acked_set(acked_order.begin(), acked_order.end());
  for (const auto& [v, o] : read)
    if (acked_set.count(v)) read_order.push_back(v);
  EXPECT_EQ(read_order, acked_order);
}

TEST_F(ClusterWithLibrdkafka, ConsumerGroupKeepsConsumingThroughACoordinatorMoveAndABrokerLoss) {
  cluster_.create_topic("work", 3, int16_t{3});
  std::string err;
  auto pconf = make_conf(cluster_.bootstrap(), {{"enable.idempotence", "true"}, {"linger.ms", "1"}});
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(pconf.get(), err));
  ASSERT_TRUE(producer) << err;
  std::set<std::string> produced;
  auto produce_more = [&] {
    for (int i = 0; i < 200; ++i) {
      std::string v = "w-" + std::to_string(produced.size());
      ASSERT_EQ(producer->produce("work", RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, v.data(),
                                  v.size(), nullptr, 0, 0, nullptr),
                RdKafka::ERR_NO_ERROR);
      produced.insert(v);
    }
    ASSERT_EQ(producer->flush(30000), RdKafka::ERR_NO_ERROR);
  };
  produce_more();

  const std::string group = "workers";
  auto cconf = make_conf(cluster_.bootstrap(), {{"group.id", group},
                                                {"auto.offset.reset", "earliest"},
                                                {"auto.commit.interval.ms", "200"},
                                                {"session.timeout.ms", "6000"},
                                                {"heartbeat.interval.ms", "300"},
                                                {"fetch.wait.max.ms", "100"},
                                                {"topic.metadata.refresh.interval.ms", "1000"},
                                                {"reconnect.backoff.ms", "50"},
                                                {"reconnect.backoff.max.ms", "500"}});
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(cconf.get(), err));
  ASSERT_TRUE(consumer) << err;
  ASSERT_EQ(consumer->subscribe({"work"}), RdKafka::ERR_NO_ERROR);
  std::mutex mu;
  std::set<std::string> consumed;
  std::atomic<size_t> consumed_count{0};
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      std::lock_guard<std::mutex> l(mu);
      consumed.insert(std::string(static_cast<const char*>(m->payload()), m->len()));
      ++consumed_count;
    }
  });
  auto count = [&] { return consumed_count.load(); };
  progress(count, 0, "before the coordinator moved");
  const int32_t first = cluster_.coordinator(group);
  ASSERT_GE(first, 1);
  const int32_t target = first % 3 + 1;
  cluster_.move_coordinator(group, target);
  EXPECT_EQ(cluster_.coordinator(group), target);
  size_t at = count();
  produce_more();
  progress(count, at, "after the coordinator moved");
  cluster_.broker_down(target);
  EXPECT_NE(cluster_.coordinator(group), target);
  at = count();
  produce_more();
  progress(count, at, "with the coordinator's broker down");
  cluster_.broker_up(target);
  at = count();
  produce_more();
  progress(count, at, "after the broker came back");
  EXPECT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return consumed.size() == produced.size();
  })) << "every produced message consumed";
  stop = true;
  worker.join();
  // The commits reached the coordinator, wherever it went: nothing left to consume.
  // (librdkafka's sticky partitioner may leave a partition empty: it has nothing to commit.)
  EXPECT_TRUE(eventually([&] {
    std::map<int32_t, int64_t> committed;
    for (const auto& l : cluster_.group_lag(group)) committed[l.partition] = l.committed;
    for (int32_t p = 0; p < 3; ++p) {
      const int64_t end = cluster_.end_offset("work", p);
      if (end > 0 && (!committed.count(p) || committed[p] != end)) return false;
    }
    return true;
  })) << "commits reached the coordinator" << [&] {
    std::string out;
    for (const auto& l : cluster_.group_lag(group))
      out += " p" + std::to_string(l.partition) + " committed " + std::to_string(l.committed) + " end " +
             std::to_string(l.end_offset);
    return out + " coordinator " + std::to_string(cluster_.coordinator(group));
  }();
  consumer->close();
}

}  // namespace
