// Fault rules (broker/control/fault_injector.h) through a real socket: the HTTP routes
// (/v1/control/faults), the embedding API (broker::add_fault), and what a client sees:
//   * an error rule answers every API the broker serves, at every version it serves, with that
//     API's own response, which the generated decoder reads completely, every error field holding
//     the injected code (random requests from tests/generated, as in protocol_error_response_test);
//   * matching on API, versions, topic (by name and by id), partition, broker, client id and
//     group id; count / after / probability with a seed;
//   * delay, drop (no answer, the connection keeps working) and close;
//   * Produce with acks=0 is never answered, not even with an injected error.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "http_client.h"
#include "minikafka/broker.h"
#include "protocol/error_code.h"
#include "protocol/generated/all_messages.h"
#include "protocol/generated/error_responses.h"
#include "protocol/records/record_batch.h"
#include "test_client.h"
#include "tests/generated/test_messages.h"

namespace {

using namespace std::chrono_literals;
using namespace mk::proto;
using json = nlohmann::json;
using mk::test::client;
using mk::test::http_call;
using steady = std::chrono::steady_clock;

constexpr int16_t NOT_LEADER_OR_FOLLOWER = 6;
constexpr int16_t COORDINATOR_NOT_AVAILABLE = 15;

records one_batch(const std::string& value) {
  mk::records::record_in r;
  r.key = "k";
  r.value = value;
  r.timestamp = 1700000000000;
  std::vector<mk::records::record_in> rs{r};
  auto b = mk::records::build_batch(rs, mk::records::codec::none);
  return records{false, {mk::shared_chunk::adopt(std::move(b))}};
}

produce_request produce_req(const std::string& topic, int32_t partition, const std::string& value, int16_t acks = -1) {
  produce_request req;
  req.acks = acks;
  req.timeout_ms = 5000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records_ = one_batch(value);
  return req;
}

int16_t produce_error(client& c, const std::string& topic, int32_t partition, int16_t version = 9) {
  auto resp = c.call(produce_req(topic, partition, "v"), version);
  EXPECT_EQ(resp.responses.size(), 1u);
  EXPECT_EQ(resp.responses.at(0).partition_responses.size(), 1u);
  return resp.responses.at(0).partition_responses.at(0).error_code;
}

class Faults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { minikafka::set_log_level("warn"); }
  static minikafka::broker_options options() {
    minikafka::broker_options o;
    o.admin_port = 0;
    return o;
  }
  void SetUp() override {
    broker_.start();
    admin_ = static_cast<uint16_t>(std::stoi(broker_.admin_url().substr(broker_.admin_url().rfind(':') + 1)));
  }

  // POST /v1/control/faults; returns the created rule (201 expected).
  json add_rule(const json& rule) {
    auto r = http_call(admin_, "POST", "/v1/control/faults", rule.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }
  json rule(int64_t id) {
    auto r = http_call(admin_, "GET", "/v1/control/faults/" + std::to_string(id));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  minikafka::broker broker_{options()};
  uint16_t admin_ = 0;
};

// ---------------------------------------------------------------------------- every API

// Every error field of a decoded response (any depth): name -> values.
void collect_errors(const test_node& n, std::vector<int64_t>& out) {
  for (const auto& [name, value] : n.fields) {
    if (name.size() >= 9 && name.compare(name.size() - 9, 9, "ErrorCode") == 0 && value.k == test_node::kind::integer)
      out.push_back(value.integer);
    if (value.k == test_node::kind::object) collect_errors(value, out);
    if (value.k == test_node::kind::list)
      for (const auto& e : value.items)
        if (e.k == test_node::kind::object) collect_errors(e, out);
  }
}

TEST_F(Faults, ErrorRuleAnswersEveryServedApiAndVersionInItsOwnResponseShape) {
  client c(broker_.port());
  // What the broker serves, from ApiVersions (before any rule).
  auto served = c.call(api_versions_request{}, 0);
  ASSERT_EQ(served.error_code, 0);
  ASSERT_GT(served.api_keys.size(), 20u);

  add_rule({{"error", "NOT_LEADER_OR_FOLLOWER"}});  // no "api": every request
  int checked = 0;
  for (const auto& k : served.api_keys) {
    const message_type* qt = find_message_type(message_kind::request, k.api_key);
    const message_type* rt = find_message_type(message_kind::response, k.api_key);
    ASSERT_NE(qt, nullptr) << "no generated request for served API " << k.api_key;
    ASSERT_NE(rt, nullptr);
    for (int16_t v = k.min_version; v <= k.max_version; ++v) {
      for (int i = 0; i < 3; ++i) {
        const std::string where = std::string(qt->name) + " v" + std::to_string(v) + " #" + std::to_string(i);
        test_rng rng(static_cast<uint64_t>(k.api_key) << 32 | static_cast<uint64_t>(v) << 16 | static_cast<uint64_t>(i));
        auto req = qt->create();
        req->randomize(v, rng);
        if (k.api_key == produce_request::api_key) {
          // acks=0 is never answered (tested below); make this one expect an answer.
          static_cast<typed_message<produce_request>&>(*req).value.acks = -1;
        }
        writer body;
        req->encode(body, v);
        int32_t corr = 0;
        auto frame = c.encode_header(k.api_key, v, &corr);
        auto bytes = body.flatten();
        frame.insert(frame.end(), bytes.begin(), bytes.end());
        c.send_raw(client::frame(frame));

        auto got = std::make_shared<std::vector<uint8_t>>(c.receive_frame());
        reader r(got->data(), got->size(), got);
        ASSERT_EQ(r.i32(), corr) << where;
        if (response_header_version(k.api_key, v) >= 1) {
          unknown_tags tags;
          r.tagged_fields(tags, [](uint32_t, reader&) { return false; });
        }
        auto resp = rt->create();
        resp->decode(r, v);
        ASSERT_TRUE(r.ok()) << where << ": the response does not decode";
        ASSERT_EQ(r.remaining(), 0u) << where << ": trailing bytes";
        std::vector<int64_t> codes;
        const test_node node = resp->to_node(v);
        collect_errors(node, codes);
        for (int64_t e : codes) EXPECT_EQ(e, NOT_LEADER_OR_FOLLOWER) << where;
        if (has_top_level_error_code(k.api_key, v)) {
          ASSERT_NE(node.field("ErrorCode"), nullptr) << where;
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 200);
  // The rule saw every one of them.
  auto rules = json::parse(http_call(admin_, "GET", "/v1/control/faults").body);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]["fired"], checked);
  EXPECT_EQ(rules[0]["matched"], checked);
}

TEST_F(Faults, ProduceWithAcksZeroGetsNoResponseEvenWithAnErrorRule) {
  broker_.create_topic("acks0");
  add_rule({{"api", "Produce"}, {"error", "NOT_LEADER_OR_FOLLOWER"}});
  client c(broker_.port());
  c.send(produce_req("acks0", 0, "a", 0), 9);
  // The next request's answer comes first: nothing was sent for the acks=0 produce.
  int32_t corr = c.send(metadata_request{}, 1);
  auto md = c.receive<metadata_response>(1, corr);
  EXPECT_EQ(md.brokers.size(), 1u);
  EXPECT_EQ(broker_.end_offset("acks0", 0), 0) << "the handler did not run";
}

// ------------------------------------------------------------------------- HTTP contract

TEST_F(Faults, RoutesCreateListGetAndDeleteRules) {
  auto a = add_rule({{"api", "Produce"}, {"topic", "t"}, {"error", "NOT_LEADER_OR_FOLLOWER"}, {"count", 3}});
  EXPECT_EQ(a["api"], "Produce");
  EXPECT_EQ(a["error"], "NOT_LEADER_OR_FOLLOWER");
  EXPECT_EQ(a["count"], 3);
  EXPECT_EQ(a["fired"], 0);
  EXPECT_EQ(a["matched"], 0);
  auto b = add_rule({{"api", 1}, {"versions", {4, 11}}, {"delay_ms", 5}, {"client_id", "x"}});
  EXPECT_EQ(b["api"], "Fetch");
  EXPECT_EQ(b["versions"], json::array({4, 11}));
  add_rule({{"action", "drop"}, {"client_id", "gone"}});
  auto list = json::parse(http_call(admin_, "GET", "/v1/control/faults").body);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_LT(list[0]["id"].get<int64_t>(), list[1]["id"].get<int64_t>());

  auto del = http_call(admin_, "DELETE", "/v1/control/faults/" + std::to_string(a["id"].get<int64_t>()));
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(http_call(admin_, "DELETE", "/v1/control/faults/" + std::to_string(a["id"].get<int64_t>())).status, 404);
  EXPECT_EQ(http_call(admin_, "GET", "/v1/control/faults/999").status, 404);
  auto all = http_call(admin_, "DELETE", "/v1/control/faults");
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(json::parse(all.body)["deleted"], 2);
  EXPECT_EQ(json::parse(http_call(admin_, "GET", "/v1/control/faults").body).size(), 0u);
}

TEST_F(Faults, RoutesRefuseRulesThatDoNothingOrDoNotParse) {
  for (const char* bad : {R"({"api":"Produce"})",                                  // no effect
                          R"({"api":"Produse","error":"NOT_LEADER_OR_FOLLOWER"})", // unknown API
                          R"({"error":"NOT_A_KAFKA_ERROR"})",                      // unknown error
                          R"({"error":"NONE"})",                                   // not an error
                          R"({"error":6,"action":"close"})",                       // both
                          R"({"action":"explode"})",
                          R"({"delay_ms":-1})",
                          R"({"delay_ms":10,"probability":1.5})",
                          R"({"delay_ms":10,"versions":[5,2]})",
                          R"({"delay_ms":10,"topics":"t"})",                        // misspelt field
                          R"({"delay_ms":10,"count":-1})",
                          R"([1,2])", "not json"}) {
    auto r = http_call(admin_, "POST", "/v1/control/faults", bad);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
  }
  EXPECT_EQ(http_call(admin_, "PUT", "/v1/control/faults", "{}").status, 405);
  EXPECT_EQ(json::parse(http_call(admin_, "GET", "/v1/control/faults").body).size(), 0u);
}

// ------------------------------------------------------------------------------ matching

TEST_F(Faults, CountFiresOnTheNextNMatchesThenLetsRequestsThrough) {
  broker_.create_topic("count");
  auto r = add_rule({{"api", "Produce"}, {"topic", "count"}, {"error", "NOT_LEADER_OR_FOLLOWER"}, {"count", 3}});
  client c(broker_.port());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(produce_error(c, "count", 0), NOT_LEADER_OR_FOLLOWER) << i;
  EXPECT_EQ(produce_error(c, "count", 0), 0);
  EXPECT_EQ(produce_error(c, "count", 0), 0);
  EXPECT_EQ(broker_.end_offset("count", 0), 2) << "rejected produces stored nothing";
  auto s = rule(r["id"]);
  EXPECT_EQ(s["matched"], 5);
  EXPECT_EQ(s["fired"], 3);
  EXPECT_EQ(s["exhausted"], true);
}

TEST_F(Faults, AfterLetsTheFirstMatchesThrough) {
  broker_.create_topic("after");
  add_rule({{"api", "Produce"}, {"error", "NOT_LEADER_OR_FOLLOWER"}, {"after", 2}, {"count", 1}});
  client c(broker_.port());
  EXPECT_EQ(produce_error(c, "after", 0), 0);
  EXPECT_EQ(produce_error(c, "after", 0), 0);
  EXPECT_EQ(produce_error(c, "after", 0), NOT_LEADER_OR_FOLLOWER) << "the 3rd call fails";
  EXPECT_EQ(produce_error(c, "after", 0), 0);
}

TEST_F(Faults, TopicAndPartitionMatchOnlyRequestsNamingThem) {
  broker_.create_topic("tp", 2);
  broker_.create_topic("other", 2);
  add_rule({{"api", "Produce"}, {"topic", "tp"}, {"partition", 1}, {"error", "NOT_LEADER_OR_FOLLOWER"}});
  client c(broker_.port());
  EXPECT_EQ(produce_error(c, "tp", 0), 0);
  EXPECT_EQ(produce_error(c, "tp", 1), NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(produce_error(c, "other", 1), 0);
}

TEST_F(Faults, TopicMatchesFetchByTopicId) {
  broker_.create_topic("byid");
  client c(broker_.port());
  metadata_request md_req;
  md_req.topics.emplace();
  md_req.topics->push_back({uuid{}, "byid", {}});
  auto md = c.call(md_req, 12);
  const uuid id = md.topics.at(0).topic_id;
  add_rule({{"api", "Fetch"}, {"topic", "byid"}, {"error", "NOT_LEADER_OR_FOLLOWER"}, {"count", 1}});
  fetch_request f;
  f.max_wait_ms = 0;
  f.max_bytes = 1 << 20;
  auto& t = f.topics.emplace_back();
  t.topic_id = id;  // v13+: by id only
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.partition_max_bytes = 1 << 20;
  auto resp = c.call(f, 13);
  ASSERT_EQ(resp.responses.size(), 1u);
  EXPECT_EQ(resp.responses[0].topic_id, id);
  EXPECT_EQ(resp.responses[0].partitions.at(0).error_code, NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(resp.error_code, NOT_LEADER_OR_FOLLOWER);
  auto again = c.call(f, 13);
  EXPECT_EQ(again.responses.at(0).partitions.at(0).error_code, 0) << "count 1: fired once";
}

// A request naming several partitions: only those the rule names get the error; the others are
// handled (appended, fetched) and answered in the same response.
produce_request produce_two(const std::vector<std::pair<std::string, int32_t>>& where, int16_t acks = -1) {
  produce_request req;
  req.acks = acks;
  req.timeout_ms = 5000;
  for (const auto& [topic, partition] : where) {
    produce_request::topic_produce_data* t = nullptr;
    for (auto& x : req.topic_data)
      if (x.name == topic) t = &x;
    if (!t) {
      t = &req.topic_data.emplace_back();
      t->name = topic;
    }
    auto& p = t->partition_data.emplace_back();
    p.index = partition;
    p.records_ = one_batch(topic + "-" + std::to_string(partition));
  }
  return req;
}

std::map<std::string, int16_t> produce_errors(const produce_response& resp) {
  std::map<std::string, int16_t> out;
  for (const auto& t : resp.responses)
    for (const auto& p : t.partition_responses) out[t.name + "-" + std::to_string(p.index)] = p.error_code;
  return out;
}

TEST_F(Faults, APartitionRuleFailsOnlyThatPartitionOfAProduce) {
  broker_.create_topic("part", 2);
  add_rule({{"api", "Produce"}, {"topic", "part"}, {"partition", 1}, {"error", "NOT_LEADER_OR_FOLLOWER"}});
  client c(broker_.port());
  for (int16_t v : {int16_t(3), int16_t(9)}) {
    auto resp = c.call(produce_two({{"part", 0}, {"part", 1}}), v);
    auto errs = produce_errors(resp);
    EXPECT_EQ(errs["part-0"], 0) << v;
    EXPECT_EQ(errs["part-1"], NOT_LEADER_OR_FOLLOWER) << v;
    for (const auto& p : resp.responses.at(0).partition_responses)
      if (p.index == 1) EXPECT_EQ(p.base_offset, -1);
  }
  EXPECT_EQ(broker_.end_offset("part", 0), 2);
  EXPECT_EQ(broker_.end_offset("part", 1), 0);
  // acks=0: partition 0 is stored, nothing is answered.
  c.send(produce_two({{"part", 0}, {"part", 1}}, 0), 9);
  auto md = c.call(metadata_request{}, 1);
  EXPECT_EQ(broker_.end_offset("part", 0), 3);
  // The trace shows the injected code next to the handled partition.
  EXPECT_EQ(broker_.trace("Produce").back().error_codes, std::vector<std::string>{"NOT_LEADER_OR_FOLLOWER"});
}

TEST_F(Faults, ATopicRuleFailsOnlyThatTopicOfAProduce) {
  broker_.create_topic("bad");
  broker_.create_topic("good");
  add_rule({{"api", "Produce"}, {"topic", "bad"}, {"error", "NOT_LEADER_OR_FOLLOWER"}, {"count", 1}});
  client c(broker_.port());
  auto errs = produce_errors(c.call(produce_two({{"good", 0}, {"bad", 0}}), 8));
  EXPECT_EQ(errs["good-0"], 0);
  EXPECT_EQ(errs["bad-0"], NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(broker_.end_offset("good", 0), 1);
  EXPECT_EQ(broker_.end_offset("bad", 0), 0);
}

TEST_F(Faults, APartitionRuleFailsOnlyThatPartitionOfAFetch) {
  broker_.create_topic("fp", 2);
  client c(broker_.port());
  ASSERT_EQ(produce_error(c, "fp", 0), 0);
  ASSERT_EQ(produce_error(c, "fp", 1), 0);
  metadata_request md_req;
  md_req.topics.emplace();
  md_req.topics->push_back({uuid{}, "fp", {}});
  const uuid id = c.call(md_req, 12).topics.at(0).topic_id;
  add_rule({{"api", "Fetch"}, {"topic", "fp"}, {"partition", 0}, {"error", "NOT_LEADER_OR_FOLLOWER"}});
  for (int16_t v : {int16_t(4), int16_t(12), int16_t(13), int16_t(17)}) {
    fetch_request f;
    f.max_wait_ms = 0;
    f.max_bytes = 1 << 20;
    auto& t = f.topics.emplace_back();
    t.topic = "fp";
    t.topic_id = id;
    for (int32_t p : {0, 1}) {
      auto& fp = t.partitions.emplace_back();
      fp.partition = p;
      fp.partition_max_bytes = 1 << 20;
    }
    auto resp = c.call(f, v);
    std::map<int32_t, const fetch_response::partition_data*> by;
    size_t n = 0;
    for (const auto& tr : resp.responses) {
      if (v >= 13) EXPECT_EQ(tr.topic_id, id) << v;
      else EXPECT_EQ(tr.topic, "fp") << v;
      for (const auto& p : tr.partitions) by[p.partition_index] = &p, ++n;
    }
    ASSERT_EQ(n, 2u) << v;
    EXPECT_EQ(by[0]->error_code, NOT_LEADER_OR_FOLLOWER) << v;
    EXPECT_EQ(by[0]->high_watermark, -1) << v;
    EXPECT_EQ(by[1]->error_code, 0) << v;
    EXPECT_EQ(by[1]->high_watermark, 1) << v;
    EXPECT_GT(by[1]->records_.size(), 0u) << v << ": partition 1 is fetched as usual";
  }
}

TEST_F(Faults, VersionsClientIdAndBrokerNarrowTheMatch) {
  broker_.create_topic("narrow");
  add_rule({{"api", "Produce"}, {"versions", {3, 7}}, {"error", "NOT_LEADER_OR_FOLLOWER"}});
  add_rule({{"api", "Produce"}, {"client_id", "victim"}, {"error", "NOT_LEADER_OR_FOLLOWER"}});
  add_rule({{"api", "Produce"}, {"broker", 2}, {"error", "NOT_LEADER_OR_FOLLOWER"}});  // no node 2 here
  client c(broker_.port());
  EXPECT_EQ(produce_error(c, "narrow", 0, 7), NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(produce_error(c, "narrow", 0, 8), 0);
  c.client_id = "victim";
  EXPECT_EQ(produce_error(c, "narrow", 0, 8), NOT_LEADER_OR_FOLLOWER);
}

TEST_F(Faults, BrokerMatchesTheNodeIdOfTheListener) {
  add_rule({{"api", "Metadata"}, {"broker", 1}, {"error", "NOT_LEADER_OR_FOLLOWER"}, {"count", 1}});
  client c(broker_.port());
  metadata_request req;
  req.topics.emplace();
  req.topics->push_back({uuid{}, "m", {}});
  auto md = c.call(req, 4);
  EXPECT_EQ(md.topics.at(0).error_code, NOT_LEADER_OR_FOLLOWER);
}

TEST_F(Faults, GroupIdMatchesGroupRequests) {
  add_rule({{"api", "FindCoordinator"}, {"group_id", "g1"}, {"error", "COORDINATOR_NOT_AVAILABLE"}});
  client c(broker_.port());
  find_coordinator_request req;
  req.key = "g1";
  EXPECT_EQ(c.call(req, 2).error_code, COORDINATOR_NOT_AVAILABLE);
  req.key = "g2";
  EXPECT_EQ(c.call(req, 2).error_code, 0);
}

TEST_F(Faults, ProbabilityWithASeedIsDeterministic) {
  broker_.create_topic("prob");
  auto pattern = [&](uint64_t seed) {
    EXPECT_EQ(http_call(admin_, "DELETE", "/v1/control/faults").status, 200);
    add_rule({{"api", "Produce"}, {"probability", 0.5}, {"seed", seed}, {"error", "NOT_LEADER_OR_FOLLOWER"}});
    client c(broker_.port());
    std::string out;
    for (int i = 0; i < 40; ++i) out += produce_error(c, "prob", 0) ? 'x' : '.';
    return out;
  };
  const std::string a = pattern(42), b = pattern(42), other = pattern(7);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  const auto fails = std::count(a.begin(), a.end(), 'x');
  EXPECT_GT(fails, 5) << a;
  EXPECT_LT(fails, 35) << a;
}

// ------------------------------------------------------------------------------ actions

TEST_F(Faults, DelayHoldsTheAnswer) {
  broker_.create_topic("slow");
  add_rule({{"api", "Produce"}, {"delay_ms", 150}, {"count", 1}});
  client c(broker_.port());
  const auto t0 = steady::now();
  EXPECT_EQ(produce_error(c, "slow", 0), 0);
  EXPECT_GE(steady::now() - t0, 150ms);
  EXPECT_EQ(broker_.end_offset("slow", 0), 1) << "a delay alone lets the request through";
}

TEST_F(Faults, DelayWithErrorDelaysTheError) {
  broker_.create_topic("slowerr");
  add_rule({{"api", "Produce"}, {"delay_ms", 100}, {"error", "NOT_LEADER_OR_FOLLOWER"}, {"count", 1}});
  client c(broker_.port());
  const auto t0 = steady::now();
  EXPECT_EQ(produce_error(c, "slowerr", 0), NOT_LEADER_OR_FOLLOWER);
  EXPECT_GE(steady::now() - t0, 100ms);
}

TEST_F(Faults, DropSendsNothingAndTheConnectionCarriesOn) {
  broker_.create_topic("drop");
  add_rule({{"api", "Produce"}, {"action", "drop"}, {"count", 1}});
  client c(broker_.port());
  c.send(produce_req("drop", 0, "lost"), 9);
  EXPECT_FALSE(c.try_receive_frame(300ms).has_value()) << "a dropped request gets no answer";
  EXPECT_EQ(produce_error(c, "drop", 0), 0) << "the next request is answered";
  EXPECT_EQ(broker_.end_offset("drop", 0), 1) << "the dropped produce stored nothing";
}

TEST_F(Faults, CloseClosesTheConnection) {
  add_rule({{"api", "Metadata"}, {"action", "close"}, {"count", 1}});
  client c(broker_.port());
  c.send(metadata_request{}, 1);
  EXPECT_TRUE(c.closed_within(2s));
  client again(broker_.port());
  EXPECT_EQ(again.call(metadata_request{}, 1).brokers.size(), 1u) << "count 1: the next connection is served";
}

TEST_F(Faults, ARuleWithoutApiDelaysEveryRequestOfOneClient) {
  add_rule({{"client_id", "laggy"}, {"delay_ms", 80}});
  client fast(broker_.port());
  client slow(broker_.port());
  slow.client_id = "laggy";
  auto t0 = steady::now();
  slow.call(api_versions_request{}, 0);
  slow.call(metadata_request{}, 1);
  EXPECT_GE(steady::now() - t0, 160ms);
  fast.call(metadata_request{}, 1);  // not held back by the other client's delay
}

TEST_F(Faults, RemovingTheLastRuleRestoresNormalService) {
  broker_.create_topic("restore");
  auto r = add_rule({{"api", "Produce"}, {"error", "NOT_LEADER_OR_FOLLOWER"}});
  client c(broker_.port());
  EXPECT_EQ(produce_error(c, "restore", 0), NOT_LEADER_OR_FOLLOWER);
  ASSERT_EQ(http_call(admin_, "DELETE", "/v1/control/faults/" + std::to_string(r["id"].get<int64_t>())).status, 200);
  EXPECT_EQ(produce_error(c, "restore", 0), 0);
}

// ------------------------------------------------------------------------- embedding API

TEST(FaultsEmbedded, AddListRemoveThroughTheCppApi) {
  minikafka::broker b;
  b.start();
  b.create_topic("cpp");
  minikafka::fault_rule r;
  r.api = "produce";
  r.topic = "cpp";
  r.error = "not_leader_or_follower";
  r.count = 2;
  const int64_t id = b.add_fault(r);
  client c(b.port());
  EXPECT_EQ(produce_error(c, "cpp", 0), NOT_LEADER_OR_FOLLOWER);
  auto list = b.faults();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, id);
  EXPECT_EQ(list[0].rule.api, "Produce");
  EXPECT_EQ(list[0].rule.error, "NOT_LEADER_OR_FOLLOWER");
  EXPECT_EQ(list[0].fired, 1);
  EXPECT_TRUE(b.remove_fault(id));
  EXPECT_FALSE(b.remove_fault(id));
  EXPECT_EQ(produce_error(c, "cpp", 0), 0);

  minikafka::fault_rule bad;
  bad.api = "Produce";
  EXPECT_THROW(b.add_fault(bad), minikafka::error) << "no effect";
  bad.error = "NO_SUCH_ERROR";
  EXPECT_THROW(b.add_fault(bad), minikafka::error);
  minikafka::fault_rule drop;
  drop.act = minikafka::fault_rule::action::drop;
  drop.client_id = "nobody";
  b.add_fault(drop);
  EXPECT_EQ(b.clear_faults(), 1u);
}

}  // namespace
