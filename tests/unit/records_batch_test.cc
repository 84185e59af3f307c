// Record batch v2: parsing, validation, in-place edits, record decoding, building.
#include "protocol/records/record_batch.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "protocol/records/byte_io.h"
#include "protocol/records/crc32c.h"

namespace mk::records {
namespace {

using bytes = std::vector<uint8_t>;

// The WIRE.md §4.2 example: one record, key null, value "hi", timestamp 1700000000000.
const bytes wire_example = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0xff, 0xff,
    0xff, 0xff, 0x02, 0xbb, 0xcc, 0x41, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x01, 0x04, 0x68, 0x69, 0x00};

constexpr int64_t t0 = 1700000000000;

batch_error parse(const bytes& b, std::vector<batch_header>* hs = nullptr) {
  std::vector<batch_header> tmp;
  return parse_batches(b.data(), b.size(), hs ? *hs : tmp);
}

std::vector<record_in> sample_records() {
  std::vector<record_in> rs;
  rs.push_back({"k0", "v0", {}, t0});
  rs.push_back({std::nullopt, "value with null key", {}, t0 + 5});
  rs.push_back({"tombstone", std::nullopt, {}, t0 - 3});  // timestamps need not increase
  rs.push_back({"h", "with headers", {{"trace", "abc"}, {"nullhdr", std::nullopt}, {"", ""}}, t0 + 1});
  rs.push_back({"", "", {}, t0 + 2});
  return rs;
}

void expect_records_equal(const std::vector<record_in>& in, const std::vector<record_view>& out,
                          int64_t base_offset) {
  ASSERT_EQ(in.size(), out.size());
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(out[i].offset, base_offset + static_cast<int64_t>(i));
    EXPECT_EQ(out[i].timestamp, in[i].timestamp);
    EXPECT_EQ(out[i].key.has_value(), in[i].key.has_value());
    if (in[i].key && out[i].key) {
      EXPECT_EQ(*out[i].key, *in[i].key);
    }
    EXPECT_EQ(out[i].value.has_value(), in[i].value.has_value());
    if (in[i].value && out[i].value) {
      EXPECT_TRUE(*out[i].value == *in[i].value);
    }
    ASSERT_EQ(out[i].headers.size(), in[i].headers.size());
    for (size_t h = 0; h < in[i].headers.size(); ++h) {
      EXPECT_EQ(out[i].headers[h].first, in[i].headers[h].first);
      EXPECT_EQ(out[i].headers[h].second.has_value(), in[i].headers[h].second.has_value());
      if (in[i].headers[h].second && out[i].headers[h].second) {
        EXPECT_EQ(*out[i].headers[h].second, *in[i].headers[h].second);
      }
    }
  }
}

// ------------------------------------------------------------------------ the WIRE.md example

TEST(RecordBatch, WireExampleParsesWithExpectedHeaderFields) {
  std::vector<batch_header> hs;
  std::vector<size_t> offs;
  ASSERT_EQ(parse_batches(wire_example.data(), wire_example.size(), hs, &offs), batch_error::none);
  ASSERT_EQ(hs.size(), 1u);
  ASSERT_EQ(offs, std::vector<size_t>{0});
  const batch_header& h = hs[0];
  EXPECT_EQ(h.base_offset, 0);
  EXPECT_EQ(h.batch_length, 58);
  EXPECT_EQ(h.partition_leader_epoch, -1);
  EXPECT_EQ(h.magic, 2);
  EXPECT_EQ(h.crc, 0xbbcc4115u);
  EXPECT_EQ(h.attributes, 0);
  EXPECT_EQ(h.compression(), codec::none);
  EXPECT_FALSE(h.is_transactional());
  EXPECT_FALSE(h.is_control());
  EXPECT_FALSE(h.timestamp_type_log_append());
  EXPECT_EQ(h.last_offset_delta, 0);
  EXPECT_EQ(h.base_timestamp, t0);
  EXPECT_EQ(h.max_timestamp, t0);
  EXPECT_EQ(h.producer_id, -1);
  EXPECT_EQ(h.producer_epoch, -1);
  EXPECT_EQ(h.base_sequence, -1);
  EXPECT_EQ(h.record_count, 1);
  EXPECT_EQ(h.size_bytes(), 70u);
  EXPECT_EQ(h.last_offset(), 0);
  EXPECT_EQ(check_client_batch(h), batch_error::none);
}

TEST(RecordBatch, WireExampleDecodesToOneRecordWithNullKeyAndValueHi) {
  bytes scratch;
  std::vector<record_view> rs;
  ASSERT_TRUE(decode_records(wire_example.data(), wire_example.size(), scratch, rs));
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].offset, 0);
  EXPECT_EQ(rs[0].timestamp, t0);
  EXPECT_FALSE(rs[0].key.has_value());
  ASSERT_TRUE(rs[0].value.has_value());
  EXPECT_EQ(*rs[0].value, "hi");
  EXPECT_TRUE(rs[0].headers.empty());
}

TEST(RecordBatch, BuilderReproducesWireExampleByteForByte) {
  std::vector<record_in> one{{std::nullopt, "hi", {}, t0}};
  EXPECT_EQ(build_batch(one), wire_example);
}

// --------------------------------------------------------------------------- round trips

class RecordBatchCodec : public ::testing::TestWithParam<codec> {};

TEST_P(RecordBatchCodec, BuildParseDecodeRoundTripWithHeadersNullsAndTimestamps) {
  auto in = sample_records();
  bytes b = build_batch(in, GetParam(), 1000, 77, 3, 12);
  ASSERT_FALSE(b.empty());
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(b, &hs), batch_error::none);
  ASSERT_EQ(hs.size(), 1u);
  EXPECT_EQ(hs[0].compression(), GetParam());
  EXPECT_EQ(hs[0].base_offset, 1000);
  EXPECT_EQ(hs[0].record_count, 5);
  EXPECT_EQ(hs[0].last_offset_delta, 4);
  EXPECT_EQ(hs[0].base_timestamp, t0);
  EXPECT_EQ(hs[0].max_timestamp, t0 + 5);
  EXPECT_EQ(hs[0].producer_id, 77);
  EXPECT_EQ(hs[0].producer_epoch, 3);
  EXPECT_EQ(hs[0].base_sequence, 12);
  EXPECT_EQ(check_client_batch(hs[0]), batch_error::none);
  bytes scratch;
  std::vector<record_view> out;
  ASSERT_TRUE(decode_records(b.data(), b.size(), scratch, out));
  expect_records_equal(in, out, 1000);
}

TEST_P(RecordBatchCodec, OneMegabyteValueRoundTrips) {
  std::mt19937 rng(1);
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + rng() % 4);
  std::vector<record_in> in{{"big", big, {}, t0}, {std::nullopt, std::nullopt, {}, t0}};
  bytes b = build_batch(in, GetParam());
  ASSERT_EQ(parse(b), batch_error::none);
  if (GetParam() != codec::none) {
    EXPECT_LT(b.size(), big.size());
  }
  bytes scratch;
  std::vector<record_view> out;
  ASSERT_TRUE(decode_records(b.data(), b.size(), scratch, out));
  expect_records_equal(in, out, 0);
}

TEST_P(RecordBatchCodec, ManySmallRecordsRoundTrip) {
  std::vector<record_in> in;
  for (int i = 0; i < 3000; ++i)
    in.push_back({"key-" + std::to_string(i), std::string(i % 50, 'x'), {}, t0 + i});
  bytes b = build_batch(in, GetParam());
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(b, &hs), batch_error::none);
  EXPECT_EQ(hs[0].max_timestamp, t0 + 2999);
  bytes scratch;
  std::vector<record_view> out;
  ASSERT_TRUE(decode_records(b.data(), b.size(), scratch, out));
  expect_records_equal(in, out, 0);
}

TEST_P(RecordBatchCodec, FlippedCompressedPayloadIsRejectedOrDecodesWithoutCrashing) {
  auto in = sample_records();
  bytes b = build_batch(in, GetParam());
  bytes scratch;
  std::vector<record_view> out;
  for (size_t i = batch_header_size; i < b.size(); ++i) {
    bytes c = b;
    c[i] ^= 0x5a;
    EXPECT_EQ(parse(c), batch_error::corrupt_message) << i;
    update_crc(c.data());  // get past the CRC to exercise the decoders
    (void)decode_records(c.data(), c.size(), scratch, out);
  }
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, RecordBatchCodec,
                         ::testing::Values(codec::none, codec::gzip, codec::snappy, codec::lz4,
                                           codec::zstd),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(RecordBatch, EmptyBatchBuildsAndParses) {
  bytes b = build_batch({});
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(b, &hs), batch_error::none);
  EXPECT_EQ(hs[0].record_count, 0);
  EXPECT_EQ(check_client_batch(hs[0]), batch_error::invalid_record);
  bytes scratch;
  std::vector<record_view> out;
  EXPECT_TRUE(decode_records(b.data(), b.size(), scratch, out));
  EXPECT_TRUE(out.empty());
}

TEST(RecordBatch, ControlBatchIsTransactionalControlWithMarkerKeyAndValue) {
  bytes b = build_control_batch(control_type::commit, 9, 2, 5, t0, 40);
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(b, &hs), batch_error::none);
  EXPECT_TRUE(hs[0].is_control());
  EXPECT_TRUE(hs[0].is_transactional());
  EXPECT_EQ(hs[0].producer_id, 9);
  EXPECT_EQ(hs[0].producer_epoch, 2);
  EXPECT_EQ(check_client_batch(hs[0]), batch_error::invalid_record);
  bytes scratch;
  std::vector<record_view> out;
  ASSERT_TRUE(decode_records(b.data(), b.size(), scratch, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].offset, 40);
  EXPECT_EQ(*out[0].key, std::string("\0\0\0\1", 4));
  EXPECT_EQ(*out[0].value, std::string("\0\0\0\0\0\5", 6));
}

// ----------------------------------------------------------------------------- corruption

TEST(RecordBatch, RejectsFlippedCrcByteAndEveryOtherByteInsideTheCrcRange) {
  auto in = sample_records();
  const bytes good = build_batch(in);
  ASSERT_EQ(parse(good), batch_error::none);
  for (size_t i = 0; i < good.size(); ++i) {
    bytes b = good;
    b[i] = static_cast<uint8_t>(~b[i]);
    batch_error e = parse(b);
    // baseOffset (0-7) and partitionLeaderEpoch (12-15) are outside the CRC and free-form;
    // batchLength, magic, the CRC itself and everything after it must be caught.
    bool free_form = i < 8 || (i >= 12 && i < 16);
    if (free_form) {
      EXPECT_EQ(e, batch_error::none) << "byte " << i;
    } else {
      EXPECT_EQ(e, batch_error::corrupt_message) << "byte " << i;
    }
  }
}

TEST(RecordBatch, RejectsEveryTruncation) {
  const bytes good = build_batch(sample_records(), codec::lz4);
  for (size_t len = 1; len < good.size(); ++len) {
    std::vector<batch_header> hs;
    // Copy to an exact-size buffer so ASan catches any read past the end.
    bytes b(good.begin(), good.begin() + static_cast<ptrdiff_t>(len));
    EXPECT_EQ(parse_batches(b.data(), b.size(), hs), batch_error::corrupt_message) << len;
    EXPECT_EQ(complete_batches_prefix(b.data(), b.size()), 0u) << len;
    bytes scratch;
    std::vector<record_view> out;
    EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out)) << len;
  }
}

TEST(RecordBatch, RejectsBogusBatchLengths) {
  for (int32_t len : {INT32_MAX, INT32_MIN, -1, 0, 4, 5, 48, 59, 1 << 30}) {
    bytes b = wire_example;
    store_be32(b.data() + batch_field::batch_length, static_cast<uint32_t>(len));
    EXPECT_EQ(parse(b), batch_error::corrupt_message) << len;
    EXPECT_EQ(complete_batches_prefix(b.data(), b.size()), 0u) << len;
    bytes scratch;
    std::vector<record_view> out;
    EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out)) << len;
  }
}

TEST(RecordBatch, ShorterLengthWithTrailingBytesIsCorrupt) {
  bytes b = wire_example;
  store_be32(b.data() + batch_field::batch_length, 57);
  EXPECT_EQ(parse(b), batch_error::corrupt_message);
}

TEST(RecordBatch, LegacyMagicIsUnsupportedAndOtherMagicIsCorrupt) {
  for (int magic = -128; magic < 128; ++magic) {
    bytes b = wire_example;
    b[batch_field::magic] = static_cast<uint8_t>(magic);
    batch_error want = magic == 2                 ? batch_error::none
                       : (magic == 0 || magic == 1) ? batch_error::unsupported_magic
                                                    : batch_error::corrupt_message;
    EXPECT_EQ(parse(b), want) << magic;
  }
}

TEST(RecordBatch, UnknownCodecWithValidCrcIsUnsupportedCompression) {
  for (int c = 5; c <= 7; ++c) {
    bytes b = wire_example;
    b[batch_field::attributes + 1] = static_cast<uint8_t>(c);
    update_crc(b.data());
    EXPECT_EQ(parse(b), batch_error::unsupported_compression) << c;
  }
}

TEST(RecordBatch, InconsistentCountsAreInvalidRecord) {
  auto with = [](size_t field, uint32_t v) {
    bytes b = wire_example;
    store_be32(b.data() + field, v);
    update_crc(b.data());
    return b;
  };
  EXPECT_EQ(parse(with(batch_field::record_count, static_cast<uint32_t>(-1))),
            batch_error::invalid_record);
  EXPECT_EQ(parse(with(batch_field::record_count, 2)), batch_error::invalid_record);
  EXPECT_EQ(parse(with(batch_field::record_count, 0x7fffffff)), batch_error::invalid_record);
  EXPECT_EQ(parse(with(batch_field::last_offset_delta, static_cast<uint32_t>(-1))),
            batch_error::invalid_record);
  // Compaction leaves lastOffsetDelta beyond the count: valid, but not as client input.
  bytes compacted = with(batch_field::last_offset_delta, 5);
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(compacted, &hs), batch_error::none);
  EXPECT_EQ(check_client_batch(hs[0]), batch_error::invalid_record);
}

TEST(RecordBatch, EveryBitFlipInsideRecordsWithFixedCrcNeverCrashesDecode) {
  const bytes good = build_batch(sample_records());
  bytes scratch;
  std::vector<record_view> out;
  for (size_t i = batch_header_size; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      bytes b = good;
      b[i] ^= static_cast<uint8_t>(1 << bit);
      update_crc(b.data());
      if (decode_records(b.data(), b.size(), scratch, out)) {
        EXPECT_EQ(out.size(), 5u);
      } else {
        EXPECT_TRUE(out.empty());
      }
    }
  }
}

TEST(RecordBatch, DecodeRejectsRecordLengthMismatchAndTrailingBytes) {
  bytes scratch;
  std::vector<record_view> out;
  // Record length 8 -> 9 (zig-zag 0x12) would need one more byte than present.
  bytes b = wire_example;
  b[61] = 0x12;
  EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out));
  // An extra byte after the last record (batch length and record both intact).
  b = wire_example;
  b.push_back(0);
  store_be32(b.data() + batch_field::batch_length, 59);
  EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out));
  // Fewer records than recordsCount claims.
  b = wire_example;
  store_be32(b.data() + batch_field::record_count, 2);
  EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out));
  // Key length below -1.
  b = wire_example;
  b[65] = 0x03;  // zig-zag -2
  EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out));
}

TEST(RecordBatch, OverlongVarintIsRejected) {
  bytes rec = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};  // 6-byte VARINT record length
  bytes b(wire_example.begin(), wire_example.begin() + batch_header_size);
  b.insert(b.end(), rec.begin(), rec.end());
  store_be32(b.data() + batch_field::batch_length, static_cast<uint32_t>(b.size() - 12));
  bytes scratch;
  std::vector<record_view> out;
  EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out));
}

TEST(RecordBatch, CompressedZerosClaimingManyRecordsFailFast) {
  bytes zeros(1 << 20, 0), b(wire_example.begin(), wire_example.begin() + batch_header_size);
  ASSERT_TRUE(compress(codec::zstd, zeros, b));
  store_be32(b.data() + batch_field::batch_length, static_cast<uint32_t>(b.size() - 12));
  store_be16(b.data() + batch_field::attributes, static_cast<uint16_t>(codec::zstd));
  store_be32(b.data() + batch_field::record_count, 140000);
  store_be32(b.data() + batch_field::last_offset_delta, 139999);
  update_crc(b.data());
  ASSERT_EQ(parse(b), batch_error::none);  // the header alone is consistent
  bytes scratch;
  std::vector<record_view> out;
  EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out));
  EXPECT_FALSE(decode_records(b.data(), b.size(), scratch, out, 1000));  // over the output cap
}

// -------------------------------------------------------------------- multiple batches

TEST(RecordBatch, MultipleBatchesInOneBufferAreSplitWithTheirOffsets) {
  bytes a = build_batch(sample_records(), codec::none, 0);
  bytes b = build_batch(sample_records(), codec::zstd, 5);
  bytes c = wire_example;
  bytes all = a;
  all.insert(all.end(), b.begin(), b.end());
  all.insert(all.end(), c.begin(), c.end());
  std::vector<batch_header> hs;
  std::vector<size_t> offs;
  ASSERT_EQ(parse_batches(all.data(), all.size(), hs, &offs), batch_error::none);
  ASSERT_EQ(hs.size(), 3u);
  EXPECT_EQ(offs, (std::vector<size_t>{0, a.size(), a.size() + b.size()}));
  EXPECT_EQ(hs[1].base_offset, 5);
  EXPECT_EQ(hs[1].compression(), codec::zstd);
  EXPECT_EQ(complete_batches_prefix(all.data(), all.size()), all.size());
  // A trailing partial batch: corrupt for produce, cut off for fetch.
  bytes cut(all.begin(), all.end() - 3);
  EXPECT_EQ(parse_batches(cut.data(), cut.size(), hs, &offs), batch_error::corrupt_message);
  EXPECT_EQ(complete_batches_prefix(cut.data(), cut.size()), a.size() + b.size());
  // A corrupt middle batch fails the whole buffer.
  bytes bad = all;
  bad[a.size() + 30] ^= 1;
  EXPECT_EQ(parse_batches(bad.data(), bad.size(), hs), batch_error::corrupt_message);
  EXPECT_EQ(hs.size(), 1u);
}

TEST(RecordBatch, EmptyBufferHasNoBatches) {
  std::vector<batch_header> hs(3);
  EXPECT_EQ(parse_batches(nullptr, 0, hs), batch_error::none);
  EXPECT_TRUE(hs.empty());
  EXPECT_EQ(complete_batches_prefix(nullptr, 0), 0u);
}

// ------------------------------------------------------------------------ in-place edits

TEST(RecordBatch, SetBaseOffsetAndLeaderEpochKeepCrcValid) {
  bytes b = build_batch(sample_records(), codec::snappy);
  const uint32_t crc_before = load_be32(b.data() + batch_field::crc);
  set_base_offset(b.data(), 123456789012);
  set_partition_leader_epoch(b.data(), 17);
  EXPECT_EQ(load_be32(b.data() + batch_field::crc), crc_before);
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(b, &hs), batch_error::none);
  EXPECT_EQ(hs[0].base_offset, 123456789012);
  EXPECT_EQ(hs[0].partition_leader_epoch, 17);
  EXPECT_EQ(hs[0].last_offset(), 123456789016);
  bytes scratch;
  std::vector<record_view> out;
  ASSERT_TRUE(decode_records(b.data(), b.size(), scratch, out));
  EXPECT_EQ(out.front().offset, 123456789012);
  EXPECT_EQ(out.back().offset, 123456789016);
}

TEST(RecordBatch, SetLogAppendTimeSetsAttributeAndMaxTimestampAndRecomputesCrc) {
  bytes b = build_batch(sample_records(), codec::gzip);
  const int64_t now = t0 + 99999;
  set_log_append_time(b.data(), now);
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(b, &hs), batch_error::none);
  EXPECT_TRUE(hs[0].timestamp_type_log_append());
  EXPECT_EQ(hs[0].compression(), codec::gzip);
  EXPECT_EQ(hs[0].max_timestamp, now);
  EXPECT_EQ(hs[0].base_timestamp, t0);
  EXPECT_EQ(hs[0].crc, crc32c(b.data() + 21, b.size() - 21));
  bytes scratch;
  std::vector<record_view> out;
  ASSERT_TRUE(decode_records(b.data(), b.size(), scratch, out));
  for (const auto& r : out) EXPECT_EQ(r.timestamp, now);
}

TEST(RecordBatch, BuilderWithLogAppendTimeSetsTheAttribute) {
  bytes b = build_batch(sample_records(), codec::none, 0, -1, -1, -1, true);
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(b, &hs), batch_error::none);
  EXPECT_TRUE(hs[0].timestamp_type_log_append());
}

TEST(RecordBatch, BuilderIsReusableAfterFinish) {
  batch_builder bb(codec::lz4, 10);
  bb.add(t0, "a", "1");
  bytes first = bb.finish();
  bb.add(t0 + 1, "b", "2");
  bb.add(t0 + 2, "c", "3");
  bytes second = bb.finish();
  std::vector<batch_header> hs;
  ASSERT_EQ(parse(first, &hs), batch_error::none);
  EXPECT_EQ(hs[0].record_count, 1);
  ASSERT_EQ(parse(second, &hs), batch_error::none);
  EXPECT_EQ(hs[0].record_count, 2);
  EXPECT_EQ(hs[0].base_timestamp, t0 + 1);
}

}  // namespace
}  // namespace mk::records
