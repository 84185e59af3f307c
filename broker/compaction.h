// Log compaction (cleanup.policy=compact): keeps the latest record per key, as Kafka's log cleaner
// does, so a compacted topic (a Kafka Streams changelog, a KTable) can be replayed to rebuild the
// latest state without keeping every update.
//
// One pass over a partition:
//  * The dirty section starts where the previous pass stopped (`cleaned_to`, tracked in memory)
//    and ends before the first batch that may not be cleaned yet: the last batch of the log
//    always stays (the active tail), and so does every batch from the first one whose largest
//    timestamp is newer than now - min.compaction.lag.ms.
//  * The dirty section's records give the latest offset of each key (an in-memory map).
//  * Every batch from the log start to the end of the dirty section is then filtered: a record
//    stays when it is the latest of its key (no later offset in the map). Records without a key
//    are dropped (Kafka's cleaner drops them too). A tombstone (null value) that is the latest of
//    its key stays until its batch's delete horizon has passed: the first pass that keeps a
//    tombstone stamps its batch with a delete horizon of now + delete.retention.ms (KIP-534:
//    attribute bit 6, baseTimestamp = horizon; record timestamps decode unchanged), a later pass
//    after the horizon removes it. Control batches are kept as they are.
//  * A filtered batch keeps its baseOffset, lastOffsetDelta, producer id/epoch/base sequence and
//    partition leader epoch; kept records keep their offsets (sparse offsetDeltas) and
//    timestamps. It is re-encoded with the same compression codec it had (so a compressed batch
//    stays compressed) and a fresh CRC. A batch with no record left is removed, leaving a gap
//    in the offsets. Unchanged batches are not rewritten. Changes are written with
//    partition_log::replace_range in offset order, in windows of a few MiB (each atomic), so
//    a crash between windows leaves a log in which every key still reads its latest value.
//  * A batch that cannot be decoded or re-encoded is kept as it is (and logged); tombstones
//    after it in that pass are not removed, so no older value can resurface.
//
// Cheap when there is nothing to do: a partition whose end offset has not moved since the last
// look is skipped in O(1) unless a time-driven reason (a batch held back by
// min.compaction.lag.ms becoming old enough, a tombstone's delete horizon passing) or a config
// change is due. Otherwise min.cleanable.dirty.ratio is checked from byte counts alone (O(1))
// before anything is read. Progress lives in memory only: after a restart the first pass treats
// the whole log as dirty (the result is the same, only slower). max.compaction.lag.ms is not
// enforced.
//
// Runs on: broker state thread (like everything touching logs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "broker/cluster.h"
#include "storage/partition_log.h"

namespace mk {

// The topic configs compaction reads.
struct compaction_settings {
  int64_t min_compaction_lag_ms = 0;
  int64_t delete_retention_ms = 86'400'000;
  double min_cleanable_dirty_ratio = 0.5;

  static compaction_settings from(const topic_configs& configs);
  bool operator==(const compaction_settings&) const = default;
};

// What the compactor remembers about one partition between passes (in memory only).
struct compaction_progress {
  // [log start, cleaned_to) has been cleaned: it holds at most one record per key.
  int64_t cleaned_to = 0;
  // Bytes of the cleaned section after the last pass (for min.cleanable.dirty.ratio).
  size_t clean_bytes = 0;
  // The log's end offset and the settings at the last look (-1: never looked).
  int64_t checked_end = -1;
  compaction_settings settings;
  // Earliest delete horizon among the tombstones kept by the last pass (max: none).
  int64_t next_horizon_ms = std::numeric_limits<int64_t>::max();
  // When a look is worth it again without new appends: a held-back batch ages past
  // min.compaction.lag.ms, or next_horizon_ms. Max: only new appends.
  int64_t recheck_at_ms = std::numeric_limits<int64_t>::max();
};

struct compaction_stats {
  bool cleaned = false;      // a filtering pass ran (false: skipped, nothing worth doing)
  int64_t dirty_end = 0;     // the pass cleaned [log start, dirty_end)
  size_t batches_read = 0;   // batches decoded (dirty scan + filtering pass)
  size_t batches_rewritten = 0;
  size_t batches_removed = 0;  // every record of the batch was removed
  size_t records_removed = 0;
  size_t tombstones_removed = 0;
  size_t failures = 0;         // batches kept unchanged because they could not be re-encoded,
                               // or a replace_range that failed (the pass then stops)
};

// One compaction pass over `log` (see the file comment). `name` only labels log lines.
compaction_stats compact_partition(storage::partition_log& log, const compaction_settings& settings,
                                   int64_t now_ms, compaction_progress& progress,
                                   std::string_view name = {});

// Compacts every partition of every topic whose cleanup.policy contains "compact", keeping each
// partition's progress between calls. Called from the server's housekeeping timer.
class log_compactor {
 public:
  // Returns the number of partitions that had a filtering pass.
  size_t run(cluster& cl, int64_t now_ms);

  // Progress of one partition (tests); null when never looked at.
  const compaction_progress* progress(const std::string& topic_id_hex, int32_t partition) const;

 private:
  // Key: topic id (hex) + '/' + partition. Topic ids are never reused, so a recreated topic
  // starts afresh; entries of topics that disappeared are dropped on the next run.
  std::map<std::string, compaction_progress> progress_;
};

}  // namespace mk
