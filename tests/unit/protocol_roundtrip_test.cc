// Property tests for every generated message codec at every version (Kafka 3.9.0 schemas):
//   * random instances survive encode -> decode -> equal, and re-encode gives the same bytes;
//   * the decoder consumes exactly the encoded bytes;
//   * unknown tagged fields survive decode -> encode;
//   * every strict prefix of a valid encoding fails to decode (run under ASan to also prove that
//     no decoder reads past its input);
//   * corrupted length prefixes (huge, or "all of the remaining bytes") fail cleanly, quickly and
//     without allocating more than the input could honestly describe.
// Random values come from tests/generated/*_random.cc (tools/gen_protocol.py TEST_OUT_DIR).
// MK_ROUNDTRIP_N (default 200) sets the number of random instances per message version.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "protocol/generated/api_keys.h"
#include "protocol/wire.h"
#include "tests/generated/test_messages.h"

// ---- allocation tracking -----------------------------------------------------------------------
// The largest single allocation made while tracking is on (decoders allocate through operator new:
// strings, vectors).
namespace {
std::atomic<bool> g_track_allocs{false};
std::atomic<size_t> g_max_alloc{0};

void note_alloc(size_t n) {
  if (!g_track_allocs.load(std::memory_order_relaxed)) return;
  size_t m = g_max_alloc.load(std::memory_order_relaxed);
  while (n > m && !g_max_alloc.compare_exchange_weak(m, n, std::memory_order_relaxed)) {
  }
}
}  // namespace

// This file replaces the global allocator with malloc/free; GCC's inliner then sees free() on
// memory from "operator new" and warns (a false positive for a replaced allocator).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t n) {
  note_alloc(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  note_alloc(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace mk::proto {
namespace {

int instances_per_version() {
  const char* s = std::getenv("MK_ROUNDTRIP_N");
  int n = s ? std::atoi(s) : 0;
  return n > 0 ? n : 200;
}

std::string hex(const std::vector<uint8_t>& b, size_t max = 96) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < b.size() && i < max; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    s += buf;
    if (i + 1 < b.size()) s += ' ';
  }
  if (b.size() > max) s += "... (" + std::to_string(b.size()) + " bytes)";
  return s;
}

std::vector<uint8_t> encode(const any_message& m, int16_t v) {
  writer w;
  m.encode(w, v);
  return w.flatten();
}

struct decode_result {
  std::unique_ptr<any_message> msg;
  bool ok = false;
  size_t remaining = 0;
  size_t max_alloc = 0;  // largest single allocation during decode
  std::chrono::nanoseconds elapsed{};
};

// Decodes from a heap buffer of exactly `n` bytes, so that AddressSanitizer flags any read past
// the end of the input.
decode_result decode(const message_type& t, const uint8_t* p, size_t n, int16_t v) {
  auto buf = std::make_shared<std::vector<uint8_t>>(p, p + n);
  reader r(buf->data(), buf->size(), buf);
  decode_result d;
  d.msg = t.create();
  g_max_alloc = 0;
  g_track_allocs = true;
  auto start = std::chrono::steady_clock::now();
  d.msg->decode(r, v);
  d.elapsed = std::chrono::steady_clock::now() - start;
  g_track_allocs = false;
  d.max_alloc = g_max_alloc;
  d.ok = r.ok();
  d.remaining = r.remaining();
  return d;
}
decode_result decode(const message_type& t, const std::vector<uint8_t>& b, int16_t v) {
  return decode(t, b.data(), b.size(), v);
}

uint64_t seed_for(const message_type& t, int16_t v, int i) {
  uint64_t h = std::hash<std::string>{}(t.name);
  return h ^ (static_cast<uint64_t>(v) << 40) ^ static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
}

std::vector<const message_type*> all_types() {
  std::vector<const message_type*> out;
  for (const auto& t : all_message_types()) out.push_back(&t);
  return out;
}

class AllMessages : public ::testing::TestWithParam<const message_type*> {};

// encode -> decode -> equal; all bytes consumed; re-encode -> same bytes; the writer's chunk list
// (external record chunks spliced in) carries the same bytes as flatten().
TEST_P(AllMessages, RandomInstancesRoundTrip) {
  const message_type& t = *GetParam();
  const int n = instances_per_version();
  for (int16_t v = t.min_version; v <= t.max_version; ++v) {
    for (int i = 0; i < n; ++i) {
      test_rng rng(seed_for(t, v, i));
      auto m = t.create();
      m->randomize(v, rng);
      writer w;
      m->encode(w, v);
      std::vector<uint8_t> bytes = w.flatten();
      ASSERT_EQ(bytes.size(), w.size());
      std::vector<uint8_t> chunked;
      for (const auto& c : w.take_chunks()) chunked.insert(chunked.end(), c.data, c.data + c.size);
      ASSERT_EQ(chunked, bytes) << t.name << " v" << v << " instance " << i;

      auto d = decode(t, bytes, v);
      ASSERT_TRUE(d.ok) << t.name << " v" << v << " instance " << i << " failed to decode: " << hex(bytes);
      ASSERT_EQ(d.remaining, 0u) << t.name << " v" << v << " instance " << i << " left bytes: " << hex(bytes);
      ASSERT_TRUE(d.msg->equals(*m)) << t.name << " v" << v << " instance " << i
                                     << " decoded to a different value: " << hex(bytes);
      ASSERT_EQ(encode(*d.msg, v), bytes) << t.name << " v" << v << " instance " << i;
    }
  }
}

// A default-constructed message encodes to bytes the decoder accepts at every version, and they
// are stable (decode -> encode gives them back). Values need not compare equal: a null array at a
// version where the field is not nullable is written (and read back) as empty.
TEST_P(AllMessages, DefaultInstanceEncodesValidly) {
  const message_type& t = *GetParam();
  for (int16_t v = t.min_version; v <= t.max_version; ++v) {
    auto m = t.create();
    std::vector<uint8_t> bytes = encode(*m, v);
    auto d = decode(t, bytes, v);
    ASSERT_TRUE(d.ok) << t.name << " v" << v << ": " << hex(bytes);
    ASSERT_EQ(d.remaining, 0u) << t.name << " v" << v;
    EXPECT_EQ(encode(*d.msg, v), bytes) << t.name << " v" << v;
  }
}

// A default message ends with an empty top-level tag section (00). Replacing it with unknown
// tags must decode, keep them, and encode them back byte for byte.
TEST_P(AllMessages, UnknownTopLevelTagsSurvive) {
  const message_type& t = *GetParam();
  if (t.first_flexible_version < 0) GTEST_SKIP() << t.name << " is never flexible";
  for (int16_t v = std::max(t.min_version, t.first_flexible_version); v <= t.max_version; ++v) {
    auto plain = t.create();
    std::vector<uint8_t> bytes = encode(*plain, v);
    ASSERT_FALSE(bytes.empty());
    ASSERT_EQ(bytes.back(), 0) << t.name << " v" << v << ": " << hex(bytes);
    bytes.pop_back();
    // Two entries: tag 1000 (2-byte varint) with 3 bytes, tag 70000 (3-byte varint) with none.
    const uint8_t tags[] = {0x02, 0xe8, 0x07, 0x03, 'a', 'b', 'c', 0xf0, 0xa2, 0x04, 0x00};
    bytes.insert(bytes.end(), std::begin(tags), std::end(tags));

    auto d = decode(t, bytes, v);
    ASSERT_TRUE(d.ok) << t.name << " v" << v << ": " << hex(bytes);
    ASSERT_EQ(d.remaining, 0u) << t.name << " v" << v;
    EXPECT_FALSE(d.msg->equals(*plain)) << t.name << " v" << v << ": the unknown tags were dropped";
    EXPECT_EQ(encode(*d.msg, v), bytes) << t.name << " v" << v;
  }
}

// Every strict prefix of a valid encoding is a decode failure (and, under ASan, no read goes past
// the prefix: it sits in a heap block of exactly its size).
TEST_P(AllMessages, EveryTruncationFails) {
  const message_type& t = *GetParam();
  for (int16_t v = t.min_version; v <= t.max_version; ++v) {
    for (int i = 0; i < 3; ++i) {
      auto m = t.create();
      if (i > 0) {
        test_rng rng(seed_for(t, v, 1000 + i));
        m->randomize(v, rng);
      }
      std::vector<uint8_t> bytes = encode(*m, v);
      const size_t n = bytes.size();
      for (size_t len = 0; len < n; ++len) {
        // Long encodings (big strings/records): every prefix near either end, sampled between.
        if (n > 600 && len > 300 && len + 300 < n && len % 13 != 0) continue;
        auto d = decode(t, bytes.data(), len, v);
        ASSERT_FALSE(d.ok) << t.name << " v" << v << " decoded from " << len << " of " << n
                           << " bytes: " << hex(bytes);
      }
    }
  }
}

// Overwrites length-sized spots of valid encodings with hostile lengths: 0x7fffffff, the compact
// 0xffffffff (ff ff ff ff 0f), and counts equal to all the bytes that follow (which pass a
// bytes-present check when each element is assumed to take one byte). Decoding must not crash,
// must not take long, and may not allocate more than the input could describe: an element of a
// decoded array takes at most 40 bytes of memory per byte of wire encoding (std::string is 32
// bytes and a compact string can be 1 byte).
TEST_P(AllMessages, HostileLengthsFailCleanly) {
  const message_type& t = *GetParam();
  constexpr size_t max_ratio = 40;
  for (int16_t v = t.min_version; v <= t.max_version; ++v) {
    for (int i = 0; i < 3; ++i) {
      auto m = t.create();
      if (i > 0) {
        test_rng rng(seed_for(t, v, 2000 + i));
        m->randomize(v, rng);
      }
      const std::vector<uint8_t> bytes = encode(*m, v);
      const size_t n = bytes.size();
      if (n > 1200) continue;  // keeps the test fast; plenty of smaller instances
      auto check = [&](const std::vector<uint8_t>& b, size_t at, const char* what) {
        auto d = decode(t, b, v);
        ASSERT_LE(d.max_alloc, max_ratio * b.size() + 256)
            << t.name << " v" << v << ": " << what << " at offset " << at << " allocated " << d.max_alloc
            << " bytes for a " << b.size() << "-byte input: " << hex(b);
        ASSERT_LT(d.elapsed, std::chrono::milliseconds(200)) << t.name << " v" << v << ": " << what << " at " << at;
      };
      for (size_t at = 0; at < n; ++at) {
        if (at + 4 <= n) {
          std::vector<uint8_t> b = bytes;
          b[at] = 0x7f, b[at + 1] = 0xff, b[at + 2] = 0xff, b[at + 3] = 0xff;
          check(b, at, "int32 0x7fffffff");
          const uint32_t rest = static_cast<uint32_t>(n - at - 4);
          b[at] = static_cast<uint8_t>(rest >> 24), b[at + 1] = static_cast<uint8_t>(rest >> 16);
          b[at + 2] = static_cast<uint8_t>(rest >> 8), b[at + 3] = static_cast<uint8_t>(rest);
          check(b, at, "int32 count of the remaining bytes");
        }
        if (at + 5 <= n) {
          std::vector<uint8_t> b = bytes;
          b[at] = 0xff, b[at + 1] = 0xff, b[at + 2] = 0xff, b[at + 3] = 0xff, b[at + 4] = 0x0f;
          check(b, at, "varint 0xffffffff");
        }
        {
          // Replace the byte at `at` (a one-byte compact length, say) by uvarint(rest + 1).
          std::vector<uint8_t> b(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(at));
          uint32_t u = static_cast<uint32_t>(n - at - 1) + 1;
          while (u >= 0x80) {
            b.push_back(static_cast<uint8_t>(u | 0x80));
            u >>= 7;
          }
          b.push_back(static_cast<uint8_t>(u));
          b.insert(b.end(), bytes.begin() + static_cast<ptrdiff_t>(at) + 1, bytes.end());
          check(b, at, "compact count of the remaining bytes");
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Generated, AllMessages, ::testing::ValuesIn(all_types()),
                         [](const ::testing::TestParamInfo<const message_type*>& info) {
                           return std::string(info.param->name);
                         });

// ---- registry ----------------------------------------------------------------------------------

TEST(Registry, ListsEveryGeneratedMessageOnce) {
  const auto& types = all_message_types();
  std::set<std::string> names;
  int requests = 0, responses = 0, data = 0;
  for (const auto& t : types) {
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    EXPECT_LE(t.min_version, t.max_version) << t.name;
    switch (t.kind) {
      case message_kind::request:
        ++requests;
        break;
      case message_kind::response:
        ++responses;
        break;
      case message_kind::data:
        ++data;
        break;
    }
    if (t.kind != message_kind::data) {
      // Versions and flexibility agree with api_keys.h (the header/framing code's table).
      const api_key_info* a = find_api_key(t.api_key);
      ASSERT_NE(a, nullptr) << t.name;
      EXPECT_EQ(a->min_version, t.min_version) << t.name;
      EXPECT_EQ(a->max_version, t.max_version) << t.name;
      EXPECT_EQ(a->first_flexible_version, t.first_flexible_version) << t.name;
      EXPECT_NE(find_message_type(t.kind == message_kind::request ? message_kind::response : message_kind::request,
                                  t.api_key),
                nullptr)
          << t.name << " has no counterpart";
    }
    EXPECT_EQ(find_message_type(t.name), &t);
  }
  EXPECT_EQ(requests, 38);
  EXPECT_EQ(responses, 38);
  EXPECT_EQ(data, 2);
  EXPECT_EQ(find_message_type(message_kind::request, 0)->name, std::string("ProduceRequest"));
  EXPECT_EQ(find_message_type(message_kind::response, 1)->name, std::string("FetchResponse"));
  EXPECT_EQ(find_message_type(message_kind::request, 9999), nullptr);
}

// The random instances really vary: nulls where nullable, tagged fields set and unset, unknown
// tags, records null/empty/spliced, arrays of every size 0-3.
TEST(Randomize, CoversTheInterestingCases) {
  std::set<size_t> topic_counts;
  int null_txn = 0, some_txn = 0, null_records = 0, empty_records = 0, big_records = 0;
  for (int i = 0; i < 400; ++i) {
    test_rng rng(i);
    produce_request m;
    randomize(m, 9, rng);
    topic_counts.insert(m.topic_data.size());
    (m.transactional_id ? some_txn : null_txn)++;
    for (const auto& td : m.topic_data)
      for (const auto& pd : td.partition_data) {
        if (pd.records_.is_null) ++null_records;
        else if (pd.records_.empty()) ++empty_records;
        else if (pd.records_.size() > 512) ++big_records;
      }
  }
  EXPECT_EQ(topic_counts, (std::set<size_t>{0, 1, 2, 3}));
  EXPECT_GT(null_txn, 0);
  EXPECT_GT(some_txn, 0);
  EXPECT_GT(null_records, 0);
  EXPECT_GT(empty_records, 0);
  EXPECT_GT(big_records, 0);

  int cluster_set = 0, unknown = 0, nullable_before = 0;
  for (int i = 0; i < 400; ++i) {
    test_rng rng(i);
    fetch_request f;
    randomize(f, 12, rng);
    cluster_set += f.cluster_id.has_value();
    unknown += !f.unknown_tagged_fields.empty();
    randomize(f, 11, rng);  // ClusterId is tagged from v12 only
    nullable_before += f.cluster_id.has_value();
  }
  EXPECT_GT(cluster_set, 0);
  EXPECT_LT(cluster_set, 400);
  EXPECT_GT(unknown, 0);
  EXPECT_EQ(nullable_before, 0);

  // Metadata v0 topics are not nullable (v1+ are): never null at v0, sometimes at v1.
  int null_v0 = 0, null_v1 = 0;
  for (int i = 0; i < 400; ++i) {
    test_rng rng(i);
    metadata_request md;
    randomize(md, 0, rng);
    null_v0 += !md.topics.has_value();
    randomize(md, 1, rng);
    null_v1 += !md.topics.has_value();
  }
  EXPECT_EQ(null_v0, 0);
  EXPECT_GT(null_v1, 0);
}

// ---- unknown tags next to known ones -----------------------------------------------------------

TEST(UnknownTags, KeptInOrderAroundKnownTags) {
  // FetchRequest v15: top-level tags 0 (ClusterId) and 1 (ReplicaState).
  fetch_request f;
  f.cluster_id = "abc";
  writer w;
  f.encode(w, 15);
  std::vector<uint8_t> bytes = w.flatten();
  const std::vector<uint8_t> tail = {0x01, 0x00, 0x04, 0x04, 'a', 'b', 'c'};
  ASSERT_GE(bytes.size(), tail.size());
  ASSERT_TRUE(std::equal(tail.begin(), tail.end(), bytes.end() - static_cast<ptrdiff_t>(tail.size()))) << hex(bytes);
  bytes.resize(bytes.size() - tail.size());
  // count 3: known tag 0, unknown tag 5 (2 bytes), unknown tag 200 (varint c8 01, 0 bytes).
  const std::vector<uint8_t> tags = {0x03, 0x00, 0x04, 0x04, 'a', 'b', 'c', 0x05, 0x02, 'x', 'y', 0xc8, 0x01, 0x00};
  bytes.insert(bytes.end(), tags.begin(), tags.end());

  reader r(bytes.data(), bytes.size());
  fetch_request g;
  g.decode(r, 15);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(g.cluster_id, std::optional<std::string>("abc"));
  ASSERT_EQ(g.unknown_tagged_fields.size(), 2u);
  EXPECT_EQ(g.unknown_tagged_fields[0], (unknown_tag{5, "xy"}));
  EXPECT_EQ(g.unknown_tagged_fields[1], (unknown_tag{200, ""}));
  writer w2;
  g.encode(w2, 15);
  EXPECT_EQ(w2.flatten(), bytes);

  // ApiVersionsResponse v3 knows tags 0-3: an unknown tag 2 would be taken as known, but an
  // unknown tag below a present known tag must be written before it.
  api_versions_response a;
  a.zk_migration_ready = true;  // tag 3
  a.unknown_tagged_fields = {{1000, "z"}};
  a.finalized_features_epoch = 7;  // tag 1
  writer w3;
  a.encode(w3, 3);
  auto ab = w3.flatten();
  // ... 03 | 01 08 <int64 7> | 03 01 01 | e8 07 01 'z'
  const std::vector<uint8_t> atail = {0x03, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 7, 0x03, 0x01, 0x01, 0xe8, 0x07, 0x01, 'z'};
  ASSERT_GE(ab.size(), atail.size());
  EXPECT_TRUE(std::equal(atail.begin(), atail.end(), ab.end() - static_cast<ptrdiff_t>(atail.size()))) << hex(ab);
  reader r3(ab.data(), ab.size());
  api_versions_response b;
  b.decode(r3, 3);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3.remaining(), 0u);
  EXPECT_EQ(b, a);
}

// A known tag number at a version where that field is not tagged yet is kept as unknown.
TEST(UnknownTags, KnownTagOutsideItsVersionsStaysUnknown) {
  fetch_request f;  // ReplicaDirectoryId (tag 0 of each partition) exists from v17
  f.topics.emplace_back().partitions.emplace_back().unknown_tagged_fields = {{0, std::string(16, '\x01')}};
  writer w;
  f.encode(w, 16);
  auto bytes = w.flatten();
  reader r(bytes.data(), bytes.size());
  fetch_request g;
  g.decode(r, 16);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(g, f);
  EXPECT_TRUE(g.topics[0].partitions[0].replica_directory_id.is_zero());
  reader r17(bytes.data(), bytes.size());
  fetch_request h;
  h.decode(r17, 17);  // the same bytes at v17 carry the known field
  ASSERT_TRUE(r17.ok());
  EXPECT_TRUE(h.topics[0].partitions[0].unknown_tagged_fields.empty());
  EXPECT_EQ(h.topics[0].partitions[0].replica_directory_id.bytes[0], 1);
}

// ---- null arrays where the version has no null ---------------------------------------------------

TEST(NullableArrays, NullIsWrittenEmptyWhereTheVersionCannotCarryIt) {
  metadata_request m;  // topics: nullable from v1; a default request has null topics
  ASSERT_FALSE(m.topics.has_value());
  writer w0;
  m.encode(w0, 0);
  EXPECT_EQ(w0.flatten(), (std::vector<uint8_t>{0, 0, 0, 0})) << "v0 has no null array: empty (= all topics at v0)";
  writer w1;
  m.encode(w1, 1);
  EXPECT_EQ(w1.flatten(), (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff}));
  offset_fetch_request o;  // topics: nullable in v2-7
  o.group_id = "g";
  writer o1, o2;
  o.encode(o1, 1);
  o.encode(o2, 2);
  EXPECT_EQ(o1.flatten(), (std::vector<uint8_t>{0, 1, 'g', 0, 0, 0, 0}));
  EXPECT_EQ(o2.flatten(), (std::vector<uint8_t>{0, 1, 'g', 0xff, 0xff, 0xff, 0xff}));
}

// ---- hostile lengths, by hand ------------------------------------------------------------------

template <typename T>
void expect_fast_failure(const std::vector<uint8_t>& bytes, int16_t v, const char* what) {
  const message_type* t = find_message_type(T::name);
  ASSERT_NE(t, nullptr);
  auto d = decode(*t, bytes, v);
  EXPECT_FALSE(d.ok) << what;
  EXPECT_LT(d.elapsed, std::chrono::milliseconds(50)) << what;
  EXPECT_LE(d.max_alloc, 1024u) << what;
}

TEST(HugeLengths, FailWithoutAllocating) {
  // MetadataRequest v0: topics array of 0x7fffffff names, then nothing.
  expect_fast_failure<metadata_request>({0x7f, 0xff, 0xff, 0xff}, 0, "array 0x7fffffff");
  expect_fast_failure<metadata_request>({0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 'a'}, 0, "array 0x7fffffff + 1 name");
  // MetadataRequest v9 (flexible): compact array length 0xffffffff.
  expect_fast_failure<metadata_request>({0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0}, 9, "compact array 0xffffffff");
  // Negative array length other than -1 (non-nullable at v0).
  expect_fast_failure<metadata_request>({0xff, 0xff, 0xff, 0xff}, 0, "null array where not nullable");
  expect_fast_failure<metadata_request>({0x80, 0x00, 0x00, 0x00}, 1, "array length INT32_MIN");
  // FindCoordinatorRequest v0: key string of 0x7fff bytes.
  expect_fast_failure<find_coordinator_request>({0x7f, 0xff, 'g'}, 0, "string 0x7fff");
  expect_fast_failure<find_coordinator_request>({0xff, 0xfe, 'g'}, 0, "string length -2");
  // FindCoordinatorRequest v3 (flexible): compact string 0xffffffff, and an over-long varint.
  expect_fast_failure<find_coordinator_request>({0xff, 0xff, 0xff, 0xff, 0x0f, 'g', 0, 0}, 3, "compact string 0xffffffff");
  expect_fast_failure<find_coordinator_request>({0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0}, 3, "6-byte varint");
  // SaslAuthenticateRequest v0: auth bytes of 0x7fffffff.
  expect_fast_failure<sasl_authenticate_request>({0x7f, 0xff, 0xff, 0xff, 1, 2, 3}, 0, "bytes 0x7fffffff");
  expect_fast_failure<sasl_authenticate_request>({0xff, 0xff, 0xff, 0xff, 0x0f, 1}, 2, "compact bytes 0xffffffff");
  // ProduceRequest v3: transactional id null, acks, timeout, 1 topic "t", 1 partition, records of
  // 0x7fffffff bytes.
  expect_fast_failure<produce_request>({0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 0,
                                        0x7f, 0xff, 0xff, 0xff, 0, 0},
                                       3, "records 0x7fffffff");
  // The same at v9 with compact records length 0xffffffff.
  expect_fast_failure<produce_request>({0x00, 0, 1, 0, 0, 0, 0, 0x02, 0x02, 't', 0x02, 0, 0, 0, 0, 0xff, 0xff, 0xff,
                                        0xff, 0x0f, 0, 0, 0},
                                       9, "compact records 0xffffffff");
  // A tag section claiming 0xffffffff entries, and one entry claiming 0x7fffffff bytes.
  expect_fast_failure<api_versions_request>({0x02, 'a', 0x02, 'b', 0xff, 0xff, 0xff, 0xff, 0x0f}, 3, "tag count");
  expect_fast_failure<api_versions_request>({0x02, 'a', 0x02, 'b', 0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x07, 0}, 3,
                                            "tag size");
}

// An array count that passes the bytes-present check only if elements were one byte each: a
// 64 KiB CreateTopicsRequest v0 claiming as many topics as it has bytes must not reserve memory
// for all of them up front (each topic takes at least 16 bytes on the wire).
TEST(HugeLengths, ArrayCountsAreCheckedAgainstTheSmallestElement) {
  std::vector<uint8_t> b(64 * 1024, 0);
  const uint32_t n = static_cast<uint32_t>(b.size() - 4);
  b[0] = static_cast<uint8_t>(n >> 24), b[1] = static_cast<uint8_t>(n >> 16), b[2] = static_cast<uint8_t>(n >> 8);
  b[3] = static_cast<uint8_t>(n);
  const message_type* t = find_message_type("CreateTopicsRequest");
  auto d = decode(*t, b, 0);
  EXPECT_FALSE(d.ok);
  EXPECT_LE(d.max_alloc, 40 * b.size()) << "reserved " << d.max_alloc << " bytes for a " << b.size() << "-byte input";
}

}  // namespace
}  // namespace mk::proto
