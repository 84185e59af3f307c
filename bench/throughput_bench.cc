// Produce and consume throughput with librdkafka, minikafka (embedded) next to librdkafka's mock
// cluster (the anchor), in one process. Read the two rows of a benchmark as a ratio; on a 2-core
// machine the client is usually the bottleneck, so these bound the broker from below.
//   produce/<target>/<bytes>:  N messages of `bytes` to an 8-partition topic, acks=1, then flush
//   consume/<target>:           a fresh consumer reads them all back from earliest (assign)
#include <benchmark/benchmark.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "bench/targets.h"

namespace {

using clock_type = std::chrono::steady_clock;
constexpr int partitions = 8;
constexpr int messages = 200000;

std::unique_ptr<RdKafka::Producer> make_producer(const std::string& bootstrap) {
  std::unique_ptr<RdKafka::Conf> c(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  c->set("bootstrap.servers", bootstrap, err);
  c->set("acks", "1", err);
  c->set("linger.ms", "5", err);
  c->set("batch.num.messages", "10000", err);
  c->set("queue.buffering.max.messages", "1000000", err);
  c->set("log_level", "0", err);
  return std::unique_ptr<RdKafka::Producer>(RdKafka::Producer::create(c.get(), err));
}

void produce_n(RdKafka::Producer& p, const std::string& topic, int n, size_t bytes) {
  std::string value(bytes, 'x');
  for (int i = 0; i < n; ++i) {
    while (p.produce(topic, i % partitions, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), nullptr, 0, 0,
                     nullptr) == RdKafka::ERR__QUEUE_FULL)
      p.poll(1);
    if ((i & 1023) == 0) p.poll(0);
  }
  p.flush(60000);
}

void produce(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const auto bytes = static_cast<size_t>(state.range(1));
  auto t = mk::bench::make_target(which);
  state.SetLabel(mk::bench::target_name(which));
  int round = 0;
  for (auto _ : state) {
    const std::string topic = "produce-" + std::to_string(round++);
    t->create_topic(topic, partitions);
    auto p = make_producer(t->bootstrap());
    produce_n(*p, topic, 1000, bytes);  // warm up: connections and metadata
    auto start = clock_type::now();
    produce_n(*p, topic, messages, bytes);
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - start).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * messages);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * messages * static_cast<int64_t>(bytes));
}

void consume(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  auto t = mk::bench::make_target(which);
  state.SetLabel(mk::bench::target_name(which));
  const std::string topic = "consume";
  t->create_topic(topic, partitions);
  {
    auto p = make_producer(t->bootstrap());
    produce_n(*p, topic, messages, 100);
  }
  for (auto _ : state) {
    std::unique_ptr<RdKafka::Conf> c(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    c->set("bootstrap.servers", t->bootstrap(), err);
    c->set("group.id", "bench", err);
    c->set("enable.auto.commit", "false", err);
    c->set("log_level", "0", err);
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(c.get(), err));
    std::vector<RdKafka::TopicPartition*> parts;
    for (int i = 0; i < partitions; ++i) parts.push_back(RdKafka::TopicPartition::create(topic, i, RdKafka::Topic::OFFSET_BEGINNING));
    auto start = clock_type::now();
    consumer->assign(parts);
    int got = 0;
    while (got < messages) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
      if (m->err() == RdKafka::ERR_NO_ERROR) ++got;
      if (clock_type::now() - start > std::chrono::seconds(60)) {
        state.SkipWithError("consume did not finish within 60 s");
        break;
      }
    }
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - start).count());
    RdKafka::TopicPartition::destroy(parts);
    consumer->close();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * messages);
}

}  // namespace

BENCHMARK(produce)->ArgsProduct({{0, 1}, {100, 10000}})->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(consume)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

int main(int argc, char** argv) {
  minikafka::set_log_level("warn");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
