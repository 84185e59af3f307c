// Generated error responses and request summaries (protocol/generated/error_responses.h,
// protocol/generated/request_summary.h), for every API and version the generator covers:
//   * error_response() answers a random request in the API's own response shape: the generated
//     response decoder reads it completely, a top-level ErrorCode is there exactly where
//     has_top_level_error_code() says, every *ErrorCode field holds the injected code,
//     ErrorMessage fields are empty, and the arrays listed in `mirrors()` below repeat the
//     request's entries and keys while every other array is empty;
//   * Kafka's values for the non-error fields (-1 offsets, empty record sets) where the schema's
//     default differs;
//   * summarize_request() on hand-made requests of the APIs fault-injection rules match on;
//   * truncated bodies, unknown keys and versions give no response and an undecoded summary.
// Random requests come from tests/generated/ (tools/gen_protocol.py TEST_OUT_DIR).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "protocol/error_code.h"
#include "protocol/generated/all_messages.h"
#include "protocol/generated/error_responses.h"
#include "protocol/generated/request_summary.h"
#include "protocol/wire.h"
#include "tests/generated/test_messages.h"

namespace mk::proto {
namespace {

constexpr error_code injected = error_code::not_leader_or_follower;
constexpr int instances_per_version = 40;

// ---- which response arrays answer which request arrays --------------------------------------
// Written from the schemas and Kafka's getErrorResponse, independently of the generator's
// heuristic, so a wrong guess there fails here. A chain of levels: at each level the response
// array `resp` has one entry per entry of the request array `req` (nullptr: exactly one entry,
// and the next level still reads the same request object), with each key pair equal
// {response field, request field or nullptr for the request element itself}.
struct level {
  const char* resp;
  const char* req;
  std::vector<std::pair<const char*, const char*>> keys;
};
struct mirror {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
  std::vector<level> levels;
};

const std::vector<mirror>& mirrors() {
  static const std::vector<mirror> m = {
      {0, 0, 11, {{"Responses", "TopicData", {{"Name", "Name"}}}, {"PartitionResponses", "PartitionData", {{"Index", "Index"}}}}},
      {1, 0, 12, {{"Responses", "Topics", {{"Topic", "Topic"}}}, {"Partitions", "Partitions", {{"PartitionIndex", "Partition"}}}}},
      {1, 13, 17, {{"Responses", "Topics", {{"TopicId", "TopicId"}}}, {"Partitions", "Partitions", {{"PartitionIndex", "Partition"}}}}},
      {2, 0, 9, {{"Topics", "Topics", {{"Name", "Name"}}}, {"Partitions", "Partitions", {{"PartitionIndex", "PartitionIndex"}}}}},
      {3, 0, 9, {{"Topics", "Topics", {{"Name", "Name"}}}}},
      {3, 10, 12, {{"Topics", "Topics", {{"Name", "Name"}, {"TopicId", "TopicId"}}}}},
      {8, 0, 9, {{"Topics", "Topics", {{"Name", "Name"}}}, {"Partitions", "Partitions", {{"PartitionIndex", "PartitionIndex"}}}}},
      {9, 0, 7, {{"Topics", "Topics", {{"Name", "Name"}}}, {"Partitions", "PartitionIndexes", {{"PartitionIndex", nullptr}}}}},
      {9, 8, 9, {{"Groups", "Groups", {{"GroupId", "GroupId"}}}, {"Topics", "Topics", {{"Name", "Name"}}}, {"Partitions", "PartitionIndexes", {{"PartitionIndex", nullptr}}}}},
      {10, 4, 6, {{"Coordinators", "CoordinatorKeys", {{"Key", nullptr}}}}},
      {13, 3, 5, {{"Members", "Members", {{"MemberId", "MemberId"}, {"GroupInstanceId", "GroupInstanceId"}}}}},
      {15, 0, 5, {{"Groups", "Groups", {{"GroupId", nullptr}}}}},
      {19, 0, 7, {{"Topics", "Topics", {{"Name", "Name"}}}}},
      {20, 0, 5, {{"Responses", "TopicNames", {{"Name", nullptr}}}}},
      {20, 6, 6, {{"Responses", "Topics", {{"Name", "Name"}, {"TopicId", "TopicId"}}}}},
      {21, 0, 2, {{"Topics", "Topics", {{"Name", "Name"}}}, {"Partitions", "Partitions", {{"PartitionIndex", "PartitionIndex"}}}}},
      {23, 0, 4, {{"Topics", "Topics", {{"Topic", "Topic"}}}, {"Partitions", "Partitions", {{"Partition", "Partition"}}}}},
      {24, 0, 3, {{"ResultsByTopicV3AndBelow", "V3AndBelowTopics", {{"Name", "Name"}}}, {"ResultsByPartition", "Partitions", {{"PartitionIndex", nullptr}}}}},
      {24, 4, 5, {{"ResultsByTransaction", "Transactions", {{"TransactionalId", "TransactionalId"}}}, {"TopicResults", "Topics", {{"Name", "Name"}}}, {"ResultsByPartition", "Partitions", {{"PartitionIndex", nullptr}}}}},
      {28, 0, 4, {{"Topics", "Topics", {{"Name", "Name"}}}, {"Partitions", "Partitions", {{"PartitionIndex", "PartitionIndex"}}}}},
      {32, 0, 4, {{"Results", "Resources", {{"ResourceType", "ResourceType"}, {"ResourceName", "ResourceName"}}}}},
      {33, 0, 2, {{"Responses", "Resources", {{"ResourceType", "ResourceType"}, {"ResourceName", "ResourceName"}}}}},
      {35, 0, 4, {{"Results", nullptr, {}}, {"Topics", "Topics", {{"Name", "Topic"}}}, {"Partitions", "Partitions", {{"PartitionIndex", nullptr}}}}},
      {37, 0, 3, {{"Results", "Topics", {{"Name", "Name"}}}}},
      {42, 0, 2, {{"Results", "GroupsNames", {{"GroupId", nullptr}}}}},
      {43, 0, 2, {{"ReplicaElectionResults", "TopicPartitions", {{"Topic", "Topic"}}}, {"PartitionResult", "Partitions", {{"PartitionId", nullptr}}}}},
      {44, 0, 1, {{"Responses", "Resources", {{"ResourceType", "ResourceType"}, {"ResourceName", "ResourceName"}}}}},
      {47, 0, 0, {{"Topics", "Topics", {{"Name", "Name"}}}, {"Partitions", "Partitions", {{"PartitionIndex", "PartitionIndex"}}}}},
      {61, 0, 0, {{"Topics", "Topics", {{"Name", "Name"}}}, {"Partitions", "PartitionIndexes", {{"PartitionIndex", nullptr}}}}},
      {75, 0, 0, {{"Topics", "Topics", {{"Name", "Name"}}}}},
      {65, 0, 0, {{"TransactionStates", "TransactionalIds", {{"TransactionalId", nullptr}}}}},
  };
  return m;
}

// ---- helpers ---------------------------------------------------------------------------------
std::vector<uint8_t> encode(const any_message& m, int16_t v) {
  writer w;
  m.encode(w, v);
  return w.flatten();
}

// A reader over a heap copy of exactly these bytes (ASan then flags reads past the end).
reader reader_over(const std::vector<uint8_t>& b, size_t n) {
  auto buf = std::make_shared<std::vector<uint8_t>>(b.begin(), b.begin() + static_cast<ptrdiff_t>(n));
  return reader(buf->data(), buf->size(), buf);
}
reader reader_over(const std::vector<uint8_t>& b) { return reader_over(b, b.size()); }

template <typename Req>
std::vector<uint8_t> encode(const Req& req, int16_t v) {
  writer w;
  req.encode(w, v);
  return w.flatten();
}

// error_response() for a typed request, decoded with the typed response decoder.
template <typename Resp, typename Req>
Resp answer(const Req& req, int16_t v) {
  auto out = error_response(Req::api_key, v, reader_over(encode(req, v)), injected);
  EXPECT_TRUE(out.has_value());
  Resp resp;
  if (!out) return resp;
  auto bytes = out->flatten();
  reader r = reader_over(bytes);
  resp.decode(r, v);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  return resp;
}

template <typename Req>
request_summary summarize(const Req& req, int16_t v) {
  return summarize_request(Req::api_key, v, reader_over(encode(req, v)));
}

// Two identifying values are equal; a null string reads as "" (a request's null name is
// answered as "" where the response's field is not nullable at that version).
bool same_key(const test_node& a, const test_node& b) {
  using k = test_node::kind;
  auto textish = [](const test_node& n) { return n.k == k::text || n.k == k::null; };
  if (textish(a) && textish(b)) return a.text == b.text;
  return a.k == b.k && a.integer == b.integer;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct checker {
  std::string where;  // for failure messages
  std::set<std::string> mirrored;  // response array paths the spec covers at this version

  // Every *ErrorCode is the injected code, every ErrorMessage is empty, and every non-empty array
  // is one the spec expects.
  void walk(const test_node& n, const std::string& path) {
    for (const auto& [name, value] : n.fields) {
      const std::string p = path.empty() ? name : path + "." + name;
      if (ends_with(name, "ErrorCode")) {
        EXPECT_EQ(value.k, test_node::kind::integer) << where << " " << p;
        EXPECT_EQ(value.integer, code(injected)) << where << " " << p;
      }
      if (name == "ErrorMessage") {
        EXPECT_TRUE(value.k == test_node::kind::null || value.text.empty()) << where << " " << p;
      }
      if (value.k == test_node::kind::list && !value.items.empty()) {
        EXPECT_TRUE(mirrored.count(p)) << where << ": " << p << " has " << value.items.size()
                                       << " entries but nothing in the request maps to it";
      }
      if (value.k == test_node::kind::object) walk(value, p);
      if (value.k == test_node::kind::list)
        for (const auto& e : value.items)
          if (e.k == test_node::kind::object) walk(e, p);
    }
  }

  // The response arrays of `levels` (from index i) repeat the request's entries and keys.
  void check(const test_node& resp, const test_node& req, const std::vector<level>& levels, size_t i,
             const std::string& path) {
    if (i == levels.size()) return;
    const level& l = levels[i];
    const std::string p = path.empty() ? l.resp : path + "." + l.resp;
    const test_node* ra = resp.field(l.resp);
    ASSERT_NE(ra, nullptr) << where << ": no response field " << p;
    ASSERT_EQ(ra->k, test_node::kind::list) << where << " " << p;
    if (l.req == nullptr) {
      ASSERT_EQ(ra->items.size(), 1u) << where << " " << p;
      check(ra->items[0], req, levels, i + 1, p);
      return;
    }
    const test_node* qa = req.field(l.req);
    ASSERT_NE(qa, nullptr) << where << ": no request field " << l.req;
    const size_t n = qa->k == test_node::kind::list ? qa->items.size() : 0;  // null lists nothing
    ASSERT_EQ(ra->items.size(), n) << where << ": " << p << " vs request " << l.req;
    for (size_t j = 0; j < n; ++j) {
      const test_node& re = ra->items[j];
      const test_node& qe = qa->items[j];
      for (const auto& [rk, qk] : l.keys) {
        const test_node* rv = re.field(rk);
        const test_node* qv = qk ? qe.field(qk) : &qe;
        ASSERT_NE(rv, nullptr) << where << ": no response key " << p << "." << rk;
        ASSERT_NE(qv, nullptr) << where << ": no request key " << l.req << "." << (qk ? qk : "");
        EXPECT_TRUE(same_key(*rv, *qv)) << where << ": " << p << "[" << j << "]." << rk << " = '" << rv->text
                                        << "' / " << rv->integer << ", request has '" << qv->text << "' / "
                                        << qv->integer;
      }
      check(re, qe, levels, i + 1, p);
    }
  }
};

std::vector<const message_type*> request_types() {
  std::vector<const message_type*> out;
  for (const auto& t : all_message_types())
    if (t.kind == message_kind::request) out.push_back(&t);
  return out;
}

// ---- every API, every version ----------------------------------------------------------------
TEST(ErrorResponse, EveryApiAndVersionAnswersInItsOwnResponseShape) {
  ASSERT_FALSE(request_types().empty());
  for (const message_type* t : request_types()) {
    const message_type* rt = find_message_type(message_kind::response, t->api_key);
    ASSERT_NE(rt, nullptr) << t->name;
    for (int16_t v = t->min_version; v <= t->max_version; ++v) {
      checker c;
      std::vector<const mirror*> specs;
      for (const auto& m : mirrors()) {
        if (m.api_key != t->api_key || v < m.min_version || v > m.max_version) continue;
        specs.push_back(&m);
        std::string p;
        for (const auto& l : m.levels) c.mirrored.insert(p = p.empty() ? l.resp : p + "." + l.resp);
      }
      for (int i = 0; i < instances_per_version; ++i) {
        test_rng rng(static_cast<uint64_t>(t->api_key) << 32 | static_cast<uint64_t>(v) << 16 | static_cast<uint64_t>(i));
        auto req = t->create();
        req->randomize(v, rng);
        const auto bytes = encode(*req, v);
        c.where = std::string(t->name) + " v" + std::to_string(v) + " #" + std::to_string(i);

        auto out = error_response(t->api_key, v, reader_over(bytes), injected);
        ASSERT_TRUE(out.has_value()) << c.where;
        const auto body = out->flatten();
        auto resp = rt->create();
        reader r = reader_over(body);
        resp->decode(r, v);
        ASSERT_TRUE(r.ok()) << c.where << ": the response does not decode";
        ASSERT_EQ(r.remaining(), 0u) << c.where << ": the response has trailing bytes";

        const test_node rn = resp->to_node(v);
        const test_node qn = req->to_node(v);
        EXPECT_EQ(rn.field("ErrorCode") != nullptr, has_top_level_error_code(t->api_key, v)) << c.where;
        c.walk(rn, "");
        for (const mirror* m : specs) c.check(rn, qn, m->levels, 0, "");
        if (::testing::Test::HasFailure()) return;  // one failing instance says enough

        EXPECT_TRUE(summarize_request(t->api_key, v, reader_over(bytes)).decoded) << c.where;
      }
    }
  }
}

// Where the schema's default is not what Kafka's error responses say.
TEST(ErrorResponse, NonErrorFieldsHoldKafkasErrorValues) {
  {
    produce_request req;
    req.topic_data.emplace_back().name = "t";
    req.topic_data[0].partition_data.emplace_back().index = 3;
    auto resp = answer<produce_response>(req, 8);
    ASSERT_EQ(resp.responses.size(), 1u);
    ASSERT_EQ(resp.responses[0].partition_responses.size(), 1u);
    const auto& p = resp.responses[0].partition_responses[0];
    EXPECT_EQ(p.index, 3);
    EXPECT_EQ(p.error_code, code(injected));
    EXPECT_EQ(p.base_offset, -1);
    EXPECT_EQ(p.log_append_time_ms, -1);
    EXPECT_EQ(p.log_start_offset, -1);
    EXPECT_FALSE(p.error_message.has_value());
    EXPECT_EQ(resp.throttle_time_ms, 0);
  }
  for (int16_t v : {int16_t(4), int16_t(11), int16_t(13), int16_t(17)}) {
    fetch_request req;
    req.session_id = 77;
    auto& t = req.topics.emplace_back();
    t.topic = "t";
    t.topic_id = uuid::random();
    t.partitions.emplace_back().partition = 5;
    auto resp = answer<fetch_response>(req, v);
    if (v >= 7) {
      EXPECT_EQ(resp.error_code, code(injected)) << v;
      EXPECT_EQ(resp.session_id, 77) << v;
    }
    ASSERT_EQ(resp.responses.size(), 1u) << v;
    if (v >= 13) EXPECT_EQ(resp.responses[0].topic_id, t.topic_id);
    else EXPECT_EQ(resp.responses[0].topic, "t");
    ASSERT_EQ(resp.responses[0].partitions.size(), 1u) << v;
    const auto& p = resp.responses[0].partitions[0];
    EXPECT_EQ(p.partition_index, 5);
    EXPECT_EQ(p.error_code, code(injected));
    EXPECT_EQ(p.high_watermark, -1);
    EXPECT_EQ(p.last_stable_offset, -1);
    EXPECT_EQ(p.log_start_offset, -1);
    EXPECT_EQ(p.preferred_read_replica, -1);
    EXPECT_FALSE(p.records_.is_null) << "clients expect a record set, even an empty one";
    EXPECT_EQ(p.records_.size(), 0u);
  }
  {
    offset_fetch_request req;
    req.group_id = "g";
    auto& t = req.topics.emplace();
    t.emplace_back().name = "t";
    t[0].partition_indexes = {0, 1};
    auto resp = answer<offset_fetch_response>(req, 7);
    EXPECT_EQ(resp.error_code, code(injected));
    ASSERT_EQ(resp.topics.size(), 1u);
    ASSERT_EQ(resp.topics[0].partitions.size(), 2u);
    EXPECT_EQ(resp.topics[0].partitions[1].partition_index, 1);
    EXPECT_EQ(resp.topics[0].partitions[1].committed_offset, -1);
    EXPECT_EQ(resp.topics[0].partitions[1].error_code, code(injected));
  }
  {
    find_coordinator_request req;
    req.key = "g";
    auto resp = answer<find_coordinator_response>(req, 3);
    EXPECT_EQ(resp.error_code, code(injected));
    EXPECT_EQ(resp.node_id, -1);
    EXPECT_EQ(resp.port, -1);
    EXPECT_FALSE(resp.error_message.has_value());
    req.coordinator_keys = {"a", "b"};
    auto resp4 = answer<find_coordinator_response>(req, 4);
    ASSERT_EQ(resp4.coordinators.size(), 2u);
    EXPECT_EQ(resp4.coordinators[1].key, "b");
    EXPECT_EQ(resp4.coordinators[1].node_id, -1);
    EXPECT_EQ(resp4.coordinators[1].error_code, code(injected));
  }
  {
    init_producer_id_request req;
    auto resp = answer<init_producer_id_response>(req, 4);
    EXPECT_EQ(resp.error_code, code(injected));
    EXPECT_EQ(resp.producer_id, -1);
    EXPECT_EQ(resp.producer_epoch, -1);
  }
  {
    delete_records_request req;
    req.topics.emplace_back().name = "t";
    req.topics[0].partitions.emplace_back().partition_index = 2;
    auto resp = answer<delete_records_response>(req, 2);
    ASSERT_EQ(resp.topics.size(), 1u);
    ASSERT_EQ(resp.topics[0].partitions.size(), 1u);
    EXPECT_EQ(resp.topics[0].partitions[0].low_watermark, -1);
  }
  {
    // Metadata lists the requested topics with the error and no partitions; no brokers.
    metadata_request req;
    req.topics.emplace().emplace_back().name = "t";
    auto resp = answer<metadata_response>(req, 12);
    EXPECT_TRUE(resp.brokers.empty());
    ASSERT_EQ(resp.topics.size(), 1u);
    EXPECT_EQ(resp.topics[0].name, "t");
    EXPECT_EQ(resp.topics[0].error_code, code(injected));
    EXPECT_TRUE(resp.topics[0].partitions.empty());
  }
  {
    // DescribeLogDirs v0-2 has no top-level error code: one result carries it.
    describe_log_dirs_request req;
    auto& t = req.topics.emplace();
    t.emplace_back().topic = "t";
    t[0].partitions = {4};
    auto resp = answer<describe_log_dirs_response>(req, 1);
    ASSERT_EQ(resp.results.size(), 1u);
    EXPECT_EQ(resp.results[0].error_code, code(injected));
    EXPECT_EQ(resp.results[0].log_dir, "");
    ASSERT_EQ(resp.results[0].topics.size(), 1u);
    ASSERT_EQ(resp.results[0].topics[0].partitions.size(), 1u);
    EXPECT_EQ(resp.results[0].topics[0].partitions[0].partition_index, 4);
  }
}

TEST(ErrorResponse, CarriesWhicheverCodeIsAsked) {
  join_group_request req;
  req.group_id = "g";
  for (error_code e : {error_code::coordinator_not_available, error_code::unknown_server_error,
                       error_code::rebalance_in_progress}) {
    auto out = error_response(join_group_request::api_key, 5, reader_over(encode(req, 5)), e);
    ASSERT_TRUE(out);
    join_group_response resp;
    auto bytes = out->flatten();
    reader r = reader_over(bytes);
    resp.decode(r, 5);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(resp.error_code, code(e));
    EXPECT_EQ(resp.generation_id, -1);
    EXPECT_TRUE(resp.members.empty());
  }
}

// ---- undecodable input -----------------------------------------------------------------------
TEST(ErrorResponse, TruncatedBodiesUnknownKeysAndVersionsGiveNothing) {
  for (const message_type* t : request_types()) {
    for (int16_t v = t->min_version; v <= t->max_version; ++v) {
      for (int i = 0; i < 4; ++i) {
        test_rng rng(static_cast<uint64_t>(t->api_key) * 1000 + static_cast<uint64_t>(v) * 10 + static_cast<uint64_t>(i));
        auto req = t->create();
        req->randomize(v, rng);
        const auto bytes = encode(*req, v);
        // Every prefix near either end, and about 64 in between for long encodings.
        const size_t stride = bytes.size() > 512 ? bytes.size() / 64 : 1;
        for (size_t n = 0; n < bytes.size(); n += (n < 256 || n + 256 > bytes.size()) ? 1 : stride) {
          const std::string where = std::string(t->name) + " v" + std::to_string(v) + " cut at " +
                                    std::to_string(n) + " of " + std::to_string(bytes.size());
          EXPECT_FALSE(error_response(t->api_key, v, reader_over(bytes, n), injected).has_value()) << where;
          const request_summary s = summarize_request(t->api_key, v, reader_over(bytes, n));
          EXPECT_FALSE(s.decoded) << where;
          EXPECT_TRUE(s.topics.empty() && s.group_ids.empty() && s.transactional_ids.empty()) << where;
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
    // A version outside the API's range.
    auto req = t->create();
    const auto bytes = encode(*req, t->max_version);
    EXPECT_FALSE(error_response(t->api_key, static_cast<int16_t>(t->max_version + 1), reader_over(bytes), injected))
        << t->name;
    EXPECT_FALSE(summarize_request(t->api_key, static_cast<int16_t>(t->max_version + 1), reader_over(bytes)).decoded)
        << t->name;
    EXPECT_FALSE(error_response(t->api_key, -1, reader_over(bytes), injected)) << t->name;
  }
  const std::vector<uint8_t> empty;
  EXPECT_FALSE(error_response(1000, 0, reader_over(empty), injected));
  EXPECT_FALSE(error_response(-1, 0, reader_over(empty), injected));
  EXPECT_FALSE(summarize_request(1000, 0, reader_over(empty)).decoded);
  EXPECT_FALSE(has_top_level_error_code(1000, 0));
  EXPECT_FALSE(has_top_level_error_code(produce_request::api_key, 9)) << "Produce errors are per partition";
  EXPECT_TRUE(has_top_level_error_code(fetch_request::api_key, 7));
  EXPECT_FALSE(has_top_level_error_code(fetch_request::api_key, 6));
  EXPECT_FALSE(has_top_level_error_code(fetch_request::api_key, 18));
}

TEST(ErrorResponse, LeavesTheCallersReaderWhereItWas) {
  heartbeat_request req;
  req.group_id = "g";
  const auto bytes = encode(req, 4);
  reader r = reader_over(bytes);
  ASSERT_TRUE(error_response(heartbeat_request::api_key, 4, r, injected));
  ASSERT_TRUE(summarize_request(heartbeat_request::api_key, 4, r).decoded);
  EXPECT_EQ(r.remaining(), bytes.size());
  heartbeat_request again;
  again.decode(r, 4);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(again, req);
}

// ---- summaries -------------------------------------------------------------------------------
std::vector<int32_t> parts(std::initializer_list<int32_t> p) { return p; }

TEST(RequestSummary, ProduceNamesTopicsPartitionsAndTransactionalId) {
  produce_request req;
  req.transactional_id = "tx";
  req.topic_data.emplace_back().name = "a";
  req.topic_data[0].partition_data.emplace_back().index = 0;
  req.topic_data[0].partition_data.emplace_back().index = 2;
  req.topic_data.emplace_back().name = "b";
  req.topic_data[1].partition_data.emplace_back().index = 1;
  for (int16_t v : {int16_t(3), int16_t(9), int16_t(11)}) {
    auto s = summarize(req, v);
    ASSERT_TRUE(s.decoded);
    ASSERT_EQ(s.topics.size(), 2u);
    EXPECT_EQ(s.topics[0].name, "a");
    EXPECT_TRUE(s.topics[0].id.is_zero());
    EXPECT_EQ(s.topics[0].partitions, parts({0, 2}));
    EXPECT_EQ(s.topics[1].name, "b");
    EXPECT_EQ(s.topics[1].partitions, parts({1}));
    EXPECT_EQ(s.transactional_ids, std::vector<std::string>{"tx"}) << v;
    EXPECT_TRUE(s.group_ids.empty());
  }
  EXPECT_TRUE(summarize(req, 2).transactional_ids.empty()) << "v0-2 carry no transactional id";
  req.transactional_id.reset();
  EXPECT_TRUE(summarize(req, 9).transactional_ids.empty()) << "null is not an id";
}

TEST(RequestSummary, FetchNamesTopicsByNameThenById) {
  fetch_request req;
  const uuid id = uuid::random();
  auto& t = req.topics.emplace_back();
  t.topic = "a";
  t.topic_id = id;
  t.partitions.emplace_back().partition = 7;
  t.partitions.emplace_back().partition = 8;
  auto& gone = req.forgotten_topics_data.emplace_back();
  gone.topic = "old";
  gone.topic_id = uuid::random();
  gone.partitions = {1};
  for (int16_t v : {int16_t(0), int16_t(7), int16_t(12)}) {
    auto s = summarize(req, v);
    ASSERT_TRUE(s.decoded);
    ASSERT_EQ(s.topics.size(), 1u) << "forgotten topics are not listed, v" << v;
    EXPECT_EQ(s.topics[0].name, "a");
    EXPECT_TRUE(s.topics[0].id.is_zero());
    EXPECT_EQ(s.topics[0].partitions, parts({7, 8}));
  }
  for (int16_t v : {int16_t(13), int16_t(17)}) {
    auto s = summarize(req, v);
    ASSERT_EQ(s.topics.size(), 1u);
    EXPECT_EQ(s.topics[0].name, "") << "v13+ names topics by id only";
    EXPECT_EQ(s.topics[0].id, id);
    EXPECT_EQ(s.topics[0].partitions, parts({7, 8}));
  }
}

TEST(RequestSummary, OffsetCommitNamesGroupTopicsAndPartitions) {
  offset_commit_request req;
  req.group_id = "g";
  req.topics.emplace_back().name = "a";
  req.topics[0].partitions.emplace_back().partition_index = 3;
  auto s = summarize(req, 8);
  ASSERT_TRUE(s.decoded);
  EXPECT_EQ(s.group_ids, std::vector<std::string>{"g"});
  ASSERT_EQ(s.topics.size(), 1u);
  EXPECT_EQ(s.topics[0].name, "a");
  EXPECT_EQ(s.topics[0].partitions, parts({3}));
  EXPECT_TRUE(s.transactional_ids.empty());
}

TEST(RequestSummary, JoinGroupNamesItsGroupOnly) {
  join_group_request req;
  req.group_id = "g";
  req.member_id = "m";
  req.protocols.emplace_back().name = "range";
  auto s = summarize(req, 9);
  ASSERT_TRUE(s.decoded);
  EXPECT_EQ(s.group_ids, std::vector<std::string>{"g"});
  EXPECT_TRUE(s.topics.empty());
  EXPECT_TRUE(s.transactional_ids.empty());
}

TEST(RequestSummary, TxnOffsetCommitNamesTransactionGroupAndPartitions) {
  txn_offset_commit_request req;
  req.transactional_id = "tx";
  req.group_id = "g";
  req.topics.emplace_back().name = "a";
  req.topics[0].partitions.emplace_back().partition_index = 1;
  req.topics[0].partitions.emplace_back().partition_index = 0;
  for (int16_t v = 0; v <= 4; ++v) {
    auto s = summarize(req, v);
    ASSERT_TRUE(s.decoded);
    EXPECT_EQ(s.transactional_ids, std::vector<std::string>{"tx"});
    EXPECT_EQ(s.group_ids, std::vector<std::string>{"g"});
    ASSERT_EQ(s.topics.size(), 1u);
    EXPECT_EQ(s.topics[0].partitions, parts({1, 0}));
  }
}

TEST(RequestSummary, AddPartitionsToTxnInBothShapes) {
  add_partitions_to_txn_request old;
  old.v3_and_below_transactional_id = "tx";
  old.v3_and_below_topics.emplace_back().name = "a";
  old.v3_and_below_topics[0].partitions = {0, 1};
  for (int16_t v = 0; v <= 3; ++v) {
    auto s = summarize(old, v);
    ASSERT_TRUE(s.decoded);
    EXPECT_EQ(s.transactional_ids, std::vector<std::string>{"tx"});
    ASSERT_EQ(s.topics.size(), 1u);
    EXPECT_EQ(s.topics[0].name, "a");
    EXPECT_EQ(s.topics[0].partitions, parts({0, 1}));
  }
  add_partitions_to_txn_request batched;
  auto& t1 = batched.transactions.emplace_back();
  t1.transactional_id = "tx1";
  t1.topics.emplace_back().name = "a";
  t1.topics[0].partitions = {2};
  auto& t2 = batched.transactions.emplace_back();
  t2.transactional_id = "tx2";
  t2.topics.emplace_back().name = "b";
  t2.topics[0].partitions = {3, 4};
  for (int16_t v = 4; v <= 5; ++v) {
    auto s = summarize(batched, v);
    ASSERT_TRUE(s.decoded);
    EXPECT_EQ(s.transactional_ids, (std::vector<std::string>{"tx1", "tx2"}));
    ASSERT_EQ(s.topics.size(), 2u);
    EXPECT_EQ(s.topics[0].name, "a");
    EXPECT_EQ(s.topics[0].partitions, parts({2}));
    EXPECT_EQ(s.topics[1].name, "b");
    EXPECT_EQ(s.topics[1].partitions, parts({3, 4}));
  }
}

TEST(RequestSummary, CoordinatorKeysByKeyType) {
  find_coordinator_request req;
  req.key = "g";
  EXPECT_EQ(summarize(req, 0).group_ids, std::vector<std::string>{"g"});
  req.key_type = 1;
  auto s = summarize(req, 3);
  EXPECT_TRUE(s.group_ids.empty());
  EXPECT_EQ(s.transactional_ids, std::vector<std::string>{"g"});
  req.key_type = 0;
  req.coordinator_keys = {"g1", "g2"};
  EXPECT_EQ(summarize(req, 4).group_ids, (std::vector<std::string>{"g1", "g2"}));
}

TEST(RequestSummary, TopicLevelRequestsAndTopicResources) {
  metadata_request all;
  all.topics.reset();
  auto s = summarize(all, 12);
  EXPECT_TRUE(s.decoded);
  EXPECT_TRUE(s.topics.empty()) << "null topics (all topics) names none";

  metadata_request some;
  const uuid id = uuid::random();
  auto& t = some.topics.emplace().emplace_back();
  t.name = "a";
  t.topic_id = id;
  s = summarize(some, 12);
  ASSERT_EQ(s.topics.size(), 1u);
  EXPECT_EQ(s.topics[0].name, "a");
  EXPECT_EQ(s.topics[0].id, id);
  EXPECT_TRUE(s.topics[0].partitions.empty());

  describe_configs_request dc;
  auto& r1 = dc.resources.emplace_back();
  r1.resource_type = 2;
  r1.resource_name = "topic-a";
  auto& r2 = dc.resources.emplace_back();
  r2.resource_type = 4;
  r2.resource_name = "1";
  s = summarize(dc, 4);
  ASSERT_EQ(s.topics.size(), 1u) << "only TOPIC resources name topics";
  EXPECT_EQ(s.topics[0].name, "topic-a");

  delete_groups_request dg;
  dg.groups_names = {"g1", "g2"};
  EXPECT_EQ(summarize(dg, 2).group_ids, (std::vector<std::string>{"g1", "g2"}));
}

}  // namespace
}  // namespace mk::proto
