#include "protocol/records/crc32c.h"

#include <zlib.h>

#include <array>
#include <climits>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define MK_CRC32C_X86 1
#endif

namespace mk::records {
namespace {

constexpr uint32_t castagnoli_reflected = 0x82F63B78u;

// tables[k][b]: CRC of byte b followed by k zero bytes (slicing-by-8).
using crc_tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr crc_tables make_tables() {
  crc_tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ castagnoli_reflected : c >> 1;
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  return t;
}

constexpr crc_tables tables = make_tables();

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

#ifdef MK_CRC32C_X86
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = ~crc;
  // Byte steps until p is 8-aligned, then 8 bytes per instruction, then the tail.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  while (n >= 32) {
    c = _mm_crc32_u64(c, load_le64(p));
    c = _mm_crc32_u64(c, load_le64(p + 8));
    c = _mm_crc32_u64(c, load_le64(p + 16));
    c = _mm_crc32_u64(c, load_le64(p + 24));
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    c = _mm_crc32_u64(c, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  return ~static_cast<uint32_t>(c);
}
#endif

using crc_fn = uint32_t (*)(const uint8_t*, size_t, uint32_t);

crc_fn pick_implementation() {
  return crc32c_hardware_available() ? &crc32c_hardware : &crc32c_software;
}

}  // namespace

uint32_t crc32c_software(const uint8_t* p, size_t n, uint32_t crc) {
  uint32_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xff];
    --n;
  }
  while (n >= 8) {
    uint64_t w = load_le64(p) ^ c;
    c = tables[7][w & 0xff] ^ tables[6][(w >> 8) & 0xff] ^ tables[5][(w >> 16) & 0xff] ^
        tables[4][(w >> 24) & 0xff] ^ tables[3][(w >> 32) & 0xff] ^ tables[2][(w >> 40) & 0xff] ^
        tables[1][(w >> 48) & 0xff] ^ tables[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xff];
    --n;
  }
  return ~c;
}

bool crc32c_hardware_available() {
#ifdef MK_CRC32C_X86
  static const bool available = [] {
    __builtin_cpu_init();  // needed if we are first called from a static initializer
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return available;
#else
  return false;
#endif
}

uint32_t crc32c_hardware(const uint8_t* p, size_t n, uint32_t crc) {
#ifdef MK_CRC32C_X86
  return crc32c_sse42(p, n, crc);
#else
  return crc32c_software(p, n, crc);
#endif
}

uint32_t crc32c(const uint8_t* p, size_t n, uint32_t crc) {
  static const crc_fn impl = pick_implementation();
  return impl(p, n, crc);
}

uint32_t crc32_ieee(const uint8_t* p, size_t n, uint32_t crc) {
  // zlib takes uInt lengths; feed huge inputs in pieces.
  uLong c = crc;
  while (n > 0) {
    uInt step = n > UINT_MAX ? UINT_MAX : static_cast<uInt>(n);
    c = ::crc32(c, p, step);
    p += step;
    n -= step;
  }
  return static_cast<uint32_t>(c);
}

}  // namespace mk::records
