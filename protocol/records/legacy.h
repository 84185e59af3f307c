// Legacy message sets (magic 0 and 1, WIRE.md §4.4) for old clients: Produce v0-v2 payloads are
// converted up to one v2 batch; Fetch v0-v3 responses are converted down from stored v2 batches.
//
// Layout of one entry: offset INT64, size INT32, then `size` bytes: crc UINT32 (CRC-32 IEEE of
// magic .. end), magic INT8, attributes INT8 (bits 0-2 codec, bit 3 LogAppendTime on magic 1),
// [timestamp INT64, magic 1 only], key BYTES, value BYTES. A compressed wrapper message holds an
// inner message set as its value (magic 1: inner offsets relative, wrapper offset = last inner).
// All functions are cold-path, bounds-checked, and report bad input as values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/records/compression.h"
#include "protocol/records/record_batch.h"

namespace mk::records {

constexpr size_t legacy_log_overhead = 12;     // offset + size
constexpr int32_t legacy_min_size_v0 = 14;     // crc, magic, attributes, key len, value len
constexpr int32_t legacy_min_size_v1 = 22;     // + timestamp
constexpr int8_t legacy_attr_log_append = 0x08;

// One logical message after expanding compressed wrappers.
struct legacy_message {
  int64_t offset = 0;      // absolute (magic-1 inner relative offsets resolved)
  int8_t magic = 0;
  int8_t attributes = 0;   // the message's own attributes (inner message for wrapped ones)
  int64_t timestamp = -1;  // -1 for magic 0; the wrapper's time under LogAppendTime
  bool log_append_time = false;  // effective timestamp type (own bit or wrapper's bit)
  uint32_t crc = 0;              // stored (and verified) CRC of the message itself
  std::optional<std::string_view> key, value;
};

// Decodes a message set into logical messages (appended to `out` after clearing it), verifying
// every CRC, outer and inner. Compressed wrappers (gzip, snappy, lz4; magic-0 lz4 with Kafka's
// pre-KIP-57 header checksum too) are expanded into new buffers appended to `scratch`; views point
// into [p, p + n) or those buffers (moving `scratch` keeps them valid). Errors: corrupt_message
// (bad CRC, bad lengths, truncated entry unless allow_partial_tail, undecodable wrapper payload),
// invalid_record (nested compression, empty or null wrapper, inner magic != wrapper magic),
// unsupported_magic (magic 2 entry), unsupported_compression (zstd or codec 5-7). With
// allow_partial_tail a truncated last top-level entry (as in a Fetch response) is ignored.
batch_error decode_legacy_message_set(const uint8_t* p, size_t n,
                                      std::vector<std::vector<uint8_t>>& scratch,
                                      std::vector<legacy_message>& out,
                                      bool allow_partial_tail = false);

// Converts a whole magic 0/1 message set (a Produce v0-v2 partition payload) into ONE uncompressed
// v2 batch in `out` (replaced): base offset 0, offset deltas 0..n-1, records in order, magic-0
// records with timestamp -1, magic-1 records with theirs; if any message uses LogAppendTime the
// batch gets the LogAppendTime bit. Producer id/epoch/sequence are -1. Empty input or no
// messages => invalid_record; other errors as decode_legacy_message_set.
batch_error convert_legacy_to_v2(const uint8_t* p, size_t n, std::vector<uint8_t>& out);

// Converts zero or more stored v2 batches (a trailing partial batch is dropped) into an
// uncompressed magic `target_magic` (0 or 1) message set in `out` (replaced): one message per
// record with its absolute offset; compressed batches are decompressed; control batches are
// skipped; magic 1 keeps timestamps and the batch's timestamp type, magic 0 has none; record
// headers are dropped. Returns false if target_magic is not 0/1 or a batch cannot be decoded.
bool down_convert(const uint8_t* p, size_t n, int8_t target_magic, std::vector<uint8_t>& out);

// Builds a legacy message set (for tests and tools): uncompressed, one message per record with
// offsets base_offset + i; or, with a codec (gzip, snappy, lz4), one wrapper message (null key,
// offset base_offset + count - 1, magic 1 timestamp = max inner timestamp) around the inner set.
// Returns an empty vector for codec zstd, magic not 0/1, or a compression failure.
std::vector<uint8_t> build_legacy_message_set(std::span<const record_in> records, int8_t magic,
                                              codec c = codec::none, int64_t base_offset = 0,
                                              bool log_append_time = false);

}  // namespace mk::records
