// Frames and headers (WIRE.md §1).
//
// A frame is an int32 size followed by that many bytes. Request headers are v1 (non-flexible API
// versions) or v2 (flexible: adds a tagged-field section); client_id is always the classic
// nullable string. Response headers are v0, or v1 (tagged fields) for flexible versions, except
// that ApiVersions responses always use v0 so any client can read them (KIP-511).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "protocol/wire.h"

namespace mk::proto {

constexpr size_t default_max_request_size = 100 * 1024 * 1024;  // socket.request.max.bytes
constexpr int16_t api_versions_key = 18;

enum class frame_status { need_more, frame, too_large, negative_size };

// Looks at the start of a byte stream: is a whole frame there? On `frame`, `body_size` is the
// size of the frame without its 4-byte prefix. `too_large`/`negative_size` are decided from the
// prefix alone, before anything is allocated.
frame_status peek_frame(const uint8_t* p, size_t n, size_t max_size, size_t& body_size);

struct request_header {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::string client_id;  // a null client id reads as ""
  int header_version = 1;
  unknown_tags tags;
};

// Decodes a request header; returns false (reader failed) on malformed input. The header version
// follows from (api_key, api_version) via Kafka's schema table, so unknown keys read as v1.
bool decode_request_header(reader& r, request_header& h);
void encode_request_header(writer& w, const request_header& h);

// Response header version for a response to (api_key, api_version): 0 or 1.
int response_header_version(int16_t api_key, int16_t api_version);
void encode_response_header(writer& w, int32_t correlation_id, int header_version);

}  // namespace mk::proto
