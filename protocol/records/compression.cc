#include "protocol/records/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

#include "protocol/records/byte_io.h"

namespace mk::records {
namespace {

// The part of `out` after its original size, grown on demand up to max_out + 1 bytes (one spare
// byte lets a decoder that fills exactly max_out still report its end of stream). Unless
// commit() is called the destructor restores `out` to its original size.
class out_window {
 public:
  out_window(std::vector<uint8_t>& out, size_t max_out, size_t first_size)
      : out_(out), start_(out.size()), cap_(max_out == SIZE_MAX ? SIZE_MAX : max_out + 1),
        max_(max_out), first_(std::max<size_t>(first_size, 256)) {}
  ~out_window() {
    if (!committed_) out_.resize(start_);
  }
  out_window(const out_window&) = delete;
  out_window& operator=(const out_window&) = delete;

  uint8_t* next() { return out_.data() + start_ + produced_; }
  size_t avail() const { return out_.size() - start_ - produced_; }
  size_t produced() const { return produced_; }
  // Makes avail() > 0; false when the cap is reached.
  bool grow() {
    size_t cur = out_.size() - start_;
    if (cur >= cap_) return false;
    size_t want = cur == 0 ? first_ : (cur > SIZE_MAX / 2 ? SIZE_MAX : cur * 2);
    out_.resize(start_ + std::min(cap_, want));
    return true;
  }
  // Records `n` more bytes written at next(); false when past max_out.
  bool advance(size_t n) {
    produced_ += n;
    return produced_ <= max_;
  }
  void commit() {
    out_.resize(start_ + produced_);
    committed_ = true;
  }

 private:
  std::vector<uint8_t>& out_;
  size_t start_;
  size_t cap_;
  size_t max_;
  size_t first_;
  size_t produced_ = 0;
  bool committed_ = false;
};

size_t first_guess(size_t in_size, size_t max_out) {
  size_t g = in_size > SIZE_MAX / 4 ? SIZE_MAX : in_size * 4;
  return std::min(std::max<size_t>(g, 4096), max_out == SIZE_MAX ? max_out : max_out + 1);
}

// ---------------------------------------------------------------------------------------- gzip

bool gzip_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  if (in.size() > UINT_MAX) return false;
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  size_t start = out.size();
  size_t bound = deflateBound(&zs, static_cast<uLong>(in.size())) + 32;  // + gzip header slack
  out.resize(start + bound);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  const uInt room = static_cast<uInt>(std::min<size_t>(bound, UINT_MAX));
  zs.next_out = out.data() + start;
  zs.avail_out = room;
  int rc = deflate(&zs, Z_FINISH);
  size_t written = room - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    out.resize(start);
    return false;
  }
  out.resize(start + written);
  return true;
}

bool gzip_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_out) {
  if (in.empty() || in.size() > UINT_MAX) return false;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return false;  // 15 + 32: detect gzip or zlib header
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  out_window w(out, max_out, first_guess(in.size(), max_out));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (w.avail() == 0 && !w.grow()) return false;
    uInt room = static_cast<uInt>(std::min<size_t>(w.avail(), UINT_MAX));
    zs.next_out = w.next();
    zs.avail_out = room;
    int rc = inflate(&zs, Z_NO_FLUSH);
    if (!w.advance(room - zs.avail_out)) return false;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member may follow (java.util.zip.GZIPInputStream reads them too).
      if (zs.avail_in < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b) return false;
      if (inflateReset(&zs) != Z_OK) return false;
      continue;
    }
    if (rc == Z_OK) {
      if (zs.avail_in == 0 && zs.avail_out > 0) return false;  // input ended mid-stream
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue;  // needs more room
    return false;  // Z_DATA_ERROR, Z_NEED_DICT, truncated input (Z_BUF_ERROR), ...
  }
  w.commit();
  return true;
}

// -------------------------------------------------------------------------------------- snappy

constexpr uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_size = 16;       // magic + version + compatible version
constexpr size_t xerial_block_size = 32 * 1024;  // snappy-java's default block size

bool snappy_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  out.insert(out.end(), xerial_magic, xerial_magic + 8);
  put_be32(out, 1);  // version
  put_be32(out, 1);  // minimum compatible version
  for (size_t pos = 0; pos < in.size(); pos += xerial_block_size) {
    size_t len = std::min(xerial_block_size, in.size() - pos);
    size_t at = out.size();
    out.resize(at + 4 + snappy::MaxCompressedLength(len));
    size_t clen = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data() + pos), len,
                        reinterpret_cast<char*>(out.data() + at + 4), &clen);
    store_be32(out.data() + at, static_cast<uint32_t>(clen));
    out.resize(at + 4 + clen);
  }
  return true;
}

bool snappy_block(const uint8_t* p, size_t n, std::vector<uint8_t>& out, size_t start,
                  size_t max_out) {
  size_t len = 0;
  const char* src = reinterpret_cast<const char*>(p);
  if (!snappy::GetUncompressedLength(src, n, &len)) return false;
  // A snappy element expands at most 64 bytes per 3 input bytes, so a longer claim is a lie; this
  // keeps a tiny block from making us allocate max_out bytes.
  if (len / 22 > n) return false;
  size_t produced = out.size() - start;
  if (len > max_out - produced) return false;
  out.resize(out.size() + len);
  return snappy::RawUncompress(src, n, reinterpret_cast<char*>(out.data() + out.size() - len));
}

bool snappy_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_out) {
  const size_t start = out.size();
  const uint8_t* p = in.data();
  const size_t n = in.size();
  bool ok = true;
  if (n >= sizeof xerial_magic && std::memcmp(p, xerial_magic, sizeof xerial_magic) == 0) {
    size_t pos = 0;
    while (ok && pos < n) {
      if (n - pos >= sizeof xerial_magic && std::memcmp(p + pos, xerial_magic, 8) == 0) {
        if (n - pos < xerial_header_size) {
          ok = false;
          break;
        }
        pos += xerial_header_size;  // (another) stream header; versions are not checked
        continue;
      }
      if (n - pos < 4) {
        ok = false;
        break;
      }
      uint32_t len = load_be32(p + pos);
      pos += 4;
      if (len > n - pos) {
        ok = false;
        break;
      }
      if (len > 0) ok = snappy_block(p + pos, len, out, start, max_out);
      pos += len;
    }
  } else {
    ok = n > 0 && snappy_block(p, n, out, start, max_out);
  }
  if (!ok) out.resize(start);
  return ok;
}

// ----------------------------------------------------------------------------------------- lz4

bool lz4_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof prefs);
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;  // Java's KafkaLZ4BlockInputStream needs this
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  size_t start = out.size();
  size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
  out.resize(start + bound);
  size_t r = LZ4F_compressFrame(out.data() + start, bound, in.data(), in.size(), &prefs);
  if (LZ4F_isError(r)) {
    out.resize(start);
    return false;
  }
  out.resize(start + r);
  return true;
}

struct lz4_dctx_deleter {
  void operator()(LZ4F_dctx* d) const { LZ4F_freeDecompressionContext(d); }
};

// Decodes one or more concatenated frames. Sets *bad_header_checksum when liblz4 refused the
// frame header checksum.
bool lz4_decompress_frames(const uint8_t* p, size_t n, std::vector<uint8_t>& out, size_t max_out,
                           bool* bad_header_checksum) {
  if (n == 0) return false;
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) return false;
  std::unique_ptr<LZ4F_dctx, lz4_dctx_deleter> dctx(raw);
  out_window w(out, max_out, first_guess(n, max_out));
  size_t pos = 0;
  for (;;) {
    if (w.avail() == 0 && !w.grow()) return false;
    size_t dst_size = w.avail();
    size_t src_size = n - pos;
    size_t r = LZ4F_decompress(dctx.get(), w.next(), &dst_size, p + pos, &src_size, nullptr);
    if (LZ4F_isError(r)) {
      if (bad_header_checksum)
        *bad_header_checksum = std::strcmp(LZ4F_getErrorName(r), "ERROR_headerChecksum_invalid") == 0;
      return false;
    }
    pos += src_size;
    if (!w.advance(dst_size)) return false;
    if (r == 0) {  // a frame ended; another may follow
      if (pos == n) break;
      continue;
    }
    if (pos == n && w.avail() > 0) return false;  // input ended mid-frame
  }
  w.commit();
  return true;
}

// xxHash32 for inputs shorter than 16 bytes (an LZ4 frame descriptor is at most 14 bytes).
uint32_t xxh32_short(const uint8_t* p, size_t n, uint32_t seed) {
  constexpr uint32_t p1 = 2654435761u, p2 = 2246822519u, p3 = 3266489917u, p4 = 668265263u,
                     p5 = 374761393u;
  auto rotl = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  uint32_t h = seed + p5 + static_cast<uint32_t>(n);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t k = uint32_t{p[i]} | (uint32_t{p[i + 1]} << 8) | (uint32_t{p[i + 2]} << 16) |
                 (uint32_t{p[i + 3]} << 24);
    h = rotl(h + k * p3, 17) * p4;
  }
  for (; i < n; ++i) h = rotl(h + p[i] * p5, 11) * p1;
  h ^= h >> 15;
  h *= p2;
  h ^= h >> 13;
  h *= p3;
  h ^= h >> 16;
  return h;
}

// ---------------------------------------------------------------------------------------- zstd

bool zstd_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  size_t start = out.size();
  size_t bound = ZSTD_compressBound(in.size());
  out.resize(start + bound);
  size_t r = ZSTD_compress(out.data() + start, bound, in.data(), in.size(), 3);  // Kafka default
  if (ZSTD_isError(r)) {
    out.resize(start);
    return false;
  }
  out.resize(start + r);
  return true;
}

struct zstd_dctx_deleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

bool zstd_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_out) {
  if (in.empty()) return false;
  thread_local std::unique_ptr<ZSTD_DCtx, zstd_dctx_deleter> dctx(ZSTD_createDCtx());
  if (!dctx) return false;
  ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);
  out_window w(out, max_out, first_guess(in.size(), max_out));
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    if (w.avail() == 0 && !w.grow()) return false;
    ZSTD_outBuffer ob{w.next(), w.avail(), 0};
    size_t r = ZSTD_decompressStream(dctx.get(), &ob, &ib);
    if (ZSTD_isError(r)) return false;
    if (!w.advance(ob.pos)) return false;
    if (r == 0 && ib.pos == ib.size) break;  // last frame complete and flushed
    if (ib.pos == ib.size && ob.pos < ob.size) return false;  // input ended mid-frame
  }
  w.commit();
  return true;
}

bool copy_limited(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_out) {
  if (in.size() > max_out) return false;
  out.insert(out.end(), in.begin(), in.end());
  return true;
}

}  // namespace

const char* to_string(codec c) {
  switch (c) {
    case codec::none: return "none";
    case codec::gzip: return "gzip";
    case codec::snappy: return "snappy";
    case codec::lz4: return "lz4";
    case codec::zstd: return "zstd";
  }
  return "unknown";
}

bool compress(codec c, std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  switch (c) {
    case codec::none: return copy_limited(in, out, SIZE_MAX);
    case codec::gzip: return gzip_compress(in, out);
    case codec::snappy: return snappy_compress(in, out);
    case codec::lz4: return lz4_compress(in, out);
    case codec::zstd: return zstd_compress(in, out);
  }
  return false;
}

bool decompress(codec c, std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_out) {
  switch (c) {
    case codec::none: return copy_limited(in, out, max_out);
    case codec::gzip: return gzip_decompress(in, out, max_out);
    case codec::snappy: return snappy_decompress(in, out, max_out);
    case codec::lz4: return lz4_decompress_frames(in.data(), in.size(), out, max_out, nullptr);
    case codec::zstd: return zstd_decompress(in, out, max_out);
  }
  return false;
}

bool decompress_lz4_ignoring_header_checksum(std::span<const uint8_t> in, std::vector<uint8_t>& out,
                                             size_t max_out) {
  bool bad_header_checksum = false;
  if (lz4_decompress_frames(in.data(), in.size(), out, max_out, &bad_header_checksum)) return true;
  if (!bad_header_checksum) return false;
  // Frame: magic (4) FLG (1) BD (1) [content size (8)] [dictionary id (4)] HC (1).
  if (in.size() < 7) return false;
  uint8_t flg = in[4];
  size_t hc_at = 6 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
  if (in.size() <= hc_at) return false;
  std::vector<uint8_t> fixed(in.begin(), in.end());
  fixed[hc_at] = static_cast<uint8_t>(xxh32_short(fixed.data() + 4, hc_at - 4, 0) >> 8);
  return lz4_decompress_frames(fixed.data(), fixed.size(), out, max_out, nullptr);
}

}  // namespace mk::records
