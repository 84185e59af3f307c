// Compression codecs: round trips, interop with other encoders, corrupt input, output limits.
#include "protocol/records/compression.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace mk::records {
namespace {

using bytes = std::vector<uint8_t>;

bytes of(std::string_view s) { return bytes(s.begin(), s.end()); }

const std::string hello = "hello kafka hello kafka hello kafka hello kafka\n";

// `printf '%s' "$hello" | zstd -c`: read from a pipe, so the frame has NO content size.
const bytes zstd_cli_no_content_size = {
    0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x9d, 0x00, 0x00, 0x68, 0x68, 0x65, 0x6c, 0x6c,
    0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x20, 0x0a, 0x01, 0x00, 0x4e, 0x96, 0x24,
    0xd8, 0x8b, 0x66, 0xf9};
// `lz4 -c` from a pipe: frame with content checksum.
const bytes lz4_cli = {0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x16, 0x00, 0x00, 0x00,
                       0xcf, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b,
                       0x61, 0x20, 0x0c, 0x00, 0x0c, 0x50, 0x61, 0x66, 0x6b, 0x61, 0x0a,
                       0x00, 0x00, 0x00, 0x00, 0x20, 0x54, 0xfb, 0x70};
// `lz4 -c --content-size file`: frame with an 8-byte content size.
const bytes lz4_cli_content_size = {
    0x04, 0x22, 0x4d, 0x18, 0x6c, 0x40, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x84,
    0x16, 0x00, 0x00, 0x00, 0xcf, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6b, 0x61, 0x66, 0x6b,
    0x61, 0x20, 0x0c, 0x00, 0x0c, 0x50, 0x61, 0x66, 0x6b, 0x61, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x20, 0x54, 0xfb, 0x70};
// `gzip -c -n file`.
const bytes gzip_cli = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48,
                        0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x4e, 0x4c, 0xcb, 0x4e, 0x54, 0xc8, 0x20,
                        0xcc, 0xe6, 0x02, 0x00, 0x2a, 0xfc, 0x91, 0x4f, 0x30, 0x00, 0x00, 0x00};

// Raw snappy block for "hi": varint length 2, literal tag (2-1)<<2, 'h', 'i'.
const bytes snappy_raw_hi = {0x02, 0x04, 'h', 'i'};
// The same block in snappy-java (xerial) stream framing.
const bytes snappy_xerial_hi = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1,
                                0,    0,   0,   4,   0x02, 0x04, 'h', 'i'};

bytes random_bytes(size_t n, uint32_t seed, int alphabet = 256) {
  std::mt19937 rng(seed);
  bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng() % static_cast<uint32_t>(alphabet));
  return b;
}

class Codec : public ::testing::TestWithParam<codec> {};

TEST_P(Codec, RoundTripsManySizesOfRandomAndCompressibleData) {
  for (size_t n : {0u, 1u, 2u, 100u, 4095u, 32768u, 32769u, 65536u, 65537u, 300000u}) {
    for (int alphabet : {4, 256}) {
      bytes in = random_bytes(n, static_cast<uint32_t>(n), alphabet);
      bytes c, d;
      ASSERT_TRUE(compress(GetParam(), in, c)) << n;
      ASSERT_TRUE(decompress(GetParam(), c, d)) << n;
      ASSERT_EQ(d, in) << n;
    }
  }
}

TEST_P(Codec, CompressAndDecompressAppendToExistingBytes) {
  bytes in = of(hello);
  bytes c = {9, 9};
  ASSERT_TRUE(compress(GetParam(), in, c));
  EXPECT_EQ(c[0], 9);
  bytes d = {7};
  ASSERT_TRUE(decompress(GetParam(), std::span<const uint8_t>(c).subspan(2), d));
  bytes want = {7};
  want.insert(want.end(), in.begin(), in.end());
  EXPECT_EQ(d, want);
}

TEST_P(Codec, DecompressRefusesOutputBeyondMaxOutAndLeavesOutUnchanged) {
  bytes in(1 << 20, 'z');
  bytes c;
  ASSERT_TRUE(compress(GetParam(), in, c));
  bytes d = {1, 2, 3};
  EXPECT_FALSE(decompress(GetParam(), c, d, in.size() - 1));
  EXPECT_EQ(d, (bytes{1, 2, 3}));
  EXPECT_TRUE(decompress(GetParam(), c, d, in.size()));  // exactly at the limit is fine
  EXPECT_EQ(d.size(), in.size() + 3);
}

TEST_P(Codec, EveryTruncationFailsOrYieldsLessData) {
  bytes in = random_bytes(100000, 3, 16);
  bytes c;
  ASSERT_TRUE(compress(GetParam(), in, c));
  for (size_t len = 0; len < c.size(); len += (len < 200 ? 1 : 97)) {
    bytes cut(c.begin(), c.begin() + static_cast<ptrdiff_t>(len));
    bytes d;
    bool ok = decompress(GetParam(), cut, d);
    if (GetParam() == codec::snappy || GetParam() == codec::none) {
      // xerial framing can end cleanly on a block boundary; "none" has no framing at all.
      EXPECT_TRUE(!ok || d.size() < in.size()) << len;
    } else {
      EXPECT_FALSE(ok) << len;
      EXPECT_TRUE(d.empty()) << len;
    }
  }
}

TEST_P(Codec, GarbageAndBitFlipsNeverCrash) {
  for (uint32_t seed = 0; seed < 200; ++seed) {
    bytes g = random_bytes(seed * 7 % 300, seed);
    bytes d;
    (void)decompress(GetParam(), g, d, 1 << 20);
    EXPECT_LE(d.size(), size_t{1} << 20);
  }
  bytes in = random_bytes(5000, 9, 8);
  bytes c;
  ASSERT_TRUE(compress(GetParam(), in, c));
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    bytes m = c;
    m[rng() % m.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    bytes d;
    (void)decompress(GetParam(), m, d, 1 << 20);
  }
}

INSTANTIATE_TEST_SUITE_P(All, Codec,
                         ::testing::Values(codec::none, codec::gzip, codec::snappy, codec::lz4,
                                           codec::zstd),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(Compression, NonNoneCodecsRejectEmptyInput) {
  for (codec c : {codec::gzip, codec::lz4, codec::zstd, codec::snappy}) {
    bytes d;
    EXPECT_FALSE(decompress(c, {}, d)) << to_string(c);
  }
}

TEST(Compression, DecodesFramesWrittenByTheCommandLineTools) {
  bytes d;
  ASSERT_TRUE(decompress(codec::zstd, zstd_cli_no_content_size, d));
  EXPECT_EQ(d, of(hello));
  d.clear();
  ASSERT_TRUE(decompress(codec::lz4, lz4_cli, d));
  EXPECT_EQ(d, of(hello));
  d.clear();
  ASSERT_TRUE(decompress(codec::lz4, lz4_cli_content_size, d));
  EXPECT_EQ(d, of(hello));
  d.clear();
  ASSERT_TRUE(decompress(codec::gzip, gzip_cli, d));
  EXPECT_EQ(d, of(hello));
}

TEST(Compression, ConcatenatedFramesAndMembersDecodeToTheConcatenation) {
  for (const bytes* one : {&zstd_cli_no_content_size, &lz4_cli, &gzip_cli}) {
    codec c = one == &zstd_cli_no_content_size ? codec::zstd
              : one == &lz4_cli                ? codec::lz4
                                               : codec::gzip;
    bytes two = *one;
    two.insert(two.end(), one->begin(), one->end());
    bytes d;
    ASSERT_TRUE(decompress(c, two, d)) << to_string(c);
    EXPECT_EQ(d, of(hello + hello));
    bytes trailing = *one;
    trailing.push_back(0x00);
    d.clear();
    EXPECT_FALSE(decompress(c, trailing, d)) << to_string(c);
  }
}

TEST(Compression, GzipDecoderAlsoAcceptsZlibStreams) {
  const bytes zlib_hi = {0x78, 0x9c, 0xcb, 0xc8, 0x04, 0x00, 0x01, 0x3b, 0x00, 0xd2};
  bytes d;
  ASSERT_TRUE(decompress(codec::gzip, zlib_hi, d));
  EXPECT_EQ(d, of("hi"));
}

TEST(Compression, SnappyAcceptsXerialFramingRawBlocksAndConcatenatedStreams) {
  bytes d;
  ASSERT_TRUE(decompress(codec::snappy, snappy_xerial_hi, d));
  EXPECT_EQ(d, of("hi"));
  d.clear();
  ASSERT_TRUE(decompress(codec::snappy, snappy_raw_hi, d));
  EXPECT_EQ(d, of("hi"));
  bytes two = snappy_xerial_hi;
  two.insert(two.end(), snappy_xerial_hi.begin(), snappy_xerial_hi.end());
  d.clear();
  ASSERT_TRUE(decompress(codec::snappy, two, d));
  EXPECT_EQ(d, of("hihi"));
}

TEST(Compression, SnappyWritesXerialHeaderAndBlocksOfAtMost32KiB) {
  bytes in(100000, 'a');
  bytes c;
  ASSERT_TRUE(compress(codec::snappy, in, c));
  ASSERT_GE(c.size(), 16u);
  EXPECT_TRUE(std::equal(snappy_xerial_hi.begin(), snappy_xerial_hi.begin() + 16, c.begin()));
  size_t blocks = 0;
  for (size_t pos = 16; pos < c.size(); ++blocks) {
    ASSERT_LE(pos + 4, c.size());
    uint32_t len = (uint32_t{c[pos]} << 24) | (uint32_t{c[pos + 1]} << 16) |
                   (uint32_t{c[pos + 2]} << 8) | c[pos + 3];
    pos += 4 + len;
    ASSERT_LE(pos, c.size());
  }
  EXPECT_EQ(blocks, 4u);  // ceil(100000 / 32768)
}

TEST(Compression, SnappyRejectsLyingLengthsWithoutAllocatingThem) {
  // Raw block claiming 1 GiB of output in 6 bytes.
  const bytes liar = {0x80, 0x80, 0x80, 0x80, 0x04, 0x00};
  bytes d;
  EXPECT_FALSE(decompress(codec::snappy, liar, d));
  EXPECT_TRUE(d.empty());
  // Xerial chunk length beyond the input.
  bytes x = snappy_xerial_hi;
  x[19] = 0x05;
  EXPECT_FALSE(decompress(codec::snappy, x, d));
  x[16] = 0xff;  // negative length
  EXPECT_FALSE(decompress(codec::snappy, x, d));
  // Header cut short.
  bytes h(snappy_xerial_hi.begin(), snappy_xerial_hi.begin() + 12);
  EXPECT_FALSE(decompress(codec::snappy, h, d));
}

TEST(Compression, Lz4WithKafkaPreKip57HeaderChecksumNeedsTheLegacyDecoder) {
  // Kafka < 0.10 hashed the magic number into the header checksum: 0x0c instead of 0xa7 here.
  bytes broken = lz4_cli;
  ASSERT_EQ(broken[6], 0xa7);
  broken[6] = 0x0c;
  bytes d;
  EXPECT_FALSE(decompress(codec::lz4, broken, d));
  ASSERT_TRUE(decompress_lz4_ignoring_header_checksum(broken, d));
  EXPECT_EQ(d, of(hello));
  d.clear();
  ASSERT_TRUE(decompress_lz4_ignoring_header_checksum(lz4_cli, d));  // correct ones still work
  EXPECT_EQ(d, of(hello));
  bytes broken_cs = lz4_cli_content_size;
  broken_cs[14] ^= 0xff;
  d.clear();
  ASSERT_TRUE(decompress_lz4_ignoring_header_checksum(broken_cs, d));
  EXPECT_EQ(d, of(hello));
  // Only the header checksum is forgiven: a bad content checksum still fails.
  bytes bad_content = lz4_cli;
  bad_content.back() ^= 1;
  d.clear();
  EXPECT_FALSE(decompress_lz4_ignoring_header_checksum(bad_content, d));
}

}  // namespace
}  // namespace mk::records
