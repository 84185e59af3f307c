// Wire primitives, frames and headers against the worked values of
// ../shared/kafka-protocol/WIRE.md §1-2 (protocol/wire.h, protocol/framing.h).
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "protocol/framing.h"
#include "protocol/wire.h"

namespace mk::proto {
namespace {

using bytes_t = std::vector<uint8_t>;

template <typename F>
bytes_t written(F&& f) {
  writer w;
  f(w);
  return w.flatten();
}

// A reader over an exact-size heap copy (so ASan catches over-reads), kept alive with the reader.
struct input {
  std::shared_ptr<bytes_t> buf;
  reader r;
  explicit input(bytes_t b) : buf(std::make_shared<bytes_t>(std::move(b))), r(buf->data(), buf->size(), buf) {}
};

// ---- §2.2 variable-length integers -------------------------------------------------------------

TEST(Varint, WorkedValuesFromWireMd) {
  const std::pair<int32_t, bytes_t> cases[] = {
      {0, {0x00}},  {-1, {0x01}}, {1, {0x02}},         {-2, {0x03}},
      {63, {0x7e}}, {-64, {0x7f}}, {64, {0x80, 0x01}}, {300, {0xd8, 0x04}},
  };
  for (const auto& [value, enc] : cases) {
    EXPECT_EQ(written([&](writer& w) { w.varint(value); }), enc) << value;
    input in(enc);
    EXPECT_EQ(in.r.varint(), value);
    EXPECT_TRUE(in.r.ok());
    EXPECT_EQ(in.r.remaining(), 0u);
  }
}

TEST(Varint, UnsignedWorkedValuesFromWireMd) {
  const std::pair<uint32_t, bytes_t> cases[] = {
      {0, {0x00}},
      {127, {0x7f}},
      {128, {0x80, 0x01}},
      {300, {0xac, 0x02}},
      {16383, {0xff, 0x7f}},
      {16384, {0x80, 0x80, 0x01}},
      {UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}},
  };
  for (const auto& [value, enc] : cases) {
    EXPECT_EQ(written([&](writer& w) { w.uvarint(value); }), enc) << value;
    input in(enc);
    EXPECT_EQ(in.r.uvarint(), value);
    EXPECT_TRUE(in.r.ok());
    EXPECT_EQ(in.r.remaining(), 0u);
  }
}

TEST(Varint, Int32Extremes) {
  EXPECT_EQ(written([](writer& w) { w.varint(INT32_MAX); }), (bytes_t{0xfe, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(written([](writer& w) { w.varint(INT32_MIN); }), (bytes_t{0xff, 0xff, 0xff, 0xff, 0x0f}));
  for (int32_t v : {INT32_MIN, INT32_MIN + 1, -65, 65, INT32_MAX - 1, INT32_MAX}) {
    input in(written([&](writer& w) { w.varint(v); }));
    EXPECT_EQ(in.r.varint(), v);
    EXPECT_TRUE(in.r.ok());
  }
}

TEST(Varlong, Extremes) {
  EXPECT_EQ(written([](writer& w) { w.varlong(0); }), (bytes_t{0x00}));
  EXPECT_EQ(written([](writer& w) { w.varlong(-1); }), (bytes_t{0x01}));
  EXPECT_EQ(written([](writer& w) { w.varlong(300); }), (bytes_t{0xd8, 0x04}));
  EXPECT_EQ(written([](writer& w) { w.varlong(INT64_MAX); }),
            (bytes_t{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  EXPECT_EQ(written([](writer& w) { w.varlong(INT64_MIN); }),
            (bytes_t{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  EXPECT_EQ(written([](writer& w) { w.uvarlong(UINT64_MAX); }),
            (bytes_t{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  for (int64_t v : {INT64_MIN, INT64_MIN + 1, int64_t{INT32_MIN} - 1, int64_t{-1}, int64_t{0},
                    int64_t{INT32_MAX} + 1, INT64_MAX - 1, INT64_MAX}) {
    input in(written([&](writer& w) { w.varlong(v); }));
    EXPECT_EQ(in.r.varlong(), v);
    EXPECT_TRUE(in.r.ok());
    EXPECT_EQ(in.r.remaining(), 0u);
  }
}

TEST(Varint, OverLongAndTruncatedAreRejected) {
  const bytes_t bad32[] = {
      {0x80, 0x80, 0x80, 0x80, 0x80, 0x00},  // 6 bytes
      {0xff, 0xff, 0xff, 0xff, 0x1f},        // 5 bytes but 33+ bits
      {0xff, 0xff, 0xff, 0xff, 0x8f, 0x00},  // continuation on the 5th byte
      {0x80},                                // truncated
      {0xff, 0xff},                          // truncated
      {},                                    // nothing
  };
  for (const auto& b : bad32) {
    input in(b);
    EXPECT_EQ(in.r.uvarint(), 0u);
    EXPECT_FALSE(in.r.ok());
    input in2(b);
    in2.r.varint();
    EXPECT_FALSE(in2.r.ok());
  }
  const bytes_t bad64[] = {
      {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},  // 11 bytes
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},        // 65 bits
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00},  // continuation on byte 10
      {0xff, 0xff, 0xff},                                                  // truncated
  };
  for (const auto& b : bad64) {
    input in(b);
    EXPECT_EQ(in.r.uvarlong(), 0u);
    EXPECT_FALSE(in.r.ok());
  }
  // A failed reader stays failed and reads zeros.
  input in(bytes_t{0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x05});
  in.r.uvarint();
  EXPECT_EQ(in.r.i8(), 0);
  EXPECT_EQ(in.r.remaining(), 0u);
  EXPECT_FALSE(in.r.ok());
}

TEST(Varint, NonCanonicalButInRangeIsAccepted) {
  // Like Kafka's ByteUtils.readUnsignedVarint: padding zero groups within 5 bytes are accepted.
  input in(bytes_t{0x80, 0x80, 0x80, 0x80, 0x00});
  EXPECT_EQ(in.r.uvarint(), 0u);
  EXPECT_TRUE(in.r.ok());
}

// ---- §2.1 fixed width ---------------------------------------------------------------------------

TEST(Fixed, BigEndian) {
  EXPECT_EQ(written([](writer& w) {
              w.i8(-2);
              w.i16(0x1234);
              w.u16(0xfedc);
              w.i32(-2);
              w.i64(0x0102030405060708);
              w.boolean(true);
              w.boolean(false);
            }),
            (bytes_t{0xfe, 0x12, 0x34, 0xfe, 0xdc, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0}));
  input in(bytes_t{0xfe, 0x12, 0x34, 0xfe, 0xdc, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 7, 0});
  EXPECT_EQ(in.r.i8(), -2);
  EXPECT_EQ(in.r.i16(), 0x1234);
  EXPECT_EQ(in.r.u16(), 0xfedc);
  EXPECT_EQ(in.r.i32(), -2);
  EXPECT_EQ(in.r.i64(), 0x0102030405060708);
  EXPECT_TRUE(in.r.boolean());  // any non-zero byte is true
  EXPECT_FALSE(in.r.boolean());
  EXPECT_TRUE(in.r.ok());
  EXPECT_EQ(in.r.remaining(), 0u);
  EXPECT_EQ(in.r.i16(), 0);  // past the end: fails, reads 0
  EXPECT_FALSE(in.r.ok());
}

TEST(Fixed, Float64IsTheIeeeBitPattern) {
  EXPECT_EQ(written([](writer& w) { w.f64(1.0); }), (bytes_t{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(written([](writer& w) { w.f64(-2.5); }), (bytes_t{0xc0, 0x04, 0, 0, 0, 0, 0, 0}));
  input in(bytes_t{0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18});
  EXPECT_DOUBLE_EQ(in.r.f64(), 3.141592653589793);
}

TEST(Fixed, UuidIsSixteenRawBytes) {
  uuid u;
  for (int i = 0; i < 16; ++i) u.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(i + 1);
  auto b = written([&](writer& w) { w.write_uuid(u); });
  EXPECT_EQ(b, bytes_t(u.bytes.begin(), u.bytes.end()));
  input in(b);
  EXPECT_EQ(in.r.read_uuid(), u);
  input short_in(bytes_t(15, 1));
  EXPECT_TRUE(short_in.r.read_uuid().is_zero());
  EXPECT_FALSE(short_in.r.ok());
}

// ---- §2.3 strings, bytes, arrays ---------------------------------------------------------------

TEST(Strings, ClassicAndCompact) {
  EXPECT_EQ(written([](writer& w) { w.string("abc", false); }), (bytes_t{0x00, 0x03, 'a', 'b', 'c'}));
  EXPECT_EQ(written([](writer& w) { w.string("abc", true); }), (bytes_t{0x04, 'a', 'b', 'c'}));
  EXPECT_EQ(written([](writer& w) { w.string("", false); }), (bytes_t{0x00, 0x00}));
  EXPECT_EQ(written([](writer& w) { w.string("", true); }), (bytes_t{0x01}));  // WIRE.md: empty = 01
  EXPECT_EQ(written([](writer& w) { w.nullable_string(std::nullopt, false); }), (bytes_t{0xff, 0xff}));
  EXPECT_EQ(written([](writer& w) { w.nullable_string(std::nullopt, true); }), (bytes_t{0x00}));  // null = 00
  EXPECT_EQ(written([](writer& w) { w.nullable_string(std::string("x"), true); }), (bytes_t{0x02, 'x'}));
  std::string long_s(200, 'q');  // compact length 201 takes two varint bytes
  auto b = written([&](writer& w) { w.string(long_s, true); });
  ASSERT_EQ(b.size(), 202u);
  EXPECT_EQ(b[0], 0xc9);
  EXPECT_EQ(b[1], 0x01);

  {
    input in(bytes_t{0x00, 0x03, 'a', 'b', 'c', 0x04, 'd', 'e', 'f', 0xff, 0xff, 0x00, 0x01});
    EXPECT_EQ(in.r.string(false), "abc");
    EXPECT_EQ(in.r.string(true), "def");
    EXPECT_EQ(in.r.nullable_string(false), std::nullopt);
    EXPECT_EQ(in.r.nullable_string(true), std::nullopt);
    EXPECT_EQ(in.r.nullable_string(true), std::optional<std::string>(""));
    EXPECT_TRUE(in.r.ok());
    EXPECT_EQ(in.r.remaining(), 0u);
  }
  // Null where a string is required, negative lengths other than -1, lengths beyond the input.
  const std::pair<bytes_t, bool> bad[] = {
      {{0xff, 0xff}, false}, {{0x00}, true}, {{0xff, 0xfe}, false}, {{0x00, 0x04, 'a', 'b', 'c'}, false},
      {{0x05, 'a', 'b', 'c'}, true}, {{0x00}, false},
  };
  for (const auto& [enc, flex] : bad) {
    input in(enc);
    in.r.string(flex);
    EXPECT_FALSE(in.r.ok());
  }
  input in(bytes_t{0xff, 0xfe});
  EXPECT_EQ(in.r.nullable_string(false), std::nullopt);
  EXPECT_FALSE(in.r.ok()) << "length -2 is not null";
}

TEST(Bytes, ClassicAndCompact) {
  EXPECT_EQ(written([](writer& w) { w.bytes(std::string("\x01\x02", 2), false); }), (bytes_t{0, 0, 0, 2, 1, 2}));
  EXPECT_EQ(written([](writer& w) { w.bytes(std::string("\x01\x02", 2), true); }), (bytes_t{3, 1, 2}));
  EXPECT_EQ(written([](writer& w) { w.nullable_bytes(std::nullopt, false); }), (bytes_t{0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(written([](writer& w) { w.nullable_bytes(std::nullopt, true); }), (bytes_t{0x00}));
  input in(bytes_t{0, 0, 0, 2, 1, 2, 0xff, 0xff, 0xff, 0xff, 0x01});
  EXPECT_EQ(in.r.bytes(false), std::string("\x01\x02", 2));
  EXPECT_EQ(in.r.nullable_bytes(false), std::nullopt);
  EXPECT_EQ(in.r.bytes(true), "");
  EXPECT_TRUE(in.r.ok());
  input bad(bytes_t{0x7f, 0xff, 0xff, 0xff, 1, 2});
  bad.r.bytes(false);
  EXPECT_FALSE(bad.r.ok());
}

TEST(Arrays, Lengths) {
  EXPECT_EQ(written([](writer& w) { w.array_len(3, false); }), (bytes_t{0, 0, 0, 3}));
  EXPECT_EQ(written([](writer& w) { w.array_len(3, true); }), (bytes_t{4}));
  EXPECT_EQ(written([](writer& w) { w.array_len(-1, false); }), (bytes_t{0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(written([](writer& w) { w.array_len(-1, true); }), (bytes_t{0x00}));
  {
    input in(bytes_t{0, 0, 0, 2, 9, 9, 9, 9, 9, 9, 9, 9});
    EXPECT_EQ(in.r.array_len(false, 4), 2);
    EXPECT_TRUE(in.r.ok());
  }
  {
    input in(bytes_t{0, 0, 0, 3, 9, 9, 9, 9, 9, 9, 9, 9});
    EXPECT_EQ(in.r.array_len(false, 4), -1) << "3 elements of 4+ bytes cannot fit in 8";
    EXPECT_FALSE(in.r.ok());
  }
  {
    input in(bytes_t{0x00, 0xff, 0xff, 0xff, 0xff});
    EXPECT_EQ(in.r.array_len(true), -1);  // compact null
    EXPECT_TRUE(in.r.ok());
    EXPECT_EQ(in.r.array_len(false), -1);  // classic null
    EXPECT_TRUE(in.r.ok());
  }
  {
    input in(bytes_t{0xff, 0xff, 0xff, 0xfe});
    in.r.array_len(false);
    EXPECT_FALSE(in.r.ok()) << "-2 is not a length";
  }
}

TEST(Records, ReadIsAViewIntoTheFrame) {
  input in(bytes_t{0, 0, 0, 3, 7, 8, 9, 0xff, 0xff, 0xff, 0xff, 0x01});
  records r = in.r.read_records(false);
  EXPECT_FALSE(r.is_null);
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_EQ(r.chunks[0].data, in.buf->data() + 4);  // no copy
  EXPECT_EQ(r.chunks[0].owner.get(), in.buf.get());  // keeps the frame alive
  EXPECT_EQ(r.flatten(), (bytes_t{7, 8, 9}));
  records null_r = in.r.read_records(false);
  EXPECT_TRUE(null_r.is_null);
  records empty_r = in.r.read_records(true);
  EXPECT_FALSE(empty_r.is_null);
  EXPECT_TRUE(empty_r.empty());
  EXPECT_TRUE(in.r.ok());
  EXPECT_EQ(in.r.remaining(), 0u);
}

// ---- §2.4 tagged fields ------------------------------------------------------------------------

TEST(TaggedFields, ReaderKeepsUnknownAndChecksSizes) {
  // 2 entries: tag 0 (known, int32), tag 300 (unknown, 2 bytes).
  input in(bytes_t{0x02, 0x00, 0x04, 0, 0, 0, 42, 0xac, 0x02, 0x02, 'h', 'i'});
  unknown_tags unknown;
  int32_t known = 0;
  in.r.tagged_fields(unknown, [&](uint32_t tag, reader& tr) {
    if (tag != 0) return false;
    known = tr.i32();
    return true;
  });
  EXPECT_TRUE(in.r.ok());
  EXPECT_EQ(in.r.remaining(), 0u);
  EXPECT_EQ(known, 42);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], (unknown_tag{300, "hi"}));

  // A known tag whose value is shorter than its type fails the whole reader.
  input bad(bytes_t{0x01, 0x00, 0x02, 0, 0});
  unknown.clear();
  bad.r.tagged_fields(unknown, [&](uint32_t, reader& tr) {
    tr.i32();
    return true;
  });
  EXPECT_FALSE(bad.r.ok());
  // Sizes beyond the input fail.
  input bad2(bytes_t{0x01, 0x07, 0x05, 1, 2});
  bad2.r.tagged_fields(unknown, [](uint32_t, reader&) { return false; });
  EXPECT_FALSE(bad2.r.ok());
}

TEST(TaggedFields, WriterPrefixesTheSize) {
  auto b = written([](writer& w) {
    w.uvarint(1);
    w.tagged_field(5, [](writer& tw) { tw.i32(7); });
  });
  EXPECT_EQ(b, (bytes_t{0x01, 0x05, 0x04, 0, 0, 0, 7}));
}

// ---- writer: splicing external chunks ----------------------------------------------------------

TEST(Writer, SplicedChunksMatchFlatten) {
  bytes_t big(1000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  auto big_chunk = shared_chunk::copy_of(big.data(), big.size());
  auto small_chunk = shared_chunk::copy_of(big.data(), 10);

  records recs = records::empty_set();
  recs.chunks = {big_chunk, small_chunk, big_chunk.slice(100, 600)};

  writer w;
  w.i32(0);  // size prefix, patched below
  w.i16(1);
  w.write_records(recs, false);
  w.tagged_field(9, [&](writer& tw) { tw.write_records(recs, true); });  // splices inside a sub-writer
  w.string("tail", true);
  w.patch_i32(0, static_cast<int32_t>(w.size() - 4));

  bytes_t expect = {0, 0, 0, 0, 0, 1};
  auto put32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) expect.push_back(static_cast<uint8_t>(v >> s));
  };
  put32(static_cast<uint32_t>(recs.size()));
  auto flat = recs.flatten();
  expect.insert(expect.end(), flat.begin(), flat.end());
  // tag 9, size = varint(1611) + 1610, then compact length 1611 = cb 0c
  ASSERT_EQ(recs.size(), 1610u);
  expect.insert(expect.end(), {0x09, 0xcc, 0x0c, 0xcb, 0x0c});
  expect.insert(expect.end(), flat.begin(), flat.end());
  expect.insert(expect.end(), {0x05, 't', 'a', 'i', 'l'});
  const uint32_t total = static_cast<uint32_t>(expect.size() - 4);
  for (int i = 0; i < 4; ++i) expect[static_cast<size_t>(i)] = static_cast<uint8_t>(total >> (24 - 8 * i));

  EXPECT_EQ(w.size(), expect.size());
  EXPECT_EQ(w.flatten(), expect);
  // Large chunks are referenced, not copied: the contiguous part excludes them.
  EXPECT_EQ(w.contiguous_size(), expect.size() - 2 * (1000 + 600));  // the 10-byte chunk is copied

  auto chunks = w.take_chunks();
  bytes_t joined;
  bool referenced = false;
  for (const auto& c : chunks) {
    joined.insert(joined.end(), c.data, c.data + c.size);
    if (c.data == big_chunk.data && c.size == 1000) referenced = true;
  }
  EXPECT_EQ(joined, expect);
  EXPECT_TRUE(referenced) << "the 1000-byte chunk was copied";
  EXPECT_EQ(w.size(), 0u);  // empty after take_chunks
  EXPECT_TRUE(w.flatten().empty());
}

TEST(Writer, NullAndEmptyRecords) {
  EXPECT_EQ(written([](writer& w) { w.write_records(records{}, false); }), (bytes_t{0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(written([](writer& w) { w.write_records(records{}, true); }), (bytes_t{0x00}));
  EXPECT_EQ(written([](writer& w) { w.write_records(records::empty_set(), false); }), (bytes_t{0, 0, 0, 0}));
  EXPECT_EQ(written([](writer& w) { w.write_records(records::empty_set(), true); }), (bytes_t{0x01}));
}

// ---- uuid text form ----------------------------------------------------------------------------

TEST(Uuid, Base64RoundTrip) {
  uuid one;
  one.bytes[15] = 1;
  EXPECT_EQ(one.to_base64(), "AAAAAAAAAAAAAAAAAAAAAQ");
  uuid ones;
  ones.bytes.fill(0xff);
  EXPECT_EQ(ones.to_base64(), "_____________________w");  // URL-safe alphabet
  uuid mixed;
  const uint8_t m[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
  std::memcpy(mixed.bytes.data(), m, 16);
  EXPECT_EQ(mixed.to_base64(), "ASNFZ4mrze_-3LqYdlQyEA");
  EXPECT_EQ(mixed.to_hex(), "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(uuid::from_base64("ASNFZ4mrze_-3LqYdlQyEA"), mixed);
  EXPECT_EQ(uuid::from_base64("AAAAAAAAAAAAAAAAAAAAAA"), uuid{});

  for (int i = 0; i < 1000; ++i) {
    uuid u = uuid::random();
    EXPECT_FALSE(u.is_zero());
    EXPECT_EQ(u.bytes[6] >> 4, 4);  // version 4
    auto s = u.to_base64();
    ASSERT_EQ(s.size(), 22u);
    EXPECT_EQ(uuid::from_base64(s), u) << s;
  }
  EXPECT_EQ(uuid::from_base64(""), std::nullopt);
  EXPECT_EQ(uuid::from_base64("AAAAAAAAAAAAAAAAAAAAAQ=="), std::nullopt);  // no padding
  EXPECT_EQ(uuid::from_base64("ASNFZ4mrze/+3LqYdlQyEA"), std::nullopt);    // standard alphabet
  EXPECT_EQ(uuid::from_base64("ASNFZ4mrze_-3LqYdlQyE"), std::nullopt);     // 21 chars
  EXPECT_EQ(uuid::from_base64(std::string_view("ASNFZ4mrze_-3LqYdlQy\0A", 22)), std::nullopt);
}

// ---- §1 frames and headers ---------------------------------------------------------------------

TEST(Frame, PeekFrame) {
  size_t body = 12345;
  const uint8_t hdr10[] = {0, 0, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  EXPECT_EQ(peek_frame(hdr10, 0, 100, body), frame_status::need_more);
  EXPECT_EQ(peek_frame(hdr10, 3, 100, body), frame_status::need_more);
  EXPECT_EQ(peek_frame(hdr10, 4, 100, body), frame_status::need_more);
  EXPECT_EQ(peek_frame(hdr10, 13, 100, body), frame_status::need_more);
  EXPECT_EQ(peek_frame(hdr10, 14, 100, body), frame_status::frame);
  EXPECT_EQ(body, 10u);
  EXPECT_EQ(peek_frame(hdr10, 15, 100, body), frame_status::frame);  // the next frame's bytes may follow
  EXPECT_EQ(peek_frame(hdr10, 14, 10, body), frame_status::frame);   // exactly at the limit
  EXPECT_EQ(peek_frame(hdr10, 14, 9, body), frame_status::too_large);
  const uint8_t zero[] = {0, 0, 0, 0};
  EXPECT_EQ(peek_frame(zero, 4, 100, body), frame_status::frame);
  EXPECT_EQ(body, 0u);
  // Decided from the prefix alone, before the body arrives.
  const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff};
  EXPECT_EQ(peek_frame(huge, 4, default_max_request_size, body), frame_status::too_large);
  const uint8_t neg[] = {0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(peek_frame(neg, 4, default_max_request_size, body), frame_status::negative_size);
  const uint8_t min[] = {0x80, 0x00, 0x00, 0x00};
  EXPECT_EQ(peek_frame(min, 4, default_max_request_size, body), frame_status::negative_size);
  EXPECT_EQ(default_max_request_size, 104857600u);
}

TEST(RequestHeader, V1ClassicClientId) {
  // Metadata v4 (not flexible): key, version, correlation id, client id "kcat".
  const bytes_t enc = {0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, 0x00, 0x04, 'k', 'c', 'a', 't', 0xaa};
  input in(enc);
  request_header h;
  ASSERT_TRUE(decode_request_header(in.r, h));
  EXPECT_EQ(h.api_key, 3);
  EXPECT_EQ(h.api_version, 4);
  EXPECT_EQ(h.correlation_id, 7);
  EXPECT_EQ(h.client_id, "kcat");
  EXPECT_EQ(h.header_version, 1);
  EXPECT_EQ(in.r.remaining(), 1u);  // the body starts right after
  writer w;
  encode_request_header(w, h);
  EXPECT_EQ(w.flatten(), bytes_t(enc.begin(), enc.end() - 1));
}

TEST(RequestHeader, V2KeepsTheClassicClientIdAndAddsTags) {
  // ApiVersions v3 (flexible): client id still has an INT16 length, then a tag section.
  const bytes_t enc = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 'k', 'c', 'a', 't', 0x00};
  input in(enc);
  request_header h;
  ASSERT_TRUE(decode_request_header(in.r, h));
  EXPECT_EQ(h.header_version, 2);
  EXPECT_EQ(h.client_id, "kcat");
  EXPECT_EQ(in.r.remaining(), 0u);
  writer w;
  encode_request_header(w, h);
  EXPECT_EQ(w.flatten(), enc);
}

TEST(RequestHeader, V2UnknownTagsSurvive) {
  // Fetch v12 header with one unknown tag (5, "xy").
  const bytes_t enc = {0x00, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 'c', 0x01, 0x05, 0x02, 'x', 'y'};
  input in(enc);
  request_header h;
  ASSERT_TRUE(decode_request_header(in.r, h));
  ASSERT_EQ(h.tags.size(), 1u);
  EXPECT_EQ(h.tags[0], (unknown_tag{5, "xy"}));
  EXPECT_EQ(in.r.remaining(), 0u);
  writer w;
  encode_request_header(w, h);
  EXPECT_EQ(w.flatten(), enc);
}

TEST(RequestHeader, NullClientIdReadsAsEmpty) {
  const bytes_t enc = {0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xff, 0xff};
  input in(enc);
  request_header h;
  h.client_id = "stale";
  ASSERT_TRUE(decode_request_header(in.r, h));
  EXPECT_EQ(h.client_id, "");
  EXPECT_EQ(h.header_version, 1);
  // And in a v2 header.
  input in2(bytes_t{0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, 0xff, 0xff, 0x00});
  ASSERT_TRUE(decode_request_header(in2.r, h));
  EXPECT_EQ(h.client_id, "");
  EXPECT_EQ(in2.r.remaining(), 0u);
}

TEST(RequestHeader, ControlledShutdownV0HasNoClientId) {
  const bytes_t enc = {0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03};
  input in(enc);
  request_header h;
  ASSERT_TRUE(decode_request_header(in.r, h));
  EXPECT_EQ(h.header_version, 0);
  EXPECT_EQ(in.r.remaining(), 0u);
  writer w;
  encode_request_header(w, h);
  EXPECT_EQ(w.flatten(), enc);
}

TEST(RequestHeader, MalformedFails) {
  const bytes_t bad[] = {
      {0x00, 0x03, 0x00},                                                  // truncated
      {0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, 0x00, 0x05, 'k'},  // client id past the end
      {0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, 0xff, 0xfe},       // client id length -2
      {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00},       // v2 without a tag section
  };
  for (const auto& b : bad) {
    input in(b);
    request_header h;
    EXPECT_FALSE(decode_request_header(in.r, h));
  }
}

TEST(ResponseHeader, Versions) {
  EXPECT_EQ(response_header_version(0, 8), 0);   // Produce v8
  EXPECT_EQ(response_header_version(0, 9), 1);   // Produce v9 is flexible
  EXPECT_EQ(response_header_version(1, 11), 0);  // Fetch v11
  EXPECT_EQ(response_header_version(1, 12), 1);
  EXPECT_EQ(response_header_version(3, 9), 1);    // Metadata v9
  EXPECT_EQ(response_header_version(17, 1), 0);   // SaslHandshake: never flexible
  EXPECT_EQ(response_header_version(47, 0), 0);   // OffsetDelete: never flexible
  EXPECT_EQ(response_header_version(60, 0), 1);   // DescribeCluster: flexible from v0
  for (int16_t v = 0; v <= 4; ++v) EXPECT_EQ(response_header_version(18, v), 0) << "ApiVersions v" << v;
  EXPECT_EQ(response_header_version(18, 99), 0);  // even versions the broker does not know

  EXPECT_EQ(written([](writer& w) { encode_response_header(w, 0x01020304, 0); }), (bytes_t{1, 2, 3, 4}));
  EXPECT_EQ(written([](writer& w) { encode_response_header(w, -1, 1); }), (bytes_t{0xff, 0xff, 0xff, 0xff, 0x00}));
}

}  // namespace
}  // namespace mk::proto
