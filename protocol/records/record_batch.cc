#include "protocol/records/record_batch.h"

#include <algorithm>

#include "protocol/records/byte_io.h"
#include "protocol/records/crc32c.h"

namespace mk::records {
namespace {

constexpr int64_t min_record_size = 7;  // length, attributes, 3 varints, 2 lengths: 1 byte each

// Wrapping add: offsets/timestamps from hostile input must not be signed-overflow UB.
inline int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t wrap_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// Reads a VARINT length for key/value (-1 = null) and the bytes after it, within [p, end).
bool get_nullable_bytes(const uint8_t*& p, const uint8_t* end,
                        std::optional<std::string_view>& out) {
  int32_t len;
  if (!get_varint(p, end, len)) return false;
  if (len == -1) {
    out.reset();
    return true;
  }
  if (len < 0 || len > end - p) return false;
  out.emplace(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
  p += len;
  return true;
}

bool decode_one(const uint8_t*& p, const uint8_t* end, const batch_header& h, record_view& r) {
  int32_t len;
  if (!get_varint(p, end, len)) return false;
  if (len < min_record_size - 1 || len > end - p) return false;
  const uint8_t* rec_end = p + len;
  ++p;  // attributes: unused
  int64_t ts_delta;
  int32_t offset_delta;
  if (!get_varlong(p, rec_end, ts_delta) || !get_varint(p, rec_end, offset_delta)) return false;
  r.offset = wrap_add(h.base_offset, offset_delta);
  r.timestamp = h.timestamp_type_log_append() ? h.max_timestamp : wrap_add(h.base_timestamp, ts_delta);
  if (!get_nullable_bytes(p, rec_end, r.key) || !get_nullable_bytes(p, rec_end, r.value))
    return false;
  int32_t header_count;
  if (!get_varint(p, rec_end, header_count)) return false;
  // Each header takes at least 2 bytes; checking first keeps the reserve honest.
  if (header_count < 0 || header_count > (rec_end - p) / 2) return false;
  r.headers.clear();
  r.headers.reserve(static_cast<size_t>(header_count));
  for (int32_t i = 0; i < header_count; ++i) {
    std::optional<std::string_view> k, v;
    if (!get_nullable_bytes(p, rec_end, k) || !k) return false;  // header keys are never null
    if (!get_nullable_bytes(p, rec_end, v)) return false;
    r.headers.emplace_back(*k, v);
  }
  return p == rec_end;  // the length prefix must match the fields exactly
}

}  // namespace

const char* to_string(batch_error e) {
  switch (e) {
    case batch_error::none: return "none";
    case batch_error::corrupt_message: return "corrupt_message";
    case batch_error::invalid_record: return "invalid_record";
    case batch_error::unsupported_magic: return "unsupported_magic";
    case batch_error::unsupported_compression: return "unsupported_compression";
  }
  return "unknown";
}

batch_header read_batch_header(const uint8_t* p) {
  batch_header h;
  h.base_offset = load_i64(p + batch_field::base_offset);
  h.batch_length = load_i32(p + batch_field::batch_length);
  h.partition_leader_epoch = load_i32(p + batch_field::partition_leader_epoch);
  h.magic = static_cast<int8_t>(p[batch_field::magic]);
  h.crc = load_be32(p + batch_field::crc);
  h.attributes = load_i16(p + batch_field::attributes);
  h.last_offset_delta = load_i32(p + batch_field::last_offset_delta);
  h.base_timestamp = load_i64(p + batch_field::base_timestamp);
  h.max_timestamp = load_i64(p + batch_field::max_timestamp);
  h.producer_id = load_i64(p + batch_field::producer_id);
  h.producer_epoch = load_i16(p + batch_field::producer_epoch);
  h.base_sequence = load_i32(p + batch_field::base_sequence);
  h.record_count = load_i32(p + batch_field::record_count);
  return h;
}

batch_error validate_batch(const uint8_t* p, size_t n, batch_header* out) {
  if (n < log_overhead) return batch_error::corrupt_message;
  int32_t len = load_i32(p + batch_field::batch_length);
  // The magic byte means the same in every format; judge it first when it is part of the entry,
  // so a legacy message set reads as unsupported rather than corrupt.
  if (len > static_cast<int32_t>(batch_field::magic - log_overhead) && n > batch_field::magic) {
    int8_t magic = static_cast<int8_t>(p[batch_field::magic]);
    if (magic == 0 || magic == 1) return batch_error::unsupported_magic;
    if (magic != 2) return batch_error::corrupt_message;
  }
  if (len < min_batch_length) return batch_error::corrupt_message;
  if (static_cast<size_t>(len) > n - log_overhead) return batch_error::corrupt_message;
  const size_t size = log_overhead + static_cast<size_t>(len);
  uint32_t stored_crc = load_be32(p + batch_field::crc);
  if (crc32c(p + crc_start, size - crc_start) != stored_crc) return batch_error::corrupt_message;

  batch_header h = read_batch_header(p);
  if (!is_known_codec(h.attributes & attr_compression_mask))
    return batch_error::unsupported_compression;
  if (h.record_count < 0 || h.last_offset_delta < 0) return batch_error::invalid_record;
  if (int64_t{h.record_count} > int64_t{h.last_offset_delta} + 1) return batch_error::invalid_record;
  if (h.compression() == codec::none &&
      int64_t{h.record_count} * min_record_size > int64_t{len} - min_batch_length)
    return batch_error::invalid_record;
  if (out) *out = h;
  return batch_error::none;
}

batch_error parse_batches(const uint8_t* p, size_t n, std::vector<batch_header>& out,
                          std::vector<size_t>* offsets_in_buffer) {
  out.clear();
  if (offsets_in_buffer) offsets_in_buffer->clear();
  size_t pos = 0;
  while (pos < n) {
    batch_header h;
    batch_error e = validate_batch(p + pos, n - pos, &h);
    if (e != batch_error::none) return e;
    out.push_back(h);
    if (offsets_in_buffer) offsets_in_buffer->push_back(pos);
    pos += h.size_bytes();
  }
  return batch_error::none;
}

batch_error check_client_batch(const batch_header& h) {
  if (h.record_count <= 0) return batch_error::invalid_record;
  if (int64_t{h.last_offset_delta} != int64_t{h.record_count} - 1)
    return batch_error::invalid_record;
  if (h.is_control()) return batch_error::invalid_record;
  return batch_error::none;
}

size_t complete_batches_prefix(const uint8_t* p, size_t n) {
  size_t pos = 0;
  while (n - pos >= log_overhead) {
    int32_t len = load_i32(p + pos + batch_field::batch_length);
    if (len < min_batch_length || static_cast<size_t>(len) > n - pos - log_overhead) break;
    pos += log_overhead + static_cast<size_t>(len);
  }
  return pos;
}

void set_base_offset(uint8_t* batch, int64_t base) {
  store_be64(batch + batch_field::base_offset, static_cast<uint64_t>(base));
}

void set_partition_leader_epoch(uint8_t* batch, int32_t epoch) {
  store_be32(batch + batch_field::partition_leader_epoch, static_cast<uint32_t>(epoch));
}

void update_crc(uint8_t* batch) {
  size_t size = log_overhead + static_cast<uint32_t>(load_i32(batch + batch_field::batch_length));
  store_be32(batch + batch_field::crc, crc32c(batch + crc_start, size - crc_start));
}

void set_log_append_time(uint8_t* batch, int64_t now_ms) {
  uint16_t attrs = load_be16(batch + batch_field::attributes);
  store_be16(batch + batch_field::attributes, static_cast<uint16_t>(attrs | attr_log_append_time));
  store_be64(batch + batch_field::max_timestamp, static_cast<uint64_t>(now_ms));
  update_crc(batch);
}

bool decode_records(const uint8_t* batch, size_t n, std::vector<uint8_t>& scratch,
                    std::vector<record_view>& out, size_t max_decompressed) {
  out.clear();
  if (n < batch_header_size) return false;
  batch_header h = read_batch_header(batch);
  if (h.magic != 2 || h.batch_length < min_batch_length ||
      static_cast<size_t>(h.batch_length) > n - log_overhead || h.record_count < 0 ||
      !is_known_codec(h.attributes & attr_compression_mask))
    return false;
  const uint8_t* p = batch + batch_header_size;
  const uint8_t* end = batch + h.size_bytes();
  if (h.compression() != codec::none) {
    scratch.clear();
    if (!decompress(h.compression(), std::span<const uint8_t>(p, end), scratch, max_decompressed))
      return false;
    p = scratch.data();
    end = p + scratch.size();
  }
  if (int64_t{h.record_count} > (end - p) / min_record_size) return false;
  // Grow with the records actually decoded, not with the claimed count.
  out.reserve(std::min<size_t>(static_cast<size_t>(h.record_count), 4096));
  for (int32_t i = 0; i < h.record_count; ++i) {
    if (!decode_one(p, end, h, out.emplace_back())) {
      out.clear();
      return false;
    }
  }
  if (p != end) {  // bytes after the last record
    out.clear();
    return false;
  }
  return true;
}

// ------------------------------------------------------------------------------------ builder

batch_builder::batch_builder(codec c, int64_t base_offset, int64_t producer_id,
                             int16_t producer_epoch, int32_t base_sequence, bool log_append_time)
    : codec_(c), base_offset_(base_offset), producer_id_(producer_id),
      producer_epoch_(producer_epoch), base_sequence_(base_sequence),
      log_append_time_(log_append_time) {}

void batch_builder::add(int64_t timestamp, std::optional<std::string_view> key,
                        std::optional<std::string_view> value,
                        std::span<const header_view> headers) {
  if (count_ == 0) {
    base_timestamp_ = timestamp;
    max_timestamp_ = timestamp;
  }
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  auto put_nullable = [this](const std::optional<std::string_view>& s) {
    if (!s) {
      put_varint(body_, -1);
    } else {
      put_varint(body_, static_cast<int32_t>(s->size()));
      put_bytes(body_, *s);
    }
  };
  body_.clear();
  body_.push_back(0);  // attributes
  put_varlong(body_, wrap_sub(timestamp, base_timestamp_));
  put_varint(body_, static_cast<int32_t>(count_));
  put_nullable(key);
  put_nullable(value);
  put_varint(body_, static_cast<int32_t>(headers.size()));
  for (const auto& [hk, hv] : headers) {
    put_nullable(hk);
    put_nullable(hv);
  }
  put_varint(records_, static_cast<int32_t>(body_.size()));
  records_.insert(records_.end(), body_.begin(), body_.end());
  ++count_;
}

std::vector<uint8_t> batch_builder::finish() {
  std::vector<uint8_t> out;
  out.reserve(batch_header_size + records_.size() + 64);
  out.resize(batch_header_size);
  bool ok = compress(codec_, records_, out);
  if (ok && out.size() - log_overhead > static_cast<size_t>(INT32_MAX)) ok = false;
  if (ok) {
    uint8_t* b = out.data();
    int16_t attrs = static_cast<int16_t>(static_cast<int16_t>(codec_) | extra_attributes_ |
                                         (log_append_time_ ? attr_log_append_time : 0));
    store_be64(b + batch_field::base_offset, static_cast<uint64_t>(base_offset_));
    store_be32(b + batch_field::batch_length, static_cast<uint32_t>(out.size() - log_overhead));
    store_be32(b + batch_field::partition_leader_epoch, static_cast<uint32_t>(-1));
    b[batch_field::magic] = 2;
    store_be16(b + batch_field::attributes, static_cast<uint16_t>(attrs));
    store_be32(b + batch_field::last_offset_delta,
               static_cast<uint32_t>(count_ == 0 ? 0 : count_ - 1));
    store_be64(b + batch_field::base_timestamp, static_cast<uint64_t>(base_timestamp_));
    store_be64(b + batch_field::max_timestamp, static_cast<uint64_t>(max_timestamp_));
    store_be64(b + batch_field::producer_id, static_cast<uint64_t>(producer_id_));
    store_be16(b + batch_field::producer_epoch, static_cast<uint16_t>(producer_epoch_));
    store_be32(b + batch_field::base_sequence, static_cast<uint32_t>(base_sequence_));
    store_be32(b + batch_field::record_count, static_cast<uint32_t>(count_));
    update_crc(b);
  } else {
    out.clear();
  }
  records_.clear();
  count_ = 0;
  base_timestamp_ = max_timestamp_ = -1;
  return out;
}

std::vector<uint8_t> build_batch(std::span<const record_in> records, codec c, int64_t base_offset,
                                 int64_t producer_id, int16_t producer_epoch,
                                 int32_t base_sequence, bool log_append_time) {
  batch_builder b(c, base_offset, producer_id, producer_epoch, base_sequence, log_append_time);
  std::vector<header_view> hv;
  for (const record_in& r : records) {
    hv.clear();
    for (const auto& [k, v] : r.headers) {
      hv.emplace_back(k, v ? std::optional<std::string_view>(*v) : std::nullopt);
    }
    b.add(r.timestamp, r.key ? std::optional<std::string_view>(*r.key) : std::nullopt,
          r.value ? std::optional<std::string_view>(*r.value) : std::nullopt, hv);
  }
  return b.finish();
}

std::vector<uint8_t> build_control_batch(control_type type, int64_t producer_id,
                                         int16_t producer_epoch, int32_t coordinator_epoch,
                                         int64_t timestamp, int64_t base_offset) {
  uint8_t key[4], value[6];
  store_be16(key, 0);
  store_be16(key + 2, static_cast<uint16_t>(type));
  store_be16(value, 0);
  store_be32(value + 2, static_cast<uint32_t>(coordinator_epoch));
  batch_builder b(codec::none, base_offset, producer_id, producer_epoch, -1, false);
  b.set_attributes_extra(attr_control | attr_transactional);
  b.add(timestamp, std::string_view(reinterpret_cast<const char*>(key), 4),
        std::string_view(reinterpret_cast<const char*>(value), 6));
  return b.finish();
}

}  // namespace mk::records
