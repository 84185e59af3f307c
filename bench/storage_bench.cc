// Micro-benchmarks of the in-memory partition log (Google Benchmark).
//
// Link against minikafka_storage and benchmark::benchmark_main. Bytes/s is the batch bytes
// appended or returned per second. Because memory_log stores and returns shared_chunks without
// copying, these figures measure its bookkeeping (deque, binary search, refcounts), not memcpy:
// BM_memory_log_append_copying adds the copy a non-zero-copy path would pay, for comparison.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "minikafka_common/shared_chunk.h"
#include "storage/memory/memory_log.h"
#include "storage/partition_log.h"

namespace {

using mk::shared_chunk;
using mk::storage::batch_to_append;
using mk::storage::memory_log;

constexpr int64_t kRecordsPerBatch = 16;
// Appends between two truncations in the append benchmarks, so the log's memory stays bounded
// however many iterations Google Benchmark chooses (retention, in effect).
constexpr int64_t kRetainBatches = 4096;

shared_chunk payload(size_t size) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>(i * 31);
  return shared_chunk::adopt(std::move(v));
}

// append() of one N-byte batch per call; the batch is a chunk shared with the caller, as on the
// produce path.
void BM_memory_log_append(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const shared_chunk bytes = payload(size);
  memory_log log;
  int64_t appended = 0;
  for (auto _ : state) {
    batch_to_append b{log.end_offset(), log.end_offset() + kRecordsPerBatch - 1, appended, bytes};
    auto r = log.append(std::span<const batch_to_append>(&b, 1));
    benchmark::DoNotOptimize(r);
    if (++appended % kRetainBatches == 0) {
      auto t = log.truncate_before(log.end_offset());
      benchmark::DoNotOptimize(t);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_memory_log_append)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);

// The same, but each batch is first copied into its own buffer (what the zero-copy path avoids).
void BM_memory_log_append_copying(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const shared_chunk src = payload(size);
  memory_log log;
  int64_t appended = 0;
  for (auto _ : state) {
    batch_to_append b{log.end_offset(), log.end_offset() + kRecordsPerBatch - 1, appended,
                      shared_chunk::copy_of(src.data, src.size)};
    auto r = log.append(std::span<const batch_to_append>(&b, 1));
    benchmark::DoNotOptimize(r);
    // Copies really hold memory: keep at most ~64 MiB.
    if (++appended % std::max<int64_t>(1, (64 << 20) / static_cast<int64_t>(size)) == 0) {
      auto t = log.truncate_before(log.end_offset());
      benchmark::DoNotOptimize(t);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_memory_log_append_copying)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);

// read(from a random offset, 1 MiB) on a log of 100k N-byte batches (all sharing one buffer, so
// the log is cheap to build whatever N).
void BM_memory_log_read(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  constexpr int64_t kBatches = 100'000;
  constexpr size_t kMaxBytes = 1 << 20;
  const shared_chunk bytes = payload(size);
  memory_log log;
  for (int64_t i = 0; i < kBatches; ++i) {
    batch_to_append b{log.end_offset(), log.end_offset() + kRecordsPerBatch - 1, i, bytes};
    auto r = log.append(std::span<const batch_to_append>(&b, 1));
    if (!r.ok()) {
      state.SkipWithError("append failed");
      return;
    }
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(log.start_offset(), log.end_offset() - 1);
  std::vector<int64_t> froms(4096);
  for (auto& f : froms) f = pick(rng);

  size_t i = 0;
  int64_t total = 0;
  for (auto _ : state) {
    auto r = log.read(froms[i++ & (froms.size() - 1)], kMaxBytes);
    total += static_cast<int64_t>(r.bytes);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(total);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_memory_log_read)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);

}  // namespace
