#include "protocol/framing.h"

#include "protocol/generated/api_keys.h"

namespace mk::proto {

frame_status peek_frame(const uint8_t* p, size_t n, size_t max_size, size_t& body_size) {
  if (n < 4) return frame_status::need_more;
  int32_t size = static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                                      (uint32_t{p[2]} << 8) | uint32_t{p[3]});
  if (size < 0) return frame_status::negative_size;
  if (static_cast<size_t>(size) > max_size) return frame_status::too_large;
  body_size = static_cast<size_t>(size);
  return n - 4 >= body_size ? frame_status::frame : frame_status::need_more;
}

bool decode_request_header(reader& r, request_header& h) {
  h.api_key = r.i16();
  h.api_version = r.i16();
  h.correlation_id = r.i32();
  h.header_version = request_header_version(h.api_key, h.api_version);
  if (h.header_version >= 1) {
    auto id = r.nullable_string(false);
    h.client_id = id ? std::move(*id) : std::string();
  }
  if (h.header_version >= 2) r.tagged_fields(h.tags, [](uint32_t, reader&) { return false; });
  return r.ok();
}

void encode_request_header(writer& w, const request_header& h) {
  w.i16(h.api_key);
  w.i16(h.api_version);
  w.i32(h.correlation_id);
  int hv = request_header_version(h.api_key, h.api_version);
  if (hv >= 1) w.string(h.client_id, false);
  if (hv >= 2) {  // tag section: the header defines no tags, so these are the unknown ones kept by decoding
    w.uvarint(static_cast<uint32_t>(h.tags.size()));
    for (const auto& t : h.tags) {
      w.uvarint(t.tag);
      w.uvarint(static_cast<uint32_t>(t.data.size()));
      w.raw(t.data.data(), t.data.size());
    }
  }
}

int response_header_version(int16_t api_key, int16_t api_version) {
  if (api_key == api_versions_key) return 0;  // KIP-511: always v0
  return request_header_version(api_key, api_version) >= 2 ? 1 : 0;
}

void encode_response_header(writer& w, int32_t correlation_id, int header_version) {
  w.i32(correlation_id);
  if (header_version >= 1) w.uvarint(0);
}

}  // namespace mk::proto
