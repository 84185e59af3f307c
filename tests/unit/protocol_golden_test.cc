// Request frames captured from real clients (tests/golden/<api>_request_v<N>_<client>.bin, see
// tests/golden/README.md) decode with the generated codecs, consume every byte, and re-encode
// (header + body) to exactly the captured bytes. A few fields are checked by value so that a
// codec that misreads a field fails here meaningfully.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "protocol/framing.h"
#include "protocol/generated/api_keys.h"
#include "tests/generated/test_messages.h"

namespace mk::proto {
namespace {

namespace fs = std::filesystem;

struct golden_frame {
  std::string file;  // file name without directory
  std::string api;   // "produce"
  int version = 0;
  std::string client;
  std::vector<uint8_t> bytes;
};

std::string snake(const std::string& camel) {
  std::string s;
  for (size_t i = 0; i < camel.size(); ++i) {
    if (std::isupper(static_cast<unsigned char>(camel[i])) && i > 0) s.push_back('_');
    s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(camel[i]))));
  }
  return s;
}

std::vector<golden_frame> load_golden() {
  std::vector<golden_frame> out;
  const std::regex name_re(R"(([a-z_]+)_request_v([0-9]+)_(.+)\.bin)");
  for (const auto& e : fs::directory_iterator(MK_GOLDEN_DIR)) {
    std::string name = e.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, name_re)) continue;
    golden_frame g;
    g.file = name;
    g.api = m[1];
    g.version = std::stoi(m[2]);
    g.client = m[3];
    std::ifstream in(e.path(), std::ios::binary);
    g.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
  return out;
}

const std::vector<golden_frame>& golden() {
  static const std::vector<golden_frame> frames = load_golden();
  return frames;
}

struct decoded_frame {
  request_header header;
  std::unique_ptr<any_message> body;
};

// Decodes header + body, asserting everything the file name promises and that all bytes are used.
void decode_frame(const golden_frame& g, decoded_frame& out) {
  auto buf = std::make_shared<std::vector<uint8_t>>(g.bytes);
  reader r(buf->data(), buf->size(), buf);
  ASSERT_TRUE(decode_request_header(r, out.header)) << g.file;
  const api_key_info* api = find_api_key(out.header.api_key);
  ASSERT_NE(api, nullptr) << g.file << ": api key " << out.header.api_key;
  EXPECT_EQ(snake(api->name), g.api) << g.file;
  EXPECT_EQ(out.header.api_version, g.version) << g.file;
  std::string client;
  for (char c : out.header.client_id) client.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_');
  EXPECT_EQ(client, g.client) << g.file;
  const message_type* t = find_message_type(message_kind::request, out.header.api_key);
  ASSERT_NE(t, nullptr) << g.file;
  ASSERT_GE(out.header.api_version, t->min_version) << g.file;
  ASSERT_LE(out.header.api_version, t->max_version) << g.file;
  out.body = t->create();
  out.body->decode(r, out.header.api_version);
  ASSERT_TRUE(r.ok()) << g.file << ": body failed to decode";
  ASSERT_EQ(r.remaining(), 0u) << g.file << ": body left bytes unread";
}

template <typename T>
const T& as(const decoded_frame& d) {
  auto* p = dynamic_cast<const typed_message<T>*>(d.body.get());
  if (!p) throw std::runtime_error(std::string("not a ") + T::name);
  return p->value;
}

TEST(Golden, FramesExist) {
  ASSERT_FALSE(golden().empty()) << "no frames in " << MK_GOLDEN_DIR;
  // At least one frame for each API the broker served to the recording clients.
  std::set<std::string> apis;
  std::set<std::string> clients;
  for (const auto& g : golden()) apis.insert(g.api), clients.insert(g.client);
  for (const char* a : {"api_versions", "metadata", "produce", "fetch", "list_offsets", "create_topics", "delete_topics",
                        "create_partitions", "describe_configs", "find_coordinator"})
    EXPECT_TRUE(apis.count(a)) << "no golden frame for " << a;
  for (const char* c : {"kcat", "kafka-python", "confluent-kafka", "kafkajs"})
    EXPECT_TRUE(clients.count(c)) << "no golden frame from " << c;
}

TEST(Golden, EveryFrameDecodesAndReencodesIdentically) {
  for (const auto& g : golden()) {
    SCOPED_TRACE(g.file);
    decoded_frame d;
    decode_frame(g, d);
    if (HasFatalFailure()) return;
    writer w;
    encode_request_header(w, d.header);
    d.body->encode(w, d.header.api_version);
    EXPECT_EQ(w.flatten(), g.bytes) << g.file << " re-encoded differently";
  }
}

// Every strict prefix of a real frame body fails to decode (and under ASan: without over-reads).
TEST(Golden, TruncatedBodiesFail) {
  for (const auto& g : golden()) {
    decoded_frame d;
    decode_frame(g, d);
    if (HasFatalFailure()) return;
    writer hw;
    encode_request_header(hw, d.header);
    const size_t body_at = hw.size();
    const message_type* t = find_message_type(message_kind::request, d.header.api_key);
    for (size_t len = body_at; len < g.bytes.size(); ++len) {
      std::vector<uint8_t> prefix(g.bytes.begin() + static_cast<ptrdiff_t>(body_at),
                                  g.bytes.begin() + static_cast<ptrdiff_t>(len));
      reader r(prefix.data(), prefix.size());
      auto m = t->create();
      m->decode(r, d.header.api_version);
      EXPECT_FALSE(r.ok()) << g.file << " decoded from " << len << " of " << g.bytes.size() << " bytes";
    }
  }
}

// ---- field values --------------------------------------------------------------------------------

using check_fn = std::function<void(const decoded_frame&)>;

// Record-batch facts straight from the bytes (magic at offset 16, record count at 57).
void expect_batch(const records& r, int records_in_batch) {
  auto b = r.flatten();
  ASSERT_GE(b.size(), 61u);
  EXPECT_EQ(b[16], 2) << "magic";
  const int32_t count = (b[57] << 24) | (b[58] << 16) | (b[59] << 8) | b[60];
  EXPECT_EQ(count, records_in_batch);
  const int32_t batch_len = (b[8] << 24) | (b[9] << 16) | (b[10] << 8) | b[11];
  EXPECT_EQ(static_cast<size_t>(batch_len) + 12, b.size()) << "one whole batch";
}

void expect_produce(const decoded_frame& d, const char* topic, int16_t acks, int records_in_batch) {
  const auto& p = as<produce_request>(d);
  EXPECT_EQ(p.transactional_id, std::nullopt);
  EXPECT_EQ(p.acks, acks);
  EXPECT_EQ(p.timeout_ms, 30000);
  ASSERT_EQ(p.topic_data.size(), 1u);
  EXPECT_EQ(p.topic_data[0].name, topic);
  ASSERT_EQ(p.topic_data[0].partition_data.size(), 1u);
  EXPECT_EQ(p.topic_data[0].partition_data[0].index, 0);
  EXPECT_FALSE(p.topic_data[0].partition_data[0].records_.is_null);
  expect_batch(p.topic_data[0].partition_data[0].records_, records_in_batch);
}

std::vector<std::string> created(const decoded_frame& d) {
  std::vector<std::string> names;
  for (const auto& t : as<create_topics_request>(d).topics) names.push_back(t.name);
  return names;
}

const std::map<std::string, check_fn>& checks() {
  using names = std::vector<std::string>;
  static const std::map<std::string, check_fn> m = {
      {"api_versions_request_v0_kafka-python.bin", [](const decoded_frame& d) { EXPECT_EQ(d.header.correlation_id, 1); }},
      {"api_versions_request_v3_kcat.bin",
       [](const decoded_frame& d) {
         const auto& a = as<api_versions_request>(d);
         EXPECT_EQ(a.client_software_name, "librdkafka");
         EXPECT_EQ(a.client_software_version, "2.0.2");
         EXPECT_EQ(d.header.header_version, 2);
       }},
      {"api_versions_request_v3_confluent-kafka.bin",
       [](const decoded_frame& d) {
         const auto& a = as<api_versions_request>(d);
         EXPECT_EQ(a.client_software_name, "confluent-kafka-python");
         EXPECT_EQ(a.client_software_version, "1.7.0-rdkafka-2.0.2");
       }},
      {"produce_request_v7_kcat.bin", [](const decoded_frame& d) { expect_produce(d, "kcat-topic", -1, 2); }},
      {"produce_request_v7_kafka-python.bin", [](const decoded_frame& d) { expect_produce(d, "kp-topic", 1, 1); }},
      {"produce_request_v7_confluent-kafka.bin", [](const decoded_frame& d) { expect_produce(d, "ck-topic", -1, 1); }},
      {"produce_request_v7_kafkajs.bin", [](const decoded_frame& d) { expect_produce(d, "kjs-topic", -1, 1); }},
      {"fetch_request_v11_kcat.bin",
       [](const decoded_frame& d) {
         const auto& f = as<fetch_request>(d);
         EXPECT_EQ(f.replica_id, -1);
         EXPECT_EQ(f.max_wait_ms, 500);
         EXPECT_EQ(f.min_bytes, 1);
         EXPECT_EQ(f.max_bytes, 52428800);
         EXPECT_EQ(f.isolation_level, 1);  // librdkafka reads committed by default
         EXPECT_EQ(f.session_id, 0);
         EXPECT_EQ(f.session_epoch, -1);
         ASSERT_EQ(f.topics.size(), 1u);
         EXPECT_EQ(f.topics[0].topic, "kcat-topic");
         ASSERT_EQ(f.topics[0].partitions.size(), 1u);
         EXPECT_EQ(f.topics[0].partitions[0].fetch_offset, 2);  // after the two records produced
         EXPECT_EQ(f.topics[0].partitions[0].partition_max_bytes, 1048576);
         EXPECT_EQ(f.rack_id, "");
       }},
      {"fetch_request_v4_kafka-python.bin",
       [](const decoded_frame& d) {
         const auto& f = as<fetch_request>(d);
         EXPECT_EQ(f.max_wait_ms, 500);
         EXPECT_EQ(f.min_bytes, 1);
         EXPECT_EQ(f.isolation_level, 0);
         ASSERT_EQ(f.topics.size(), 1u);
         EXPECT_EQ(f.topics[0].topic, "kp-topic");
         ASSERT_EQ(f.topics[0].partitions.size(), 1u);
         EXPECT_EQ(f.topics[0].partitions[0].partition, 0);
       }},
      {"list_offsets_request_v2_kcat.bin",
       [](const decoded_frame& d) {
         const auto& l = as<list_offsets_request>(d);
         EXPECT_EQ(l.replica_id, -1);
         EXPECT_EQ(l.isolation_level, 1);
         ASSERT_EQ(l.topics.size(), 1u);
         EXPECT_EQ(l.topics[0].name, "kcat-topic");
         ASSERT_EQ(l.topics[0].partitions.size(), 1u);
         EXPECT_EQ(l.topics[0].partitions[0].timestamp, -2);  // -o beginning = EARLIEST
       }},
      {"metadata_request_v6_kafkajs.bin",
       [](const decoded_frame& d) {
         const auto& md = as<metadata_request>(d);
         ASSERT_TRUE(md.topics.has_value());
         ASSERT_EQ(md.topics->size(), 1u);
         EXPECT_EQ((*md.topics)[0].name, std::optional<std::string>("kjs-topic"));
         EXPECT_TRUE(md.allow_auto_topic_creation);
       }},
      {"create_topics_request_v4_confluent-kafka.bin",
       [](const decoded_frame& d) {
         EXPECT_EQ(created(d), (names{"ck-topic", "ck-gone"}));
         const auto& c = as<create_topics_request>(d);
         EXPECT_EQ(c.topics[0].num_partitions, 1);
         EXPECT_EQ(c.topics[0].replication_factor, 1);
         EXPECT_EQ(c.timeout_ms, 60000);
         EXPECT_FALSE(c.validate_only);
       }},
      {"create_topics_request_v3_kafka-python.bin",
       [](const decoded_frame& d) {
         EXPECT_EQ(created(d), (names{"kp-topic", "kp-gone"}));
         EXPECT_EQ(as<create_topics_request>(d).topics[0].num_partitions, 2);
       }},
      {"create_topics_request_v3_kafkajs.bin",
       [](const decoded_frame& d) { EXPECT_EQ(created(d), (names{"kjs-topic", "kjs-gone"})); }},
      {"delete_topics_request_v1_kafkajs.bin",
       [](const decoded_frame& d) {
         EXPECT_EQ(as<delete_topics_request>(d).topic_names, (names{"kjs-gone"}));
         EXPECT_EQ(as<delete_topics_request>(d).timeout_ms, 5000);
       }},
      {"delete_topics_request_v1_confluent-kafka.bin",
       [](const decoded_frame& d) { EXPECT_EQ(as<delete_topics_request>(d).topic_names, (names{"ck-gone"})); }},
      {"delete_topics_request_v3_kafka-python.bin",
       [](const decoded_frame& d) { EXPECT_EQ(as<delete_topics_request>(d).topic_names, (names{"kp-gone"})); }},
      {"describe_configs_request_v1_confluent-kafka.bin",
       [](const decoded_frame& d) {
         const auto& c = as<describe_configs_request>(d);
         ASSERT_EQ(c.resources.size(), 1u);
         EXPECT_EQ(c.resources[0].resource_type, 2);  // TOPIC
         EXPECT_EQ(c.resources[0].resource_name, "ck-topic");
         EXPECT_EQ(c.resources[0].configuration_keys, std::nullopt);  // all keys
         EXPECT_TRUE(c.include_synonyms);
       }},
      {"describe_configs_request_v2_kafkajs.bin",
       [](const decoded_frame& d) {
         const auto& c = as<describe_configs_request>(d);
         ASSERT_EQ(c.resources.size(), 1u);
         EXPECT_EQ(c.resources[0].resource_name, "kjs-topic");
       }},
      {"create_partitions_request_v1_kafka-python.bin",
       [](const decoded_frame& d) {
         const auto& c = as<create_partitions_request>(d);
         ASSERT_EQ(c.topics.size(), 1u);
         EXPECT_EQ(c.topics[0].name, "kp-topic");
         EXPECT_EQ(c.topics[0].count, 3);
         EXPECT_EQ(c.topics[0].assignments, std::nullopt);
         EXPECT_EQ(c.timeout_ms, 30000);
       }},
      {"create_partitions_request_v0_confluent-kafka.bin",
       [](const decoded_frame& d) {
         const auto& c = as<create_partitions_request>(d);
         ASSERT_EQ(c.topics.size(), 1u);
         EXPECT_EQ(c.topics[0].name, "ck-topic");
         EXPECT_EQ(c.topics[0].count, 2);
       }},
      {"find_coordinator_request_v0_kafka-python.bin",
       [](const decoded_frame& d) { EXPECT_EQ(as<find_coordinator_request>(d).key, "kp-group"); }},
      {"find_coordinator_request_v2_kafkajs.bin",
       [](const decoded_frame& d) {
         EXPECT_EQ(as<find_coordinator_request>(d).key, "kjs-group");
         EXPECT_EQ(as<find_coordinator_request>(d).key_type, 0);  // GROUP
       }},
      {"find_coordinator_request_v2_confluent-kafka.bin",
       [](const decoded_frame& d) { EXPECT_EQ(as<find_coordinator_request>(d).key, "ck-group"); }},
  };
  return m;
}

TEST(Golden, FieldValues) {
  size_t checked = 0;
  for (const auto& g : golden()) {
    auto it = checks().find(g.file);
    if (it == checks().end()) continue;
    SCOPED_TRACE(g.file);
    decoded_frame d;
    decode_frame(g, d);
    if (HasFatalFailure()) return;
    it->second(d);
    ++checked;
  }
  EXPECT_EQ(checked, checks().size()) << "a checked golden file is missing";
}

}  // namespace
}  // namespace mk::proto
