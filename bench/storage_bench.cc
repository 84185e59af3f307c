// Micro-benchmarks of the partition log backends (Google Benchmark): memory and RocksDB.
//
// Link against minikafka_storage and benchmark::benchmark_main. Bytes/s is the batch bytes
// appended or returned per second. Because memory_log stores and returns shared_chunks without
// copying, its figures measure its bookkeeping (deque, binary search, refcounts), not memcpy:
// BM_memory_log_append_copying adds the copy a non-zero-copy path would pay, for comparison.
//
// The RocksDB benchmarks run in a fresh database under the system temporary directory (TMPDIR),
// removed afterwards, with the backend's default options. BM_rocksdb_log_append/<size>/<sync>:
// sync=1 fsyncs the WAL on every append (one batch per call, so one fsync per batch: the worst
// case; a produce request's batches share one fsync). Their figures depend on the disk under
// TMPDIR far more than on the code.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "minikafka_common/shared_chunk.h"
#include "storage/memory/memory_log.h"
#include "storage/partition_log.h"
#if MINIKAFKA_HAVE_ROCKSDB
#include "storage/rocksdb/rocksdb_engine.h"
#endif

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

#if MINIKAFKA_HAVE_ROCKSDB
using mk::storage::open_rocksdb_engine;
using mk::storage::partition_log;
using mk::storage::rocksdb_engine;
using mk::storage::rocksdb_options;

constexpr char kBenchTopic[] = "0123456789abcdef0123456789abcdef";

// A RocksDB engine in a fresh temporary directory, removed (after the engine closes) on
// destruction, and one log of it.
class rocksdb_fixture {
 public:
  explicit rocksdb_fixture(bool sync) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "minikafka-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = tmpl;
    rocksdb_options opts;
    opts.sync = sync;
    auto e = open_rocksdb_engine(dir_, opts);
    if (!e.ok()) return;
    engine_ = std::move(e.value());
    auto l = engine_->open_log(kBenchTopic, 0);
    if (l.ok()) log_ = std::move(l.value());
  }
  ~rocksdb_fixture() {
    log_.reset();
    engine_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  partition_log* log() { return log_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<rocksdb_engine> engine_;
  std::unique_ptr<partition_log> log_;
};

// append() of one N-byte batch per call, args: size, sync (0/1). Truncated every kRetainBatches
// batches like the memory benchmark, so deletes (range tombstones) and compaction are part of
// the steady state.
void BM_rocksdb_log_append(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  rocksdb_fixture fx(state.range(1) != 0);
  partition_log* log = fx.log();
  if (log == nullptr) {
    state.SkipWithError("cannot open a RocksDB engine");
    return;
  }
  const shared_chunk bytes = payload(size);
  int64_t appended = 0;
  for (auto _ : state) {
    batch_to_append b{log->end_offset(), log->end_offset() + kRecordsPerBatch - 1, appended, bytes};
    auto r = log->append(std::span<const batch_to_append>(&b, 1));
    if (!r.ok()) {
      state.SkipWithError("append failed");
      break;
    }
    if (++appended % kRetainBatches == 0) {
      auto t = log->truncate_before(log->end_offset());
      benchmark::DoNotOptimize(t);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_rocksdb_log_append)
    ->ArgNames({"size", "sync"})
    ->ArgsProduct({{1 << 10, 16 << 10, 256 << 10}, {0, 1}})
    ->UseRealTime();

// read(from a random offset, 1 MiB) on a log of about 128 MiB of N-byte batches (at most 100k
// batches), part of it flushed to SST files and part still in the memtable, as a broker that
// has been running for a while would have. Every read copies the batches out of RocksDB once.
void BM_rocksdb_log_read(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const int64_t batches =
      std::min<int64_t>(100'000, (int64_t{128} << 20) / static_cast<int64_t>(size));
  constexpr size_t kMaxBytes = 1 << 20;
  rocksdb_fixture fx(false);
  partition_log* log = fx.log();
  if (log == nullptr) {
    state.SkipWithError("cannot open a RocksDB engine");
    return;
  }
  const shared_chunk bytes = payload(size);
  for (int64_t i = 0; i < batches; ++i) {
    batch_to_append b{log->end_offset(), log->end_offset() + kRecordsPerBatch - 1, i, bytes};
    if (!log->append(std::span<const batch_to_append>(&b, 1)).ok()) {
      state.SkipWithError("append failed");
      return;
    }
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(log->start_offset(), log->end_offset() - 1);
  std::vector<int64_t> froms(4096);
  for (auto& f : froms) f = pick(rng);

  size_t i = 0;
  int64_t total = 0;
  for (auto _ : state) {
    auto r = log->read(froms[i++ & (froms.size() - 1)], kMaxBytes);
    total += static_cast<int64_t>(r.bytes);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(total);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_rocksdb_log_read)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);
#endif  // MINIKAFKA_HAVE_ROCKSDB

}  // namespace
