// The dispatch seam's cost (Google Benchmark, in-process, no sockets): one Produce (acks=1, one
// partition, 10 records) and one Fetch (one partition, 10 stored batches) through
//
//   BM_handler_direct/...            the handler alone (decode, services, encode), as the
//                                    connection called it before the dispatcher existed
//   BM_dispatch/interceptors:0       dispatcher::dispatch(): header, table lookup, version gate,
//                                    handler, metrics, response header
//   BM_dispatch/interceptors:1|4     the same with pass-through interceptors installed
//
// With no interceptor the chain is one empty-vector check, so interceptors:0 should sit on top
// of BM_handler_direct plus the header work it always did.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>

#include "broker/handlers/handler.h"
#include "broker/server.h"
#include "minikafka/broker.h"
#include "protocol/generated/all_messages.h"
#include "protocol/records/record_batch.h"

namespace {

using namespace mk;

class pass_through final : public interceptor {
 public:
  intercept_action on_request(const request_info&) override { return intercept_action::pass(); }
};

std::vector<uint8_t> encode(const proto::request_header& h, const auto& req) {
  proto::writer w;
  proto::encode_request_header(w, h);
  req.encode(w, h.api_version);
  return w.flatten();
}

std::vector<uint8_t> produce_frame() {
  std::vector<records::record_in> rs(10);
  for (size_t i = 0; i < rs.size(); ++i) {
    rs[i].key = "key-" + std::to_string(i);
    rs[i].value = std::string(100, 'v');
    rs[i].timestamp = 1700000000000;
  }
  proto::produce_request p;
  p.acks = 1;
  p.timeout_ms = 1000;
  auto& td = p.topic_data.emplace_back();
  td.name = "bench";
  auto& pd = td.partition_data.emplace_back();
  pd.index = 0;
  pd.records_ = proto::records{false, {shared_chunk::adopt(records::build_batch(rs, records::codec::none))}};
  proto::request_header h{proto::produce_request::api_key, 9, 1, "bench"};
  return encode(h, p);
}

std::vector<uint8_t> fetch_frame() {
  proto::fetch_request f;
  f.replica_id = -1;
  f.max_wait_ms = 0;
  f.min_bytes = 1;
  f.max_bytes = 1 << 20;
  auto& ft = f.topics.emplace_back();
  ft.topic = "bench";
  auto& fp = ft.partitions.emplace_back();
  fp.partition = 0;
  fp.fetch_offset = 0;
  fp.partition_max_bytes = 1 << 20;
  proto::request_header h{proto::fetch_request::api_key, 11, 2, "bench"};
  return encode(h, f);
}

struct fixture {
  fixture() {
    minikafka::set_log_level("error");
    broker_config cfg;
    cfg.port = 0;
    cfg.trace_capacity = 0;  // the request trace is an interceptor: off, so interceptors:0 is none
    srv = std::make_unique<server>(cfg);
    cluster::create_spec spec;
    spec.name = "bench";
    spec.partitions = 1;
    topic_state* t = nullptr;
    (void)srv->services().topics.create(spec, false, &t);
    part = t->partitions[0].get();
    topic = t;
  }
  // A private copy: Produce edits the frame in place and the log keeps slices of it.
  std::shared_ptr<uint8_t[]> copy(const std::vector<uint8_t>& f) {
    auto p = std::make_shared_for_overwrite<uint8_t[]>(f.size());
    std::memcpy(p.get(), f.data(), f.size());
    return p;
  }
  void trim() {
    if (part->log->end_offset() - part->log->start_offset() > 40960) {
      auto st = part->log->truncate_before(part->log->end_offset());
      benchmark::DoNotOptimize(st);
    }
  }
  std::unique_ptr<server> srv;
  topic_state* topic = nullptr;
  partition_state* part = nullptr;
};

void run_dispatch(benchmark::State& state, const std::vector<uint8_t>& frame, fixture& fx, bool trim) {
  for (int i = 0; i < state.range(0); ++i) fx.srv->dispatcher().add_interceptor(std::make_shared<pass_through>());
  connection_info conn{1, 1, "127.0.0.1:1"};
  auto& io = fx.srv->io();
  size_t bytes = 0;
  for (auto _ : state) {
    auto buf = fx.copy(frame);
    asio::co_spawn(io, fx.srv->dispatcher().dispatch(conn, std::move(buf), frame.size()),
                   [&](std::exception_ptr, dispatch_result r) {
                     for (const auto& c : r.frame) bytes += c.size;
                   });
    io.restart();
    io.run();
    if (trim) fx.trim();
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}

void run_direct(benchmark::State& state, const std::vector<uint8_t>& frame, fixture& fx, bool trim) {
  auto& io = fx.srv->io();
  const bool stopping = false;
  handler_env env{fx.srv->services(), fx.srv->clock(), fx.srv->config(), stopping};
  const api_table& apis = fx.srv->dispatcher().apis();
  const std::string peer = "127.0.0.1:1";
  size_t bytes = 0;
  for (auto _ : state) {
    auto buf = fx.copy(frame);
    asio::co_spawn(
        io,
        [&, buf]() -> asio::awaitable<void> {
          proto::reader r(buf.get(), frame.size(), buf);
          proto::request_header h;
          proto::decode_request_header(r, h);
          request_context ctx{env, apis, h, 1, peer};
          reply rep = co_await apis.find(h.api_key)->fn(ctx, r);
          bytes += rep.body.size();
        },
        asio::detached);
    io.restart();
    io.run();
    if (trim) fx.trim();
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}

void BM_handler_direct_produce(benchmark::State& state) {
  fixture fx;
  run_direct(state, produce_frame(), fx, true);
}
void BM_dispatch_produce(benchmark::State& state) {
  fixture fx;
  run_dispatch(state, produce_frame(), fx, true);
}

// Fetch reads 10 stored batches of 10 records from offset 0.
void fill(fixture& fx) {
  const auto f = produce_frame();
  connection_info conn{1, 1, "127.0.0.1:1"};
  for (int i = 0; i < 10; ++i) {
    asio::co_spawn(fx.srv->io(), fx.srv->dispatcher().dispatch(conn, fx.copy(f), f.size()), asio::detached);
    fx.srv->io().restart();
    fx.srv->io().run();
  }
}
void BM_handler_direct_fetch(benchmark::State& state) {
  fixture fx;
  fill(fx);
  run_direct(state, fetch_frame(), fx, false);
}
void BM_dispatch_fetch(benchmark::State& state) {
  fixture fx;
  fill(fx);
  run_dispatch(state, fetch_frame(), fx, false);
}

BENCHMARK(BM_handler_direct_produce)->Arg(0);
BENCHMARK(BM_dispatch_produce)->ArgName("interceptors")->Arg(0)->Arg(1)->Arg(4);
BENCHMARK(BM_handler_direct_fetch)->Arg(0);
BENCHMARK(BM_dispatch_fetch)->ArgName("interceptors")->Arg(0)->Arg(1)->Arg(4);

}  // namespace

BENCHMARK_MAIN();
