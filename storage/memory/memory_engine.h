// Storage engine for the in-memory backend: hands out memory_logs.
//
// Logs keep nothing once destroyed, so open_log always returns a new, empty log starting at
// offset 0 and drop_log has nothing to remove. An optional global cap on the bytes of batch data
// held by all logs of the engine makes append fail with errc::out_of_memory instead of growing
// without bound.
//
// Threading: not thread-safe; the engine and its logs share the byte budget without locking.
// Runs on: broker state thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/memory/memory_log.h"
#include "storage/metadata_store.h"
#include "storage/partition_log.h"

namespace mk::storage {

class memory_engine final : public storage_engine {
 public:
  // max_total_bytes == 0: no cap.
  explicit memory_engine(size_t max_total_bytes = 0);

  // Always succeeds with a new empty log (offset 0).
  result<std::unique_ptr<partition_log>> open_log(const std::string& topic_id,
                                                  int32_t partition) override;
  // No-op success: a memory log's bytes go away with the object.
  status drop_log(const std::string& topic_id, int32_t partition) override;
  const char* name() const override { return "memory"; }
  metadata_store& metadata() override { return metadata_; }

  // Bytes of batch data held by all live logs of this engine, and the cap (0 = none).
  size_t used_bytes() const { return budget_->used_bytes(); }
  size_t max_total_bytes() const { return budget_->max_bytes(); }

 private:
  null_metadata_store metadata_;
  std::shared_ptr<memory_budget> budget_;
};

}  // namespace mk::storage
