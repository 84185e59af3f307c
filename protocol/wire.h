// Kafka wire primitives: bounds-checked reader, chunked writer, and the value types the generated
// message codecs use (uuid, records, unknown tagged fields).
//
// Facts: ../shared/kafka-protocol/WIRE.md §2. Everything is big-endian; varints are base-128 with
// zig-zag for the signed forms; compact lengths are N+1 with 0 meaning null.
//
// The reader never reads past its end and never allocates from an untrusted length before checking
// that the bytes are present: on the first failure it records an error and every later read
// returns a zero value, so decoders can run straight through and check `ok()` once at the end.
//
// The writer appends to one contiguous buffer and, for record data, can splice in external chunks
// (`shared_chunk`) without copying them; `take_chunks()` then yields the pieces for a gathered
// socket write.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "minikafka_common/shared_chunk.h"

namespace mk::proto {

// 128-bit UUID (topic ids). All zero means "no id".
struct uuid {
  std::array<uint8_t, 16> bytes{};
  bool is_zero() const {
    for (auto b : bytes)
      if (b) return false;
    return true;
  }
  bool operator==(const uuid&) const = default;
  auto operator<=>(const uuid&) const = default;
  std::string to_hex() const;     // 32 lowercase hex digits
  std::string to_base64() const;  // Kafka's textual form (URL-safe base64, no padding)
  static uuid random();           // random v4-style id, never zero
  static std::optional<uuid> from_base64(std::string_view s);
};

// Record data (Produce/Fetch "records" fields): a possibly-null sequence of byte chunks.
// Decoding yields a single chunk pointing into the request frame; encoding writes the chunks
// without copying them.
struct records {
  bool is_null = true;
  std::vector<shared_chunk> chunks;

  size_t size() const {
    size_t n = 0;
    for (const auto& c : chunks) n += c.size;
    return n;
  }
  bool empty() const { return size() == 0; }
  static records empty_set() { return records{false, {}}; }
  // Contiguous copy of all chunks (tests, slow paths).
  std::vector<uint8_t> flatten() const;
  bool operator==(const records& o) const { return is_null == o.is_null && flatten() == o.flatten(); }
};

// Tagged fields a decoder did not know; kept so they survive a decode/encode round trip.
struct unknown_tag {
  uint32_t tag = 0;
  std::string data;
  bool operator==(const unknown_tag&) const = default;
};
using unknown_tags = std::vector<unknown_tag>;

class reader {
 public:
  reader() = default;
  reader(const uint8_t* p, size_t n, std::shared_ptr<const void> owner = {})
      : p_(p), end_(p + n), owner_(std::move(owner)) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* pos() const { return p_; }
  void fail() {
    ok_ = false;
    p_ = end_;
  }
  // True when `n` more bytes are available; fails the reader otherwise.
  bool need(size_t n) {
    if (!ok_ || remaining() < n) {
      fail();
      return false;
    }
    return true;
  }
  void skip(size_t n) {
    if (need(n)) p_ += n;
  }
  // A reader over the next n bytes (sharing the owner); this reader skips them.
  reader sub(size_t n) {
    if (!need(n)) return reader{};
    reader r(p_, n, owner_);
    p_ += n;
    return r;
  }

  bool boolean() { return u8() != 0; }
  int8_t i8() { return static_cast<int8_t>(u8()); }
  uint8_t u8() {
    if (!need(1)) return 0;
    return *p_++;
  }
  int16_t i16() { return static_cast<int16_t>(be<uint16_t>()); }
  uint16_t u16() { return be<uint16_t>(); }
  int32_t i32() { return static_cast<int32_t>(be<uint32_t>()); }
  uint32_t u32() { return be<uint32_t>(); }
  int64_t i64() { return static_cast<int64_t>(be<uint64_t>()); }
  double f64() {
    uint64_t u = be<uint64_t>();
    double d;
    std::memcpy(&d, &u, sizeof d);
    return d;
  }
  uuid read_uuid() {
    uuid u;
    if (need(16)) {
      std::memcpy(u.bytes.data(), p_, 16);
      p_ += 16;
    }
    return u;
  }
  uint32_t uvarint();
  int32_t varint() {
    uint32_t u = uvarint();
    return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  uint64_t uvarlong();
  int64_t varlong() {
    uint64_t u = uvarlong();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }

  // Length prefixes. Return -1 for null. Lengths are checked against the bytes present
  // (each array element takes at least `min_elem` bytes), so callers may reserve() safely.
  int64_t string_len(bool flexible);
  int64_t bytes_len(bool flexible);
  int64_t array_len(bool flexible, size_t min_elem = 1);

  std::string string(bool flexible) {
    auto n = string_len(flexible);
    if (n < 0) {
      if (ok_) fail();  // null where not allowed
      return {};
    }
    return take_string(static_cast<size_t>(n));
  }
  std::optional<std::string> nullable_string(bool flexible) {
    auto n = string_len(flexible);
    if (n < 0) return std::nullopt;
    return take_string(static_cast<size_t>(n));
  }
  std::string bytes(bool flexible) {
    auto n = bytes_len(flexible);
    if (n < 0) {
      if (ok_) fail();
      return {};
    }
    return take_string(static_cast<size_t>(n));
  }
  std::optional<std::string> nullable_bytes(bool flexible) {
    auto n = bytes_len(flexible);
    if (n < 0) return std::nullopt;
    return take_string(static_cast<size_t>(n));
  }
  // Record data: a view into the frame (no copy), kept alive by the reader's owner.
  records read_records(bool flexible);

  // Reads a tagged-field section, calling `on_tag(tag, sub_reader)` for each entry; entries the
  // callback does not consume (returns false) are kept in `unknown`.
  template <typename F>
  void tagged_fields(unknown_tags& unknown, F&& on_tag) {
    uint32_t n = uvarint();
    if (n > remaining()) {
      fail();
      return;
    }
    for (uint32_t i = 0; i < n && ok_; ++i) {
      uint32_t tag = uvarint();
      uint32_t size = uvarint();
      if (!need(size)) return;
      reader r(p_, size, owner_);
      if (!on_tag(tag, r)) unknown.push_back(unknown_tag{tag, std::string(reinterpret_cast<const char*>(p_), size)});
      else if (!r.ok()) {
        fail();
        return;
      }
      p_ += size;
    }
  }

 private:
  template <typename T>
  T be() {
    if (!need(sizeof(T))) return 0;
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | p_[i]);
    p_ += sizeof(T);
    return v;
  }
  std::string take_string(size_t n) {
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  std::shared_ptr<const void> owner_;
  bool ok_ = true;
};

class writer {
 public:
  writer() { buf_.reserve(256); }

  // Total bytes written including external chunks.
  size_t size() const { return buf_.size() + external_bytes_; }

  void boolean(bool v) { u8(v ? 1 : 0); }
  void i8(int8_t v) { u8(static_cast<uint8_t>(v)); }
  void u8(uint8_t v) { buf_.push_back(v); }
  void i16(int16_t v) { be(static_cast<uint16_t>(v)); }
  void u16(uint16_t v) { be(v); }
  void i32(int32_t v) { be(static_cast<uint32_t>(v)); }
  void u32(uint32_t v) { be(v); }
  void i64(int64_t v) { be(static_cast<uint64_t>(v)); }
  void f64(double d) {
    uint64_t u;
    std::memcpy(&u, &d, sizeof u);
    be(u);
  }
  void write_uuid(const uuid& u) { raw(u.bytes.data(), 16); }
  void uvarint(uint32_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<uint8_t>(v));
  }
  void varint(int32_t v) { uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)); }
  void uvarlong(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<uint8_t>(v));
  }
  void varlong(int64_t v) { uvarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void raw(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }

  void string(std::string_view s, bool flexible) {
    if (flexible) uvarint(static_cast<uint32_t>(s.size() + 1));
    else i16(static_cast<int16_t>(s.size()));
    raw(s.data(), s.size());
  }
  void nullable_string(const std::optional<std::string>& s, bool flexible) {
    if (!s) {
      if (flexible) uvarint(0);
      else i16(-1);
      return;
    }
    string(*s, flexible);
  }
  void bytes(std::string_view s, bool flexible) {
    if (flexible) uvarint(static_cast<uint32_t>(s.size() + 1));
    else i32(static_cast<int32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void nullable_bytes(const std::optional<std::string>& s, bool flexible) {
    if (!s) {
      if (flexible) uvarint(0);
      else i32(-1);
      return;
    }
    bytes(*s, flexible);
  }
  void array_len(int64_t n, bool flexible) {  // n = -1 for null
    if (flexible) uvarint(static_cast<uint32_t>(n + 1));
    else i32(static_cast<int32_t>(n));
  }
  // Writes record data: length prefix, then the chunks spliced in by reference (no copy).
  void write_records(const records& r, bool flexible);
  // Splices an external chunk at the current position.
  void chunk(const shared_chunk& c);

  // Writes a tagged field: tag, size, then what `body` writes (flexible encoding).
  template <typename F>
  void tagged_field(uint32_t tag, F&& body) {
    writer w;
    body(w);
    uvarint(tag);
    uvarint(static_cast<uint32_t>(w.size()));
    append(std::move(w));
  }
  void append(writer&& w);

  // Overwrites 4 bytes at `pos` (within the contiguous part written so far) with a big-endian int.
  void patch_i32(size_t pos, int32_t v) {
    auto u = static_cast<uint32_t>(v);
    buf_[pos] = static_cast<uint8_t>(u >> 24);
    buf_[pos + 1] = static_cast<uint8_t>(u >> 16);
    buf_[pos + 2] = static_cast<uint8_t>(u >> 8);
    buf_[pos + 3] = static_cast<uint8_t>(u);
  }
  size_t contiguous_size() const { return buf_.size(); }

  // The written bytes as an ordered list of chunks (the contiguous buffer is moved into a shared
  // owner). The writer is empty afterwards.
  std::vector<shared_chunk> take_chunks();
  // All bytes in one vector (copies external chunks; for tests and small messages).
  std::vector<uint8_t> flatten() const;

 private:
  template <typename T>
  void be(T v) {
    for (int i = sizeof(T) - 1; i >= 0; --i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  struct splice {
    size_t at;  // position in buf_ where the chunk goes
    shared_chunk chunk;
  };
  std::vector<uint8_t> buf_;
  std::vector<splice> splices_;
  size_t external_bytes_ = 0;
};

}  // namespace mk::proto
