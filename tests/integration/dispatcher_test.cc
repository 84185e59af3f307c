// The dispatch seam and the service layer through a real socket: interceptors (delay, drop,
// close, error answers) keep responses in order and other connections unaffected; the API
// table's narrowing reaches ApiVersions; the HTTP admin API and the Kafka protocol leave the same
// state; shutdown drains parked requests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "broker/server.h"
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
using steady = std::chrono::steady_clock;

constexpr int16_t NOT_LEADER_OR_FOLLOWER = 6;

// Acts on requests of one API key; counts what it sees.
class test_interceptor final : public mk::interceptor {
 public:
  test_interceptor(int16_t api_key, mk::intercept_action action) : key_(api_key), action_(action) {}
  mk::intercept_action on_request(const mk::request_info& r) override {
    seen++;
    if (r.header.api_key != key_) return mk::intercept_action::pass();
    if (remaining_ > 0 && --remaining_ == 0) key_ = -1;  // only the next N
    return action_;
  }
  void on_response(const mk::request_info&, const mk::response_info& ri) override {
    if (ri.responded) answered++;
  }
  void only_next(int n) { remaining_ = n; }
  std::atomic<int> seen{0};
  std::atomic<int> answered{0};

 private:
  int16_t key_;
  mk::intercept_action action_;
  int remaining_ = 0;
};

class Dispatch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { minikafka::set_log_level("error"); }
  void SetUp() override {
    mk::broker_config cfg;
    cfg.port = 0;
    cfg.admin_port = 0;
    cfg.trace_capacity = 0;  // the request trace is an interceptor too: these tests install their own
    srv_ = std::make_unique<mk::server>(cfg);
    srv_->start();
  }
  void install(std::shared_ptr<mk::interceptor> i) {
    srv_->call([&] {
      srv_->dispatcher().add_interceptor(i);
      return 0;
    });
  }
  static metadata_request metadata_for(std::vector<std::string> topics) {
    metadata_request m;
    m.topics.emplace();
    for (auto& t : topics) m.topics->emplace_back().name = t;
    return m;
  }
  std::unique_ptr<mk::server> srv_;
};

TEST_F(Dispatch, DelayedAnswerKeepsTheConnectionsResponseOrder) {
  auto slow = std::make_shared<test_interceptor>(metadata_request::api_key, mk::intercept_action::delay(300));
  slow->only_next(1);
  install(slow);
  client c(srv_->port());
  const auto t0 = steady::now();
  // Pipelined: the delayed Metadata first, then ApiVersions, which is not delayed.
  const int32_t first = c.send(metadata_for({}), 9);
  const int32_t second = c.send(api_versions_request{}, 2);
  auto m = c.receive<metadata_response>(9, first);  // throws on a wrong correlation id
  EXPECT_GE(steady::now() - t0, 290ms);
  auto v = c.receive<api_versions_response>(2, second);
  EXPECT_EQ(v.error_code, 0);
  EXPECT_EQ(m.brokers.size(), 1u);
}

TEST_F(Dispatch, InjectedErrorIsAnsweredInTheApisOwnShapeAndTheHandlerDoesNotRun) {
  auto fail = std::make_shared<test_interceptor>(produce_request::api_key,
                                                 mk::intercept_action::fail(mk::proto::error_code::not_leader_or_follower));
  fail->only_next(1);
  install(fail);
  client c(srv_->port());
  produce_request p;
  p.acks = -1;
  p.timeout_ms = 1000;
  auto& td = p.topic_data.emplace_back();
  td.name = "orders";
  auto& pd = td.partition_data.emplace_back();
  pd.index = 0;
  mk::records::record_in r;
  r.key = "k";
  r.value = "v";
  std::vector<mk::records::record_in> rs{r};
  pd.records_ = records{false, {mk::shared_chunk::adopt(mk::records::build_batch(rs, mk::records::codec::none))}};
  auto resp = c.call(p, 9);
  ASSERT_EQ(resp.responses.size(), 1u);
  ASSERT_EQ(resp.responses[0].partition_responses.size(), 1u);
  EXPECT_EQ(resp.responses[0].name, "orders");
  EXPECT_EQ(resp.responses[0].partition_responses[0].error_code, NOT_LEADER_OR_FOLLOWER);
  // Nothing was stored (the topic was not even auto-created); the retry goes through.
  auto again = c.call(p, 9);
  EXPECT_EQ(again.responses[0].partition_responses[0].error_code, 0);
  EXPECT_EQ(again.responses[0].partition_responses[0].base_offset, 0);
}

TEST_F(Dispatch, DroppedRequestGetsNoAnswerAndTheConnectionGoesOn) {
  auto drop = std::make_shared<test_interceptor>(metadata_request::api_key, mk::intercept_action::drop());
  drop->only_next(1);
  install(drop);
  client c(srv_->port());
  c.send(metadata_for({}), 9);
  const int32_t next = c.send(api_versions_request{}, 2);
  // The first answer on the wire is the ApiVersions one: the Metadata request vanished.
  auto v = c.receive<api_versions_response>(2, next);
  EXPECT_EQ(v.error_code, 0);
  EXPECT_EQ(drop->seen.load(), 2);
}

TEST_F(Dispatch, ClosedConnectionLeavesOtherConnectionsUnaffected) {
  auto closer = std::make_shared<test_interceptor>(list_offsets_request::api_key, mk::intercept_action::close());
  install(closer);
  client victim(srv_->port());
  client bystander(srv_->port());
  EXPECT_EQ(bystander.call(metadata_for({}), 9).brokers.size(), 1u);
  list_offsets_request lo;
  lo.replica_id = -1;
  victim.send(lo, 7);
  EXPECT_TRUE(victim.closed_within(2s));
  EXPECT_EQ(bystander.call(metadata_for({}), 9).brokers.size(), 1u);
  client fresh(srv_->port());
  EXPECT_EQ(fresh.call(api_versions_request{}, 2).error_code, 0);
}

TEST_F(Dispatch, NarrowedApiTableIsWhatApiVersionsAdvertisesAndServes) {
  ASSERT_TRUE(srv_->call([&] { return srv_->dispatcher().apis().set_range(fetch_request::api_key, 0, 11); }));
  EXPECT_FALSE(srv_->call([&] { return srv_->dispatcher().apis().set_range(fetch_request::api_key, 0, 99); }));
  client c(srv_->port());
  auto v = c.call(api_versions_request{}, 2);
  bool found = false;
  for (const auto& k : v.api_keys)
    if (k.api_key == fetch_request::api_key) {
      found = true;
      EXPECT_EQ(k.max_version, 11);
    }
  EXPECT_TRUE(found);
  // A version above the narrowed range is refused like any unsupported version (closed).
  fetch_request f;
  c.send(f, 12);
  EXPECT_TRUE(c.closed_within(2s));
}

TEST_F(Dispatch, NoInterceptorsMeansAnEmptyChain) {
  EXPECT_FALSE(srv_->call([&] { return srv_->dispatcher().has_interceptors(); }));
  auto i = std::make_shared<test_interceptor>(-1, mk::intercept_action::pass());
  install(i);
  client c(srv_->port());
  c.call(api_versions_request{}, 2);
  EXPECT_EQ(i->seen.load(), 1);
  EXPECT_EQ(i->answered.load(), 1);
  srv_->call([&] {
    srv_->dispatcher().remove_interceptor(i.get());
    return 0;
  });
  c.call(api_versions_request{}, 2);
  EXPECT_EQ(i->seen.load(), 1);
  EXPECT_FALSE(srv_->call([&] { return srv_->dispatcher().has_interceptors(); }));
}

// The same operations over HTTP and over Kafka leave the same state, whichever front end did them.
TEST_F(Dispatch, HttpAndKafkaFrontEndsShareOneState) {
  const uint16_t admin = srv_->admin_port();
  auto created = mk::test::http_call(admin, "POST", "/v1/topics", R"({"name":"via-http","partitions":3})");
  ASSERT_EQ(created.status, 201) << created.body;
  client c(srv_->port());
  create_topics_request ct;
  auto& t = ct.topics.emplace_back();
  t.name = "via-kafka";
  t.num_partitions = 3;
  t.replication_factor = 1;
  ct.timeout_ms = 1000;
  ASSERT_EQ(c.call(ct, 7).topics.at(0).error_code, 0);

  // Each front end sees both topics the same way.
  auto m = c.call(metadata_for({"via-http", "via-kafka"}), 12);  // v10+ carry topic ids
  ASSERT_EQ(m.topics.size(), 2u);
  for (const auto& mt : m.topics) {
    EXPECT_EQ(mt.error_code, 0);
    EXPECT_EQ(mt.partitions.size(), 3u);
  }
  for (std::string name : {"via-http", "via-kafka"}) {
    auto d = json::parse(mk::test::http_call(admin, "GET", "/v1/topics/" + name).body);
    EXPECT_EQ(d["partitions"], 3);
    for (const auto& mt : m.topics)
      if (mt.name == name) EXPECT_EQ(d["id"], mt.topic_id.to_base64());
  }

  // Records produced over HTTP are fetched over Kafka at the offsets HTTP reported.
  auto produced = mk::test::http_call(admin, "POST", "/v1/topics/via-kafka/records",
                                      R"({"records":[{"value":"a","partition":1},{"value":"b","partition":1}]})");
  ASSERT_EQ(produced.status, 200) << produced.body;
  EXPECT_EQ(json::parse(produced.body)["results"][0]["base_offset"], 0);
  list_offsets_request lo;
  lo.replica_id = -1;
  auto& lt = lo.topics.emplace_back();
  lt.name = "via-kafka";
  auto& lp = lt.partitions.emplace_back();
  lp.partition_index = 1;
  lp.timestamp = -1;
  EXPECT_EQ(c.call(lo, 7).topics.at(0).partitions.at(0).offset, 2);

  // A commit over Kafka is the committed offset HTTP reports, and an HTTP reset is what
  // OffsetFetch then answers.
  offset_commit_request oc;
  oc.group_id = "g";
  oc.generation_id_or_member_epoch = -1;
  auto& ot = oc.topics.emplace_back();
  ot.name = "via-kafka";
  auto& op = ot.partitions.emplace_back();
  op.partition_index = 1;
  op.committed_offset = 1;
  {
    int32_t corr = c.send(oc, 8);
    auto r = c.receive<offset_commit_response>(8, corr);
    ASSERT_EQ(r.topics.at(0).partitions.at(0).error_code, 0);
  }
  auto g = json::parse(mk::test::http_call(admin, "GET", "/v1/groups/g").body);
  ASSERT_EQ(g["offsets"].size(), 1u);
  EXPECT_EQ(g["offsets"][0]["committed_offset"], 1);
  EXPECT_EQ(g["offsets"][0]["lag"], 1);
  auto reset = mk::test::http_call(admin, "POST", "/v1/groups/g/offsets", R"({"topic":"via-kafka","to":"earliest"})");
  ASSERT_EQ(reset.status, 200) << reset.body;
  offset_fetch_request of;
  of.group_id = "g";
  of.topics.emplace();
  auto& ft = of.topics->emplace_back();
  ft.name = "via-kafka";
  ft.partition_indexes = {1};
  int32_t corr = c.send(of, 7);
  auto fr = c.receive<offset_fetch_response>(7, corr);
  EXPECT_EQ(fr.topics.at(0).partitions.at(0).committed_offset, 0);

  // Deleting over Kafka removes it from HTTP, and the reverse.
  delete_topics_request dt;
  dt.topic_names = {"via-http"};
  dt.timeout_ms = 1000;
  corr = c.send(dt, 5);
  EXPECT_EQ(c.receive<delete_topics_response>(5, corr).responses.at(0).error_code, 0);
  EXPECT_EQ(mk::test::http_call(admin, "GET", "/v1/topics/via-http").status, 404);
  EXPECT_EQ(mk::test::http_call(admin, "DELETE", "/v1/topics/via-kafka").status, 200);
  auto none = json::parse(mk::test::http_call(admin, "GET", "/v1/topics").body);
  EXPECT_TRUE(none.empty()) << none.dump();
}

// stop() with a fetch parked for a minute and a JoinGroup held by a one-minute initial rebalance
// delay returns promptly: parked requests are answered or abandoned and the state thread runs
// out of work.
TEST(DispatchShutdown, StopDrainsParkedRequestsPromptly) {
  minikafka::set_log_level("error");
  mk::broker_config cfg;
  cfg.port = 0;
  cfg.admin_port = 0;
  cfg.group_initial_rebalance_delay_ms = 60000;
  mk::server srv(cfg);
  srv.start();
  client fetcher(srv.port());
  fetch_request f;
  f.replica_id = -1;
  f.max_wait_ms = 60000;
  f.min_bytes = 1 << 20;
  f.max_bytes = 1 << 20;
  auto& ft = f.topics.emplace_back();
  ft.topic = "parked";
  auto& fp = ft.partitions.emplace_back();
  fp.partition = 0;
  fp.partition_max_bytes = 1 << 20;
  metadata_request m;
  m.topics.emplace().emplace_back().name = "parked";  // auto-creates it
  fetcher.call(m, 9);
  fetcher.send(f, 11);

  client joiner(srv.port());
  join_group_request j;
  j.group_id = "g";
  j.session_timeout_ms = 10000;
  j.rebalance_timeout_ms = 10000;
  j.protocol_type = "consumer";
  j.protocols.emplace_back().name = "range";
  int32_t corr = joiner.send(j, 5);
  auto first = joiner.receive<join_group_response>(5, corr);
  ASSERT_EQ(first.error_code, 79);  // MEMBER_ID_REQUIRED
  j.member_id = first.member_id;
  joiner.send(j, 5);

  ASSERT_EQ(fetcher.wait_readable(100ms), mk::test::wait_result::timeout);  // parked
  ASSERT_EQ(joiner.wait_readable(0ms), mk::test::wait_result::timeout);     // held
  const auto t0 = steady::now();
  srv.stop();
  EXPECT_LT(steady::now() - t0, 2s);
  EXPECT_TRUE(fetcher.closed_within(2s));
  EXPECT_TRUE(joiner.closed_within(2s));
}

// With a manual clock a fetch's max-wait passes when the clock is advanced, not before.
TEST(DispatchClock, FetchMaxWaitRunsOnTheInjectedClock) {
  minikafka::set_log_level("error");
  mk::broker_config cfg;
  cfg.port = 0;
  cfg.admin_port = -1;
  auto clk = std::make_unique<mk::manual_clock>();
  auto* manual = clk.get();
  mk::server srv(cfg, nullptr, std::move(clk));
  srv.start();
  client c(srv.port());
  metadata_request m;
  m.topics.emplace().emplace_back().name = "slow";
  c.call(m, 9);
  fetch_request f;
  f.replica_id = -1;
  f.max_wait_ms = 500;
  f.min_bytes = 1;
  f.max_bytes = 1 << 20;
  auto& ft = f.topics.emplace_back();
  ft.topic = "slow";
  auto& fp = ft.partitions.emplace_back();
  fp.partition = 0;
  fp.partition_max_bytes = 1 << 20;
  int32_t corr = c.send(f, 11);
  // Twice the max-wait in real time: still parked, the clock has not moved.
  EXPECT_EQ(c.wait_readable(1000ms), mk::test::wait_result::timeout);
  srv.call([&] {
    manual->advance(499);
    return 0;
  });
  EXPECT_EQ(c.wait_readable(100ms), mk::test::wait_result::timeout);
  srv.call([&] {
    manual->advance(1);
    return 0;
  });
  auto r = c.receive<fetch_response>(11, corr, 2000ms);
  EXPECT_EQ(r.responses.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(r.responses.at(0).partitions.at(0).high_watermark, 0);
}

}  // namespace
