// Protocol-level behaviour of a real broker over a real socket, driven by test_client.h: the
// exact versions, error codes and edge cases that Kafka clients depend on (facts: WIRE.md,
// CLIENTS.md; behaviour blocks at the top of broker/handlers/*.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "minikafka/broker.h"
#include "protocol/error_code.h"
#include "protocol/generated/all_messages.h"
#include "protocol/records/legacy.h"
#include "protocol/records/record_batch.h"
#include "test_client.h"

namespace {

using namespace std::chrono_literals;
using namespace mk::proto;
namespace rec = mk::records;
using mk::test::client;
using steady = std::chrono::steady_clock;

// Kafka error codes used below.
constexpr int16_t NONE = 0;
constexpr int16_t OFFSET_OUT_OF_RANGE = 1;
constexpr int16_t UNKNOWN_TOPIC_OR_PARTITION = 3;
constexpr int16_t INVALID_TOPIC_EXCEPTION = 17;
constexpr int16_t INVALID_REQUIRED_ACKS = 21;
constexpr int16_t UNSUPPORTED_VERSION = 35;
constexpr int16_t TOPIC_ALREADY_EXISTS = 36;
constexpr int16_t INVALID_PARTITIONS = 37;
constexpr int16_t INVALID_REPLICATION_FACTOR = 38;
constexpr int16_t INVALID_REQUEST = 42;
constexpr int16_t UNKNOWN_TOPIC_ID = 100;
constexpr int16_t MESSAGE_TOO_LARGE = 10;
constexpr int16_t INVALID_REPLICA_ASSIGNMENT = 39;
constexpr int16_t INVALID_CONFIG = 40;
constexpr int16_t FENCED_LEADER_EPOCH = 74;
constexpr int16_t UNKNOWN_LEADER_EPOCH = 75;
constexpr int16_t UNSUPPORTED_COMPRESSION_TYPE = 76;
constexpr int16_t INVALID_RECORD = 87;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ------------------------------------------------------------------------------- builders

// One v2 batch with records k<i> / <prefix><i> at the given timestamps.
std::vector<uint8_t> batch_with(const std::vector<int64_t>& timestamps, const std::string& prefix = "v",
                                rec::codec c = rec::codec::none) {
  std::vector<rec::record_in> rs;
  for (size_t i = 0; i < timestamps.size(); ++i) {
    rec::record_in r;
    r.key = "k" + std::to_string(i);
    r.value = prefix + std::to_string(i);
    r.headers = {{"h", "x"}};
    r.timestamp = timestamps[i];
    rs.push_back(std::move(r));
  }
  auto b = rec::build_batch(rs, c);
  EXPECT_FALSE(b.empty());
  return b;
}

std::vector<uint8_t> batch_of(int n, const std::string& prefix = "v") {
  return batch_with(std::vector<int64_t>(static_cast<size_t>(n), wall_ms()), prefix);
}

records as_records(const std::vector<std::vector<uint8_t>>& parts) {
  std::vector<uint8_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return records{false, {mk::shared_chunk::adopt(std::move(all))}};
}

produce_request produce_req(const std::string& topic, int32_t partition, records data, int16_t acks = -1) {
  produce_request req;
  req.acks = acks;
  req.timeout_ms = 5000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records_ = std::move(data);
  return req;
}

fetch_request fetch_req(const std::string& topic, int32_t partition, int64_t offset, int32_t max_wait_ms = 0,
                        int32_t min_bytes = 0, int32_t max_bytes = 64 << 20, uuid topic_id = {}) {
  fetch_request req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = min_bytes;
  req.max_bytes = max_bytes;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  t.topic_id = topic_id;
  auto& p = t.partitions.emplace_back();
  p.partition = partition;
  p.fetch_offset = offset;
  p.partition_max_bytes = max_bytes;
  return req;
}

metadata_request metadata_for(const std::vector<std::string>& names, bool allow_auto_create = true) {
  metadata_request req;
  req.topics.emplace();
  for (const auto& n : names) req.topics->push_back({uuid{}, n, {}});
  req.allow_auto_topic_creation = allow_auto_create;
  return req;
}

create_topics_request create_req(const std::string& name, int32_t partitions = 1, int16_t rf = 1,
                                 std::map<std::string, std::string> configs = {}, bool validate_only = false) {
  create_topics_request req;
  req.timeout_ms = 5000;
  req.validate_only = validate_only;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = rf;
  for (const auto& [k, v] : configs) t.configs.push_back({k, v, {}});
  return req;
}

// Splits record data into batches (all must be valid).
std::vector<rec::batch_header> batches_in(const std::vector<uint8_t>& bytes) {
  std::vector<rec::batch_header> hs;
  EXPECT_EQ(rec::parse_batches(bytes.data(), bytes.size(), hs), rec::batch_error::none);
  return hs;
}

std::vector<rec::record_view> records_in(const std::vector<uint8_t>& batch, std::vector<uint8_t>& scratch) {
  std::vector<rec::record_view> out;
  EXPECT_TRUE(rec::decode_records(batch.data(), batch.size(), scratch, out));
  return out;
}

// --------------------------------------------------------------------------------- fixture

class Protocol : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { minikafka::set_log_level("warn"); }
  void SetUp() override { broker_.start(); }

  client connect() { return client(broker_.port()); }

  // Produces record data with acks=-1 at `version`; returns the partition response.
  produce_response::partition_produce_response produce(client& c, const std::string& topic, int32_t partition,
                                                       records data, int16_t version = 7) {
    auto resp = c.call(produce_req(topic, partition, std::move(data)), version);
    EXPECT_EQ(resp.responses.size(), 1u);
    EXPECT_EQ(resp.responses.at(0).partition_responses.size(), 1u);
    return resp.responses.at(0).partition_responses.at(0);
  }

  uuid topic_id(client& c, const std::string& topic) {
    auto md = c.call(metadata_for({topic}, false), 10);
    return md.topics.at(0).topic_id;
  }

  minikafka::broker broker_;
};

// ------------------------------------------------------------------------------- ApiVersions

TEST_F(Protocol, ApiVersionsEveryVersionListsServedRanges) {
  auto c = connect();
  for (int16_t v = 0; v <= 4; ++v) {
    SCOPED_TRACE("ApiVersions v" + std::to_string(v));
    api_versions_request req;
    req.client_software_name = "mk-integration";
    req.client_software_version = "1.0";
    auto resp = c.call(req, v);
    EXPECT_EQ(resp.error_code, NONE);
    std::map<int16_t, std::pair<int16_t, int16_t>> ranges;
    for (const auto& k : resp.api_keys) {
      EXPECT_TRUE(ranges.emplace(k.api_key, std::make_pair(k.min_version, k.max_version)).second)
          << "duplicate key " << k.api_key;
    }
    EXPECT_TRUE(std::is_sorted(resp.api_keys.begin(), resp.api_keys.end(),
                               [](const auto& a, const auto& b) { return a.api_key < b.api_key; }));
    using R = std::pair<int16_t, int16_t>;
    EXPECT_EQ(ranges[0], R(0, 11)) << "Produce";
    EXPECT_EQ(ranges[1], R(0, 17)) << "Fetch";
    EXPECT_EQ(ranges[2], R(0, 9)) << "ListOffsets";
    EXPECT_EQ(ranges[3], R(0, 12)) << "Metadata";
    EXPECT_EQ(ranges[10], R(0, 6)) << "FindCoordinator";
    EXPECT_EQ(ranges[18], R(0, 4)) << "ApiVersions";
    EXPECT_EQ(ranges[19], R(0, 7)) << "CreateTopics";
    EXPECT_EQ(ranges[20], R(0, 6)) << "DeleteTopics";
    EXPECT_EQ(ranges[32], R(0, 4)) << "DescribeConfigs";
    EXPECT_EQ(ranges[37], R(0, 3)) << "CreatePartitions";
  }
}

TEST_F(Protocol, ApiVersionsV3RejectsBadSoftwareNameButStillLists) {
  auto c = connect();
  api_versions_request req;
  req.client_software_name = "-bad name-";
  req.client_software_version = "1.0";
  auto resp = c.call(req, 3);
  EXPECT_EQ(resp.error_code, INVALID_REQUEST);
  EXPECT_FALSE(resp.api_keys.empty());
}

TEST_F(Protocol, ApiVersionsUnknownVersionAnsweredInV0WithOwnRange) {
  auto c = connect();
  api_versions_request req;
  req.client_software_name = "future-client";
  req.client_software_version = "9.9";
  int32_t corr = 0;
  auto body = c.encode_request(req, 99, &corr);  // header v2 (flexible), body like v4
  c.send_raw(client::frame(body));
  auto resp = c.receive<api_versions_response>(0, corr);  // read as v0
  EXPECT_EQ(resp.error_code, UNSUPPORTED_VERSION);
  ASSERT_EQ(resp.api_keys.size(), 1u);
  EXPECT_EQ(resp.api_keys[0].api_key, 18);
  EXPECT_EQ(resp.api_keys[0].min_version, 0);
  EXPECT_EQ(resp.api_keys[0].max_version, 4);
  // The connection stays usable: the client retries with a version we know.
  req.client_software_name = "retry";
  EXPECT_EQ(c.call(req, 3).error_code, NONE);
}

TEST_F(Protocol, PipelinedRequestsAreAnsweredInOrder) {
  broker_.create_topic("piped");
  auto c = connect();
  int32_t c1 = 0, c2 = 0, c3 = 0;
  auto f1 = client::frame(c.encode_request(api_versions_request{}, 0, &c1));
  metadata_request all_v0;
  all_v0.topics.emplace();  // v0: empty = all topics
  auto f2 = client::frame(c.encode_request(all_v0, 0, &c2));
  auto f3 = client::frame(c.encode_request(metadata_for({"piped"}), 1, &c3));
  std::vector<uint8_t> burst;
  for (auto* f : {&f1, &f2, &f3}) burst.insert(burst.end(), f->begin(), f->end());
  c.send_raw(burst);  // all three before reading anything

  auto r1 = c.receive<api_versions_response>(0, c1);
  EXPECT_EQ(r1.error_code, NONE);
  auto r2 = c.receive<metadata_response>(0, c2);
  ASSERT_EQ(r2.topics.size(), 1u);
  EXPECT_EQ(r2.topics[0].name, "piped");
  auto r3 = c.receive<metadata_response>(1, c3);
  ASSERT_EQ(r3.topics.size(), 1u);
  EXPECT_EQ(r3.controller_id, 1);
}

// ---------------------------------------------------------------------------------- Metadata

TEST_F(Protocol, MetadataDescribesBrokerAndTopic) {
  broker_.create_topic("described", 3);
  auto c = connect();
  for (int16_t v = 1; v <= 12; ++v) {
    SCOPED_TRACE("Metadata v" + std::to_string(v));
    auto md = c.call(metadata_for({"described"}), v);
    ASSERT_EQ(md.brokers.size(), 1u);
    EXPECT_EQ(md.brokers[0].node_id, 1);
    EXPECT_EQ(md.brokers[0].host, "127.0.0.1");
    EXPECT_EQ(md.brokers[0].port, broker_.port());
    ASSERT_EQ(md.topics.size(), 1u);
    EXPECT_EQ(md.topics[0].error_code, NONE);
    ASSERT_EQ(md.topics[0].partitions.size(), 3u);
    for (int32_t p = 0; p < 3; ++p) {
      EXPECT_EQ(md.topics[0].partitions[p].partition_index, p);
      EXPECT_EQ(md.topics[0].partitions[p].leader_id, 1);
      EXPECT_EQ(md.topics[0].partitions[p].replica_nodes, std::vector<int32_t>{1});
      EXPECT_EQ(md.topics[0].partitions[p].isr_nodes, std::vector<int32_t>{1});
    }
    if (v >= 2) { EXPECT_EQ(md.cluster_id, std::optional<std::string>("minikafka-cluster")); }
    if (v >= 10) { EXPECT_FALSE(md.topics[0].topic_id.is_zero()); }
  }
}

TEST_F(Protocol, MetadataAutoCreatesUnknownTopics) {
  auto c = connect();
  auto md = c.call(metadata_for({"auto-v1"}), 1);  // v0-v3: always allowed
  ASSERT_EQ(md.topics.size(), 1u);
  EXPECT_EQ(md.topics[0].error_code, NONE);
  EXPECT_EQ(md.topics[0].partitions.size(), 1u);
  md = c.call(metadata_for({"auto-v9"}, true), 9);
  EXPECT_EQ(md.topics.at(0).error_code, NONE);
  auto topics = broker_.topics();
  EXPECT_EQ(topics, (std::vector<std::string>{"auto-v1", "auto-v9"}));
}

TEST_F(Protocol, MetadataWithoutAutoCreationAnswersUnknownTopic) {
  auto c = connect();
  for (int16_t v = 4; v <= 12; ++v) {
    SCOPED_TRACE("Metadata v" + std::to_string(v));
    auto md = c.call(metadata_for({"not-created"}, false), v);
    ASSERT_EQ(md.topics.size(), 1u);
    EXPECT_EQ(md.topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION);
    EXPECT_EQ(md.topics[0].name, std::optional<std::string>("not-created"));
  }
  EXPECT_TRUE(broker_.topics().empty());
  // An illegal name is never created.
  auto md = c.call(metadata_for({"bad/name"}), 1);
  EXPECT_EQ(md.topics.at(0).error_code, INVALID_TOPIC_EXCEPTION);
  EXPECT_TRUE(broker_.topics().empty());
}

TEST(ProtocolNoAutoCreate, BrokerWithAutoCreationOffRefusesUnknownTopics) {
  minikafka::broker_options opts;
  opts.auto_create_topics = false;
  minikafka::broker b(opts);
  b.start();
  client c(b.port());
  auto md = c.call(metadata_for({"nope"}), 1);
  EXPECT_EQ(md.topics.at(0).error_code, UNKNOWN_TOPIC_OR_PARTITION);
  auto pr = c.call(produce_req("nope", 0, as_records({batch_of(1)})), 7);
  EXPECT_EQ(pr.responses.at(0).partition_responses.at(0).error_code, UNKNOWN_TOPIC_OR_PARTITION);
  EXPECT_TRUE(b.topics().empty());
}

// ------------------------------------------------------------------------------ CreateTopics

TEST_F(Protocol, CreateTopicsRejectsIllegalNames) {
  auto c = connect();
  for (const std::string& name : {std::string("bad/name"), std::string("."), std::string(".."), std::string(250, 'a'),
                                  std::string(""), std::string("with space")}) {
    SCOPED_TRACE("name '" + name + "'");
    auto resp = c.call(create_req(name), 4);
    ASSERT_EQ(resp.topics.size(), 1u);
    EXPECT_EQ(resp.topics[0].error_code, INVALID_TOPIC_EXCEPTION);
  }
  EXPECT_TRUE(broker_.topics().empty());
  // 249 characters is the longest legal name.
  EXPECT_EQ(c.call(create_req(std::string(249, 'a')), 4).topics.at(0).error_code, NONE);
}

TEST_F(Protocol, CreateTopicsAlreadyExists) {
  auto c = connect();
  EXPECT_EQ(c.call(create_req("dup"), 2).topics.at(0).error_code, NONE);
  auto resp = c.call(create_req("dup"), 2);
  EXPECT_EQ(resp.topics.at(0).error_code, TOPIC_ALREADY_EXISTS);
  EXPECT_TRUE(resp.topics.at(0).error_message.has_value());
}

TEST_F(Protocol, CreateTopicsInvalidPartitionsAndReplicationFactor) {
  auto c = connect();
  for (int32_t parts : {0, -2}) {
    SCOPED_TRACE("partitions " + std::to_string(parts));
    EXPECT_EQ(c.call(create_req("p", parts), 4).topics.at(0).error_code, INVALID_PARTITIONS);
  }
  for (int16_t rf : {int16_t{0}, int16_t{-2}}) {
    SCOPED_TRACE("replication factor " + std::to_string(rf));
    EXPECT_EQ(c.call(create_req("r", 1, rf), 4).topics.at(0).error_code, INVALID_REPLICATION_FACTOR);
  }
  EXPECT_TRUE(broker_.topics().empty());
  // -1 means "broker default" for both.
  auto ok = c.call(create_req("defaults", -1, -1), 5);
  EXPECT_EQ(ok.topics.at(0).error_code, NONE);
  EXPECT_EQ(ok.topics.at(0).num_partitions, 1);
  EXPECT_EQ(ok.topics.at(0).replication_factor, 1);
}

TEST_F(Protocol, CreateTopicsValidateOnlyCreatesNothing) {
  auto c = connect();
  auto resp = c.call(create_req("dry-run", 4, 1, {}, true), 5);
  EXPECT_EQ(resp.topics.at(0).error_code, NONE);
  EXPECT_EQ(resp.topics.at(0).num_partitions, 4);
  EXPECT_TRUE(broker_.topics().empty());
  // Validation still happens.
  EXPECT_EQ(c.call(create_req("dry-run", 0, 1, {}, true), 5).topics.at(0).error_code, INVALID_PARTITIONS);
  EXPECT_TRUE(broker_.topics().empty());
}

TEST_F(Protocol, CreateTopicsV5ReturnsConfigsAndV7TopicId) {
  auto c = connect();
  auto resp = c.call(create_req("with-configs", 2, 1, {{"cleanup.policy", "compact"}}), 5);
  const auto& r = resp.topics.at(0);
  ASSERT_EQ(r.error_code, NONE);
  EXPECT_EQ(r.num_partitions, 2);
  EXPECT_EQ(r.replication_factor, 1);
  ASSERT_TRUE(r.configs.has_value());
  std::map<std::string, std::pair<std::optional<std::string>, int8_t>> cfg;
  for (const auto& x : *r.configs) cfg[x.name] = {x.value, x.config_source};
  ASSERT_TRUE(cfg.count("cleanup.policy"));
  EXPECT_EQ(cfg["cleanup.policy"].first, std::optional<std::string>("compact"));
  EXPECT_EQ(cfg["cleanup.policy"].second, 1) << "TOPIC_CONFIG";
  ASSERT_TRUE(cfg.count("retention.ms"));
  EXPECT_EQ(cfg["retention.ms"].first, std::optional<std::string>("604800000"));
  EXPECT_EQ(cfg["retention.ms"].second, 5) << "DEFAULT_CONFIG";

  auto v7 = c.call(create_req("with-id"), 7);
  ASSERT_EQ(v7.topics.at(0).error_code, NONE);
  EXPECT_FALSE(v7.topics.at(0).topic_id.is_zero());
  EXPECT_EQ(v7.topics.at(0).topic_id, topic_id(c, "with-id")) << "same id as Metadata v10";
}

// ------------------------------------------------------------------------------ DeleteTopics

TEST_F(Protocol, DeleteTopicsByNameAndById) {
  broker_.create_topic("del-a");
  broker_.create_topic("del-b");
  broker_.create_topic("del-c");
  auto c = connect();

  delete_topics_request by_name;
  by_name.timeout_ms = 5000;
  by_name.topic_names = {"del-a", "missing"};
  auto r1 = c.call(by_name, 1);
  ASSERT_EQ(r1.responses.size(), 2u);
  EXPECT_EQ(r1.responses[0].name, std::optional<std::string>("del-a"));
  EXPECT_EQ(r1.responses[0].error_code, NONE);
  EXPECT_EQ(r1.responses[1].error_code, UNKNOWN_TOPIC_OR_PARTITION);

  uuid id_c = topic_id(c, "del-c");
  ASSERT_FALSE(id_c.is_zero());
  delete_topics_request v6;
  v6.timeout_ms = 5000;
  v6.topics.push_back({std::string("del-b"), uuid{}, {}});
  v6.topics.push_back({std::nullopt, id_c, {}});
  v6.topics.push_back({std::nullopt, uuid::random(), {}});
  auto r6 = c.call(v6, 6);
  ASSERT_EQ(r6.responses.size(), 3u);
  EXPECT_EQ(r6.responses[0].error_code, NONE);
  EXPECT_EQ(r6.responses[0].name, std::optional<std::string>("del-b"));
  EXPECT_EQ(r6.responses[1].error_code, NONE);
  EXPECT_EQ(r6.responses[1].name, std::optional<std::string>("del-c"));
  EXPECT_EQ(r6.responses[1].topic_id, id_c);
  EXPECT_EQ(r6.responses[2].error_code, UNKNOWN_TOPIC_ID);

  EXPECT_TRUE(broker_.topics().empty());
  auto md = c.call(metadata_for({"del-a"}, false), 4);
  EXPECT_EQ(md.topics.at(0).error_code, UNKNOWN_TOPIC_OR_PARTITION);
}

// -------------------------------------------------------------------------- CreatePartitions

TEST_F(Protocol, CreatePartitionsGrowsButNeverShrinks) {
  broker_.create_topic("grow", 2);
  auto c = connect();
  auto req = [](const std::string& name, int32_t count) {
    create_partitions_request r;
    r.timeout_ms = 5000;
    r.topics.push_back({name, count, std::nullopt, {}});
    return r;
  };
  EXPECT_EQ(c.call(req("grow", 5), 1).results.at(0).error_code, NONE);
  EXPECT_EQ(c.call(metadata_for({"grow"}), 1).topics.at(0).partitions.size(), 5u);
  EXPECT_EQ(broker_.end_offset("grow", 4), 0);
  EXPECT_EQ(c.call(req("grow", 5), 2).results.at(0).error_code, INVALID_PARTITIONS);
  EXPECT_EQ(c.call(req("grow", 3), 3).results.at(0).error_code, INVALID_PARTITIONS);
  EXPECT_EQ(c.call(req("absent", 3), 0).results.at(0).error_code, UNKNOWN_TOPIC_OR_PARTITION);
  // validate_only changes nothing.
  auto dry = req("grow", 8);
  dry.validate_only = true;
  EXPECT_EQ(c.call(dry, 1).results.at(0).error_code, NONE);
  EXPECT_EQ(c.call(metadata_for({"grow"}), 1).topics.at(0).partitions.size(), 5u);
}

// --------------------------------------------------------------------------- DescribeConfigs

TEST_F(Protocol, DescribeConfigsTopicOverrideVersusDefault) {
  broker_.create_topic("cfg", 1, {{"retention.ms", "1000"}});
  auto c = connect();
  for (int16_t v = 0; v <= 4; ++v) {
    SCOPED_TRACE("DescribeConfigs v" + std::to_string(v));
    describe_configs_request req;
    req.resources.push_back({2, "cfg", std::nullopt, {}});
    auto resp = c.call(req, v);
    ASSERT_EQ(resp.results.size(), 1u);
    const auto& res = resp.results[0];
    EXPECT_EQ(res.error_code, NONE);
    std::map<std::string, describe_configs_response::describe_configs_resource_result> by_name;
    for (const auto& e : res.configs) by_name[e.name] = e;
    ASSERT_TRUE(by_name.count("retention.ms"));
    ASSERT_TRUE(by_name.count("cleanup.policy"));
    ASSERT_TRUE(by_name.count("max.message.bytes"));
    EXPECT_EQ(by_name["retention.ms"].value, std::optional<std::string>("1000"));
    EXPECT_EQ(by_name["cleanup.policy"].value, std::optional<std::string>("delete"));
    EXPECT_EQ(by_name["max.message.bytes"].value, std::optional<std::string>("1048588"));
    if (v == 0) {
      EXPECT_FALSE(by_name["retention.ms"].is_default);
      EXPECT_TRUE(by_name["cleanup.policy"].is_default);
    } else {
      EXPECT_EQ(by_name["retention.ms"].config_source, 1) << "TOPIC_CONFIG";
      EXPECT_EQ(by_name["cleanup.policy"].config_source, 5) << "DEFAULT_CONFIG";
    }
  }
  // Filter by key, and unknown topics.
  describe_configs_request req;
  req.resources.push_back({2, "cfg", std::vector<std::string>{"retention.ms"}, {}});
  req.resources.push_back({2, "absent", std::nullopt, {}});
  auto resp = c.call(req, 2);
  ASSERT_EQ(resp.results.size(), 2u);
  ASSERT_EQ(resp.results[0].configs.size(), 1u);
  EXPECT_EQ(resp.results[0].configs[0].name, "retention.ms");
  EXPECT_EQ(resp.results[1].error_code, UNKNOWN_TOPIC_OR_PARTITION);
}

TEST_F(Protocol, DescribeConfigsBroker) {
  auto c = connect();
  describe_configs_request req;
  req.resources.push_back({4, "1", std::nullopt, {}});
  req.resources.push_back({4, "", std::vector<std::string>{"num.partitions"}, {}});
  req.resources.push_back({4, "7", std::nullopt, {}});
  auto resp = c.call(req, 4);
  ASSERT_EQ(resp.results.size(), 3u);
  EXPECT_EQ(resp.results[0].error_code, NONE);
  std::map<std::string, std::optional<std::string>> cfg;
  for (const auto& e : resp.results[0].configs) cfg[e.name] = e.value;
  EXPECT_EQ(cfg["num.partitions"], std::optional<std::string>("1"));
  EXPECT_EQ(cfg["auto.create.topics.enable"], std::optional<std::string>("true"));
  EXPECT_EQ(cfg["message.max.bytes"], std::optional<std::string>("1048588"));
  EXPECT_EQ(cfg["broker.id"], std::optional<std::string>("1"));
  EXPECT_EQ(resp.results[1].error_code, NONE);
  ASSERT_EQ(resp.results[1].configs.size(), 1u);
  EXPECT_EQ(resp.results[1].configs[0].name, "num.partitions");
  EXPECT_EQ(resp.results[2].error_code, INVALID_REQUEST);
}

// ----------------------------------------------------------------------------------- Produce

TEST_F(Protocol, ProduceEveryRecordBatchVersionAssignsConsecutiveOffsets) {
  broker_.create_topic("p");
  auto c = connect();
  int64_t next = 0;
  for (int16_t v = 3; v <= 11; ++v) {
    for (int16_t acks : {int16_t{1}, int16_t{-1}}) {
      SCOPED_TRACE("Produce v" + std::to_string(v) + " acks " + std::to_string(acks));
      auto resp = c.call(produce_req("p", 0, as_records({batch_of(2)}), acks), v);
      ASSERT_EQ(resp.responses.size(), 1u);
      EXPECT_EQ(resp.responses[0].name, "p");
      const auto& pr = resp.responses[0].partition_responses.at(0);
      EXPECT_EQ(pr.error_code, NONE);
      EXPECT_EQ(pr.base_offset, next);
      if (v >= 5) { EXPECT_EQ(pr.log_start_offset, 0); }
      next += 2;
    }
  }
  EXPECT_EQ(broker_.end_offset("p", 0), next);
}

TEST_F(Protocol, ProduceAcksZeroSendsNoResponse) {
  broker_.create_topic("fire-and-forget");
  auto c = connect();
  c.send(produce_req("fire-and-forget", 0, as_records({batch_of(3)}), 0), 7);
  int32_t corr = c.send(api_versions_request{}, 0);
  // The very next frame is the ApiVersions answer: the produce got none.
  auto av = c.receive<api_versions_response>(0, corr);
  EXPECT_EQ(av.error_code, NONE);
  EXPECT_TRUE(c.idle());
  // Requests on one connection are handled in order, so the produce was applied already.
  EXPECT_EQ(broker_.end_offset("fire-and-forget", 0), 3);
}

TEST_F(Protocol, ProduceInvalidRequiredAcks) {
  broker_.create_topic("acks");
  auto c = connect();
  for (int16_t acks : {int16_t{2}, int16_t{-2}, int16_t{5}}) {
    auto resp = c.call(produce_req("acks", 0, as_records({batch_of(1)}), acks), 7);
    EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).error_code, INVALID_REQUIRED_ACKS);
  }
  EXPECT_EQ(broker_.end_offset("acks", 0), 0);
  // Nor does acks=2 auto-create a topic.
  auto resp = c.call(produce_req("acks-new", 0, as_records({batch_of(1)}), 2), 7);
  EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).error_code, INVALID_REQUIRED_ACKS);
  EXPECT_EQ(broker_.topics(), std::vector<std::string>{"acks"});
}

TEST_F(Protocol, ProduceSeveralBatchesPerPartitionGetsConsecutiveOffsets) {
  broker_.create_topic("multi");
  auto c = connect();
  auto pr = produce(c, "multi", 0, as_records({batch_of(3, "a"), batch_of(2, "b"), batch_of(4, "c")}));
  EXPECT_EQ(pr.error_code, NONE);
  EXPECT_EQ(pr.base_offset, 0);
  EXPECT_EQ(broker_.end_offset("multi", 0), 9);
  pr = produce(c, "multi", 0, as_records({batch_of(1, "d"), batch_of(1, "e")}));
  EXPECT_EQ(pr.base_offset, 9);
  EXPECT_EQ(broker_.end_offset("multi", 0), 11);

  auto f = c.call(fetch_req("multi", 0, 0), 11);
  auto bytes = f.responses.at(0).partitions.at(0).records_.flatten();
  auto hs = batches_in(bytes);
  ASSERT_EQ(hs.size(), 5u);
  std::vector<int64_t> bases;
  for (const auto& h : hs) bases.push_back(h.base_offset);
  EXPECT_EQ(bases, (std::vector<int64_t>{0, 3, 5, 9, 10}));
  EXPECT_EQ(hs[4].last_offset(), 10);
}

TEST_F(Protocol, ProduceLogAppendTimeStampsBatch) {
  broker_.create_topic("lat", 1, {{"message.timestamp.type", "LogAppendTime"}});
  auto c = connect();
  const int64_t before = wall_ms();
  auto pr = produce(c, "lat", 0, as_records({batch_with({1000, 2000, 3000})}), 8);
  const int64_t after = wall_ms();
  ASSERT_EQ(pr.error_code, NONE);
  EXPECT_GE(pr.log_append_time_ms, before);
  EXPECT_LE(pr.log_append_time_ms, after);

  auto f = c.call(fetch_req("lat", 0, 0), 11);
  auto bytes = f.responses.at(0).partitions.at(0).records_.flatten();
  rec::batch_header h;
  ASSERT_EQ(rec::validate_batch(bytes.data(), bytes.size(), &h), rec::batch_error::none) << "CRC must be valid";
  EXPECT_TRUE(h.timestamp_type_log_append());
  EXPECT_EQ(h.max_timestamp, pr.log_append_time_ms);
  std::vector<uint8_t> scratch;
  for (const auto& r : records_in(bytes, scratch)) EXPECT_EQ(r.timestamp, pr.log_append_time_ms);
}

TEST_F(Protocol, ProduceCreateTimeKeepsTimestamps) {
  broker_.create_topic("ct");
  auto c = connect();
  auto pr = produce(c, "ct", 0, as_records({batch_with({1000, 2000})}), 8);
  ASSERT_EQ(pr.error_code, NONE);
  EXPECT_EQ(pr.log_append_time_ms, -1);
  auto f = c.call(fetch_req("ct", 0, 0), 11);
  auto bytes = f.responses.at(0).partitions.at(0).records_.flatten();
  rec::batch_header h;
  ASSERT_EQ(rec::validate_batch(bytes.data(), bytes.size(), &h), rec::batch_error::none);
  EXPECT_FALSE(h.timestamp_type_log_append());
  std::vector<uint8_t> scratch;
  auto rs = records_in(bytes, scratch);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].timestamp, 1000);
  EXPECT_EQ(rs[1].timestamp, 2000);
}

TEST_F(Protocol, ProduceV2MagicOneMessageSetIsReadableAsBatch) {
  broker_.create_topic("legacy-in");
  auto c = connect();
  std::vector<rec::record_in> rs(3);
  for (int i = 0; i < 3; ++i) {
    rs[i].key = "lk" + std::to_string(i);
    rs[i].value = "lv" + std::to_string(i);
    rs[i].timestamp = 1'600'000'000'000 + i;
  }
  auto set = rec::build_legacy_message_set(rs, 1);
  ASSERT_FALSE(set.empty());
  auto pr = produce(c, "legacy-in", 0, as_records({set}), 2);
  ASSERT_EQ(pr.error_code, NONE);
  EXPECT_EQ(pr.base_offset, 0);
  // Magic 0 via Produce v0 too.
  auto set0 = rec::build_legacy_message_set(rs, 0);
  auto pr0 = c.call(produce_req("legacy-in", 0, as_records({set0})), 0);
  ASSERT_EQ(pr0.responses.at(0).partition_responses.at(0).error_code, NONE);
  EXPECT_EQ(pr0.responses.at(0).partition_responses.at(0).base_offset, 3);
  EXPECT_EQ(broker_.end_offset("legacy-in", 0), 6);

  auto f = c.call(fetch_req("legacy-in", 0, 0), 4);
  auto bytes = f.responses.at(0).partitions.at(0).records_.flatten();
  auto hs = batches_in(bytes);
  ASSERT_EQ(hs.size(), 2u);
  std::vector<uint8_t> first(bytes.begin(), bytes.begin() + static_cast<long>(hs[0].size_bytes()));
  std::vector<uint8_t> scratch;
  auto got = records_in(first, scratch);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].offset, i);
    EXPECT_EQ(got[i].key, std::optional<std::string_view>("lk" + std::to_string(i)));
    EXPECT_EQ(got[i].value, std::optional<std::string_view>("lv" + std::to_string(i)));
    EXPECT_EQ(got[i].timestamp, 1'600'000'000'000 + i);
  }
}

// ------------------------------------------------------------------------------------- Fetch

TEST_F(Protocol, FetchReturnsStoredBytesAndOffsetsAcrossVersions) {
  broker_.create_topic("f");
  auto c = connect();
  auto b1 = batch_of(3, "one");
  auto b2 = batch_of(2, "two");
  ASSERT_EQ(produce(c, "f", 0, as_records({b1})).error_code, NONE);
  ASSERT_EQ(produce(c, "f", 0, as_records({b2})).error_code, NONE);
  // What the log holds: the produced batches with baseOffset and partitionLeaderEpoch assigned
  // (both outside the CRC).
  auto md = c.call(metadata_for({"f"}), 10);
  const int32_t epoch = md.topics.at(0).partitions.at(0).leader_epoch;
  rec::set_base_offset(b1.data(), 0);
  rec::set_partition_leader_epoch(b1.data(), epoch);
  rec::set_base_offset(b2.data(), 3);
  rec::set_partition_leader_epoch(b2.data(), epoch);
  std::vector<uint8_t> stored = b1;
  stored.insert(stored.end(), b2.begin(), b2.end());
  const uuid id = md.topics.at(0).topic_id;

  for (int16_t v : {4, 5, 7, 11, 12, 13, 15, 16, 17}) {
    SCOPED_TRACE("Fetch v" + std::to_string(v));
    auto req = fetch_req("f", 0, 0, 0, 0, 64 << 20, v >= 13 ? id : uuid{});
    auto resp = c.call(req, v);
    ASSERT_EQ(resp.responses.size(), 1u);
    if (v >= 13) { EXPECT_EQ(resp.responses[0].topic_id, id); }
    else { EXPECT_EQ(resp.responses[0].topic, "f"); }
    const auto& p = resp.responses[0].partitions.at(0);
    EXPECT_EQ(p.error_code, NONE);
    EXPECT_EQ(p.high_watermark, 5);
    EXPECT_EQ(p.last_stable_offset, 5);
    if (v >= 5) { EXPECT_EQ(p.log_start_offset, 0); }
    EXPECT_TRUE(p.records_.flatten() == stored) << "fetched bytes differ from the stored batches";
    // From the middle batch on.
    auto tail = c.call(fetch_req("f", 0, 3, 0, 0, 64 << 20, v >= 13 ? id : uuid{}), v);
    EXPECT_TRUE(tail.responses.at(0).partitions.at(0).records_.flatten() == b2);
  }
}

TEST_F(Protocol, FetchUnknownTopicErrors) {
  auto c = connect();
  auto r = c.call(fetch_req("nowhere", 0, 0), 11);
  EXPECT_EQ(r.responses.at(0).partitions.at(0).error_code, UNKNOWN_TOPIC_OR_PARTITION);
  auto r13 = c.call(fetch_req("", 0, 0, 0, 0, 1 << 20, uuid::random()), 13);
  EXPECT_EQ(r13.responses.at(0).partitions.at(0).error_code, UNKNOWN_TOPIC_ID);
  EXPECT_TRUE(broker_.topics().empty()) << "Fetch never auto-creates";
}

TEST_F(Protocol, FetchOffsetOutOfRange) {
  broker_.create_topic("oor");
  auto c = connect();
  produce(c, "oor", 0, as_records({batch_of(2)}));
  for (int64_t off : {int64_t{3}, int64_t{100}, int64_t{-1}}) {
    SCOPED_TRACE("offset " + std::to_string(off));
    auto r = c.call(fetch_req("oor", 0, off), 11);
    const auto& p = r.responses.at(0).partitions.at(0);
    EXPECT_EQ(p.error_code, OFFSET_OUT_OF_RANGE);
    EXPECT_TRUE(p.records_.empty());
  }
  // Exactly the end is in range: an empty answer.
  auto r = c.call(fetch_req("oor", 0, 2), 11);
  EXPECT_EQ(r.responses.at(0).partitions.at(0).error_code, NONE);
  EXPECT_TRUE(r.responses.at(0).partitions.at(0).records_.empty());
}

TEST_F(Protocol, FetchLongPollIsWokenByProduce) {
  broker_.create_topic("poll");
  auto fetcher = connect();
  auto producer = connect();
  const auto sent = steady::now();
  int32_t corr = fetcher.send(fetch_req("poll", 0, 0, 5000, 1), 11);
  // Parked: no answer while there is nothing to return.
  EXPECT_EQ(fetcher.wait_readable(300ms), mk::test::wait_result::timeout);
  auto pr = produce(producer, "poll", 0, as_records({batch_of(2)}));
  ASSERT_EQ(pr.error_code, NONE);
  auto resp = fetcher.receive<fetch_response>(11, corr, 10s);
  const auto elapsed = steady::now() - sent;
  EXPECT_LT(elapsed, 2s) << "the append must wake the parked fetch, not the 5 s deadline";
  const auto& p = resp.responses.at(0).partitions.at(0);
  EXPECT_EQ(p.error_code, NONE);
  EXPECT_EQ(p.high_watermark, 2);
  EXPECT_EQ(batches_in(p.records_.flatten()).size(), 1u);
}

TEST_F(Protocol, FetchLongPollWithoutDataWaitsMaxWait) {
  broker_.create_topic("idle");
  auto c = connect();
  constexpr int32_t max_wait = 1500;
  const auto sent = steady::now();
  auto resp = c.call(fetch_req("idle", 0, 0, max_wait, 1), 11, 10s);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - sent);
  EXPECT_GE(elapsed.count(), max_wait - 20);
  EXPECT_LT(elapsed.count(), max_wait + 3000);
  EXPECT_EQ(resp.responses.at(0).partitions.at(0).error_code, NONE);
  EXPECT_TRUE(resp.responses.at(0).partitions.at(0).records_.empty());
}

TEST_F(Protocol, FetchMaxBytesSmallerThanFirstBatchStillReturnsItWhole) {
  broker_.create_topic("big-batch");
  auto c = connect();
  auto b1 = batch_with(std::vector<int64_t>(100, 1000), std::string(100, 'x'));  // ~11 KB
  ASSERT_GT(b1.size(), 10'000u);
  produce(c, "big-batch", 0, as_records({b1}));
  produce(c, "big-batch", 0, as_records({batch_of(1)}));
  for (int16_t v : {4, 11, 12}) {
    SCOPED_TRACE("Fetch v" + std::to_string(v));
    auto r = c.call(fetch_req("big-batch", 0, 0, 0, 0, 100), v);
    auto bytes = r.responses.at(0).partitions.at(0).records_.flatten();
    auto hs = batches_in(bytes);
    ASSERT_EQ(hs.size(), 1u) << "exactly the first batch, whole";
    EXPECT_EQ(bytes.size(), b1.size());
    EXPECT_EQ(hs[0].record_count, 100);
  }
}

TEST_F(Protocol, FetchV0ToV3ReturnsLegacyMessageSets) {
  broker_.create_topic("down");
  auto c = connect();
  produce(c, "down", 0, as_records({batch_with({1000, 2000}), batch_with({3000}, "w")}));
  for (int16_t v = 0; v <= 3; ++v) {
    SCOPED_TRACE("Fetch v" + std::to_string(v));
    auto r = c.call(fetch_req("down", 0, 0), v);
    const auto& p = r.responses.at(0).partitions.at(0);
    EXPECT_EQ(p.error_code, NONE);
    EXPECT_EQ(p.high_watermark, 3);
    auto bytes = p.records_.flatten();
    std::vector<std::vector<uint8_t>> scratch;
    std::vector<rec::legacy_message> msgs;
    ASSERT_EQ(rec::decode_legacy_message_set(bytes.data(), bytes.size(), scratch, msgs), rec::batch_error::none);
    ASSERT_EQ(msgs.size(), 3u);
    const int8_t magic = v <= 1 ? 0 : 1;
    const std::vector<std::string> values = {"v0", "v1", "w0"};
    const std::vector<int64_t> ts = {1000, 2000, 3000};
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(msgs[i].magic, magic);
      EXPECT_EQ(msgs[i].offset, static_cast<int64_t>(i));
      EXPECT_EQ(msgs[i].value, std::optional<std::string_view>(values[i]));
      if (magic == 1) { EXPECT_EQ(msgs[i].timestamp, ts[i]); }
    }
  }
}

// ------------------------------------------------------------------------------- ListOffsets

TEST_F(Protocol, ListOffsetsSpecialTimestampsAndByTime) {
  broker_.create_topic("lo");
  auto c = connect();
  // offsets: 0:1000 1:1100 | 2:2000 3:5000 4:2100 | 5:3000
  produce(c, "lo", 0, as_records({batch_with({1000, 1100})}));
  produce(c, "lo", 0, as_records({batch_with({2000, 5000, 2100})}));
  produce(c, "lo", 0, as_records({batch_with({3000})}));

  auto ask = [&](int64_t ts, int16_t v) {
    list_offsets_request req;
    req.replica_id = -1;
    auto& t = req.topics.emplace_back();
    t.name = "lo";
    t.partitions.push_back({0, -1, ts, 1, {}});
    auto resp = c.call(req, v);
    EXPECT_EQ(resp.topics.at(0).partitions.at(0).error_code, NONE);
    return resp.topics.at(0).partitions.at(0);
  };
  for (int16_t v : {1, 2, 5, 7, 9}) {
    SCOPED_TRACE("ListOffsets v" + std::to_string(v));
    EXPECT_EQ(ask(-2, v).offset, 0);
    EXPECT_EQ(ask(-1, v).offset, 6);
    auto r = ask(1050, v);
    EXPECT_EQ(r.offset, 1);
    EXPECT_EQ(r.timestamp, 1100);
    r = ask(2050, v);
    EXPECT_EQ(r.offset, 3) << "first offset whose timestamp >= 2050";
    EXPECT_EQ(r.timestamp, 5000);
    r = ask(0, v);
    EXPECT_EQ(r.offset, 0);
    r = ask(6000, v);
    EXPECT_EQ(r.offset, -1);
    EXPECT_EQ(r.timestamp, -1);
  }
  auto r = ask(-3, 7);  // KIP-734: max timestamp
  EXPECT_EQ(r.offset, 3);
  EXPECT_EQ(r.timestamp, 5000);
}

TEST_F(Protocol, ListOffsetsV0OldStyleOffsets) {
  broker_.create_topic("lo0");
  auto c = connect();
  produce(c, "lo0", 0, as_records({batch_of(4)}));
  auto ask = [&](int64_t ts, int32_t max_num) {
    list_offsets_request req;
    req.replica_id = -1;
    auto& t = req.topics.emplace_back();
    t.name = "lo0";
    t.partitions.push_back({0, -1, ts, max_num, {}});
    return c.call(req, 0).topics.at(0).partitions.at(0);
  };
  auto latest = ask(-1, 1);
  EXPECT_EQ(latest.error_code, NONE);
  EXPECT_EQ(latest.old_style_offsets, std::vector<int64_t>{4});
  EXPECT_EQ(ask(-2, 1).old_style_offsets, std::vector<int64_t>{0});
  EXPECT_TRUE(ask(-1, 0).old_style_offsets.empty());
}

TEST_F(Protocol, ListOffsetsUnknownPartition) {
  broker_.create_topic("lo-p", 1);
  auto c = connect();
  list_offsets_request req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = "lo-p";
  t.partitions.push_back({5, -1, -1, 1, {}});
  EXPECT_EQ(c.call(req, 1).topics.at(0).partitions.at(0).error_code, UNKNOWN_TOPIC_OR_PARTITION);
}

// ------------------------------------------------------------------------------ edge cases

TEST_F(Protocol, MetadataNullListsAllEmptyListsNone) {
  broker_.create_topic("m1");
  broker_.create_topic("m2");
  auto c = connect();
  metadata_request all;
  all.topics = std::nullopt;
  EXPECT_EQ(c.call(all, 1).topics.size(), 2u);
  EXPECT_EQ(c.call(all, 12).topics.size(), 2u);
  metadata_request none;
  none.topics.emplace();
  EXPECT_TRUE(c.call(none, 1).topics.empty());
  EXPECT_TRUE(c.call(none, 12).topics.empty());
}

TEST_F(Protocol, MetadataV12ByTopicId) {
  broker_.create_topic("by-id");
  auto c = connect();
  const uuid id = topic_id(c, "by-id");
  metadata_request req;
  req.topics.emplace();
  req.topics->push_back({id, std::nullopt, {}});
  req.topics->push_back({uuid::random(), std::nullopt, {}});
  auto md = c.call(req, 12);
  ASSERT_EQ(md.topics.size(), 2u);
  EXPECT_EQ(md.topics[0].error_code, NONE);
  EXPECT_EQ(md.topics[0].name, std::optional<std::string>("by-id"));
  EXPECT_EQ(md.topics[1].error_code, UNKNOWN_TOPIC_ID);
}

TEST_F(Protocol, CreateTopicsConfigAssignmentAndDuplicateErrors) {
  auto c = connect();
  EXPECT_EQ(c.call(create_req("bad-cfg", 1, 1, {{"no.such.config", "x"}}), 4).topics.at(0).error_code, INVALID_CONFIG);
  EXPECT_EQ(c.call(create_req("bad-val", 1, 1, {{"retention.ms", "soon"}}), 4).topics.at(0).error_code, INVALID_CONFIG);
  auto dup = create_req("twice");
  dup.topics.push_back(dup.topics[0]);
  auto r = c.call(dup, 4);
  ASSERT_EQ(r.topics.size(), 2u);
  EXPECT_EQ(r.topics[0].error_code, INVALID_REQUEST);
  EXPECT_EQ(r.topics[1].error_code, INVALID_REQUEST);

  auto assigned = create_req("assigned", -1, -1);
  assigned.topics[0].assignments.push_back({0, {1}, {}});
  assigned.topics[0].assignments.push_back({1, {1}, {}});
  EXPECT_EQ(c.call(assigned, 4).topics.at(0).error_code, NONE);
  EXPECT_EQ(c.call(metadata_for({"assigned"}), 1).topics.at(0).partitions.size(), 2u);
  auto bad_node = create_req("bad-node", -1, -1);
  bad_node.topics[0].assignments.push_back({0, {7}, {}});
  EXPECT_EQ(c.call(bad_node, 4).topics.at(0).error_code, INVALID_REPLICA_ASSIGNMENT);
  EXPECT_EQ(broker_.topics(), std::vector<std::string>{"assigned"});
}

TEST_F(Protocol, ProduceRejectsWhatTheLogMustNotHold) {
  broker_.create_topic("strict", 1, {{"max.message.bytes", "1000"}});
  auto c = connect();
  // A batch larger than the topic's max.message.bytes.
  EXPECT_EQ(produce(c, "strict", 0, as_records({batch_of(1, std::string(2000, 'x'))})).error_code, MESSAGE_TOO_LARGE);
  // Magic 0/1 message sets need Produce v0-v2.
  std::vector<rec::record_in> rs(1);
  rs[0].value = "old";
  EXPECT_EQ(produce(c, "strict", 0, as_records({rec::build_legacy_message_set(rs, 1)}), 3).error_code, INVALID_RECORD);
  // zstd needs Produce v7+.
  auto zstd = batch_with({1000}, "z", rec::codec::zstd);
  EXPECT_EQ(produce(c, "strict", 0, as_records({zstd}), 6).error_code, UNSUPPORTED_COMPRESSION_TYPE);
  // lastOffsetDelta must be record_count - 1 (CRC recomputed, so only the content is wrong).
  auto b = batch_of(2);
  b[rec::batch_field::last_offset_delta + 3] = 5;
  rec::update_crc(b.data());
  EXPECT_EQ(produce(c, "strict", 0, as_records({b})).error_code, INVALID_RECORD);
  // Null record data.
  EXPECT_EQ(produce(c, "strict", 0, records{}).error_code, INVALID_RECORD);
  EXPECT_EQ(broker_.end_offset("strict", 0), 0);
  // zstd at v7 is fine.
  EXPECT_EQ(produce(c, "strict", 0, as_records({zstd}), 7).error_code, NONE);
}

TEST_F(Protocol, ProduceAcksZeroFailureClosesConnection) {
  broker_.create_topic("a0");
  auto c = connect();
  auto bad = batch_of(1);
  bad.back() ^= 1;  // CRC mismatch
  c.send(produce_req("a0", 0, as_records({bad}), 0), 7);
  EXPECT_TRUE(c.closed_within(3s)) << "a failed acks=0 produce closes the connection so the client notices";
  auto c2 = connect();
  c2.send(produce_req("a0", 9, as_records({batch_of(1)}), 0), 7);  // no such partition
  EXPECT_TRUE(c2.closed_within(3s));
  EXPECT_EQ(broker_.end_offset("a0", 0), 0);
}

TEST_F(Protocol, FetchFromTheMiddleOfABatchReturnsTheWholeBatch) {
  broker_.create_topic("mid");
  auto c = connect();
  produce(c, "mid", 0, as_records({batch_of(3, "a"), batch_of(3, "b")}));
  auto r = c.call(fetch_req("mid", 0, 4), 11);
  auto hs = batches_in(r.responses.at(0).partitions.at(0).records_.flatten());
  ASSERT_EQ(hs.size(), 1u);
  EXPECT_EQ(hs[0].base_offset, 3) << "the consumer skips offsets below its fetch offset";
}

TEST_F(Protocol, FetchSizeLimitsAcrossPartitions) {
  broker_.create_topic("two", 2);
  auto c = connect();
  auto big = batch_with(std::vector<int64_t>(50, 1000), std::string(100, 'x'));  // ~5.5 KB
  produce(c, "two", 0, as_records({big, batch_of(1)}));
  produce(c, "two", 1, as_records({batch_of(1)}));
  // max_bytes below the first batch: partition 0 gets its first batch whole, partition 1 nothing.
  auto req = fetch_req("two", 0, 0, 0, 0, 1000);
  req.topics[0].partitions.push_back(req.topics[0].partitions[0]);
  req.topics[0].partitions[1].partition = 1;
  auto r = c.call(req, 11);
  const auto& ps = r.responses.at(0).partitions;
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].partition_index, 0);
  EXPECT_EQ(batches_in(ps[0].records_.flatten()).size(), 1u);
  EXPECT_EQ(ps[1].partition_index, 1);
  EXPECT_EQ(ps[1].high_watermark, 1);
  EXPECT_TRUE(ps[1].records_.empty());
  // Room for everything: both partitions answer with all their data.
  auto all = fetch_req("two", 0, 0);
  all.topics[0].partitions.push_back(all.topics[0].partitions[0]);
  all.topics[0].partitions[1].partition = 1;
  auto r2 = c.call(all, 11);
  EXPECT_EQ(batches_in(r2.responses.at(0).partitions.at(0).records_.flatten()).size(), 2u);
  EXPECT_EQ(batches_in(r2.responses.at(0).partitions.at(1).records_.flatten()).size(), 1u);
}

TEST_F(Protocol, FetchBelowV10OfAZstdTopicIsUnsupportedCompression) {
  // Like Kafka, judged by the topic's compression.type (the stored batches are not inspected).
  broker_.create_topic("zf", 1, {{"compression.type", "zstd"}});
  auto c = connect();
  ASSERT_EQ(produce(c, "zf", 0, as_records({batch_with({1000, 2000}, "z", rec::codec::zstd)})).error_code, NONE);
  for (int16_t v : {0, 3, 4, 9}) {
    EXPECT_EQ(c.call(fetch_req("zf", 0, 0), v).responses.at(0).partitions.at(0).error_code,
              UNSUPPORTED_COMPRESSION_TYPE)
        << "Fetch v" << v;
  }
  auto ok = c.call(fetch_req("zf", 0, 0), 10);
  EXPECT_EQ(ok.responses.at(0).partitions.at(0).error_code, NONE);
  EXPECT_EQ(batches_in(ok.responses.at(0).partitions.at(0).records_.flatten()).at(0).compression(), rec::codec::zstd);
}

TEST_F(Protocol, FetchReadCommittedReportsEmptyAbortedTransactions) {
  broker_.create_topic("rc");
  auto c = connect();
  produce(c, "rc", 0, as_records({batch_of(1)}));
  auto req = fetch_req("rc", 0, 0);
  req.isolation_level = 1;
  for (int16_t v : {4, 11, 12}) {
    auto p = c.call(req, v).responses.at(0).partitions.at(0);
    ASSERT_TRUE(p.aborted_transactions.has_value()) << "v" << v;
    EXPECT_TRUE(p.aborted_transactions->empty());
    EXPECT_EQ(p.last_stable_offset, 1);
  }
}

TEST_F(Protocol, FetchLeaderEpochChecks) {
  broker_.create_topic("ep");
  auto c = connect();
  auto md = c.call(metadata_for({"ep"}), 9);
  const int32_t epoch = md.topics.at(0).partitions.at(0).leader_epoch;
  ASSERT_GE(epoch, 0);
  auto req = fetch_req("ep", 0, 0);
  req.topics[0].partitions[0].current_leader_epoch = epoch;
  EXPECT_EQ(c.call(req, 11).responses.at(0).partitions.at(0).error_code, NONE);
  req.topics[0].partitions[0].current_leader_epoch = epoch + 1;
  EXPECT_EQ(c.call(req, 11).responses.at(0).partitions.at(0).error_code, UNKNOWN_LEADER_EPOCH);
  if (epoch > 0) {
    req.topics[0].partitions[0].current_leader_epoch = epoch - 1;
    EXPECT_EQ(c.call(req, 11).responses.at(0).partitions.at(0).error_code, FENCED_LEADER_EPOCH);
  }
}

TEST_F(Protocol, FetchLongPollBelowMinBytesWaitsForTheDeadline) {
  broker_.create_topic("minb");
  auto fetcher = connect();
  auto producer = connect();
  constexpr int32_t max_wait = 1500;
  const auto sent = steady::now();
  int32_t corr = fetcher.send(fetch_req("minb", 0, 0, max_wait, 1 << 20), 11);
  ASSERT_EQ(produce(producer, "minb", 0, as_records({batch_of(1)})).error_code, NONE);  // far below min_bytes
  auto resp = fetcher.receive<fetch_response>(11, corr, 10s);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - sent);
  EXPECT_GE(elapsed.count(), max_wait - 20) << "woken by the append but still short of min_bytes: keep waiting";
  EXPECT_EQ(batches_in(resp.responses.at(0).partitions.at(0).records_.flatten()).size(), 1u)
      << "at the deadline, whatever there is";
}

TEST_F(Protocol, FetchParkedOnADeletedTopicReturnsPromptly) {
  broker_.create_topic("doomed");
  auto c = connect();
  const auto sent = steady::now();
  int32_t corr = c.send(fetch_req("doomed", 0, 0, 10000, 1), 11);
  EXPECT_EQ(c.wait_readable(200ms), mk::test::wait_result::timeout);
  broker_.delete_topic("doomed");
  auto resp = c.receive<fetch_response>(11, corr, 15s);
  EXPECT_LT(steady::now() - sent, 3s);
  EXPECT_EQ(resp.responses.at(0).partitions.at(0).error_code, UNKNOWN_TOPIC_OR_PARTITION);
}

TEST_F(Protocol, PipelinedRequestsWaitBehindAParkedFetch) {
  broker_.create_topic("order");
  auto c = connect();
  auto other = connect();
  int32_t f = c.send(fetch_req("order", 0, 0, 5000, 1), 11);
  int32_t a = c.send(api_versions_request{}, 0);
  // Other connections are not held up by the parked fetch.
  EXPECT_EQ(other.call(api_versions_request{}, 0).error_code, NONE);
  ASSERT_EQ(produce(other, "order", 0, as_records({batch_of(1)})).error_code, NONE);
  // Responses on one connection come in request order.
  auto fr = c.receive<fetch_response>(11, f);
  EXPECT_EQ(fr.responses.at(0).partitions.at(0).high_watermark, 1);
  EXPECT_EQ(c.receive<api_versions_response>(0, a).error_code, NONE);
}

TEST_F(Protocol, ListOffsetsOnAnEmptyPartition) {
  broker_.create_topic("empty");
  auto c = connect();
  for (int64_t ts : {int64_t{-1}, int64_t{-2}, int64_t{-3}, int64_t{0}}) {
    list_offsets_request req;
    req.replica_id = -1;
    auto& t = req.topics.emplace_back();
    t.name = "empty";
    t.partitions.push_back({0, -1, ts, 1, {}});
    auto p = c.call(req, 7).topics.at(0).partitions.at(0);
    EXPECT_EQ(p.error_code, NONE);
    EXPECT_EQ(p.offset, ts >= -2 && ts < 0 ? 0 : -1) << "timestamp " << ts;
  }
}

TEST_F(Protocol, ListOffsetsOnLogAppendTimeTopic) {
  broker_.create_topic("lat-lo", 1, {{"message.timestamp.type", "LogAppendTime"}});
  auto c = connect();
  auto pr = produce(c, "lat-lo", 0, as_records({batch_with({1, 2, 3})}));
  list_offsets_request req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = "lat-lo";
  t.partitions.push_back({0, -1, 100, 1, {}});  // before the append time: the first record
  auto p = c.call(req, 1).topics.at(0).partitions.at(0);
  EXPECT_EQ(p.offset, 0);
  EXPECT_EQ(p.timestamp, pr.log_append_time_ms);
}

}  // namespace

// ------------------------------------------------------------------------ idempotent producers

namespace {
std::vector<uint8_t> idempotent_batch(int64_t producer_id, int16_t epoch, int32_t first_seq, int n) {
  std::vector<rec::record_in> rs(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    rs[static_cast<size_t>(i)].value = "s" + std::to_string(first_seq + i);
    rs[static_cast<size_t>(i)].timestamp = wall_ms();
  }
  auto b = rec::build_batch(rs, rec::codec::none, 0, producer_id, epoch, first_seq);
  EXPECT_FALSE(b.empty());
  return b;
}
}  // namespace

TEST_F(Protocol, InitProducerIdGivesDistinctIdsAndBumpsEpochs) {
  auto c = connect();
  init_producer_id_request req;
  req.transactional_id = std::nullopt;
  auto a = c.call(req, 4);
  auto b = c.call(req, 0);
  EXPECT_EQ(a.error_code, NONE);
  EXPECT_GE(a.producer_id, 0);
  EXPECT_NE(a.producer_id, b.producer_id);
  req.producer_id = a.producer_id;
  req.producer_epoch = a.producer_epoch;
  auto bumped = c.call(req, 4);
  EXPECT_EQ(bumped.producer_id, a.producer_id);
  EXPECT_EQ(bumped.producer_epoch, a.producer_epoch + 1);
}

TEST_F(Protocol, IdempotentRetryIsAcknowledgedWithItsOriginalOffsetAndNotStoredTwice) {
  broker_.create_topic("idem");
  auto c = connect();
  init_producer_id_request ip;
  ip.transactional_id = std::nullopt;
  auto id = c.call(ip, 4);
  auto first = produce(c, "idem", 0, as_records(std::vector<std::vector<uint8_t>>{idempotent_batch(id.producer_id, id.producer_epoch, 0, 3)}));
  EXPECT_EQ(first.error_code, NONE);
  auto second = produce(c, "idem", 0, as_records(std::vector<std::vector<uint8_t>>{idempotent_batch(id.producer_id, id.producer_epoch, 3, 2)}));
  EXPECT_EQ(second.base_offset, 3);
  // The first batch again (a retry after a lost response): same offset, nothing appended.
  auto retry = produce(c, "idem", 0, as_records(std::vector<std::vector<uint8_t>>{idempotent_batch(id.producer_id, id.producer_epoch, 0, 3)}));
  EXPECT_EQ(retry.error_code, NONE);
  EXPECT_EQ(retry.base_offset, 0);
  EXPECT_EQ(broker_.end_offset("idem", 0), 5);
}

TEST_F(Protocol, IdempotentSequenceGapAndStaleEpochAreRefused) {
  broker_.create_topic("idem-bad");
  auto c = connect();
  init_producer_id_request ip;
  ip.transactional_id = std::nullopt;
  auto id = c.call(ip, 4);
  EXPECT_EQ(produce(c, "idem-bad", 0, as_records(std::vector<std::vector<uint8_t>>{idempotent_batch(id.producer_id, 1, 0, 2)})).error_code, NONE);
  EXPECT_EQ(produce(c, "idem-bad", 0, as_records(std::vector<std::vector<uint8_t>>{idempotent_batch(id.producer_id, 1, 5, 1)})).error_code,
            static_cast<int16_t>(mk::proto::error_code::out_of_order_sequence_number));
  EXPECT_EQ(produce(c, "idem-bad", 0, as_records(std::vector<std::vector<uint8_t>>{idempotent_batch(id.producer_id, 0, 2, 1)})).error_code,
            static_cast<int16_t>(mk::proto::error_code::invalid_producer_epoch));
  EXPECT_EQ(broker_.end_offset("idem-bad", 0), 2);
}
