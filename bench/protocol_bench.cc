// Micro-benchmarks of the request/response codecs and of the produce and fetch paths rebuilt from
// the public pieces (Google Benchmark; minikafka_protocol + minikafka_storage, no broker).
//
//  BM_produce_request_decode/partitions/records   request header + ProduceRequest v9 decode of
//                                                 one topic, `partitions` x one uncompressed
//                                                 batch of `records` 100-byte records.
//  BM_produce_path/partitions/records             the same decode, then what the broker's
//                                                 append_batches() does per partition (parse and
//                                                 CRC-check the batches, client-batch checks,
//                                                 offset and leader-epoch rewrite in place,
//                                                 memory_log append), then the ProduceResponse
//                                                 encode with its header. No idempotence or topic
//                                                 configs.
//  BM_produce_response_encode/partitions          ProduceResponse v9 + header.
//  BM_fetch_request_decode/partitions             request header + FetchRequest v16 (topic id).
//  BM_fetch_response_encode/partitions/records    FetchResponse v16 + header + take_chunks() for
//                                                 `partitions` x 8 stored batches of `records`
//                                                 100-byte records. Batches over 512 bytes are
//                                                 spliced by reference, smaller ones copied into
//                                                 the writer's buffer (writer::chunk); counter
//                                                 "chunks": length of the scatter list.
//  BM_fetch_assemble/backend/partitions/records   what the Fetch handler does for a catching-up
//                                                 consumer: for each partition read the log
//                                                 (partition_max_bytes 1 MiB, response max_bytes
//                                                 50 MiB, KIP-74 first-batch rule) from a random
//                                                 offset, move the chunks into the response,
//                                                 encode it with its header into the scatter
//                                                 list. backend 0 = memory, 1 = RocksDB.
//                                                 Counter "batches_per_fetch".
//
// Items/s: partitions for the request decoders and the produce response (they never touch
// record bytes, which stay views into the frame), batches for the fetch response encoder, and
// records for the two paths (produce_path, fetch_assemble). Bytes/s: the request frame bytes
// decoded or taken in, or the response bytes produced (fetch_assemble: record bytes returned). All inputs (frames, batches, filled logs) are built
// outside the timed loops; the fetch fixtures are built once per argument set and kept for the
// repeated runs Google Benchmark makes.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "minikafka_common/shared_chunk.h"
#include "protocol/framing.h"
#include "protocol/generated/fetch_request.h"
#include "protocol/generated/fetch_response.h"
#include "protocol/generated/produce_request.h"
#include "protocol/generated/produce_response.h"
#include "protocol/records/record_batch.h"
#include "protocol/wire.h"
#include "storage/memory/memory_log.h"
#include "storage/partition_log.h"
#if MINIKAFKA_HAVE_ROCKSDB
#include "storage/rocksdb/rocksdb_engine.h"
#endif

namespace {

using mk::shared_chunk;
namespace proto = mk::proto;
namespace rec = mk::records;
namespace storage = mk::storage;

constexpr int16_t kProduceVersion = 9;
constexpr int16_t kFetchVersion = 16;
constexpr size_t kValueBytes = 100;
constexpr char kTopic[] = "bench-topic";
constexpr char kTopicIdHex[] = "0123456789abcdef0123456789abcdef";

proto::uuid topic_id() {
  proto::uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = static_cast<uint8_t>(0x10 + i);
  return u;
}

// One uncompressed batch of `count` records with 100-byte JSON-like values and 10-byte keys.
std::vector<uint8_t> make_batch(size_t count, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys, values;
  char buf[160];
  for (size_t i = 0; i < count; ++i) {
    std::snprintf(buf, sizeof buf, "key-%06zu", i);
    keys.emplace_back(buf);
    std::string v;
    while (v.size() < kValueBytes) {
      int n = std::snprintf(buf, sizeof buf, "{\"user\":\"u%05u\",\"amount\":%u,\"session\":\"%08x\"},",
                            static_cast<unsigned>(rng() % 100000), static_cast<unsigned>(rng() % 1000),
                            static_cast<unsigned>(rng()));
      v.append(buf, static_cast<size_t>(n));
    }
    v.resize(kValueBytes);
    values.push_back(std::move(v));
  }
  rec::batch_builder b;
  for (size_t i = 0; i < count; ++i) b.add(1'700'000'000'000 + static_cast<int64_t>(i), keys[i], values[i]);
  return b.finish();
}

// A request frame body (what the connection reads after the 4-byte size): header + message.
template <typename Msg>
std::shared_ptr<std::vector<uint8_t>> encode_request(const Msg& msg, int16_t version) {
  proto::writer w;
  proto::request_header h;
  h.api_key = Msg::api_key;
  h.api_version = version;
  h.correlation_id = 42;
  h.client_id = "bench-client";
  proto::encode_request_header(w, h);
  msg.encode(w, version);
  return std::make_shared<std::vector<uint8_t>>(w.flatten());
}

// Frames a response as the connection does: size, response header, body; returns the scatter
// list that would be handed to the socket.
template <typename Msg>
std::vector<shared_chunk> frame_response(const Msg& msg, int16_t version) {
  proto::writer body;
  msg.encode(body, version);
  proto::writer head;
  head.i32(0);
  proto::encode_response_header(head, 42, proto::response_header_version(Msg::api_key, version));
  head.patch_i32(0, static_cast<int32_t>(head.size() - 4 + body.size()));
  auto chunks = head.take_chunks();
  auto rest = body.take_chunks();
  chunks.insert(chunks.end(), std::make_move_iterator(rest.begin()), std::make_move_iterator(rest.end()));
  return chunks;
}

size_t total_size(const std::vector<shared_chunk>& chunks) {
  size_t n = 0;
  for (const auto& c : chunks) n += c.size;
  return n;
}

std::shared_ptr<std::vector<uint8_t>> make_produce_frame(size_t partitions, size_t records) {
  const std::vector<uint8_t> batch = make_batch(records);
  proto::produce_request req;
  req.acks = -1;
  req.timeout_ms = 30000;
  auto& td = req.topic_data.emplace_back();
  td.name = kTopic;
  for (size_t p = 0; p < partitions; ++p) {
    auto& pd = td.partition_data.emplace_back();
    pd.index = static_cast<int32_t>(p);
    pd.records_ = proto::records{false, {shared_chunk::copy_of(batch.data(), batch.size())}};
  }
  return encode_request(req, kProduceVersion);
}

// ------------------------------------------------------------------------------------ produce

void BM_produce_request_decode(benchmark::State& state) {
  const auto partitions = static_cast<size_t>(state.range(0));
  const auto records = static_cast<size_t>(state.range(1));
  const auto frame = make_produce_frame(partitions, records);
  for (auto _ : state) {
    proto::reader r(frame->data(), frame->size(), frame);
    proto::request_header h;
    proto::decode_request_header(r, h);
    proto::produce_request req;
    req.decode(r, h.api_version);
    if (!r.ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(req);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(frame->size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(partitions));
}
BENCHMARK(BM_produce_request_decode)
    ->ArgNames({"partitions", "records"})
    ->ArgsProduct({{1, 10, 100}, {1, 10, 100, 1000}});

void BM_produce_path(benchmark::State& state) {
  constexpr size_t kRetainBatches = 4096;  // per log
  const auto partitions = static_cast<size_t>(state.range(0));
  const auto records = static_cast<size_t>(state.range(1));
  const auto frame = make_produce_frame(partitions, records);
  std::vector<std::unique_ptr<storage::memory_log>> logs;
  for (size_t p = 0; p < partitions; ++p) logs.push_back(std::make_unique<storage::memory_log>());

  size_t response_bytes = 0;
  for (auto _ : state) {
    proto::reader r(frame->data(), frame->size(), frame);
    proto::request_header h;
    proto::decode_request_header(r, h);
    proto::produce_request req;
    req.decode(r, h.api_version);
    proto::produce_response resp;
    bool failed = !r.ok();
    for (const auto& td : req.topic_data) {
      auto& tr = resp.responses.emplace_back();
      tr.name = td.name;
      for (const auto& pd : td.partition_data) {
        auto& pr = tr.partition_responses.emplace_back();
        pr.index = pd.index;
        storage::memory_log& log = *logs[static_cast<size_t>(pd.index)];
        const shared_chunk& bytes = pd.records_.chunks.front();
        std::vector<rec::batch_header> headers;
        std::vector<size_t> starts;
        if (rec::parse_batches(bytes.data, bytes.size, headers, &starts) != rec::batch_error::none) {
          failed = true;
          break;
        }
        // The frame is ours alone, as on the broker: the in-place edits are safe.
        auto* base = const_cast<uint8_t*>(bytes.data);
        int64_t next = log.end_offset();
        std::vector<storage::batch_to_append> batches;
        batches.reserve(headers.size());
        for (size_t i = 0; i < headers.size(); ++i) {
          const auto& bh = headers[i];
          if (rec::check_client_batch(bh) != rec::batch_error::none) failed = true;
          rec::set_base_offset(base + starts[i], next);
          rec::set_partition_leader_epoch(base + starts[i], 0);
          batches.push_back(storage::batch_to_append{next, next + bh.last_offset_delta, bh.max_timestamp,
                                                     bytes.slice(starts[i], bh.size_bytes())});
          next += bh.last_offset_delta + 1;
        }
        auto res = log.append(batches);
        if (!res.ok()) {
          failed = true;
          break;
        }
        pr.base_offset = res.value();
        pr.log_start_offset = log.start_offset();
      }
    }
    auto out = frame_response(resp, h.api_version);
    response_bytes = total_size(out);
    benchmark::DoNotOptimize(out);
    if (failed) {
      state.SkipWithError("produce failed");
      break;
    }
    // Retention, in effect: keeps memory bounded; amortised over kRetainBatches appends.
    for (auto& log : logs)
      if (log->batch_count() >= kRetainBatches) {
        auto t = log->truncate_before(log->end_offset());
        benchmark::DoNotOptimize(t);
      }
  }
  state.counters["response_bytes"] = static_cast<double>(response_bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(frame->size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(partitions * records));
}
BENCHMARK(BM_produce_path)->ArgNames({"partitions", "records"})->ArgsProduct({{1, 10, 100}, {1, 10, 100, 1000}});

void BM_produce_response_encode(benchmark::State& state) {
  const auto partitions = static_cast<size_t>(state.range(0));
  proto::produce_response resp;
  auto& tr = resp.responses.emplace_back();
  tr.name = kTopic;
  for (size_t p = 0; p < partitions; ++p) {
    auto& pr = tr.partition_responses.emplace_back();
    pr.index = static_cast<int32_t>(p);
    pr.base_offset = 123456789 + static_cast<int64_t>(p);
    pr.log_start_offset = 0;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    auto out = frame_response(resp, kProduceVersion);
    bytes = total_size(out);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(partitions));
}
BENCHMARK(BM_produce_response_encode)->ArgName("partitions")->Arg(1)->Arg(10)->Arg(100)->Arg(1000);

// -------------------------------------------------------------------------------------- fetch

void BM_fetch_request_decode(benchmark::State& state) {
  const auto partitions = static_cast<size_t>(state.range(0));
  proto::fetch_request req;
  req.max_wait_ms = 500;
  req.min_bytes = 1;
  req.max_bytes = 50 << 20;
  auto& ft = req.topics.emplace_back();
  ft.topic_id = topic_id();
  for (size_t p = 0; p < partitions; ++p) {
    auto& fp = ft.partitions.emplace_back();
    fp.partition = static_cast<int32_t>(p);
    fp.current_leader_epoch = 0;
    fp.fetch_offset = 1'000'000 + static_cast<int64_t>(p);
    fp.partition_max_bytes = 1 << 20;
  }
  const auto frame = encode_request(req, kFetchVersion);
  for (auto _ : state) {
    proto::reader r(frame->data(), frame->size(), frame);
    proto::request_header h;
    proto::decode_request_header(r, h);
    proto::fetch_request got;
    got.decode(r, h.api_version);
    if (!r.ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(got);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(frame->size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(partitions));
}
BENCHMARK(BM_fetch_request_decode)->ArgName("partitions")->Arg(1)->Arg(10)->Arg(100)->Arg(1000);

void BM_fetch_response_encode(benchmark::State& state) {
  constexpr size_t kBatchesPerPartition = 8;
  const auto partitions = static_cast<size_t>(state.range(0));
  const auto records = static_cast<size_t>(state.range(1));
  const std::vector<uint8_t> batch = make_batch(records);
  proto::fetch_response resp;
  auto& tr = resp.responses.emplace_back();
  tr.topic_id = topic_id();
  for (size_t p = 0; p < partitions; ++p) {
    auto& pr = tr.partitions.emplace_back();
    pr.partition_index = static_cast<int32_t>(p);
    pr.high_watermark = pr.last_stable_offset = 1'000'000;
    pr.log_start_offset = 0;
    pr.records_ = proto::records::empty_set();
    // Each batch its own buffer, as batches appended by different produce requests are.
    for (size_t b = 0; b < kBatchesPerPartition; ++b)
      pr.records_.chunks.push_back(shared_chunk::copy_of(batch.data(), batch.size()));
  }
  size_t bytes = 0, chunks = 0;
  for (auto _ : state) {
    auto out = frame_response(resp, kFetchVersion);
    bytes = total_size(out);
    chunks = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["chunks"] = static_cast<double>(chunks);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(partitions * kBatchesPerPartition));
}
BENCHMARK(BM_fetch_response_encode)
    ->ArgNames({"partitions", "records"})
    ->ArgsProduct({{1, 10, 100}, {1, 10, 100}});

// One topic's partition logs filled with identical batches, and per partition a set of random
// fetch offsets that each have at least partition_max_bytes of data after them.
class fetch_fixture {
 public:
  static constexpr size_t kPartitionMaxBytes = 1 << 20;   // max.partition.fetch.bytes default
  static constexpr int64_t kMaxBytes = 50 << 20;          // fetch.max.bytes default
  static constexpr size_t kOffsetsPerPartition = 64;      // power of two

  fetch_fixture(int backend, size_t partitions, size_t records)
      : backend_(backend), partitions_(partitions), records_(records) {
    const std::vector<uint8_t> batch = make_batch(records);
    batch_bytes_ = batch.size();
    const shared_chunk bytes = shared_chunk::copy_of(batch.data(), batch.size());
    // 1.5x what one partition read returns, so every chosen offset has a full read after it.
    const size_t batches = std::max<size_t>(8, (kPartitionMaxBytes * 3 / 2) / batch_bytes_ + 1);
    const size_t readable = batches - kPartitionMaxBytes / batch_bytes_ - 1;
    if (!open_logs()) return;
    std::mt19937_64 rng(42);
    for (auto& log : logs_) {
      std::vector<storage::batch_to_append> chunk;
      for (size_t i = 0; i < batches; ++i) {
        const int64_t base = static_cast<int64_t>(i * records);
        chunk.push_back(storage::batch_to_append{base, base + static_cast<int64_t>(records) - 1, base, bytes});
        if (chunk.size() == 256 || i + 1 == batches) {
          if (!log->append(chunk).ok()) return;
          chunk.clear();
        }
      }
      std::vector<int64_t> offs(kOffsetsPerPartition);
      for (auto& o : offs) o = static_cast<int64_t>((rng() % readable) * records);
      offsets_.push_back(std::move(offs));
    }
    ok_ = true;
  }
  ~fetch_fixture() {
    logs_.clear();
#if MINIKAFKA_HAVE_ROCKSDB
    engine_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
#endif
  }
  fetch_fixture(const fetch_fixture&) = delete;
  fetch_fixture& operator=(const fetch_fixture&) = delete;

  bool ok() const { return ok_; }
  bool matches(int backend, size_t partitions, size_t records) const {
    return backend == backend_ && partitions == partitions_ && records == records_;
  }
  size_t partitions() const { return partitions_; }
  size_t batch_bytes() const { return batch_bytes_; }
  const storage::partition_log& log(size_t p) const { return *logs_[p]; }
  int64_t offset(size_t p, size_t round) const { return offsets_[p][round & (kOffsetsPerPartition - 1)]; }

 private:
  bool open_logs() {
    if (backend_ == 0) {
      for (size_t p = 0; p < partitions_; ++p) logs_.push_back(std::make_unique<storage::memory_log>());
      return true;
    }
#if MINIKAFKA_HAVE_ROCKSDB
    std::string tmpl = (std::filesystem::temp_directory_path() / "minikafka-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return false;
    dir_ = tmpl;
    auto e = storage::open_rocksdb_engine(dir_, storage::rocksdb_options{});
    if (!e.ok()) return false;
    engine_ = std::move(e.value());
    for (size_t p = 0; p < partitions_; ++p) {
      auto l = engine_->open_log(kTopicIdHex, static_cast<int32_t>(p));
      if (!l.ok()) return false;
      logs_.push_back(std::move(l.value()));
    }
    return true;
#else
    return false;
#endif
  }

  int backend_;
  size_t partitions_, records_;
  size_t batch_bytes_ = 0;
  bool ok_ = false;
#if MINIKAFKA_HAVE_ROCKSDB
  std::string dir_;
  std::unique_ptr<storage::rocksdb_engine> engine_;
#endif
  std::vector<std::unique_ptr<storage::partition_log>> logs_;
  std::vector<std::vector<int64_t>> offsets_;
};

// The last fixture built, kept for Google Benchmark's repeated runs of one argument set (filling
// a RocksDB log takes seconds); released when the arguments change and by main() after the
// benchmarks (a RocksDB engine must close before RocksDB's own statics are destroyed at exit).
std::unique_ptr<fetch_fixture> cached_fetch_fixture;

const fetch_fixture* get_fetch_fixture(int backend, size_t partitions, size_t records) {
  auto& cached = cached_fetch_fixture;
  if (!cached || !cached->matches(backend, partitions, records)) {
    cached.reset();
    cached = std::make_unique<fetch_fixture>(backend, partitions, records);
  }
  return cached->ok() ? cached.get() : nullptr;
}

void BM_fetch_assemble(benchmark::State& state) {
  const int backend = static_cast<int>(state.range(0));
  const auto partitions = static_cast<size_t>(state.range(1));
  const auto records = static_cast<size_t>(state.range(2));
#if !MINIKAFKA_HAVE_ROCKSDB
  if (backend == 1) {
    state.SkipWithError("built without RocksDB");
    return;
  }
#endif
  const fetch_fixture* fx = get_fetch_fixture(backend, partitions, records);
  if (fx == nullptr) {
    state.SkipWithError("cannot build the logs");
    return;
  }
  const proto::uuid id = topic_id();
  size_t round = 0;
  int64_t total_bytes = 0, total_batches = 0;
  for (auto _ : state) {
    proto::fetch_response resp;
    auto& tr = resp.responses.emplace_back();
    tr.topic_id = id;
    int64_t remaining = fetch_fixture::kMaxBytes;
    bool first_data = true;
    for (size_t p = 0; p < partitions; ++p) {
      const storage::partition_log& log = fx->log(p);
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = static_cast<int32_t>(p);
      pr.records_ = proto::records::empty_set();
      pr.high_watermark = pr.last_stable_offset = log.end_offset();
      pr.log_start_offset = log.start_offset();
      if (!first_data && remaining <= 0) continue;
      const size_t limit = static_cast<size_t>(
          std::min<int64_t>(fetch_fixture::kPartitionMaxBytes, std::max<int64_t>(remaining, 0)));
      auto read = log.read(fx->offset(p, round), limit);
      if (!read) {
        state.SkipWithError("read failed");
        return;
      }
      auto& rd = read.value();
      if (rd.chunks.empty()) continue;
      if (!first_data && rd.bytes > limit) continue;
      first_data = false;
      remaining -= static_cast<int64_t>(rd.bytes);
      total_bytes += static_cast<int64_t>(rd.bytes);
      total_batches += static_cast<int64_t>(rd.chunks.size());
      pr.records_.chunks = std::move(rd.chunks);
    }
    auto out = frame_response(resp, kFetchVersion);
    benchmark::DoNotOptimize(out);
    ++round;
  }
  state.SetLabel(backend == 0 ? "memory" : "rocksdb");
  state.counters["batches_per_fetch"] =
      static_cast<double>(total_batches) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.SetBytesProcessed(total_bytes);
  state.SetItemsProcessed(total_batches * static_cast<int64_t>(records));
}
BENCHMARK(BM_fetch_assemble)
    ->ArgNames({"backend", "partitions", "records"})
    ->ArgsProduct({{0, 1}, {1, 10, 100}, {1, 10, 100}});

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  cached_fetch_fixture.reset();
  benchmark::Shutdown();
  return 0;
}
