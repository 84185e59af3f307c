// Brokers that end-to-end benchmarks run against, side by side in one process:
//  * minikafka: the embedded broker (include/minikafka/broker.h);
//  * rdkafka_mock: librdkafka's in-process mock cluster (rdkafka_mock.h), the anchor.
// Results are read as ratios between the two rows of the same benchmark.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "minikafka/broker.h"

namespace mk::bench {

class target {
 public:
  virtual ~target() = default;
  virtual std::string bootstrap() const = 0;
  virtual void create_topic(const std::string& name, int partitions) = 0;
};

class minikafka_target final : public target {
 public:
  minikafka_target() { broker_.start(); }
  std::string bootstrap() const override { return broker_.bootstrap(); }
  void create_topic(const std::string& name, int partitions) override { broker_.create_topic(name, partitions); }

 private:
  minikafka::broker broker_;
};

class mock_target final : public target {
 public:
  mock_target() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk_) throw std::runtime_error(err);
    cluster_ = rd_kafka_mock_cluster_new(rk_, 1);
    if (!cluster_) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
  }
  ~mock_target() override {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  std::string bootstrap() const override { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void create_topic(const std::string& name, int partitions) override {
    if (rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("mock topic create failed");
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

inline std::unique_ptr<target> make_target(int which) {
  if (which == 0) return std::make_unique<minikafka_target>();
  return std::make_unique<mock_target>();
}
inline const char* target_name(int which) { return which == 0 ? "minikafka" : "rdkafka_mock"; }

}  // namespace mk::bench
