// Legacy message sets (magic 0/1): up-conversion to v2 and down-conversion from v2.
#include "protocol/records/legacy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "protocol/records/byte_io.h"
#include "protocol/records/crc32c.h"

namespace mk::records {
namespace {

using bytes = std::vector<uint8_t>;
constexpr int64_t t0 = 1700000000000;

// Hand-made with Python's zlib.crc32: offset 0, magic 0, key null, value "hi" (CRC 0xfd6ebddb).
const bytes golden_magic0 = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                             0x00, 0x10, 0xfd, 0x6e, 0xbd, 0xdb, 0x00, 0x00, 0xff, 0xff,
                             0xff, 0xff, 0x00, 0x00, 0x00, 0x02, 0x68, 0x69};
// Offset 5, magic 1, timestamp 1700000000000, key "k", value "hi".
const bytes golden_magic1 = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
                             0x19, 0x8f, 0x82, 0xf0, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x8b,
                             0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x00, 0x01, 0x6b, 0x00, 0x00,
                             0x00, 0x02, 0x68, 0x69};

std::vector<record_in> sample_records() {
  return {{"k0", "v0", {}, t0},
          {std::nullopt, "null key", {}, t0 + 7},
          {"tomb", std::nullopt, {}, t0 + 3},
          {"", std::string(5000, 'q'), {}, t0 + 1}};
}

// Writes one legacy message independently of the library (for crafted inputs).
void put_message(bytes& out, int64_t offset, int8_t magic, int8_t attrs, int64_t ts,
                 std::optional<std::string_view> key, std::optional<std::string_view> value) {
  bytes m;
  m.push_back(static_cast<uint8_t>(magic));
  m.push_back(static_cast<uint8_t>(attrs));
  if (magic == 1) put_be64(m, static_cast<uint64_t>(ts));
  for (const auto& s : {key, value}) {
    put_be32(m, s ? static_cast<uint32_t>(s->size()) : 0xffffffffu);
    if (s) put_bytes(m, *s);
  }
  put_be64(out, static_cast<uint64_t>(offset));
  put_be32(out, static_cast<uint32_t>(m.size() + 4));
  put_be32(out, crc32_ieee(m.data(), m.size()));
  out.insert(out.end(), m.begin(), m.end());
}

std::string_view sv(const bytes& b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

std::vector<record_view> decode_v2(const bytes& batch, bytes& scratch) {
  std::vector<batch_header> hs;
  EXPECT_EQ(parse_batches(batch.data(), batch.size(), hs), batch_error::none);
  EXPECT_EQ(hs.size(), 1u);
  std::vector<record_view> out;
  EXPECT_TRUE(decode_records(batch.data(), batch.size(), scratch, out));
  return out;
}

void expect_same_records(const std::vector<record_in>& in, const std::vector<record_view>& out,
                         bool timestamps) {
  ASSERT_EQ(in.size(), out.size());
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(out[i].offset, static_cast<int64_t>(i));
    EXPECT_EQ(out[i].timestamp, timestamps ? in[i].timestamp : -1);
    ASSERT_EQ(out[i].key.has_value(), in[i].key.has_value());
    if (in[i].key) {
      EXPECT_EQ(*out[i].key, *in[i].key);
    }
    ASSERT_EQ(out[i].value.has_value(), in[i].value.has_value());
    if (in[i].value) {
      EXPECT_TRUE(*out[i].value == *in[i].value);
    }
  }
}

// ---------------------------------------------------------------------------- golden bytes

TEST(Legacy, GoldenMagic0MessageDecodes) {
  std::vector<std::vector<uint8_t>> scratch;
  std::vector<legacy_message> ms;
  ASSERT_EQ(decode_legacy_message_set(golden_magic0.data(), golden_magic0.size(), scratch, ms),
            batch_error::none);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].magic, 0);
  EXPECT_EQ(ms[0].crc, 0xfd6ebddbu);
  EXPECT_EQ(ms[0].timestamp, -1);
  EXPECT_FALSE(ms[0].key);
  EXPECT_EQ(*ms[0].value, "hi");
}

TEST(Legacy, LibraryWritesTheGoldenBytes) {
  std::vector<record_in> r0{{std::nullopt, "hi", {}, -1}};
  EXPECT_EQ(build_legacy_message_set(r0, 0), golden_magic0);
  std::vector<record_in> r1{{"k", "hi", {}, t0}};
  EXPECT_EQ(build_legacy_message_set(r1, 1, codec::none, 5), golden_magic1);
}

TEST(Legacy, GoldenMessagesConvertToAValidV2Batch) {
  bytes set = golden_magic0;
  set.insert(set.end(), golden_magic1.begin(), golden_magic1.end());
  bytes v2, scratch;
  ASSERT_EQ(convert_legacy_to_v2(set.data(), set.size(), v2), batch_error::none);
  auto rs = decode_v2(v2, scratch);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].timestamp, -1);
  EXPECT_FALSE(rs[0].key);
  EXPECT_EQ(*rs[0].value, "hi");
  EXPECT_EQ(rs[1].offset, 1);  // client offsets are ignored: deltas 0..n-1 from base 0
  EXPECT_EQ(rs[1].timestamp, t0);
  EXPECT_EQ(*rs[1].key, "k");
}

// --------------------------------------------------------------------------- up-conversion

struct up_case {
  int8_t magic;
  codec c;
};

class LegacyToV2 : public ::testing::TestWithParam<up_case> {};

TEST_P(LegacyToV2, KeepsKeysValuesAndTimestampsInOrder) {
  auto in = sample_records();
  bytes set = build_legacy_message_set(in, GetParam().magic, GetParam().c, 40);
  ASSERT_FALSE(set.empty());
  bytes v2, scratch;
  ASSERT_EQ(convert_legacy_to_v2(set.data(), set.size(), v2), batch_error::none);
  std::vector<batch_header> hs;
  ASSERT_EQ(parse_batches(v2.data(), v2.size(), hs), batch_error::none);
  EXPECT_EQ(hs[0].compression(), codec::none);
  EXPECT_EQ(hs[0].base_offset, 0);
  EXPECT_EQ(hs[0].record_count, 4);
  EXPECT_EQ(check_client_batch(hs[0]), batch_error::none);
  EXPECT_FALSE(hs[0].timestamp_type_log_append());
  expect_same_records(in, decode_v2(v2, scratch), GetParam().magic == 1);
}

TEST_P(LegacyToV2, DecodesAbsoluteOffsetsOfWrappedMessages) {
  auto in = sample_records();
  bytes set = build_legacy_message_set(in, GetParam().magic, GetParam().c, 40);
  std::vector<std::vector<uint8_t>> scratch;
  std::vector<legacy_message> ms;
  ASSERT_EQ(decode_legacy_message_set(set.data(), set.size(), scratch, ms), batch_error::none);
  ASSERT_EQ(ms.size(), in.size());
  for (size_t i = 0; i < ms.size(); ++i) EXPECT_EQ(ms[i].offset, 40 + static_cast<int64_t>(i));
}

// Start of each top-level entry of a message set.
std::vector<size_t> entry_starts(const bytes& set) {
  std::vector<size_t> starts;
  for (size_t pos = 0; pos + 12 <= set.size(); pos += 12 + load_be32(set.data() + pos + 8))
    starts.push_back(pos);
  return starts;
}

TEST_P(LegacyToV2, FlippingAnyByteOutsideTheOffsetFieldsIsCorrupt) {
  std::vector<record_in> in{{"a", "b", {}, t0}, {"c", std::nullopt, {}, t0}};
  const bytes set = build_legacy_message_set(in, GetParam().magic, GetParam().c);
  const auto starts = entry_starts(set);
  for (size_t i = 0; i < set.size(); ++i) {
    bytes b = set;
    b[i] = static_cast<uint8_t>(~b[i]);
    bytes v2;
    batch_error e = convert_legacy_to_v2(b.data(), b.size(), v2);
    bool in_offset_field = false;  // offsets are not CRC-protected, and up-conversion ignores them
    for (size_t s : starts) in_offset_field |= i >= s && i < s + 8;
    if (in_offset_field) {
      EXPECT_EQ(e, batch_error::none) << i;
    } else {
      EXPECT_EQ(e, batch_error::corrupt_message) << i;
    }
  }
}

TEST_P(LegacyToV2, EveryTruncationIsCorruptUnlessItEndsOnAnEntryBoundary) {
  const bytes set = build_legacy_message_set(sample_records(), GetParam().magic, GetParam().c);
  const auto starts = entry_starts(set);
  for (size_t len = 1; len < set.size(); len += (len < 100 ? 1 : 37)) {
    bytes b(set.begin(), set.begin() + static_cast<ptrdiff_t>(len));
    bytes v2;
    bool boundary = std::find(starts.begin(), starts.end(), len) != starts.end();
    EXPECT_EQ(convert_legacy_to_v2(b.data(), b.size(), v2),
              boundary ? batch_error::none : batch_error::corrupt_message)
        << len;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, LegacyToV2,
    ::testing::Values(up_case{0, codec::none}, up_case{1, codec::none}, up_case{0, codec::gzip},
                      up_case{1, codec::gzip}, up_case{0, codec::snappy},
                      up_case{1, codec::snappy}, up_case{0, codec::lz4}, up_case{1, codec::lz4}),
    [](const auto& info) {
      return "magic" + std::to_string(info.param.magic) + "_" + to_string(info.param.c);
    });

TEST(Legacy, WrapperLogAppendTimeSetsBatchBitAndInnerTimestamps) {
  auto in = sample_records();
  bytes set = build_legacy_message_set(in, 1, codec::gzip, 0, true);
  bytes v2, scratch;
  ASSERT_EQ(convert_legacy_to_v2(set.data(), set.size(), v2), batch_error::none);
  std::vector<batch_header> hs;
  ASSERT_EQ(parse_batches(v2.data(), v2.size(), hs), batch_error::none);
  EXPECT_TRUE(hs[0].timestamp_type_log_append());
  for (const auto& r : decode_v2(v2, scratch)) EXPECT_EQ(r.timestamp, t0 + 7);  // wrapper ts
}

TEST(Legacy, Magic0Lz4WithPreKip57HeaderChecksumIsAccepted) {
  std::vector<record_in> in{{"k", "v", {}, -1}};
  bytes set = build_legacy_message_set(in, 0, codec::lz4);
  // The frame starts at the wrapper's value: 12 + crc 4 + magic 1 + attrs 1 + key 4 + length 4.
  const size_t frame = 26;
  ASSERT_EQ(load_be32(set.data() + frame), 0x04224d18u);
  set[frame + 6] ^= 0x3c;  // a wrong header checksum byte, as old Kafka wrote
  store_be32(set.data() + 12, crc32_ieee(set.data() + 16, set.size() - 16));
  bytes v2, scratch;
  ASSERT_EQ(convert_legacy_to_v2(set.data(), set.size(), v2), batch_error::none);
  auto rs = decode_v2(v2, scratch);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(*rs[0].value, "v");
  // Magic 1 must use correct checksums.
  bytes set1 = build_legacy_message_set(in, 1, codec::lz4);
  const size_t frame1 = frame + 8;
  set1[frame1 + 6] ^= 0x3c;
  store_be32(set1.data() + 12, crc32_ieee(set1.data() + 16, set1.size() - 16));
  EXPECT_EQ(convert_legacy_to_v2(set1.data(), set1.size(), v2), batch_error::corrupt_message);
}

TEST(Legacy, RejectsEmptyInputV2InputZstdAndNestedCompression) {
  bytes v2;
  EXPECT_EQ(convert_legacy_to_v2(nullptr, 0, v2), batch_error::invalid_record);

  std::vector<record_in> in{{"k", "v", {}, t0}};
  bytes batch = build_batch(in);
  EXPECT_EQ(convert_legacy_to_v2(batch.data(), batch.size(), v2), batch_error::unsupported_magic);

  // A wrapper whose attributes claim zstd (not allowed below magic 2) or codec 5.
  for (int8_t bad : {4, 5, 7}) {
    bytes set;
    put_message(set, 0, 1, bad, t0, std::nullopt, "whatever");
    EXPECT_EQ(convert_legacy_to_v2(set.data(), set.size(), v2),
              batch_error::unsupported_compression);
  }

  // gzip wrapper around a message set that itself holds a gzip wrapper.
  bytes inner_set = build_legacy_message_set(in, 1, codec::gzip);
  bytes inner_gz;
  ASSERT_TRUE(compress(codec::gzip, inner_set, inner_gz));
  bytes nested;
  put_message(nested, 0, 1, 1, t0, std::nullopt, sv(inner_gz));
  EXPECT_EQ(convert_legacy_to_v2(nested.data(), nested.size(), v2), batch_error::invalid_record);

  // Wrapper with a null value, and one whose inner set is empty.
  bytes null_wrapper;
  put_message(null_wrapper, 0, 1, 1, t0, std::nullopt, std::nullopt);
  EXPECT_EQ(convert_legacy_to_v2(null_wrapper.data(), null_wrapper.size(), v2),
            batch_error::invalid_record);
  bytes empty_gz;
  ASSERT_TRUE(compress(codec::gzip, {}, empty_gz));
  bytes empty_wrapper;
  put_message(empty_wrapper, 0, 1, 1, t0, std::nullopt, sv(empty_gz));
  EXPECT_EQ(convert_legacy_to_v2(empty_wrapper.data(), empty_wrapper.size(), v2),
            batch_error::invalid_record);

  // Wrapper payload that is not gzip.
  bytes junk;
  put_message(junk, 0, 1, 1, t0, std::nullopt, "not gzip at all");
  EXPECT_EQ(convert_legacy_to_v2(junk.data(), junk.size(), v2), batch_error::corrupt_message);

  // Inner magic differing from the wrapper's.
  bytes inner0 = build_legacy_message_set(in, 0);
  bytes inner0_gz;
  ASSERT_TRUE(compress(codec::gzip, inner0, inner0_gz));
  bytes mixed;
  put_message(mixed, 0, 1, 1, t0, std::nullopt, sv(inner0_gz));
  EXPECT_EQ(convert_legacy_to_v2(mixed.data(), mixed.size(), v2), batch_error::invalid_record);
}

TEST(Legacy, RejectsBogusMessageSizes) {
  for (int32_t size : {INT32_MIN, -1, 0, 13, 1 << 30, INT32_MAX}) {
    bytes b = golden_magic0;
    store_be32(b.data() + 8, static_cast<uint32_t>(size));
    bytes v2;
    EXPECT_EQ(convert_legacy_to_v2(b.data(), b.size(), v2), batch_error::corrupt_message) << size;
  }
  // Magic 1 needs at least 22 bytes; a CRC-valid 14-byte magic-1 message is still corrupt.
  bytes m;
  put_be64(m, 0);
  put_be32(m, 14);
  bytes body = {1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  put_be32(m, crc32_ieee(body.data(), body.size()));
  m.insert(m.end(), body.begin(), body.end());
  bytes v2;
  EXPECT_EQ(convert_legacy_to_v2(m.data(), m.size(), v2), batch_error::corrupt_message);
}

TEST(Legacy, PartialTailIsIgnoredOnlyWhenAllowed) {
  bytes set = golden_magic0;
  set.insert(set.end(), golden_magic1.begin(), golden_magic1.end() - 4);
  std::vector<std::vector<uint8_t>> scratch;
  std::vector<legacy_message> ms;
  EXPECT_EQ(decode_legacy_message_set(set.data(), set.size(), scratch, ms),
            batch_error::corrupt_message);
  EXPECT_EQ(decode_legacy_message_set(set.data(), set.size(), scratch, ms, true),
            batch_error::none);
  EXPECT_EQ(ms.size(), 1u);
}

TEST(Legacy, MutatedInnerMessageSetsNeverCrash) {
  auto in = sample_records();
  std::mt19937 rng(11);
  for (int8_t magic : {int8_t{0}, int8_t{1}}) {
    const bytes inner = build_legacy_message_set(in, magic);
    for (int i = 0; i < 3000; ++i) {
      bytes m = inner;
      for (int k = 0; k < 3; ++k) m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      if (rng() % 4 == 0) m.resize(rng() % m.size());
      bytes gz;
      ASSERT_TRUE(compress(codec::gzip, m, gz));
      bytes set;
      put_message(set, 9, magic, 1, t0, std::nullopt, sv(gz));
      bytes v2;
      batch_error e = convert_legacy_to_v2(set.data(), set.size(), v2);
      if (e == batch_error::none) {
        std::vector<batch_header> hs;
        EXPECT_EQ(parse_batches(v2.data(), v2.size(), hs), batch_error::none);
      }
    }
  }
}

// ------------------------------------------------------------------------- down-conversion

struct stored_log {
  bytes buf;
  std::vector<record_in> records;  // data records in offset order
  std::vector<int64_t> offsets;
};

// Batches with every codec, a control batch in between, headers, and a partial batch at the end.
stored_log make_log() {
  stored_log log;
  int64_t next = 100;
  auto add = [&](codec c, std::vector<record_in> rs) {
    bytes b = build_batch(rs, c, next);
    log.buf.insert(log.buf.end(), b.begin(), b.end());
    for (size_t i = 0; i < rs.size(); ++i) log.offsets.push_back(next + static_cast<int64_t>(i));
    next += static_cast<int64_t>(rs.size());
    log.records.insert(log.records.end(), rs.begin(), rs.end());
  };
  add(codec::gzip, {{"a", "1", {{"h", "x"}}, t0}, {std::nullopt, "2", {}, t0 + 1}});
  bytes marker = build_control_batch(control_type::commit, 1, 0, 0, t0, next++);
  log.buf.insert(log.buf.end(), marker.begin(), marker.end());
  add(codec::lz4, {{"c", std::nullopt, {}, t0 + 2}});
  add(codec::zstd, {{"d", std::string(3000, 'd'), {}, t0 + 3}, {"e", "5", {}, t0 + 4}});
  add(codec::snappy, {{"f", "6", {}, t0 + 5}});
  add(codec::none, {{"", "", {}, t0 + 6}});
  bytes partial = build_batch(std::vector<record_in>{{"z", "z", {}, t0}}, codec::none, next);
  log.buf.insert(log.buf.end(), partial.begin(), partial.end() - 10);
  return log;
}

class DownConvert : public ::testing::TestWithParam<int8_t> {};

TEST_P(DownConvert, EachRecordBecomesAMessageWithItsAbsoluteOffset) {
  const int8_t magic = GetParam();
  stored_log log = make_log();
  bytes out;
  ASSERT_TRUE(down_convert(log.buf.data(), log.buf.size(), magic, out));
  std::vector<std::vector<uint8_t>> scratch;
  std::vector<legacy_message> ms;
  ASSERT_EQ(decode_legacy_message_set(out.data(), out.size(), scratch, ms), batch_error::none);
  ASSERT_EQ(ms.size(), log.records.size());
  size_t pos = 0;
  for (size_t i = 0; i < ms.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(ms[i].magic, magic);
    EXPECT_EQ(ms[i].attributes, 0);  // uncompressed, CreateTime
    EXPECT_EQ(ms[i].offset, log.offsets[i]);
    EXPECT_EQ(ms[i].timestamp, magic == 1 ? log.records[i].timestamp : -1);
    ASSERT_EQ(ms[i].key.has_value(), log.records[i].key.has_value());
    if (ms[i].key) {
      EXPECT_EQ(*ms[i].key, *log.records[i].key);
    }
    ASSERT_EQ(ms[i].value.has_value(), log.records[i].value.has_value());
    if (ms[i].value) {
      EXPECT_EQ(*ms[i].value, *log.records[i].value);
    }
    // Check the entry layout and CRC independently of the decoder.
    ASSERT_LE(pos + 12, out.size());
    EXPECT_EQ(load_i64(out.data() + pos), log.offsets[i]);
    int32_t size = load_i32(out.data() + pos + 8);
    EXPECT_EQ(load_be32(out.data() + pos + 12),
              crc32_ieee(out.data() + pos + 16, static_cast<size_t>(size) - 4));
    EXPECT_EQ(out[pos + 16], static_cast<uint8_t>(magic));
    pos += 12 + static_cast<size_t>(size);
  }
  EXPECT_EQ(pos, out.size());
}

TEST_P(DownConvert, ConvertsBackUpToTheSameRecords) {
  stored_log log = make_log();
  bytes legacy, v2, scratch;
  ASSERT_TRUE(down_convert(log.buf.data(), log.buf.size(), GetParam(), legacy));
  ASSERT_EQ(convert_legacy_to_v2(legacy.data(), legacy.size(), v2), batch_error::none);
  expect_same_records(log.records, decode_v2(v2, scratch), GetParam() == 1);
}

INSTANTIATE_TEST_SUITE_P(Magic, DownConvert, ::testing::Values(int8_t{0}, int8_t{1}),
                         [](const auto& info) { return "magic" + std::to_string(info.param); });

TEST(Legacy, DownConvertToMagic1KeepsLogAppendTime) {
  bytes b = build_batch(sample_records(), codec::lz4, 7);
  set_log_append_time(b.data(), t0 + 1000);
  bytes out;
  ASSERT_TRUE(down_convert(b.data(), b.size(), 1, out));
  std::vector<std::vector<uint8_t>> scratch;
  std::vector<legacy_message> ms;
  ASSERT_EQ(decode_legacy_message_set(out.data(), out.size(), scratch, ms), batch_error::none);
  ASSERT_EQ(ms.size(), 4u);
  for (const auto& m : ms) {
    EXPECT_EQ(m.attributes, legacy_attr_log_append);
    EXPECT_TRUE(m.log_append_time);
    EXPECT_EQ(m.timestamp, t0 + 1000);
  }
  ASSERT_TRUE(down_convert(b.data(), b.size(), 0, out));
  ASSERT_EQ(decode_legacy_message_set(out.data(), out.size(), scratch, ms), batch_error::none);
  for (const auto& m : ms) EXPECT_EQ(m.attributes, 0);  // magic 0 has no timestamp type
}

TEST(Legacy, DownConvertEdgeCases) {
  bytes out = {1, 2, 3};
  EXPECT_TRUE(down_convert(nullptr, 0, 1, out));
  EXPECT_TRUE(out.empty());
  bytes b = build_batch(sample_records());
  EXPECT_FALSE(down_convert(b.data(), b.size(), 2, out));
  EXPECT_FALSE(down_convert(b.data(), b.size(), -1, out));
  // Only a partial batch: nothing to send.
  EXPECT_TRUE(down_convert(b.data(), b.size() - 1, 0, out));
  EXPECT_TRUE(out.empty());
  // A stored batch whose records are garbled cannot be converted.
  bytes bad = b;
  bad[batch_header_size] = 0x7f;
  EXPECT_FALSE(down_convert(bad.data(), bad.size(), 1, out));
  // Only control batches: empty output.
  bytes marker = build_control_batch(control_type::abort, 1, 0, 0, t0);
  EXPECT_TRUE(down_convert(marker.data(), marker.size(), 1, out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace mk::records
