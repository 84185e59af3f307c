// Micro-benchmarks of the partition log backends (Google Benchmark): memory and RocksDB.
//
// Link against minikafka_storage and benchmark::benchmark (main() is at the end). Bytes/s is the
// batch bytes appended or returned per second; items/s is batches appended or reads made. Because
// memory_log stores and returns shared_chunks without copying, its figures measure its
// bookkeeping (deque, binary search, refcounts), not memcpy: BM_memory_log_append_copying adds
// the copy a non-zero-copy path would pay, for comparison.
//
// Sweeps: `size` is the batch size in bytes (128 B is a one-record batch, 256 KiB a large
// producer batch); `partitions` spreads the same work over that many logs of one engine, round
// robin (appends) or at random (reads), as a broker with many partitions sees it. Append
// benchmarks truncate each log every 256 of its batches (retention, in effect) so memory stays
// bounded however many iterations Google Benchmark chooses; that cost is part of the figures and
// is the same per append whatever the number of partitions.
//
// The RocksDB benchmarks run in a fresh database under the system temporary directory (TMPDIR),
// removed afterwards, with the backend's default options. BM_rocksdb_log_append/.../sync:1
// fsyncs the WAL on every append (one batch per call, so one fsync per batch: the worst case; a
// produce request's batches for one partition share one fsync). Their figures depend on the disk
// under TMPDIR far more than on the code. The RocksDB read logs (about 128 MiB) are built once
// per argument set and reused across Google Benchmark's repeated runs.
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
using mk::storage::partition_log;

constexpr int64_t kRecordsPerBatch = 16;
// Batches appended to a log between two truncations in the append benchmarks.
constexpr int64_t kRetainBatches = 256;

const std::vector<int64_t> kSizes = {128, 1 << 10, 16 << 10, 256 << 10};

shared_chunk payload(size_t size) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>(i * 31);
  return shared_chunk::adopt(std::move(v));
}

// append() of one batch per call to `logs`, round robin; each log is truncated after `retain`
// batches. The batch is `bytes` itself (a chunk shared with the caller, as on the produce path)
// or, with `copy`, a fresh copy of it each time.
void run_append(benchmark::State& state, std::span<partition_log* const> logs, const shared_chunk& bytes,
                bool copy, int64_t retain) {
  std::vector<int64_t> since_truncate(logs.size(), 0);
  size_t next = 0;
  int64_t appended = 0;
  for (auto _ : state) {
    partition_log& log = *logs[next];
    batch_to_append b{log.end_offset(), log.end_offset() + kRecordsPerBatch - 1, appended,
                      copy ? shared_chunk::copy_of(bytes.data, bytes.size) : bytes};
    auto r = log.append(std::span<const batch_to_append>(&b, 1));
    if (!r.ok()) {
      state.SkipWithError("append failed");
      break;
    }
    if (++since_truncate[next] >= retain) {
      auto t = log.truncate_before(log.end_offset());
      benchmark::DoNotOptimize(t);
      since_truncate[next] = 0;
    }
    if (++next == logs.size()) next = 0;
    ++appended;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes.size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Fills each of `logs` with `per_log` batches of `bytes` (shared), appending up to 256 batches
// or 4 MiB per call; false when an append fails.
bool fill(std::span<partition_log* const> logs, const shared_chunk& bytes, int64_t per_log) {
  const size_t per_call = std::clamp<size_t>((4 << 20) / std::max<size_t>(1, bytes.size), 1, 256);
  std::vector<batch_to_append> chunk;
  for (partition_log* log : logs) {
    for (int64_t i = 0; i < per_log; ++i) {
      const int64_t base = log->end_offset() + static_cast<int64_t>(chunk.size()) * kRecordsPerBatch;
      chunk.push_back(batch_to_append{base, base + kRecordsPerBatch - 1, i, bytes});
      if (chunk.size() == per_call || i + 1 == per_log) {
        if (!log->append(chunk).ok()) return false;
        chunk.clear();
      }
    }
  }
  return true;
}

// read(from a random offset of a random log, 1 MiB) over `logs`.
void run_read(benchmark::State& state, std::span<const partition_log* const> logs) {
  constexpr size_t kMaxBytes = 1 << 20;
  std::mt19937_64 rng(42);
  struct pick {
    const partition_log* log;
    int64_t from;
  };
  std::vector<pick> picks(4096);
  for (auto& p : picks) {
    const partition_log* log = logs[rng() % logs.size()];
    std::uniform_int_distribution<int64_t> off(log->start_offset(), log->end_offset() - 1);
    p = pick{log, off(rng)};
  }
  size_t i = 0;
  int64_t total = 0;
  for (auto _ : state) {
    const pick& p = picks[i++ & (picks.size() - 1)];
    auto r = p.log->read(p.from, kMaxBytes);
    if (!r) {
      state.SkipWithError("read failed");
      break;
    }
    total += static_cast<int64_t>(r.value().bytes);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(total);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

template <typename T>
std::vector<T*> raw_pointers(const std::vector<std::unique_ptr<T>>& v) {
  std::vector<T*> out;
  for (const auto& p : v) out.push_back(p.get());
  return out;
}

// ------------------------------------------------------------------------------------ memory

std::vector<std::unique_ptr<partition_log>> memory_logs(size_t n) {
  std::vector<std::unique_ptr<partition_log>> logs;
  for (size_t i = 0; i < n; ++i) logs.push_back(std::make_unique<memory_log>());
  return logs;
}

// args: size, partitions.
void BM_memory_log_append(benchmark::State& state) {
  const auto partitions = static_cast<size_t>(state.range(1));
  const auto logs = memory_logs(partitions);
  run_append(state, raw_pointers(logs), payload(static_cast<size_t>(state.range(0))), false, kRetainBatches);
}
BENCHMARK(BM_memory_log_append)->ArgNames({"size", "partitions"})->ArgsProduct({kSizes, {1, 32, 1024}});

// The same on one log, but each batch is first copied into its own buffer (what the zero-copy
// path avoids). Copies really hold memory: at most ~64 MiB are kept.
void BM_memory_log_append_copying(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const auto logs = memory_logs(1);
  run_append(state, raw_pointers(logs), payload(size), true,
             std::max<int64_t>(1, (64 << 20) / static_cast<int64_t>(size)));
}
BENCHMARK(BM_memory_log_append_copying)->ArgName("size")->Arg(128)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10);

// read(random offset, 1 MiB) over 100k N-byte batches spread over `partitions` logs (all sharing
// one buffer, so the logs are cheap to build whatever N). args: size, partitions.
void BM_memory_log_read(benchmark::State& state) {
  const auto partitions = static_cast<size_t>(state.range(1));
  const auto logs = memory_logs(partitions);
  const auto ptrs = raw_pointers(logs);
  if (!fill(ptrs, payload(static_cast<size_t>(state.range(0))),
            std::max<int64_t>(1, 100'000 / static_cast<int64_t>(partitions)))) {
    state.SkipWithError("append failed");
    return;
  }
  run_read(state, std::vector<const partition_log*>(ptrs.begin(), ptrs.end()));
}
BENCHMARK(BM_memory_log_read)->ArgNames({"size", "partitions"})->ArgsProduct({kSizes, {1, 32, 1024}});

#if MINIKAFKA_HAVE_ROCKSDB
using mk::storage::open_rocksdb_engine;
using mk::storage::rocksdb_engine;
using mk::storage::rocksdb_options;

constexpr char kBenchTopic[] = "0123456789abcdef0123456789abcdef";

// A RocksDB engine in a fresh temporary directory, removed (after the engine closes) on
// destruction, and `partitions` logs of one topic in it.
class rocksdb_fixture {
 public:
  rocksdb_fixture(bool sync, size_t partitions) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "minikafka-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = tmpl;
    rocksdb_options opts;
    opts.sync = sync;
    auto e = open_rocksdb_engine(dir_, opts);
    if (!e.ok()) return;
    engine_ = std::move(e.value());
    for (size_t p = 0; p < partitions; ++p) {
      auto l = engine_->open_log(kBenchTopic, static_cast<int32_t>(p));
      if (!l.ok()) {
        logs_.clear();
        return;
      }
      logs_.push_back(std::move(l.value()));
    }
  }
  ~rocksdb_fixture() {
    logs_.clear();
    engine_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  rocksdb_fixture(const rocksdb_fixture&) = delete;
  rocksdb_fixture& operator=(const rocksdb_fixture&) = delete;

  // Empty when the engine or a log could not be opened.
  std::vector<partition_log*> logs() const { return raw_pointers(logs_); }

 private:
  std::string dir_;
  std::unique_ptr<rocksdb_engine> engine_;
  std::vector<std::unique_ptr<partition_log>> logs_;
};

// append() of one N-byte batch per call, round robin over the logs. args: size, sync (0/1),
// partitions. Truncation (range tombstones) and compaction are part of the steady state.
void BM_rocksdb_log_append(benchmark::State& state) {
  const auto partitions = static_cast<size_t>(state.range(2));
  rocksdb_fixture fx(state.range(1) != 0, partitions);
  const auto logs = fx.logs();
  if (logs.empty()) {
    state.SkipWithError("cannot open a RocksDB engine");
    return;
  }
  run_append(state, logs, payload(static_cast<size_t>(state.range(0))), false, kRetainBatches);
}
BENCHMARK(BM_rocksdb_log_append)
    ->ArgNames({"size", "sync", "partitions"})
    ->ArgsProduct({kSizes, {0}, {1, 32, 1024}})
    ->ArgsProduct({kSizes, {1}, {1}})
    ->UseRealTime();

// The read fixture: about 128 MiB of N-byte batches (at most 100k batches) spread over the logs,
// part of it flushed to SST files and part still in the memtable, as a broker that has been
// running for a while would have. Kept across the repeated runs of one argument set.
// Released by main() after the benchmarks: a RocksDB engine must close before RocksDB's own
// statics are destroyed at exit.
std::unique_ptr<rocksdb_fixture> cached_read_fixture;

const rocksdb_fixture* rocksdb_read_fixture(size_t size, size_t partitions) {
  auto& cached = cached_read_fixture;
  static size_t cached_size = 0, cached_partitions = 0;
  if (cached && cached_size == size && cached_partitions == partitions) return cached.get();
  cached.reset();
  auto fx = std::make_unique<rocksdb_fixture>(false, partitions);
  const int64_t batches = std::min<int64_t>(100'000, (int64_t{128} << 20) / static_cast<int64_t>(size));
  const auto logs = fx->logs();
  if (logs.empty() || !fill(logs, payload(size), std::max<int64_t>(1, batches / static_cast<int64_t>(partitions))))
    return nullptr;
  cached = std::move(fx);
  cached_size = size;
  cached_partitions = partitions;
  return cached.get();
}

// read(random offset of a random log, 1 MiB). Every read copies the batches out of RocksDB
// once. args: size, partitions.
void BM_rocksdb_log_read(benchmark::State& state) {
  const rocksdb_fixture* fx =
      rocksdb_read_fixture(static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)));
  if (fx == nullptr) {
    state.SkipWithError("cannot build the RocksDB logs");
    return;
  }
  const auto logs = fx->logs();
  run_read(state, std::vector<const partition_log*>(logs.begin(), logs.end()));
}
BENCHMARK(BM_rocksdb_log_read)->ArgNames({"size", "partitions"})->ArgsProduct({kSizes, {1, 32}});
#endif  // MINIKAFKA_HAVE_ROCKSDB

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
#if MINIKAFKA_HAVE_ROCKSDB
  cached_read_fixture.reset();
#endif
  benchmark::Shutdown();
  return 0;
}
