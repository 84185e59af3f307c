// Example: testing Kafka code with an embedded minikafka broker and librdkafka.
//
// The pattern, in three lines:
//
//   minikafka::broker broker;                 // in-memory broker, 127.0.0.1, ephemeral port
//   broker.start();
//   conf->set("bootstrap.servers", broker.bootstrap(), errstr);
//
// Every test gets a fresh broker (a few milliseconds to start), so tests share no state and can
// run in parallel processes without port clashes. Topics are created through the embedding API,
// which returns only once the topic exists: no waiting for metadata to propagate.
//
// The examples use only <minikafka/broker.h> and librdkafka's public C++ API. Two things go
// further and are marked as such: the `raw` helper that reads stored batches to prove compression
// happened, and the lifecycle tests at the end, which hold raw connections (test_client.h).
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "minikafka/broker.h"

// Only for the `raw` helper (inspecting stored batches); not needed to embed the broker.
#include "protocol/records/record_batch.h"
#include "test_client.h"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// ----------------------------------------------------------------------------- librdkafka glue

std::unique_ptr<RdKafka::Conf> make_conf(const std::string& bootstrap,
                                         const std::map<std::string, std::string>& settings = {}) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  EXPECT_EQ(conf->set("bootstrap.servers", bootstrap, err), RdKafka::Conf::CONF_OK) << err;
  for (const auto& [k, v] : settings) EXPECT_EQ(conf->set(k, v, err), RdKafka::Conf::CONF_OK) << k << ": " << err;
  return conf;
}

// What a delivery report told us about one message.
struct delivery {
  RdKafka::ErrorCode err = RdKafka::ERR_NO_ERROR;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
};

// Collects delivery reports; librdkafka calls it from poll()/flush() on the calling thread.
class delivery_log : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    reports.push_back({m.err(), m.partition(), m.offset(), m.key() ? *m.key() : std::string()});
  }
  std::vector<delivery> reports;
};

// A producer with its delivery reports.
struct producer {
  delivery_log log;
  std::unique_ptr<RdKafka::Producer> handle;

  explicit producer(const std::string& bootstrap, std::map<std::string, std::string> settings = {}) {
    auto conf = make_conf(bootstrap, settings);
    std::string err;
    EXPECT_EQ(conf->set("dr_cb", &log, err), RdKafka::Conf::CONF_OK) << err;
    handle.reset(RdKafka::Producer::create(conf.get(), err));
    EXPECT_TRUE(handle) << err;
  }

  // Queues one message (the value, key and headers are copied).
  void send(const std::string& topic, int32_t partition, const std::string& key, const std::string& value,
            const std::vector<std::pair<std::string, std::string>>& headers = {}, int64_t timestamp = 0) {
    RdKafka::Headers* h = RdKafka::Headers::create();
    for (const auto& [k, v] : headers) h->add(k, v);
    auto rc = handle->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                              value.size(), key.data(), key.size(), timestamp, h, nullptr);
    if (rc != RdKafka::ERR_NO_ERROR) {
      delete h;  // ownership passes to librdkafka only on success
      ADD_FAILURE() << "produce: " << RdKafka::err2str(rc);
    }
    handle->poll(0);
  }

  // Waits (bounded) until every queued message has its delivery report.
  void flush() { ASSERT_EQ(handle->flush(30000), RdKafka::ERR_NO_ERROR) << "messages still in flight after 30 s"; }
};

// A consumer reading partitions it assigns itself: no consumer group protocol, no commits.
// (librdkafka's KafkaConsumer requires a group.id even then.)
std::unique_ptr<RdKafka::KafkaConsumer> make_consumer(const std::string& bootstrap,
                                                      std::map<std::string, std::string> settings = {}) {
  settings.emplace("group.id", "embedded-example");
  settings.emplace("enable.auto.commit", "false");
  auto conf = make_conf(bootstrap, settings);
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  EXPECT_TRUE(c) << err;
  return c;
}

void assign_from_beginning(RdKafka::KafkaConsumer& c, const std::string& topic, std::vector<int32_t> partitions) {
  std::vector<RdKafka::TopicPartition*> tps;
  for (int32_t p : partitions) tps.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  auto rc = c.assign(tps);
  RdKafka::TopicPartition::destroy(tps);
  ASSERT_EQ(rc, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(rc);
}

// Consumes until `n` messages arrived or the deadline passed (each consume() waits at most
// 100 ms for the next message, so the loop notices the deadline).
std::vector<std::unique_ptr<RdKafka::Message>> consume(RdKafka::KafkaConsumer& c, size_t n,
                                                       std::chrono::milliseconds timeout = 30s) {
  std::vector<std::unique_ptr<RdKafka::Message>> out;
  const auto deadline = clock_type::now() + timeout;
  while (out.size() < n && clock_type::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(c.consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR) out.push_back(std::move(m));
    else if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF)
      ADD_FAILURE() << "consume: " << m->errstr();
  }
  EXPECT_EQ(out.size(), n) << "messages consumed before the deadline";
  return out;
}

std::string value_of(const RdKafka::Message& m) {
  return std::string(static_cast<const char*>(m.payload()), m.len());
}

std::map<std::string, std::string> headers_of(RdKafka::Message& m) {
  std::map<std::string, std::string> out;
  if (RdKafka::Headers* h = m.headers())
    for (const auto& x : h->get_all())
      out[x.key()] = x.value() ? std::string(static_cast<const char*>(x.value()), x.value_size()) : "<null>";
  return out;
}

// ------------------------------------------------------------------------------- raw helper

// Not part of the example: which codecs the broker stored for a partition, read with a raw
// Fetch, to prove the client really compressed (librdkafka silently falls back to none when a
// broker does not qualify).
std::vector<mk::records::codec> stored_codecs(const minikafka::broker& b, const std::string& topic, int32_t partition) {
  mk::test::client c(b.port());
  mk::proto::fetch_request req;
  req.max_wait_ms = 0;
  req.max_bytes = 64 << 20;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = partition;
  p.fetch_offset = 0;
  p.partition_max_bytes = 64 << 20;
  auto resp = c.call(req, 11);
  std::vector<mk::records::codec> out;
  auto bytes = resp.responses.at(0).partitions.at(0).records_.flatten();
  std::vector<mk::records::batch_header> headers;
  EXPECT_EQ(mk::records::parse_batches(bytes.data(), bytes.size(), headers), mk::records::batch_error::none);
  for (const auto& h : headers) out.push_back(h.compression());
  return out;
}

// --------------------------------------------------------------------------------- fixture

class EmbeddedBroker : public ::testing::Test {
 protected:
  // minikafka logs to stderr at "info"; keep test output to warnings.
  static void SetUpTestSuite() { minikafka::set_log_level("warn"); }

  void SetUp() override {
    broker_.start();
    bootstrap_ = broker_.bootstrap();
  }
  // TearDown: nothing to do, ~broker() stops the broker and frees everything.

  minikafka::broker broker_;
  std::string bootstrap_;
};

// ----------------------------------------------------------------------------------- tests

TEST_F(EmbeddedBroker, BootstrapIsLoopbackWithEphemeralPort) {
  EXPECT_NE(broker_.port(), 0);
  EXPECT_EQ(bootstrap_, "127.0.0.1:" + std::to_string(broker_.port()));
  EXPECT_TRUE(broker_.topics().empty());
}

TEST_F(EmbeddedBroker, ProduceThenConsumeKeysValuesHeadersPartitionsOffsets) {
  constexpr int n = 30;
  constexpr int32_t partitions = 3;
  broker_.create_topic("orders", partitions);

  // Produce message i to partition i % 3, with a key, a value, two headers and a timestamp.
  producer prod(bootstrap_, {{"linger.ms", "0"}});
  // Explicit timestamps, an hour old: within the default retention.ms (7 days). Older ones would
  // be deleted by the broker's retention check (every second here), as Kafka deletes them too.
  const int64_t base_ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch() - std::chrono::hours(1))
                              .count();
  for (int i = 0; i < n; ++i)
    prod.send("orders", i % partitions, "key-" + std::to_string(i), "value-" + std::to_string(i),
              {{"index", std::to_string(i)}, {"source", "embedded-test"}}, base_ts + i);
  prod.flush();

  // Every message was acknowledged, at offsets 0, 1, 2, ... within its partition.
  ASSERT_EQ(prod.log.reports.size(), static_cast<size_t>(n));
  std::map<int32_t, int64_t> next_offset;
  for (const auto& d : prod.log.reports) {
    ASSERT_EQ(d.err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(d.err);
    int i = std::stoi(d.key.substr(4));
    EXPECT_EQ(d.partition, i % partitions);
    EXPECT_EQ(d.offset, next_offset[d.partition]++) << d.key;
  }
  for (int32_t p = 0; p < partitions; ++p) EXPECT_EQ(broker_.end_offset("orders", p), n / partitions);

  // Read everything back from the beginning of each partition.
  auto cons = make_consumer(bootstrap_);
  assign_from_beginning(*cons, "orders", {0, 1, 2});
  auto msgs = consume(*cons, n);
  std::map<int32_t, int64_t> expected_offset;
  std::set<int> seen;
  for (auto& m : msgs) {
    ASSERT_TRUE(m->key());
    int i = std::stoi(m->key()->substr(4));
    seen.insert(i);
    EXPECT_EQ(m->topic_name(), "orders");
    EXPECT_EQ(m->partition(), i % partitions);
    EXPECT_EQ(m->offset(), expected_offset[m->partition()]++) << "in-order, gap-free offsets per partition";
    EXPECT_EQ(value_of(*m), "value-" + std::to_string(i));
    EXPECT_EQ(m->timestamp().type, RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME);
    EXPECT_EQ(m->timestamp().timestamp, base_ts + i);
    auto h = headers_of(*m);
    EXPECT_EQ(h["index"], std::to_string(i));
    EXPECT_EQ(h["source"], "embedded-test");
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(n));
  cons->close();
}

class EmbeddedCompression : public EmbeddedBroker, public ::testing::WithParamInterface<const char*> {};

TEST_P(EmbeddedCompression, RoundTrip) {
  const std::string codec = GetParam();
  broker_.create_topic("compressed");
  constexpr int n = 200;
  producer prod(bootstrap_, {{"compression.codec", codec}, {"linger.ms", "50"}});
  for (int i = 0; i < n; ++i)
    prod.send("compressed", 0, "k" + std::to_string(i),
              "a compressible value, repeated, repeated, repeated, repeated #" + std::to_string(i));
  prod.flush();
  for (const auto& d : prod.log.reports) ASSERT_EQ(d.err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(d.err);
  EXPECT_EQ(broker_.end_offset("compressed", 0), n);

  // The broker stores what the client sent: compressed batches.
  auto codecs = stored_codecs(broker_, "compressed", 0);
  ASSERT_FALSE(codecs.empty());
  for (auto c : codecs) EXPECT_STREQ(mk::records::to_string(c), codec.c_str());

  auto cons = make_consumer(bootstrap_);
  assign_from_beginning(*cons, "compressed", {0});
  auto msgs = consume(*cons, n);
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i]->offset(), static_cast<int64_t>(i));
    EXPECT_EQ(*msgs[i]->key(), "k" + std::to_string(i));
    EXPECT_EQ(value_of(*msgs[i]), "a compressible value, repeated, repeated, repeated, repeated #" + std::to_string(i));
  }
  cons->close();
}

INSTANTIATE_TEST_SUITE_P(Codecs, EmbeddedCompression, ::testing::Values("gzip", "snappy", "lz4", "zstd"),
                         [](const auto& info) { return std::string(info.param); });

TEST_F(EmbeddedBroker, OneMegabyteMessage) {
  // The topic default max.message.bytes is 1048588, so a 1,000,000-byte value fits in one batch.
  // librdkafka's own producer limit (message.max.bytes, default 1000000) counts framing too:
  // raise it a little. The consumer needs nothing: the broker returns an oversized first batch
  // whole (KIP-74).
  broker_.create_topic("big");
  std::string value(1'000'000, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + (i * 7919) % 26);

  producer prod(bootstrap_, {{"message.max.bytes", "1100000"}});
  prod.send("big", 0, "big-key", value);
  prod.send("big", 0, "small-key", "small");
  prod.flush();
  ASSERT_EQ(prod.log.reports.size(), 2u);
  for (const auto& d : prod.log.reports) ASSERT_EQ(d.err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(d.err);

  auto cons = make_consumer(bootstrap_);
  assign_from_beginning(*cons, "big", {0});
  auto msgs = consume(*cons, 2);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(*msgs[0]->key(), "big-key");
  EXPECT_EQ(msgs[0]->len(), value.size());
  EXPECT_TRUE(value_of(*msgs[0]) == value) << "1 MB value differs";
  EXPECT_EQ(value_of(*msgs[1]), "small");
  EXPECT_EQ(msgs[1]->offset(), 1);
  cons->close();
}

TEST_F(EmbeddedBroker, CreateTopicTwiceThrowsTopicAlreadyExists) {
  broker_.create_topic("once", 2, {{"cleanup.policy", "compact"}});
  EXPECT_EQ(broker_.topics(), std::vector<std::string>{"once"});
  try {
    broker_.create_topic("once");
    FAIL() << "expected minikafka::error";
  } catch (const minikafka::error& e) {
    EXPECT_EQ(e.code(), 36);  // TOPIC_ALREADY_EXISTS
  }
}

TEST_F(EmbeddedBroker, ErrorMessageCarriesKafkaErrorName) {
  // broker.h: "the message carries Kafka's error name and text", e.g. "TOPIC_ALREADY_EXISTS: ...".
  broker_.create_topic("once");
  try {
    broker_.create_topic("once");
    FAIL() << "expected minikafka::error";
  } catch (const minikafka::error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("TOPIC_ALREADY_EXISTS: ", 0), 0u) << e.what();
  }
  try {
    broker_.end_offset("missing", 0);
    FAIL() << "expected minikafka::error";
  } catch (const minikafka::error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("UNKNOWN_TOPIC_OR_PARTITION: ", 0), 0u) << e.what();
  }
}

TEST_F(EmbeddedBroker, TopicAdministrationErrors) {
  EXPECT_THROW(broker_.create_topic("bad/name"), minikafka::error);
  EXPECT_THROW(broker_.create_topic("zero", 0), minikafka::error);
  EXPECT_THROW(broker_.create_topic("cfg", 1, {{"no.such.config", "1"}}), minikafka::error);
  try {
    broker_.delete_topic("missing");
    FAIL() << "expected minikafka::error";
  } catch (const minikafka::error& e) {
    EXPECT_EQ(e.code(), 3);  // UNKNOWN_TOPIC_OR_PARTITION
  }
  EXPECT_THROW(broker_.end_offset("missing", 0), minikafka::error);

  broker_.create_topic("t", 1);
  EXPECT_EQ(broker_.end_offset("t", 0), 0);
  EXPECT_THROW(broker_.end_offset("t", 1), minikafka::error);
  broker_.delete_topic("t");
  EXPECT_TRUE(broker_.topics().empty());
}

TEST(EmbeddedBrokers, SeveralInOneProcessDoNotShareState) {
  constexpr int brokers = 3;
  std::vector<std::unique_ptr<minikafka::broker>> bs;
  for (int i = 0; i < brokers; ++i) {
    bs.push_back(std::make_unique<minikafka::broker>());
    bs.back()->start();
  }
  // Same topic name on every broker plus one private topic each.
  for (int i = 0; i < brokers; ++i) {
    bs[i]->create_topic("shared");
    bs[i]->create_topic("private-" + std::to_string(i));
  }
  for (int i = 0; i < brokers; ++i) {
    EXPECT_NE(bs[i]->port(), bs[(i + 1) % brokers]->port());
    producer prod(bs[i]->bootstrap());
    for (int j = 0; j <= i; ++j) prod.send("shared", 0, "from-" + std::to_string(i), "message " + std::to_string(j));
    prod.send("private-" + std::to_string(i), 0, "k", "v");
    prod.flush();
  }
  for (int i = 0; i < brokers; ++i) {
    // Broker i holds i + 1 messages in "shared", all from its own producer.
    EXPECT_EQ(bs[i]->end_offset("shared", 0), i + 1);
    EXPECT_EQ(bs[i]->topics(), (std::vector<std::string>{"private-" + std::to_string(i), "shared"}));
    auto cons = make_consumer(bs[i]->bootstrap());
    assign_from_beginning(*cons, "shared", {0});
    auto msgs = consume(*cons, static_cast<size_t>(i + 1));
    for (auto& m : msgs) EXPECT_EQ(*m->key(), "from-" + std::to_string(i));
    cons->close();
  }
  // Stopping one broker leaves the others serving.
  bs[0]->stop();
  producer prod(bs[1]->bootstrap());
  prod.send("shared", 0, "from-1", "after broker 0 stopped");
  prod.flush();
  EXPECT_EQ(bs[1]->end_offset("shared", 0), 3);
}

// Runs f on another thread and says whether it finished within the timeout (a hang fails the
// test instead of blocking it; the thread is then leaked deliberately).
template <typename F>
bool finishes_within(std::chrono::milliseconds timeout, F&& f) {
  auto task = std::make_shared<std::packaged_task<void()>>(std::forward<F>(f));
  auto fut = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  return fut.wait_for(timeout) == std::future_status::ready;
}

TEST(EmbeddedBrokerLifecycle, StartStopDestroyWithoutHangs) {
  // Stop is idempotent and the destructor after stop() is fine.
  {
    minikafka::broker b;
    b.start();
    b.create_topic("t");
    EXPECT_TRUE(finishes_within(10s, [&] { b.stop(); }));
    EXPECT_TRUE(finishes_within(10s, [&] { b.stop(); }));
  }
  // Constructed but never started: destruction is fine.
  { minikafka::broker never_started; }
  // Destroyed while a client is connected and a consumer is long-polling.
  uint16_t port = 0;
  {
    auto b = std::make_unique<minikafka::broker>();
    b->start();
    port = b->port();
    b->create_topic("t");
    producer prod(b->bootstrap());
    prod.send("t", 0, "k", "v");
    prod.flush();
    auto cons = make_consumer(b->bootstrap(), {{"fetch.wait.max.ms", "5000"}});
    assign_from_beginning(*cons, "t", {0});
    consume(*cons, 1);  // now parked in a long-poll Fetch at the end of the log
    EXPECT_TRUE(finishes_within(10s, [&] { b.reset(); })) << "broker destructor hung with clients connected";
    cons->close();
  }
  // The port was released: a new broker can bind it.
  minikafka::broker_options opts;
  opts.port = port;
  minikafka::broker again(opts);
  EXPECT_NO_THROW(again.start());
  EXPECT_EQ(again.port(), port);
}

TEST(EmbeddedBrokerLifecycle, ManyStartStopCycles) {
  for (int i = 0; i < 20; ++i) {
    minikafka::broker b;
    b.start();
    b.create_topic("t" + std::to_string(i));
    mk::test::client c(b.port());  // a connection open across stop()
    EXPECT_TRUE(finishes_within(10s, [&] { b.stop(); }));
    EXPECT_TRUE(c.closed_within(5s)) << "stop() closes every connection";
  }
}

// Calls into a broker that is not serving (never started, or stopped) must return or throw,
// never block forever. A hung call leaks its broker on purpose (the blocked thread still uses it).
bool admin_calls_finish(minikafka::broker* b) {
  return finishes_within(5s, [b] {
    try {
      b->create_topic("late");
    } catch (const std::exception&) {
    }
    try {
      (void)b->topics();
    } catch (const std::exception&) {
    }
    try {
      (void)b->end_offset("late", 0);
    } catch (const std::exception&) {
    }
  });
}

TEST(EmbeddedBrokerLifecycle, AdminCallsBeforeStartDoNotHang) {
  auto* b = new minikafka::broker();
  if (admin_calls_finish(b)) delete b;
  else ADD_FAILURE() << "create_topic/topics/end_offset before start() blocked for 5 s";
}

TEST(EmbeddedBrokerLifecycle, AdminCallsAfterStopDoNotHang) {
  auto* b = new minikafka::broker();
  b->start();
  b->create_topic("t");
  b->stop();
  if (admin_calls_finish(b)) delete b;
  else ADD_FAILURE() << "create_topic/topics/end_offset after stop() blocked for 5 s";
}

TEST(EmbeddedBrokerLifecycle, RestartAfterStopServesOrThrows) {
  // start() after stop() must either serve again or refuse loudly; a broker that listens but
  // never answers, or crashes on destruction, is not acceptable. Run in a child process so a
  // crash fails this test only.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        minikafka::set_log_level("off");
        int rc = 0;
        {
          minikafka::broker b;
          b.start();
          b.stop();
          bool started = false;
          try {
            b.start();
            started = true;
          } catch (const std::exception&) {
          }
          if (started) {
            mk::test::client c(b.port());
            c.set_timeout(3s);
            try {
              c.call(mk::proto::api_versions_request{}, 0);
            } catch (const std::exception&) {
              rc = 2;  // restarted broker accepts connections but never answers
            }
          }
        }  // ~broker
        std::exit(rc);
      },
      ::testing::ExitedWithCode(0), "")
      << "exit code 2: restarted broker never answers; a signal: crash in start()/stop()/~broker";
}

// Runs last: every librdkafka handle created above has been destroyed.
TEST(EmbeddedBrokerLifecycle, NoLibrdkafkaHandlesLeft) { EXPECT_EQ(RdKafka::wait_destroyed(5000), 0); }

}  // namespace
