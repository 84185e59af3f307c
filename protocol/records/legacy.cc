#include "protocol/records/legacy.h"

#include <algorithm>
#include <climits>

#include "protocol/records/byte_io.h"
#include "protocol/records/crc32c.h"

namespace mk::records {
namespace {

// One entry as stored, before wrapper expansion.
struct raw_message {
  int64_t offset = 0;
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = -1;
  uint32_t crc = 0;
  std::optional<std::string_view> key, value;
  size_t entry_size = 0;  // offset + size fields + message
};

enum class entry_status { ok, partial, error };

bool get_bytes32(const uint8_t*& q, const uint8_t* end, std::optional<std::string_view>& out) {
  if (end - q < 4) return false;
  int32_t len = load_i32(q);
  q += 4;
  if (len == -1) {
    out.reset();
    return true;
  }
  if (len < 0 || len > end - q) return false;
  out.emplace(reinterpret_cast<const char*>(q), static_cast<size_t>(len));
  q += len;
  return true;
}

// Parses the entry at the front of [p, p + n). `partial` means the bytes end inside the entry.
entry_status parse_entry(const uint8_t* p, size_t n, raw_message& m, batch_error& err) {
  err = batch_error::corrupt_message;
  if (n < legacy_log_overhead) return entry_status::partial;
  m.offset = load_i64(p);
  int32_t size = load_i32(p + 8);
  if (size < legacy_min_size_v0) return entry_status::error;
  if (static_cast<size_t>(size) > n - legacy_log_overhead) return entry_status::partial;
  const uint8_t* msg = p + legacy_log_overhead;
  const uint8_t* end = msg + size;
  m.magic = static_cast<int8_t>(msg[4]);
  if (m.magic == 2) {
    err = batch_error::unsupported_magic;
    return entry_status::error;
  }
  if (m.magic != 0 && m.magic != 1) return entry_status::error;
  if (m.magic == 1 && size < legacy_min_size_v1) return entry_status::error;
  m.crc = load_be32(msg);
  if (crc32_ieee(msg + 4, static_cast<size_t>(size) - 4) != m.crc) return entry_status::error;
  m.attributes = static_cast<int8_t>(msg[5]);
  const uint8_t* q = msg + 6;
  m.timestamp = -1;
  if (m.magic == 1) {
    m.timestamp = load_i64(q);
    q += 8;
  }
  if (!get_bytes32(q, end, m.key) || !get_bytes32(q, end, m.value) || q != end)
    return entry_status::error;
  m.entry_size = legacy_log_overhead + static_cast<size_t>(size);
  err = batch_error::none;
  return entry_status::ok;
}

int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

legacy_message to_logical(const raw_message& m) {
  legacy_message l;
  l.offset = m.offset;
  l.magic = m.magic;
  l.attributes = m.attributes;
  l.timestamp = m.timestamp;
  l.log_append_time = m.magic == 1 && (m.attributes & legacy_attr_log_append) != 0;
  l.crc = m.crc;
  l.key = m.key;
  l.value = m.value;
  return l;
}

batch_error expand_wrapper(const raw_message& w, std::vector<std::vector<uint8_t>>& scratch,
                           std::vector<legacy_message>& out) {
  const int codec_bits = w.attributes & 0x07;
  if (codec_bits != static_cast<int>(codec::gzip) && codec_bits != static_cast<int>(codec::snappy) &&
      codec_bits != static_cast<int>(codec::lz4))
    return batch_error::unsupported_compression;
  if (!w.value) return batch_error::invalid_record;
  const codec c = static_cast<codec>(codec_bits);
  std::span<const uint8_t> payload(reinterpret_cast<const uint8_t*>(w.value->data()),
                                   w.value->size());
  scratch.emplace_back();
  std::vector<uint8_t>& buf = scratch.back();
  bool ok = (c == codec::lz4 && w.magic == 0) ? decompress_lz4_ignoring_header_checksum(payload, buf)
                                              : decompress(c, payload, buf);
  if (!ok) return batch_error::corrupt_message;

  const size_t first = out.size();
  const uint8_t* p = buf.data();
  const size_t n = buf.size();
  size_t pos = 0;
  while (pos < n) {
    raw_message m;
    batch_error err;
    if (parse_entry(p + pos, n - pos, m, err) != entry_status::ok) {
      return err;
    }
    if ((m.attributes & 0x07) != 0) return batch_error::invalid_record;  // nested compression
    if (m.magic != w.magic) return batch_error::invalid_record;
    out.push_back(to_logical(m));
    pos += m.entry_size;
  }
  if (out.size() == first) return batch_error::invalid_record;  // wrapper with no messages

  const bool wrapper_log_append = w.magic == 1 && (w.attributes & legacy_attr_log_append) != 0;
  if (w.magic == 1) {
    // Inner offsets are relative; the wrapper carries the absolute offset of the last one.
    const int64_t base = static_cast<int64_t>(static_cast<uint64_t>(w.offset) -
                                              static_cast<uint64_t>(out.back().offset));
    for (size_t i = first; i < out.size(); ++i) {
      out[i].offset = wrap_add(base, out[i].offset);
      if (wrapper_log_append) {
        out[i].timestamp = w.timestamp;
        out[i].log_append_time = true;
      }
    }
  }
  return batch_error::none;
}

void append_legacy_message(std::vector<uint8_t>& out, int64_t offset, int8_t magic,
                           int8_t attributes, int64_t timestamp,
                           std::optional<std::string_view> key,
                           std::optional<std::string_view> value) {
  size_t size = (magic == 1 ? legacy_min_size_v1 : legacy_min_size_v0) + (key ? key->size() : 0) +
                (value ? value->size() : 0);
  put_be64(out, static_cast<uint64_t>(offset));
  put_be32(out, static_cast<uint32_t>(size));
  const size_t crc_at = out.size();
  put_be32(out, 0);
  out.push_back(static_cast<uint8_t>(magic));
  out.push_back(static_cast<uint8_t>(attributes));
  if (magic == 1) put_be64(out, static_cast<uint64_t>(timestamp));
  for (const auto& s : {key, value}) {
    if (!s) {
      put_be32(out, static_cast<uint32_t>(-1));
    } else {
      put_be32(out, static_cast<uint32_t>(s->size()));
      put_bytes(out, *s);
    }
  }
  store_be32(out.data() + crc_at, crc32_ieee(out.data() + crc_at + 4, size - 4));
}

}  // namespace

batch_error decode_legacy_message_set(const uint8_t* p, size_t n,
                                      std::vector<std::vector<uint8_t>>& scratch,
                                      std::vector<legacy_message>& out, bool allow_partial_tail) {
  out.clear();
  size_t pos = 0;
  while (pos < n) {
    raw_message m;
    batch_error err;
    entry_status st = parse_entry(p + pos, n - pos, m, err);
    if (st == entry_status::partial && allow_partial_tail) break;
    if (st != entry_status::ok) return err;
    if ((m.attributes & 0x07) == 0) {
      out.push_back(to_logical(m));
    } else {
      batch_error e = expand_wrapper(m, scratch, out);
      if (e != batch_error::none) return e;
    }
    pos += m.entry_size;
  }
  return batch_error::none;
}

batch_error convert_legacy_to_v2(const uint8_t* p, size_t n, std::vector<uint8_t>& out) {
  out.clear();
  if (n == 0) return batch_error::invalid_record;
  std::vector<std::vector<uint8_t>> scratch;
  std::vector<legacy_message> msgs;
  batch_error e = decode_legacy_message_set(p, n, scratch, msgs);
  if (e != batch_error::none) return e;
  if (msgs.empty()) return batch_error::invalid_record;
  const bool log_append =
      std::any_of(msgs.begin(), msgs.end(), [](const legacy_message& m) { return m.log_append_time; });
  batch_builder b(codec::none, 0, -1, -1, -1, log_append);
  for (const legacy_message& m : msgs) b.add(m.magic == 0 ? -1 : m.timestamp, m.key, m.value);
  out = b.finish();
  return out.empty() ? batch_error::invalid_record : batch_error::none;
}

bool down_convert(const uint8_t* p, size_t n, int8_t target_magic, std::vector<uint8_t>& out) {
  out.clear();
  if (target_magic != 0 && target_magic != 1) return false;
  const size_t whole = complete_batches_prefix(p, n);
  std::vector<uint8_t> scratch;
  std::vector<record_view> records;
  size_t pos = 0;
  while (pos < whole) {
    // complete_batches_prefix guarantees batchLength >= 49, so the 61-byte header is present.
    batch_header h = read_batch_header(p + pos);
    if (h.magic != 2) return false;
    if (!h.is_control()) {
      if (!decode_records(p + pos, h.size_bytes(), scratch, records)) return false;
      const int8_t attrs =
          (target_magic == 1 && h.timestamp_type_log_append()) ? legacy_attr_log_append : 0;
      for (const record_view& r : records) {
        size_t payload = (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
        if (payload > static_cast<size_t>(INT32_MAX) - legacy_min_size_v1) return false;
        append_legacy_message(out, r.offset, target_magic, attrs, r.timestamp, r.key, r.value);
      }
    }
    pos += h.size_bytes();
  }
  return true;
}

std::vector<uint8_t> build_legacy_message_set(std::span<const record_in> records, int8_t magic,
                                              codec c, int64_t base_offset, bool log_append_time) {
  std::vector<uint8_t> out;
  if ((magic != 0 && magic != 1) || c == codec::zstd) return out;
  auto view = [](const std::optional<std::string>& s) {
    return s ? std::optional<std::string_view>(*s) : std::nullopt;
  };
  const int8_t ts_attr = (magic == 1 && log_append_time) ? legacy_attr_log_append : 0;
  if (c == codec::none) {
    for (size_t i = 0; i < records.size(); ++i) {
      append_legacy_message(out, base_offset + static_cast<int64_t>(i), magic, ts_attr,
                            records[i].timestamp, view(records[i].key), view(records[i].value));
    }
    return out;
  }
  std::vector<uint8_t> inner;
  int64_t max_ts = -1;
  for (size_t i = 0; i < records.size(); ++i) {
    int64_t off = magic == 1 ? static_cast<int64_t>(i) : base_offset + static_cast<int64_t>(i);
    append_legacy_message(inner, off, magic, 0, records[i].timestamp, view(records[i].key),
                          view(records[i].value));
    max_ts = std::max(max_ts, records[i].timestamp);
  }
  std::vector<uint8_t> compressed;
  if (!compress(c, inner, compressed)) return out;
  const int64_t last = base_offset + static_cast<int64_t>(records.size()) - 1;
  append_legacy_message(out, last, magic, static_cast<int8_t>(static_cast<int>(c) | ts_attr), max_ts,
                        std::nullopt,
                        std::string_view(reinterpret_cast<const char*>(compressed.data()),
                                         compressed.size()));
  return out;
}

}  // namespace mk::records
