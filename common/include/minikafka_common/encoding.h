// Text encodings the front ends need for record keys, values and headers: base64 (standard
// alphabet, padded; decoding also takes the URL-safe alphabet and missing padding) and a UTF-8
// validity check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mk::encoding {

inline constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(in[k])); };
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int k = 3; k >= 0; --k) out.push_back(base64_alphabet[(v >> (6 * k)) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = byte(i) << 16;
    if (i + 1 < in.size()) v |= byte(i + 1) << 8;
    out.push_back(base64_alphabet[(v >> 18) & 63]);
    out.push_back(base64_alphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? base64_alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// nullopt when `in` holds a character outside both alphabets (padding ends the input).
inline std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// Well-formed UTF-8 (RFC 3629, Unicode's Table 3-7): no overlong forms, no surrogates (U+D800 to
// U+DFFF), nothing past U+10FFFF. The same rule as JSON libraries' (nlohmann::json refuses to
// write a string this refuses).
inline bool valid_utf8(std::string_view s) {
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  while (i < s.size()) {
    const unsigned char c = at(i);
    if (c < 0x80) {
      i += 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(i + 1)) return false;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      if (!cont(i + 1, lo, hi) || !cont(i + 2)) return false;
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      const unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace mk::encoding
