// Kafka record compression codecs (the payload framings of WIRE.md §4.1).
//
//   gzip   : a gzip stream (RFC 1952). Decoding also accepts zlib streams and concatenated
//            gzip members.
//   snappy : the xerial snappy-java stream framing Java clients write: magic
//            82 'S' 'N' 'A' 'P' 'P' 'Y' 00, int32 version, int32 compatible version, then
//            repeated [int32 BE compressed length][raw snappy block]. Decoding also accepts a
//            bare raw snappy block (no magic), as librdkafka does, and concatenated xerial streams.
//   lz4    : the LZ4 frame format (independent 64 KiB blocks, no checksums when encoding).
//   zstd   : zstd frames; decoding streams, so frames without a content size work.
//
// Contract: compress()/decompress() APPEND to `out` (existing bytes are kept) and return false on
// failure; after a failure `out` is restored to its old contents. decompress()
// never crashes or reads out of bounds on corrupt input, and fails rather than produce more than
// `max_out` bytes; memory grows with the bytes actually produced, never with a length claimed by
// the input. Thread-safe (no shared mutable state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mk::records {

enum class codec : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

const char* to_string(codec c);

// True for the five codecs above; attribute values 5-7 are not codecs.
constexpr bool is_known_codec(int value) { return value >= 0 && value <= 4; }

constexpr size_t default_max_decompressed = size_t{256} << 20;  // 256 MiB

bool compress(codec c, std::span<const uint8_t> in, std::vector<uint8_t>& out);

bool decompress(codec c, std::span<const uint8_t> in, std::vector<uint8_t>& out,
                size_t max_out = default_max_decompressed);

// LZ4 decoding for magic-0 legacy messages: Kafka before 0.10 wrote a wrong frame header checksum
// (KIP-57: it hashed the magic number too). Decodes a standard frame; if liblz4 refuses it,
// retries with the header-checksum byte recomputed. Same contract as decompress().
bool decompress_lz4_ignoring_header_checksum(std::span<const uint8_t> in, std::vector<uint8_t>& out,
                                             size_t max_out = default_max_decompressed);

}  // namespace mk::records
