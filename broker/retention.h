// Retention: drops the oldest whole batches of a partition once they are older than the topic's
// retention.ms (by the batch's largest timestamp) or while the partition holds more than
// retention.bytes, advancing the log start offset. Run periodically by the server for every
// partition of topics whose cleanup.policy includes "delete".
// Runs on: broker state thread.
#pragma once

#include <cstdint>

#include "broker/cluster.h"

namespace mk {

// Applies retention to one partition. Returns the number of batches dropped.
size_t apply_retention(const topic_state& topic, partition_state& p, int64_t now_ms);

// Applies retention to every partition of every topic.
size_t apply_retention(cluster& cl, int64_t now_ms);

}  // namespace mk
