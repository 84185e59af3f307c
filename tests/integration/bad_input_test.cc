// Hostile and broken input over a real socket. Every case also proves that a second client,
// connected before the bad input arrived, keeps working (ApiVersions + Produce) afterwards: bad
// input costs at most the offending connection (broker/net/connection.h).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "minikafka/broker.h"
#include "protocol/generated/all_messages.h"
#include "protocol/records/record_batch.h"
#include "test_client.h"

namespace {

using namespace std::chrono_literals;
using namespace mk::proto;
namespace rec = mk::records;
using mk::test::client;

constexpr int16_t NONE = 0;
constexpr int16_t CORRUPT_MESSAGE = 2;
constexpr int16_t UNKNOWN_TOPIC_OR_PARTITION = 3;
constexpr size_t max_request = 1 << 20;  // the broker's max_request_size in these tests
constexpr auto close_deadline = 3s;      // "closed quickly"

std::vector<uint8_t> be32(int32_t v) {
  auto u = static_cast<uint32_t>(v);
  return {static_cast<uint8_t>(u >> 24), static_cast<uint8_t>(u >> 16), static_cast<uint8_t>(u >> 8),
          static_cast<uint8_t>(u)};
}

std::vector<uint8_t> small_batch(const std::string& value = "value") {
  std::vector<rec::record_in> rs(2);
  rs[0].key = "k0";
  rs[0].value = value;
  rs[0].timestamp = 1000;
  rs[1].key = "k1";
  rs[1].value = value + "-2";
  rs[1].timestamp = 1001;
  return rec::build_batch(rs);
}

produce_request produce_req(const std::string& topic, int32_t partition, std::vector<uint8_t> data,
                            int16_t acks = -1) {
  produce_request req;
  req.acks = acks;
  req.timeout_ms = 5000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records_ = records{false, {mk::shared_chunk::adopt(std::move(data))}};
  return req;
}

class BadInput : public ::testing::Test {
 protected:
  static minikafka::broker_options options() {
    minikafka::broker_options o;
    o.max_request_size = max_request;
    return o;
  }

  void SetUp() override {
    broker_.start();
    broker_.create_topic("t", 1);
    bystander_ = std::make_unique<client>(broker_.port());
    expect_bystander_works();  // connected and served before the bad input
  }

  // The already-connected second client still gets answers and can produce.
  void expect_bystander_works() {
    SCOPED_TRACE("bystander connection");
    api_versions_request av;
    av.client_software_name = "bystander";
    av.client_software_version = "1";
    EXPECT_EQ(bystander_->call(av, 3).error_code, NONE);
    const int64_t end = broker_.end_offset("t", 0);
    auto resp = bystander_->call(produce_req("t", 0, small_batch()), 7);
    const auto& pr = resp.responses.at(0).partition_responses.at(0);
    EXPECT_EQ(pr.error_code, NONE);
    EXPECT_EQ(pr.base_offset, end);
    EXPECT_EQ(broker_.end_offset("t", 0), end + 2);
  }

  client attacker() { return client(broker_.port()); }

  // Sends one Produce at v7 and returns the partition's error code.
  int16_t produce_raw_records(client& c, const std::vector<uint8_t>& data, int32_t partition = 0) {
    auto resp = c.call(produce_req("t", partition, data), 7);
    return resp.responses.at(0).partition_responses.at(0).error_code;
  }

  minikafka::broker broker_{options()};
  std::unique_ptr<client> bystander_;
};

// ----------------------------------------------------------------------------------- framing

TEST_F(BadInput, TruncatedFrameThenClose) {
  auto a = attacker();
  auto bytes = be32(100);
  for (int i = 0; i < 10; ++i) bytes.push_back(static_cast<uint8_t>(i));
  a.send_raw(bytes);
  // The half-received frame blocks nobody else.
  expect_bystander_works();
  // The attacker goes away mid-frame: the broker sees EOF and closes its side.
  ::shutdown(a.fd(), SHUT_WR);
  EXPECT_TRUE(a.closed_within(close_deadline));
  expect_bystander_works();
}

// Framing is independent of how the bytes arrive: several frames in one write, a frame one byte
// at a time, and a body far larger than the broker's read-ahead split over several writes.
TEST_F(BadInput, PipelinedFramesInOneWriteAreAnsweredInOrder) {
  auto c = attacker();
  std::vector<uint8_t> bytes;
  std::vector<int32_t> corrs(3);
  for (int i = 0; i < 3; ++i) {
    auto f = client::frame(c.encode_request(produce_req("t", 0, small_batch("p" + std::to_string(i))), 7, &corrs[i]));
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  const int64_t end = broker_.end_offset("t", 0);
  c.send_raw(bytes);
  for (int i = 0; i < 3; ++i) {
    auto resp = c.receive<produce_response>(7, corrs[i]);
    const auto& pr = resp.responses.at(0).partition_responses.at(0);
    EXPECT_EQ(pr.error_code, NONE);
    EXPECT_EQ(pr.base_offset, end + 2 * i);
  }
  expect_bystander_works();
}

TEST_F(BadInput, FrameSentOneByteAtATimeIsAnswered) {
  auto c = attacker();
  int32_t corr = 0;
  auto f = client::frame(c.encode_request(produce_req("t", 0, small_batch()), 7, &corr));
  const int64_t end = broker_.end_offset("t", 0);
  for (uint8_t b : f) c.send_raw(std::span<const uint8_t>(&b, 1));
  auto resp = c.receive<produce_response>(7, corr);
  EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).base_offset, end);
  expect_bystander_works();
}

TEST_F(BadInput, LargeFrameSplitAcrossWritesIsStoredIntact) {
  broker_.create_topic("big", 1);
  auto c = attacker();
  auto batch = small_batch(std::string(300 * 1024, 'b'));  // far beyond the 16 KiB read-ahead
  int32_t corr = 0;
  auto f = client::frame(c.encode_request(produce_req("big", 0, batch), 7, &corr));
  const size_t cut1 = 3, cut2 = f.size() / 2;  // inside the size prefix, then mid-body
  c.send_raw(std::span<const uint8_t>(f.data(), cut1));
  c.send_raw(std::span<const uint8_t>(f.data() + cut1, cut2 - cut1));
  c.send_raw(std::span<const uint8_t>(f.data() + cut2, f.size() - cut2));
  auto resp = c.receive<produce_response>(7, corr);
  ASSERT_EQ(resp.responses.at(0).partition_responses.at(0).error_code, NONE);
  fetch_request fr;
  fr.max_wait_ms = 0;
  fr.max_bytes = 1 << 20;
  auto& ft = fr.topics.emplace_back();
  ft.topic = "big";
  auto& fp = ft.partitions.emplace_back();
  fp.partition = 0;
  fp.fetch_offset = 0;
  fp.partition_max_bytes = 1 << 20;
  auto got = c.call(fr, 11).responses.at(0).partitions.at(0).records_.flatten();
  // Base offset 0 on a new topic, so the stored bytes are the sent ones except the partition
  // leader epoch (bytes 12-15, outside the CRC), which the broker sets to its own (0).
  auto expected = batch;
  std::fill(expected.begin() + 12, expected.begin() + 16, uint8_t{0});
  EXPECT_EQ(got, expected);
  expect_bystander_works();
}

TEST_F(BadInput, FrameLargerThanLimitIsRefusedFromItsPrefix) {
  auto a = attacker();
  a.send_raw(be32(2 << 20));  // 2 MiB announced, limit 1 MiB, body never sent
  EXPECT_TRUE(a.closed_within(close_deadline)) << "the size prefix alone must close the connection";
  expect_bystander_works();
}

TEST_F(BadInput, FrameAtTheLimitIsReadNormally) {
  // A frame of exactly max_request_size bytes is within the limit, so the broker reads all of it
  // (an ApiVersions v0 header padded with zeros) and then answers or closes; it must not hang.
  auto a = attacker();
  int32_t corr = 0;
  auto body = a.encode_header(18, 0, &corr);
  body.resize(max_request, 0);
  a.send_raw(client::frame(body));
  auto st = a.wait_readable(10s);
  EXPECT_NE(st, mk::test::wait_result::timeout) << "a frame of exactly the limit must be processed";
  expect_bystander_works();
}

TEST_F(BadInput, NegativeSize) {
  for (int32_t size : {-1, -100, INT32_MIN}) {
    SCOPED_TRACE("size " + std::to_string(size));
    auto a = attacker();
    a.send_raw(be32(size));
    EXPECT_TRUE(a.closed_within(close_deadline));
  }
  expect_bystander_works();
}

TEST_F(BadInput, FrameTooShortForAHeader) {
  for (int n : {0, 1, 3, 7}) {
    SCOPED_TRACE("body of " + std::to_string(n) + " bytes");
    auto a = attacker();
    std::vector<uint8_t> body(static_cast<size_t>(n), 0x00);
    a.send_raw(client::frame(body));
    EXPECT_TRUE(a.closed_within(close_deadline));
  }
  expect_bystander_works();
}

bool may_long_poll(const std::vector<uint8_t>& body);

TEST_F(BadInput, GarbageBytes) {
  std::mt19937 rng(1234);
  int closed = 0, answered = 0;
  for (int i = 0; i < 100; ++i) {
    SCOPED_TRACE("garbage frame " + std::to_string(i));
    auto a = attacker();
    std::vector<uint8_t> body(8 + rng() % 200);
    for (auto& b : body) b = static_cast<uint8_t>(rng());
    // Every other frame names a served API (key 0-3) at a random version, so the random bytes
    // reach the header and body decoders instead of stopping at the API key.
    if (i % 2) {
      body[0] = 0;
      body[1] = static_cast<uint8_t>(rng() % 4);
      body[2] = 0;
      body[3] = static_cast<uint8_t>(rng() % 13);
    }
    a.send_raw(client::frame(body));
    // Random bytes are refused (connection closed) or, if they happen to decode, answered.
    mk::test::wait_result why{};
    auto frame = a.try_receive_frame(close_deadline, &why);
    if (frame) ++answered;
    else if (why == mk::test::wait_result::closed) ++closed;
    else EXPECT_TRUE(may_long_poll(body)) << "garbage neither answered nor refused";
  }
  EXPECT_GT(closed, 50);
  // Garbage without any framing at all: the first 4 bytes read as a (large or negative) size.
  using namespace std::string_literals;
  for (const std::string& text : {"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"s, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s}) {
    auto a = attacker();
    a.send_raw(std::vector<uint8_t>(text.begin(), text.end()));
    EXPECT_TRUE(a.closed_within(close_deadline)) << "HTTP or TLS hello on the Kafka port";
  }
  expect_bystander_works();
}

TEST_F(BadInput, UnknownApiKeyClosesConnection) {
  for (int16_t key : {int16_t{9999}, int16_t{-1}, int16_t{4} /* LeaderAndIsr: Kafka's, not served */}) {
    SCOPED_TRACE("api key " + std::to_string(key));
    auto a = attacker();
    a.send_raw(client::frame(a.encode_header(key, 0)));
    EXPECT_TRUE(a.closed_within(close_deadline));
  }
  expect_bystander_works();
}

TEST_F(BadInput, UnsupportedVersionClosesConnection) {
  {
    auto a = attacker();
    int32_t corr = 0;
    auto body = a.encode_request(produce_req("t", 0, small_batch()), 11, &corr);
    body[2] = 0;  // patch the header's api_version to 99
    body[3] = 99;
    a.send_raw(client::frame(body));
    EXPECT_TRUE(a.closed_within(close_deadline));
  }
  {
    auto a = attacker();
    metadata_request md;
    md.topics.emplace();
    a.send_raw(client::frame(a.encode_request(md, 13)));  // Metadata 13: newer than served
    EXPECT_TRUE(a.closed_within(close_deadline));
  }
  EXPECT_EQ(broker_.end_offset("t", 0), 2) << "only the bystander's setup produce";
  expect_bystander_works();
}

// ----------------------------------------------------------------------------- record data

TEST_F(BadInput, FlippedCrcIsCorruptMessageAndNothingIsStored) {
  auto a = attacker();
  const int64_t end = broker_.end_offset("t", 0);
  auto b = small_batch();
  auto flipped_body = b;
  flipped_body.back() ^= 0x01;  // a record byte: the stored CRC no longer matches
  EXPECT_EQ(produce_raw_records(a, flipped_body), CORRUPT_MESSAGE);
  auto flipped_crc = b;
  flipped_crc[rec::batch_field::crc] ^= 0x80;
  EXPECT_EQ(produce_raw_records(a, flipped_crc), CORRUPT_MESSAGE);
  // A good batch followed by a corrupt one: the partition stores neither.
  auto good_then_bad = small_batch("good");
  good_then_bad.insert(good_then_bad.end(), flipped_body.begin(), flipped_body.end());
  EXPECT_EQ(produce_raw_records(a, good_then_bad), CORRUPT_MESSAGE);
  EXPECT_EQ(broker_.end_offset("t", 0), end);
  // The connection itself stays usable after a rejected produce.
  EXPECT_EQ(produce_raw_records(a, b), NONE);
  expect_bystander_works();
}

TEST_F(BadInput, BadBatchLengthOrTruncatedBatchIsCorruptMessage) {
  auto a = attacker();
  const int64_t end = broker_.end_offset("t", 0);
  auto set_length = [](std::vector<uint8_t> b, int32_t len) {
    auto v = be32(len);
    std::copy(v.begin(), v.end(), b.begin() + rec::batch_field::batch_length);
    return b;
  };
  auto b = small_batch();
  const auto real_len = static_cast<int32_t>(b.size() - rec::log_overhead);
  for (int32_t len : {real_len + 1, real_len + 1000, real_len - 1, 10, 0, -1, INT32_MAX}) {
    SCOPED_TRACE("batchLength " + std::to_string(len) + " (real " + std::to_string(real_len) + ")");
    EXPECT_EQ(produce_raw_records(a, set_length(b, len)), CORRUPT_MESSAGE);
  }
  for (size_t cut : {size_t{1}, size_t{5}, b.size() - rec::batch_header_size, b.size() - 20, b.size() - 1}) {
    SCOPED_TRACE("truncated by " + std::to_string(cut));
    std::vector<uint8_t> t(b.begin(), b.end() - static_cast<long>(cut));
    EXPECT_EQ(produce_raw_records(a, t), CORRUPT_MESSAGE);
  }
  EXPECT_EQ(broker_.end_offset("t", 0), end);
  expect_bystander_works();
}

TEST_F(BadInput, ProduceToMissingPartitionOfExistingTopic) {
  auto a = attacker();
  for (int32_t p : {1, 5, -1, INT32_MAX}) {
    SCOPED_TRACE("partition " + std::to_string(p));
    EXPECT_EQ(produce_raw_records(a, small_batch(), p), UNKNOWN_TOPIC_OR_PARTITION);
  }
  EXPECT_EQ(broker_.topics(), std::vector<std::string>{"t"});
  expect_bystander_works();
}

// ------------------------------------------------------------------------- hostile lengths

TEST_F(BadInput, HugeArrayCountWithFewBytesClosesQuickly) {
  struct attempt {
    const char* what;
    int16_t key, version;
    std::vector<uint8_t> body;
  };
  std::vector<attempt> attempts;
  // Metadata v1: topics array count 0x7fffffff, then nothing.
  attempts.push_back({"Metadata v1 topics", 3, 1, be32(0x7fffffff)});
  // Metadata v9 (flexible): compact array length as a huge uvarint.
  attempts.push_back({"Metadata v9 compact topics", 3, 9, {0xff, 0xff, 0xff, 0xff, 0x07, 0x00}});
  // Produce v7: transactional_id null, acks -1, timeout, topic_data count 0x7fffffff.
  {
    std::vector<uint8_t> b = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x13, 0x88};
    auto n = be32(0x7fffffff);
    b.insert(b.end(), n.begin(), n.end());
    b.insert(b.end(), {0x00, 0x01, 't'});
    attempts.push_back({"Produce v7 topic_data", 0, 7, b});
  }
  // Produce v7 with one topic whose partition count is huge.
  {
    std::vector<uint8_t> b = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't'};
    auto n = be32(0x7ffffff0);
    b.insert(b.end(), n.begin(), n.end());
    attempts.push_back({"Produce v7 partition_data", 0, 7, b});
  }
  // CreateTopics v4: topics count huge.
  attempts.push_back({"CreateTopics v4 topics", 19, 4, be32(0x7fffffff)});
  // A string length larger than the frame (client id is fine, topic name is not).
  attempts.push_back({"Metadata v1 topic name length", 3, 1, {0x00, 0x00, 0x00, 0x01, 0x7f, 0xff, 'a', 'b'}});
  // Records length larger than the frame.
  {
    std::vector<uint8_t> b = {0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
                              0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
    auto n = be32(0x7ffffff0);
    b.insert(b.end(), n.begin(), n.end());
    attempts.push_back({"Produce v7 records length", 0, 7, b});
  }
  for (const auto& at : attempts) {
    SCOPED_TRACE(at.what);
    auto a = attacker();
    auto body = a.encode_header(at.key, at.version);
    body.insert(body.end(), at.body.begin(), at.body.end());
    const auto start = std::chrono::steady_clock::now();
    a.send_raw(client::frame(body));
    EXPECT_TRUE(a.closed_within(close_deadline));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "no huge allocation or scan before refusing";
  }
  expect_bystander_works();
}

// --------------------------------------------------------------------------- fuzz (bounded)

// Mutates a valid request frame `iterations` times (bit flips, byte overwrites, truncation,
// extension; the size prefix always matches the body) and sends each mutant followed by an
// ApiVersions "ping". Every mutant must be answered (we see the ping's answer) or close the
// connection. A mutant that decodes as a Fetch long poll (max_wait_ms mutated upward) may
// legitimately park: it is sent and the connection dropped at once (a client vanishing under a
// parked fetch), and counted as parked. Returns the counts.
struct fuzz_counts {
  int answered = 0, closed = 0, parked = 0;
};

bool may_long_poll(const std::vector<uint8_t>& body) {
  mk::proto::reader r(body.data(), body.size());
  request_header h;
  if (!decode_request_header(r, h) || h.api_key != fetch_request::api_key) return false;
  if (h.api_version < fetch_request::min_version || h.api_version > fetch_request::max_version) return false;
  fetch_request f;
  f.decode(r, h.api_version);
  return r.ok() && f.max_wait_ms > 1000 && f.min_bytes > 0;
}

fuzz_counts fuzz(uint16_t port, const std::vector<uint8_t>& valid_body, int iterations, uint32_t seed) {
  std::mt19937 rng(seed);
  fuzz_counts counts;
  auto conn = std::make_unique<client>(port);
  for (int i = 0; i < iterations; ++i) {
    std::vector<uint8_t> body = valid_body;
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      switch (rng() % 8) {
        case 0:
          if (!body.empty()) body.resize(rng() % body.size());
          break;
        case 1:
          for (int k = 0, n = 1 + static_cast<int>(rng() % 16); k < n; ++k) body.push_back(static_cast<uint8_t>(rng()));
          break;
        case 2:
        case 3:
          if (!body.empty()) body[rng() % body.size()] = static_cast<uint8_t>(rng());
          break;
        default:
          if (!body.empty()) body[rng() % body.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      }
    }
    if (may_long_poll(body)) {
      conn->try_send_raw(client::frame(body));
      conn = std::make_unique<client>(port);
      ++counts.parked;
      continue;
    }
    int32_t ping_corr = 0;
    auto frames = client::frame(body);
    auto ping = client::frame(conn->encode_header(18, 0, &ping_corr));
    frames.insert(frames.end(), ping.begin(), ping.end());
    if (!conn->try_send_raw(frames)) {  // the broker closed the connection meanwhile: count it
      ++counts.closed;
      conn = std::make_unique<client>(port);
      continue;
    }
    for (;;) {
      mk::test::wait_result why{};
      auto frame = conn->try_receive_frame(5s, &why);
      if (!frame) {
        EXPECT_EQ(why, mk::test::wait_result::closed) << "mutant " << i << " neither answered nor closed the connection";
        ++counts.closed;
        conn = std::make_unique<client>(port);
        break;
      }
      if (frame->size() >= 4) {
        int32_t corr = static_cast<int32_t>((uint32_t{(*frame)[0]} << 24) | (uint32_t{(*frame)[1]} << 16) |
                                            (uint32_t{(*frame)[2]} << 8) | uint32_t{(*frame)[3]});
        if (corr == ping_corr) {
          ++counts.answered;
          break;
        }
      }
    }
  }
  return counts;
}

TEST_F(BadInput, RandomMutationsOfProduceAndFetchFrames) {
  // Data at offset 0 so that mutated fetches mostly answer at once.
  {
    client c(broker_.port());
    ASSERT_EQ(produce_raw_records(c, small_batch()), NONE);
  }
  client enc(broker_.port());
  auto produce_body = enc.encode_request(produce_req("t", 0, small_batch("fuzz")), 7);
  fetch_request fr;
  fr.max_wait_ms = 100;
  fr.min_bytes = 1;
  fr.max_bytes = 1 << 20;
  auto& ft = fr.topics.emplace_back();
  ft.topic = "t";
  auto& fp = ft.partitions.emplace_back();
  fp.partition = 0;
  fp.fetch_offset = 0;
  fp.partition_max_bytes = 1 << 20;
  auto fetch_body = enc.encode_request(fr, 11);
  auto fetch_body_flexible = enc.encode_request(fr, 12);

  auto p = fuzz(broker_.port(), produce_body, 1000, 7);
  auto f = fuzz(broker_.port(), fetch_body, 500, 11);
  auto g = fuzz(broker_.port(), fetch_body_flexible, 500, 13);
  std::printf("produce mutants: %d answered, %d closed, %d parked\n", p.answered, p.closed, p.parked);
  std::printf("fetch mutants:   %d answered, %d closed, %d parked\n", f.answered + g.answered, f.closed + g.closed,
              f.parked + g.parked);
  EXPECT_EQ(p.answered + p.closed + p.parked, 1000);
  EXPECT_EQ(f.answered + f.closed + f.parked + g.answered + g.closed + g.parked, 1000);
  expect_bystander_works();
  // And a fresh client works too.
  client fresh(broker_.port());
  EXPECT_EQ(produce_raw_records(fresh, small_batch()), NONE);
}

}  // namespace
