// Consumer-group latency, minikafka next to librdkafka's mock cluster (the anchor):
//  * subscribe_to_first_message: a new consumer in a new group subscribes to a topic holding one
//    message; time until that message is consumed (FindCoordinator, Join, Sync, OffsetFetch,
//    ListOffsets, Fetch). Floor with librdkafka 2.0.2: ~100 ms. The group has no committed
//    offset, OffsetFetch answers -1 (as Kafka does), and librdkafka then applies
//    auto.offset.reset with a fixed 100 ms backoff before its ListOffsets request
//    (rd_kafka_offset_reset: backoff `err ? 100 : 0`, err = "no previously committed offset";
//    not configurable, retry.backoff.ms does not change it). Nothing is on the wire meanwhile.
//  * subscribe_to_first_message_committed: the same, but the group already has a committed
//    offset (a simple commit made before the clock starts), so librdkafka fetches from it at
//    once: the part of the first case that the broker can influence.
//  * two_member_rebalance: with one member consuming, a second member joins; time until both
//    hold an assignment again. The first member learns of the rebalance from its next Heartbeat
//    (REBALANCE_IN_PROGRESS), so this is bounded by heartbeat.interval.ms (100 ms here) plus
//    one Join/Sync round.
// Each iteration is one full scenario timed by hand (UseManualTime). Compare the two rows of a
// benchmark as a ratio; absolute numbers depend on the machine.
#include <benchmark/benchmark.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bench/targets.h"

namespace {

using clock_type = std::chrono::steady_clock;

std::unique_ptr<RdKafka::Conf> consumer_conf(const std::string& bootstrap, const std::string& group) {
  std::unique_ptr<RdKafka::Conf> c(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  c->set("bootstrap.servers", bootstrap, err);
  c->set("group.id", group, err);
  c->set("auto.offset.reset", "earliest", err);
  c->set("enable.auto.commit", "false", err);
  c->set("session.timeout.ms", "6000", err);
  c->set("heartbeat.interval.ms", "100", err);
  c->set("fetch.wait.max.ms", "10", err);
  c->set("log_level", "0", err);
  return c;
}

void produce_one(const std::string& bootstrap, const std::string& topic) {
  std::unique_ptr<RdKafka::Conf> c(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  c->set("bootstrap.servers", bootstrap, err);
  c->set("log_level", "0", err);
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(c.get(), err));
  std::string v = "hello";
  p->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, v.data(), v.size(), nullptr, 0, 0, nullptr);
  p->flush(10000);
}

// One new consumer of `group` subscribes to `topic`; returns the seconds until its first message
// (after a SkipWithError when none comes within 30 s).
double time_to_first_message(benchmark::State& state, const std::string& bootstrap, const std::string& group,
                             const std::string& topic) {
  auto conf = consumer_conf(bootstrap, group);
  std::string err;
  auto start = clock_type::now();
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  c->subscribe({topic});
  for (;;) {
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR) break;
    if (clock_type::now() - start > std::chrono::seconds(30)) {
      state.SkipWithError("no message within 30 s");
      break;
    }
  }
  double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  c->close();
  return seconds;
}

void subscribe_to_first_message(benchmark::State& state) {
  auto t = mk::bench::make_target(static_cast<int>(state.range(0)));
  state.SetLabel(mk::bench::target_name(static_cast<int>(state.range(0))));
  const std::string topic = "bench-first";
  t->create_topic(topic, 1);
  produce_one(t->bootstrap(), topic);
  int n = 0;
  for (auto _ : state)
    state.SetIterationTime(time_to_first_message(state, t->bootstrap(), "g-first-" + std::to_string(n++), topic));
}

// Gives `group` a committed offset (0) for partition 0 of `topic` the way an assign() consumer
// does (OffsetCommit with generation -1 and no member; the group stays Empty).
bool commit_offset_zero(const std::string& bootstrap, const std::string& group, const std::string& topic) {
  auto conf = consumer_conf(bootstrap, group);
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  std::vector<RdKafka::TopicPartition*> parts{RdKafka::TopicPartition::create(topic, 0, 0)};
  bool ok = c->commitSync(parts) == RdKafka::ERR_NO_ERROR && parts[0]->err() == RdKafka::ERR_NO_ERROR;
  RdKafka::TopicPartition::destroy(parts);
  c->close();
  return ok;
}

void subscribe_to_first_message_committed(benchmark::State& state) {
  auto t = mk::bench::make_target(static_cast<int>(state.range(0)));
  state.SetLabel(mk::bench::target_name(static_cast<int>(state.range(0))));
  const std::string topic = "bench-first-committed";
  t->create_topic(topic, 1);
  produce_one(t->bootstrap(), topic);
  int n = 0;
  for (auto _ : state) {
    const std::string group = "g-first-committed-" + std::to_string(n++);
    // Before the clock starts (manual time).
    if (!commit_offset_zero(t->bootstrap(), group, topic)) {
      state.SkipWithError("commit failed");
      break;
    }
    state.SetIterationTime(time_to_first_message(state, t->bootstrap(), group, topic));
  }
}

bool has_assignment(RdKafka::KafkaConsumer& c) {
  std::vector<RdKafka::TopicPartition*> parts;
  c.assignment(parts);
  bool any = !parts.empty();
  RdKafka::TopicPartition::destroy(parts);
  return any;
}

void two_member_rebalance(benchmark::State& state) {
  auto t = mk::bench::make_target(static_cast<int>(state.range(0)));
  state.SetLabel(mk::bench::target_name(static_cast<int>(state.range(0))));
  const std::string topic = "bench-rebalance";
  t->create_topic(topic, 4);
  int n = 0;
  for (auto _ : state) {
    const std::string group = "g-rebalance-" + std::to_string(n++);
    std::string err;
    auto conf_a = consumer_conf(t->bootstrap(), group);
    std::unique_ptr<RdKafka::KafkaConsumer> a(RdKafka::KafkaConsumer::create(conf_a.get(), err));
    a->subscribe({topic});
    auto deadline = clock_type::now() + std::chrono::seconds(30);
    while (!has_assignment(*a) && clock_type::now() < deadline) delete a->consume(20);
    auto conf_b = consumer_conf(t->bootstrap(), group);
    auto start = clock_type::now();
    std::unique_ptr<RdKafka::KafkaConsumer> b(RdKafka::KafkaConsumer::create(conf_b.get(), err));
    b->subscribe({topic});
    // Done when b holds partitions and a holds the rest (a revoked and re-assigned).
    for (;;) {
      delete a->consume(5);
      delete b->consume(5);
      std::vector<RdKafka::TopicPartition*> pa, pb;
      a->assignment(pa);
      b->assignment(pb);
      bool done = !pa.empty() && !pb.empty() && pa.size() + pb.size() == 4;
      RdKafka::TopicPartition::destroy(pa);
      RdKafka::TopicPartition::destroy(pb);
      if (done) break;
      if (clock_type::now() - start > std::chrono::seconds(60)) {
        state.SkipWithError("rebalance did not finish within 60 s");
        break;
      }
    }
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - start).count());
    a->close();
    b->close();
  }
}

}  // namespace

BENCHMARK(subscribe_to_first_message)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(subscribe_to_first_message_committed)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(two_member_rebalance)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
int main(int argc, char** argv) {
  minikafka::set_log_level("warn");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
