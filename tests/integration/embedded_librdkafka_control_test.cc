// The test control plane through the embedding API (include/minikafka/broker.h), with
// librdkafka's C++ API in the same process: the recipes of docs/TESTING.md for C++.
//
//   minikafka::fault_rule r;                       // "retry on NOT_LEADER"
//   r.api = "Produce"; r.error = "NOT_LEADER_OR_FOLLOWER"; r.count = 3;
//   broker.add_fault(r);
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
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

}  // namespace
