// CRC-32C / CRC-32 vectors and hardware/software agreement.
#include "protocol/records/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string_view>
#include <vector>

namespace mk::records {
namespace {

const uint8_t* u8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// The WIRE.md §4.2 example batch (70 bytes).
const std::vector<uint8_t> wire_example = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0xff, 0xff,
    0xff, 0xff, 0x02, 0xbb, 0xcc, 0x41, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x01, 0x04, 0x68, 0x69, 0x00};

TEST(Crc32c, CheckValueOf123456789) {
  EXPECT_EQ(crc32c(u8("123456789"), 9), 0xE3069283u);
  EXPECT_EQ(crc32c_software(u8("123456789"), 9), 0xE3069283u);
  if (crc32c_hardware_available()) {
    EXPECT_EQ(crc32c_hardware(u8("123456789"), 9), 0xE3069283u);
  }
}

TEST(Crc32c, EmptyInputIsZero) {
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
  EXPECT_EQ(crc32c(nullptr, 0, 0x12345678u), 0x12345678u);
}

TEST(Crc32c, Rfc3720IscsiVectors) {
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<uint8_t>(i);
    dec[i] = static_cast<uint8_t>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(inc.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(crc32c(dec.data(), 32), 0x113FDB5Cu);
  EXPECT_EQ(crc32c_software(dec.data(), 32), 0x113FDB5Cu);
}

TEST(Crc32c, WireExampleBatchCrcCoversBytes21ToEnd) {
  ASSERT_EQ(wire_example.size(), 70u);
  EXPECT_EQ(crc32c(wire_example.data() + 21, wire_example.size() - 21), 0xbbcc4115u);
}

TEST(Crc32c, HardwareAndSoftwareAgreeOnRandomDataOfManyLengthsAndAlignments) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(42);
  std::vector<uint8_t> buf(70000);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (size_t n : {1023u, 1024u, 1025u, 4096u, 65535u, 65536u, 69990u}) lengths.push_back(n);
  for (size_t align = 0; align < 8; ++align) {
    for (size_t n : lengths) {
      if (align + n > buf.size()) continue;
      uint32_t seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(crc32c_hardware(buf.data() + align, n, seed),
                crc32c_software(buf.data() + align, n, seed))
          << "align " << align << " length " << n;
    }
  }
}

TEST(Crc32c, ChainingPiecesEqualsOneShot) {
  std::mt19937 rng(7);
  std::vector<uint8_t> buf(5000);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  const uint32_t whole = crc32c(buf.data(), buf.size());
  for (size_t cut : {0u, 1u, 7u, 8u, 9u, 100u, 4999u, 5000u}) {
    uint32_t c = crc32c(buf.data(), cut);
    EXPECT_EQ(crc32c(buf.data() + cut, buf.size() - cut, c), whole) << cut;
    c = crc32c_software(buf.data(), cut);
    EXPECT_EQ(crc32c_software(buf.data() + cut, buf.size() - cut, c), whole) << cut;
  }
}

TEST(Crc32Ieee, CheckValueOf123456789) {
  EXPECT_EQ(crc32_ieee(u8("123456789"), 9), 0xCBF43926u);
  uint32_t part = crc32_ieee(u8("1234"), 4);
  EXPECT_EQ(crc32_ieee(u8("56789"), 5, part), 0xCBF43926u);
}

}  // namespace
}  // namespace mk::records
