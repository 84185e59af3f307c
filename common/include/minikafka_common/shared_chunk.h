// A read-only view of bytes that keeps its backing storage alive.
//
// Used on the produce and fetch paths so that record batches travel from the request frame into
// storage and from storage into the response without being copied: `owner` holds whatever buffer
// `data` points into (a request frame, a storage block, a RocksDB value) for as long as any chunk
// refers to it. Thread-safety: chunks are immutable once shared; copying one only bumps a refcount.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mk {

struct shared_chunk {
  std::shared_ptr<const void> owner;
  const uint8_t* data = nullptr;
  size_t size = 0;

  // Makes a chunk that owns a copy of [p, p + n).
  static shared_chunk copy_of(const uint8_t* p, size_t n) {
    auto buf = std::make_shared<std::vector<uint8_t>>(p, p + n);
    return shared_chunk{buf, buf->data(), buf->size()};
  }
  // Makes a chunk that takes ownership of `v`.
  static shared_chunk adopt(std::vector<uint8_t>&& v) {
    auto buf = std::make_shared<std::vector<uint8_t>>(std::move(v));
    return shared_chunk{buf, buf->data(), buf->size()};
  }
  // A sub-range of this chunk sharing the same owner.
  shared_chunk slice(size_t offset, size_t n) const { return shared_chunk{owner, data + offset, n}; }
};

}  // namespace mk
