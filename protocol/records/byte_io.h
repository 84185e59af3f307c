// Big-endian loads/stores and Kafka varint coding over raw byte pointers.
//
// Contract: the load/store helpers do no bounds checking; callers check sizes first. The varint
// readers are bounds-checked: they never read at or past `end` and report malformed input by
// returning false (leaving `p` unspecified). Everything here is header-only and allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace mk::records {

inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint64_t load_be64(const uint8_t* p) {
  return (uint64_t{load_be32(p)} << 32) | uint64_t{load_be32(p + 4)};
}
inline int16_t load_i16(const uint8_t* p) { return static_cast<int16_t>(load_be16(p)); }
inline int32_t load_i32(const uint8_t* p) { return static_cast<int32_t>(load_be32(p)); }
inline int64_t load_i64(const uint8_t* p) { return static_cast<int64_t>(load_be64(p)); }

inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, static_cast<uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<uint32_t>(v));
}

// Appending writers (used by builders, off the hot path).
inline void put_be16(std::vector<uint8_t>& out, uint16_t v) {
  uint8_t b[2];
  store_be16(b, v);
  out.insert(out.end(), b, b + 2);
}
inline void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  uint8_t b[4];
  store_be32(b, v);
  out.insert(out.end(), b, b + 4);
}
inline void put_be64(std::vector<uint8_t>& out, uint64_t v) {
  uint8_t b[8];
  store_be64(b, v);
  out.insert(out.end(), b, b + 8);
}
inline void put_bytes(std::vector<uint8_t>& out, std::string_view s) {
  out.insert(out.end(), reinterpret_cast<const uint8_t*>(s.data()),
             reinterpret_cast<const uint8_t*>(s.data()) + s.size());
}

// Zig-zag VARINT (int32) and VARLONG (int64), WIRE.md §2.2.
inline void put_uvarint64(std::vector<uint8_t>& out, uint64_t u) {
  while (u >= 0x80) {
    out.push_back(static_cast<uint8_t>(u | 0x80));
    u >>= 7;
  }
  out.push_back(static_cast<uint8_t>(u));
}
inline void put_varint(std::vector<uint8_t>& out, int32_t v) {
  uint32_t u = (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  put_uvarint64(out, u);
}
inline void put_varlong(std::vector<uint8_t>& out, int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  put_uvarint64(out, u);
}
// Number of bytes put_varint would write.
inline size_t varint_size(int32_t v) {
  uint32_t u = (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  size_t n = 1;
  while (u >= 0x80) {
    u >>= 7;
    ++n;
  }
  return n;
}

// Reads an unsigned base-128 value of at most `max_bytes` bytes. Like Kafka's ByteUtils, bits
// beyond the target width in the last allowed byte are dropped rather than rejected.
inline bool get_uvarint(const uint8_t*& p, const uint8_t* end, int max_bytes, uint64_t& out) {
  uint64_t v = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (p >= end) return false;
    uint8_t b = *p++;
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) {
      out = v;
      return true;
    }
  }
  return false;  // too many continuation bytes
}
inline bool get_varint(const uint8_t*& p, const uint8_t* end, int32_t& out) {
  uint64_t u;
  if (!get_uvarint(p, end, 5, u)) return false;
  uint32_t u32 = static_cast<uint32_t>(u);
  out = static_cast<int32_t>((u32 >> 1) ^ (0u - (u32 & 1u)));
  return true;
}
inline bool get_varlong(const uint8_t*& p, const uint8_t* end, int64_t& out) {
  uint64_t u;
  if (!get_uvarint(p, end, 10, u)) return false;
  out = static_cast<int64_t>((u >> 1) ^ (0ull - (u & 1ull)));
  return true;
}

}  // namespace mk::records
