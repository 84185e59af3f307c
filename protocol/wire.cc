#include "protocol/wire.h"

#include <random>

namespace mk::proto {

std::string uuid::to_hex() const {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(32);
  for (auto b : bytes) {
    s.push_back(hex[b >> 4]);
    s.push_back(hex[b & 15]);
  }
  return s;
}

namespace {
constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

std::string uuid::to_base64() const {
  std::string s;
  uint32_t acc = 0;
  int bits = 0;
  for (auto b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      s.push_back(b64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) s.push_back(b64[(acc << (6 - bits)) & 63]);
  return s;
}

std::optional<uuid> uuid::from_base64(std::string_view s) {
  if (s.size() != 22) return std::nullopt;
  uuid u;
  uint32_t acc = 0;
  int bits = 0;
  size_t out = 0;
  for (char c : s) {
    const char* p = std::strchr(b64, c);
    if (!p || c == 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(p - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (out < 16) u.bytes[out++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  return out == 16 ? std::optional<uuid>(u) : std::nullopt;
}

uuid uuid::random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uuid u;
  do {
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t v = rng();
      std::memcpy(u.bytes.data() + i, &v, 8);
    }
    u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0f) | 0x40);
    u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3f) | 0x80);
  } while (u.is_zero());
  return u;
}

std::vector<uint8_t> records::flatten() const {
  std::vector<uint8_t> v;
  v.reserve(size());
  for (const auto& c : chunks) v.insert(v.end(), c.data, c.data + c.size);
  return v;
}

uint32_t reader::uvarint() {
  uint32_t v = 0;
  for (int shift = 0; shift <= 28; shift += 7) {
    if (!need(1)) return 0;
    uint8_t b = *p_++;
    if (shift == 28 && (b & 0xf0)) break;  // more than 32 bits
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail();
  return 0;
}

uint64_t reader::uvarlong() {
  uint64_t v = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (!need(1)) return 0;
    uint8_t b = *p_++;
    if (shift == 63 && (b & 0xfe)) break;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail();
  return 0;
}

int64_t reader::string_len(bool flexible) {
  int64_t n = flexible ? static_cast<int64_t>(uvarint()) - 1 : i16();
  if (!ok_) return -1;
  if (n < -1 || (n > 0 && static_cast<size_t>(n) > remaining())) {
    fail();
    return -1;
  }
  return n;
}

int64_t reader::bytes_len(bool flexible) {
  int64_t n = flexible ? static_cast<int64_t>(uvarint()) - 1 : i32();
  if (!ok_) return -1;
  if (n < -1 || (n > 0 && static_cast<size_t>(n) > remaining())) {
    fail();
    return -1;
  }
  return n;
}

int64_t reader::array_len(bool flexible, size_t min_elem) {
  int64_t n = flexible ? static_cast<int64_t>(uvarint()) - 1 : i32();
  if (!ok_) return -1;
  if (n < -1 || (n > 0 && static_cast<size_t>(n) > remaining() / (min_elem ? min_elem : 1))) {
    fail();
    return -1;
  }
  return n;
}

records reader::read_records(bool flexible) {
  records r;
  auto n = bytes_len(flexible);
  if (n < 0) return r;  // null (or failed)
  r.is_null = false;
  if (n > 0) {
    r.chunks.push_back(shared_chunk{owner_, p_, static_cast<size_t>(n)});
    p_ += n;
  }
  return r;
}

void writer::chunk(const shared_chunk& c) {
  if (c.size == 0) return;
  // Small chunks are cheaper to copy than to splice.
  if (c.size <= 512) {
    raw(c.data, c.size);
    return;
  }
  splices_.push_back(splice{buf_.size(), c});
  external_bytes_ += c.size;
}

void writer::write_records(const records& r, bool flexible) {
  if (r.is_null) {
    if (flexible) uvarint(0);
    else i32(-1);
    return;
  }
  size_t n = r.size();
  if (flexible) uvarint(static_cast<uint32_t>(n + 1));
  else i32(static_cast<int32_t>(n));
  for (const auto& c : r.chunks) chunk(c);
}

void writer::append(writer&& w) {
  size_t base = buf_.size();
  buf_.insert(buf_.end(), w.buf_.begin(), w.buf_.end());
  for (auto& s : w.splices_) {
    splices_.push_back(splice{base + s.at, std::move(s.chunk)});
    external_bytes_ += splices_.back().chunk.size;
  }
}

std::vector<shared_chunk> writer::take_chunks() {
  auto owner = std::make_shared<std::vector<uint8_t>>(std::move(buf_));
  const uint8_t* base = owner->data();
  std::vector<shared_chunk> out;
  out.reserve(splices_.size() * 2 + 1);
  size_t pos = 0;
  for (auto& s : splices_) {
    if (s.at > pos) out.push_back(shared_chunk{owner, base + pos, s.at - pos});
    out.push_back(std::move(s.chunk));
    pos = s.at;
  }
  if (owner->size() > pos) out.push_back(shared_chunk{owner, base + pos, owner->size() - pos});
  buf_.clear();
  splices_.clear();
  external_bytes_ = 0;
  return out;
}

std::vector<uint8_t> writer::flatten() const {
  std::vector<uint8_t> out;
  out.reserve(size());
  size_t pos = 0;
  for (const auto& s : splices_) {
    out.insert(out.end(), buf_.begin() + static_cast<ptrdiff_t>(pos), buf_.begin() + static_cast<ptrdiff_t>(s.at));
    out.insert(out.end(), s.chunk.data, s.chunk.data + s.chunk.size);
    pos = s.at;
  }
  out.insert(out.end(), buf_.begin() + static_cast<ptrdiff_t>(pos), buf_.end());
  return out;
}

}  // namespace mk::proto
