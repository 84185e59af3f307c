// CRC-32C (Castagnoli) for record batches v2 and CRC-32 (IEEE) for legacy messages.
//
// Both functions follow zlib's crc32() convention: `crc` is a previous *result* (0 to start), so
//   crc32c(p, a + b) == crc32c(p + a, b, crc32c(p, a)).
// crc32c() picks the SSE4.2 `crc32` instruction path at runtime when the CPU has it and a
// slicing-by-8 table otherwise; both give identical results. Thread-safe, allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mk::records {

// CRC-32C of [p, p + n), continuing from `crc`. "123456789" -> 0xE3069283.
uint32_t crc32c(const uint8_t* p, size_t n, uint32_t crc = 0);

// The two implementations behind crc32c(), exposed for tests and benchmarks.
// crc32c_hardware() must only be called when crc32c_hardware_available() is true.
uint32_t crc32c_software(const uint8_t* p, size_t n, uint32_t crc = 0);
uint32_t crc32c_hardware(const uint8_t* p, size_t n, uint32_t crc = 0);
bool crc32c_hardware_available();

// CRC-32 (IEEE 802.3, zlib / java.util.zip.CRC32) of [p, p + n). "123456789" -> 0xCBF43926.
uint32_t crc32_ieee(const uint8_t* p, size_t n, uint32_t crc = 0);

}  // namespace mk::records
