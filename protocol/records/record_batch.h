// Record batches, magic 2 (WIRE.md §4.1-4.3): header parsing and validation, the in-place edits a
// broker makes when appending, record decoding, and a builder.
//
// Hot-path functions (parse_batches, complete_batches_prefix, set_*) look only at the 61-byte
// headers and the CRC: no per-record work, no allocation other than growing the caller's output
// vectors by one element per batch, and they never read outside [p, p + n).
// Record decoding and building are for the cold paths (ListOffsets by timestamp, down-conversion,
// compaction, tests): they allocate and touch every record, and are fully bounds-checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/records/compression.h"

namespace mk::records {

// Byte offsets of the v2 header fields from the start of the batch.
namespace batch_field {
constexpr size_t base_offset = 0;
constexpr size_t batch_length = 8;
constexpr size_t partition_leader_epoch = 12;
constexpr size_t magic = 16;
constexpr size_t crc = 17;
constexpr size_t attributes = 21;
constexpr size_t last_offset_delta = 23;
constexpr size_t base_timestamp = 27;
constexpr size_t max_timestamp = 35;
constexpr size_t producer_id = 43;
constexpr size_t producer_epoch = 51;
constexpr size_t base_sequence = 53;
constexpr size_t record_count = 57;
constexpr size_t records = 61;
}  // namespace batch_field

constexpr size_t batch_header_size = 61;  // RECORD_BATCH_OVERHEAD
constexpr size_t log_overhead = 12;       // baseOffset + batchLength: bytes not counted in batchLength
constexpr int32_t min_batch_length = static_cast<int32_t>(batch_header_size - log_overhead);  // 49
constexpr size_t crc_start = batch_field::attributes;  // the CRC covers bytes 21 .. end

// Attribute bits.
constexpr int16_t attr_compression_mask = 0x07;
constexpr int16_t attr_log_append_time = 0x08;
constexpr int16_t attr_transactional = 0x10;
constexpr int16_t attr_control = 0x20;
constexpr int16_t attr_delete_horizon = 0x40;

struct batch_header {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after this field: total size - 12
  int32_t partition_leader_epoch = -1;
  int8_t magic = 2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  // Attribute bits 0-2. Only meaningful for a validated header (codec value 0..4).
  codec compression() const { return static_cast<codec>(attributes & attr_compression_mask); }
  bool timestamp_type_log_append() const { return (attributes & attr_log_append_time) != 0; }
  bool is_transactional() const { return (attributes & attr_transactional) != 0; }
  bool is_control() const { return (attributes & attr_control) != 0; }
  bool has_delete_horizon() const { return (attributes & attr_delete_horizon) != 0; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  int64_t next_offset() const { return last_offset() + 1; }
  // Whole batch size in bytes, including baseOffset and batchLength.
  size_t size_bytes() const { return log_overhead + static_cast<uint32_t>(batch_length); }
};

enum class batch_error {
  none,
  corrupt_message,          // bad CRC, truncated batch, bad length, magic not 0..2
  invalid_record,           // fields inconsistent (record_count < 0, lastOffsetDelta vs count, ...)
  unsupported_magic,        // magic 0 or 1 where 2 is required
  unsupported_compression,  // codec bits 5..7
};

const char* to_string(batch_error e);

// Reads the 61 header bytes at p into a struct. Precondition: p has >= 61 readable bytes. No checks.
batch_header read_batch_header(const uint8_t* p);

// Validates one batch at the front of [p, p + n): length sane and the whole batch present, magic
// 2, CRC-32C over bytes 21..end matches, record_count >= 0, 0 <= lastOffsetDelta,
// record_count <= lastOffsetDelta + 1 (compaction may drop records but never adds offsets), codec
// 0..4, and for uncompressed batches the records area can hold record_count records (>= 7 bytes
// each). Fills *out (if given) on success. O(batch bytes) for the CRC, nothing per record.
batch_error validate_batch(const uint8_t* p, size_t n, batch_header* out = nullptr);

// Splits a buffer holding one or more complete magic-2 batches, validating each with
// validate_batch(). `out` (and `offsets_in_buffer`, the start of each batch in the buffer) are
// cleared, then get one entry per batch. A trailing partial batch is corrupt_message (a produce
// must be whole). An empty buffer yields none with no batches. On error the outputs hold the
// batches before the bad one.
batch_error parse_batches(const uint8_t* p, size_t n, std::vector<batch_header>& out,
                          std::vector<size_t>* offsets_in_buffer = nullptr);

// Extra checks Kafka applies to batches a client produces (LogValidator): at least one record,
// lastOffsetDelta == record_count - 1, and not a control batch. Returns none or invalid_record.
batch_error check_client_batch(const batch_header& h);

// Number of leading bytes of [p, p + n) that are whole batches, judged by the length fields alone
// (no CRC). Stops at the first batch that is partial or whose batchLength is < 49. For fetch
// tails cut at a byte limit.
size_t complete_batches_prefix(const uint8_t* p, size_t n);

// In-place edits on a complete, validated batch (preconditions, not checked).
// baseOffset and partitionLeaderEpoch are outside the CRC: no CRC work.
void set_base_offset(uint8_t* batch, int64_t base);
void set_partition_leader_epoch(uint8_t* batch, int32_t epoch);
// Sets the LogAppendTime attribute bit and maxTimestamp = now_ms, then recomputes the CRC (reads
// batchLength from the batch to find its end). Records then read as timestamp now_ms.
void set_log_append_time(uint8_t* batch, int64_t now_ms);
// Recomputes and stores the CRC of a complete batch after other edits in the CRC range.
void update_crc(uint8_t* batch);

// ------------------------------------------------------------------------------------ records

struct record_view {
  int64_t offset = 0;     // absolute: baseOffset + offsetDelta
  int64_t timestamp = 0;  // baseTimestamp + timestampDelta, or maxTimestamp for LogAppendTime
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

// Decodes every record of the batch at the front of [batch, batch + n) into `out` (cleared
// first), decompressing into `scratch` (overwritten) when the batch is compressed. Views point
// into `batch` or `scratch` and stay valid while both are unchanged. Does not check the CRC
// (validate_batch does); does check everything it reads: header sanity, each record's varints,
// lengths and length prefix, exactly record_count records and no bytes left over. Returns false on
// any malformation. `max_decompressed` bounds the decompressed size.
bool decode_records(const uint8_t* batch, size_t n, std::vector<uint8_t>& scratch,
                    std::vector<record_view>& out,
                    size_t max_decompressed = default_max_decompressed);

// --------------------------------------------------------------------------------- building

struct record_in {
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = -1;
};

using header_view = std::pair<std::string_view, std::optional<std::string_view>>;

// Incremental v2 batch builder over borrowed views (nothing is retained after add() returns).
// Usage: batch_builder b(codec::lz4); b.add(...); ...; std::vector<uint8_t> bytes = b.finish();
// Records get offset deltas 0, 1, 2, ...; baseTimestamp is the first record's timestamp and
// maxTimestamp the largest. With log_append_time the attribute bit is set (maxTimestamp stays the
// largest record timestamp; call set_log_append_time to stamp a time).
class batch_builder {
 public:
  explicit batch_builder(codec c = codec::none, int64_t base_offset = 0, int64_t producer_id = -1,
                         int16_t producer_epoch = -1, int32_t base_sequence = -1,
                         bool log_append_time = false);

  void set_attributes_extra(int16_t bits) { extra_attributes_ = bits; }  // e.g. transactional
  void add(int64_t timestamp, std::optional<std::string_view> key,
           std::optional<std::string_view> value, std::span<const header_view> headers = {});
  size_t record_count() const { return count_; }
  // Produces the batch (correct CRC). Returns an empty vector if compression failed.
  // The builder is empty again afterwards.
  std::vector<uint8_t> finish();

 private:
  codec codec_;
  int64_t base_offset_;
  int64_t producer_id_;
  int16_t producer_epoch_;
  int32_t base_sequence_;
  bool log_append_time_;
  int16_t extra_attributes_ = 0;
  size_t count_ = 0;
  int64_t base_timestamp_ = -1;
  int64_t max_timestamp_ = -1;
  std::vector<uint8_t> records_;  // encoded records, uncompressed
  std::vector<uint8_t> body_;     // one record body, reused
};

// Builds one valid v2 batch holding `records` (see batch_builder). Empty vector on failure.
std::vector<uint8_t> build_batch(std::span<const record_in> records, codec c = codec::none,
                                 int64_t base_offset = 0, int64_t producer_id = -1,
                                 int16_t producer_epoch = -1, int32_t base_sequence = -1,
                                 bool log_append_time = false);

// Control record types (WIRE.md §4.3).
enum class control_type : int16_t { abort = 0, commit = 1 };

// Builds a transaction marker: a transactional control batch with one record whose key is
// (version 0, type) and value (version 0, coordinator_epoch).
std::vector<uint8_t> build_control_batch(control_type type, int64_t producer_id,
                                         int16_t producer_epoch, int32_t coordinator_epoch,
                                         int64_t timestamp, int64_t base_offset = 0);

}  // namespace mk::records
