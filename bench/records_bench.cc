// Micro-benchmarks of record batches (Google Benchmark, linked against minikafka_records).
//
//  BM_crc32c/impl/size               CRC-32C alone: 0 = crc32c() (runtime dispatch), 1 = the
//                                    slicing-by-8 table, 2 = the SSE4.2 instruction.
//  BM_validate_batch/records/bytes   validate_batch() on one uncompressed batch of `records`
//                                    records of `bytes` value bytes: what produce pays per batch.
//  BM_compress, BM_decompress        the batch codecs on the records area of such a batch
//    /codec/records/bytes            (codec 1 gzip, 2 snappy, 3 lz4, 4 zstd); bytes/s counts the
//                                    uncompressed bytes both ways, "ratio" is uncompressed /
//                                    compressed.
//  BM_decode_records/codec/records   decode_records() (decompression + per-record parsing): the
//                                    cold paths that look inside batches (compacted-topic produce
//                                    checks and the cleaner, ListOffsets by time).
//  BM_build_batch/codec/records      batch_builder add() x N + finish(): how the cleaner and the
//                                    legacy conversions write a batch back (compression included).
//  BM_down_convert/codec/records     down_convert() of one stored batch to a magic-1 message set:
//                                    the Fetch v0-v3 path.
//
// Items/s are records. Record values are JSON-like text with random numbers (compressible about
// 2-4x, like typical event payloads); keys are "key-NNNNNN". Inputs are built before the timed
// loop; the loops reuse their output vectors as a caller that keeps a scratch buffer would.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "protocol/records/compression.h"
#include "protocol/records/crc32c.h"
#include "protocol/records/legacy.h"
#include "protocol/records/record_batch.h"

namespace {

namespace rec = mk::records;

constexpr int64_t kBaseTimestamp = 1'700'000'000'000;

// A JSON-like event of exactly n bytes.
std::string event_value(std::mt19937_64& rng, size_t n) {
  static constexpr const char* kEvents[] = {"click", "view", "purchase", "scroll", "login", "logout"};
  std::string s;
  s.reserve(n + 128);
  char buf[160];
  while (s.size() < n) {
    int len = std::snprintf(buf, sizeof buf,
                            "{\"user\":\"u%05u\",\"event\":\"%s\",\"amount\":%u.%02u,\"session\":\"%08x\"},",
                            static_cast<unsigned>(rng() % 100000), kEvents[rng() % 6],
                            static_cast<unsigned>(rng() % 1000), static_cast<unsigned>(rng() % 100),
                            static_cast<unsigned>(rng()));
    s.append(buf, static_cast<size_t>(len));
  }
  s.resize(n);
  return s;
}

struct record_set {
  std::vector<std::string> keys, values;
  size_t value_bytes = 0;
};

record_set make_records(size_t count, size_t value_size, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  record_set rs;
  char key[32];
  for (size_t i = 0; i < count; ++i) {
    std::snprintf(key, sizeof key, "key-%06zu", i);
    rs.keys.emplace_back(key);
    rs.values.push_back(event_value(rng, value_size));
    rs.value_bytes += value_size;
  }
  return rs;
}

std::vector<uint8_t> make_batch(const record_set& rs, rec::codec c) {
  rec::batch_builder b(c);
  for (size_t i = 0; i < rs.keys.size(); ++i)
    b.add(kBaseTimestamp + static_cast<int64_t>(i), rs.keys[i], rs.values[i]);
  return b.finish();
}

rec::codec codec_arg(const benchmark::State& state, int index) {
  return static_cast<rec::codec>(state.range(index));
}

void set_label(benchmark::State& state, rec::codec c) { state.SetLabel(rec::to_string(c)); }

// ------------------------------------------------------------------------------------- CRC32C

void BM_crc32c(benchmark::State& state) {
  const int impl = static_cast<int>(state.range(0));
  const auto size = static_cast<size_t>(state.range(1));
  if (impl == 2 && !rec::crc32c_hardware_available()) {
    state.SkipWithError("no SSE4.2 crc32 instruction on this CPU");
    return;
  }
  std::vector<uint8_t> buf(size);
  std::mt19937_64 rng(1);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (auto _ : state) {
    uint32_t crc = impl == 0   ? rec::crc32c(buf.data(), buf.size())
                   : impl == 1 ? rec::crc32c_software(buf.data(), buf.size())
                               : rec::crc32c_hardware(buf.data(), buf.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetLabel(impl == 0 ? "dispatch" : impl == 1 ? "software" : "hardware");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_crc32c)->ArgNames({"impl", "size"})->ArgsProduct({{0, 1, 2}, {64, 1 << 10, 16 << 10, 1 << 20}});

// ------------------------------------------------------------------------------ validation

void BM_validate_batch(benchmark::State& state) {
  const auto count = static_cast<size_t>(state.range(0));
  const auto value_size = static_cast<size_t>(state.range(1));
  const std::vector<uint8_t> batch = make_batch(make_records(count, value_size), rec::codec::none);
  if (batch.empty()) {
    state.SkipWithError("cannot build the batch");
    return;
  }
  for (auto _ : state) {
    rec::batch_header h;
    auto e = rec::validate_batch(batch.data(), batch.size(), &h);
    benchmark::DoNotOptimize(e);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(count));
}
BENCHMARK(BM_validate_batch)
    ->ArgNames({"records", "bytes"})
    ->ArgsProduct({{1, 10, 100, 1000}, {100, 10 << 10}});

// ----------------------------------------------------------------------------- compression

const std::vector<std::vector<int64_t>> kCodecSweep = {
    {static_cast<int64_t>(rec::codec::gzip), static_cast<int64_t>(rec::codec::snappy),
     static_cast<int64_t>(rec::codec::lz4), static_cast<int64_t>(rec::codec::zstd)},
    {1, 10, 100, 1000},
    {100, 10 << 10}};

// The uncompressed records area (what a producer's codec compresses) of a batch.
std::vector<uint8_t> records_area(size_t count, size_t value_size) {
  std::vector<uint8_t> batch = make_batch(make_records(count, value_size), rec::codec::none);
  if (batch.size() < rec::batch_header_size) return {};
  return std::vector<uint8_t>(batch.begin() + rec::batch_header_size, batch.end());
}

void BM_compress(benchmark::State& state) {
  const rec::codec c = codec_arg(state, 0);
  const std::vector<uint8_t> in =
      records_area(static_cast<size_t>(state.range(1)), static_cast<size_t>(state.range(2)));
  std::vector<uint8_t> out;
  if (in.empty() || !rec::compress(c, in, out)) {
    state.SkipWithError("compression failed");
    return;
  }
  const size_t compressed = out.size();
  for (auto _ : state) {
    out.clear();
    bool ok = rec::compress(c, in, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
  set_label(state, c);
  state.counters["ratio"] = static_cast<double>(in.size()) / static_cast<double>(compressed);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(in.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
}
BENCHMARK(BM_compress)->ArgNames({"codec", "records", "bytes"})->ArgsProduct(kCodecSweep);

void BM_decompress(benchmark::State& state) {
  const rec::codec c = codec_arg(state, 0);
  const std::vector<uint8_t> in =
      records_area(static_cast<size_t>(state.range(1)), static_cast<size_t>(state.range(2)));
  std::vector<uint8_t> compressed;
  if (in.empty() || !rec::compress(c, in, compressed)) {
    state.SkipWithError("compression failed");
    return;
  }
  std::vector<uint8_t> out;
  for (auto _ : state) {
    out.clear();
    bool ok = rec::decompress(c, compressed, out);
    if (!ok || out.size() != in.size()) {
      state.SkipWithError("decompression failed");
      break;
    }
  }
  set_label(state, c);
  state.counters["ratio"] = static_cast<double>(in.size()) / static_cast<double>(compressed.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(in.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
}
BENCHMARK(BM_decompress)->ArgNames({"codec", "records", "bytes"})->ArgsProduct(kCodecSweep);

// ------------------------------------------------------------- whole-batch cold paths (100 B)

const std::vector<std::vector<int64_t>> kBatchSweep = {
    {static_cast<int64_t>(rec::codec::none), static_cast<int64_t>(rec::codec::gzip),
     static_cast<int64_t>(rec::codec::snappy), static_cast<int64_t>(rec::codec::lz4),
     static_cast<int64_t>(rec::codec::zstd)},
    {1, 10, 100, 1000}};
constexpr size_t kSmallValue = 100;

void BM_decode_records(benchmark::State& state) {
  const rec::codec c = codec_arg(state, 0);
  const auto count = static_cast<size_t>(state.range(1));
  const record_set rs = make_records(count, kSmallValue);
  const std::vector<uint8_t> batch = make_batch(rs, c);
  std::vector<uint8_t> scratch;
  std::vector<rec::record_view> out;
  if (batch.empty() || !rec::decode_records(batch.data(), batch.size(), scratch, out) || out.size() != count) {
    state.SkipWithError("cannot build or decode the batch");
    return;
  }
  for (auto _ : state) {
    bool ok = rec::decode_records(batch.data(), batch.size(), scratch, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
  set_label(state, c);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(count));
}
BENCHMARK(BM_decode_records)->ArgNames({"codec", "records"})->ArgsProduct(kBatchSweep);

void BM_build_batch(benchmark::State& state) {
  const rec::codec c = codec_arg(state, 0);
  const auto count = static_cast<size_t>(state.range(1));
  const record_set rs = make_records(count, kSmallValue);
  size_t out_bytes = 0;
  for (auto _ : state) {
    rec::batch_builder b(c);
    for (size_t i = 0; i < count; ++i) b.add(kBaseTimestamp + static_cast<int64_t>(i), rs.keys[i], rs.values[i]);
    std::vector<uint8_t> out = b.finish();
    out_bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  if (out_bytes == 0) state.SkipWithError("finish() failed");
  set_label(state, c);
  // Bytes: the record values that went in.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(rs.value_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(count));
}
BENCHMARK(BM_build_batch)->ArgNames({"codec", "records"})->ArgsProduct(kBatchSweep);

void BM_down_convert(benchmark::State& state) {
  const rec::codec c = codec_arg(state, 0);
  const auto count = static_cast<size_t>(state.range(1));
  const std::vector<uint8_t> batch = make_batch(make_records(count, kSmallValue), c);
  std::vector<uint8_t> out;
  if (batch.empty() || !rec::down_convert(batch.data(), batch.size(), 1, out)) {
    state.SkipWithError("cannot build or down-convert the batch");
    return;
  }
  for (auto _ : state) {
    bool ok = rec::down_convert(batch.data(), batch.size(), 1, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
  set_label(state, c);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(count));
}
BENCHMARK(BM_down_convert)->ArgNames({"codec", "records"})->ArgsProduct(kBatchSweep);

}  // namespace
