#include "storage/memory/memory_engine.h"

namespace mk::storage {

memory_engine::memory_engine(size_t max_total_bytes)
    : budget_(std::make_shared<memory_budget>(max_total_bytes)) {}

result<std::unique_ptr<partition_log>> memory_engine::open_log(const std::string& /*topic_id*/,
                                                                int32_t /*partition*/) {
  return std::unique_ptr<partition_log>(std::make_unique<memory_log>(budget_));
}

status memory_engine::drop_log(const std::string& /*topic_id*/, int32_t /*partition*/) {
  return ok();
}

}  // namespace mk::storage
