// Fetch: every version in protocol/generated/fetch_request.h (0-17).
//
// Behaviour:
//  * Long poll: when fewer than min_bytes are available the request parks until data is appended
//    to one of its partitions (the append wakes it: no polling) or max_wait_ms passes. Errors in
//    any partition answer at once.
//  * Size limits are soft as in KIP-74: the first batch of the first partition with data is
//    returned whole even when larger than partition_max_bytes or max_bytes; after that, batches
//    are added only while they fit. Only whole batches are sent.
//  * Record bytes go from storage into the response by reference (no copy), except for v0-v3,
//    which get legacy message sets (magic 0 for v0-v1, magic 1 for v2-v3) by down-conversion.
//  * Every requested partition is in the response, in request order, with high watermark, last
//    stable offset (the first offset of the oldest open transaction, else the high watermark) and
//    log start offset.
//  * read_committed (v4+ isolation_level 1): only batches below the last stable offset, with the
//    aborted transactions that overlap them (producer id, first offset) so the consumer can skip
//    their records; read_uncommitted gets everything and a null aborted list.
//  * OFFSET_OUT_OF_RANGE outside [log start, log end]; UNKNOWN_TOPIC_OR_PARTITION (v0-12) or
//    UNKNOWN_TOPIC_ID (v13+) for missing topics; NOT_LEADER_OR_FOLLOWER when this node does not
//    lead; FENCED/UNKNOWN_LEADER_EPOCH for a stale/future current_leader_epoch (v9+); the first
//    two with the current leader and epoch (v12+) and its endpoint (v16+) (KIP-951);
//  * A parked fetch whose partition changes leader (cluster operations) is woken and answers
//    NOT_LEADER_OR_FOLLOWER at once;
//    KAFKA_STORAGE_ERROR (storage_error_code) when the log fails to read, at once, not parked.
//  * Fetch sessions (v7+) are not created: session_id 0 tells clients to keep sending full
//    requests, which Kafka allows.
// Version notes: v3+ max_bytes; v4+ isolation level and aborted transactions (empty for
// read_committed, null otherwise); v5+ log start offset; below v10, topics whose compression.type
// is zstd answer UNSUPPORTED_COMPRESSION_TYPE (as Kafka; batches are not inspected); v13+ topic ids instead of names.
#include <spdlog/spdlog.h>


#include "broker/handlers/handler.h"
#include "broker/handlers/leader_hint.h"
#include "broker/storage_error.h"
#include "protocol/records/legacy.h"
#include "protocol/records/record_batch.h"

namespace mk::handlers {

namespace {

class timer_waiter final : public append_waiter {
 public:
  explicit timer_waiter(asio::steady_timer& t) : timer_(t) {}
  ~timer_waiter() override { unregister(); }
  void on_append() override {
    woken_ = true;
    timer_.cancel();
  }
  void watch(const std::shared_ptr<partition_state>& p) {
    p->waiters.push_back(this);
    watched_.push_back(p);
  }
  void unregister() {
    for (auto& w : watched_)
      if (auto p = w.lock()) p->remove_waiter(this);
    watched_.clear();
  }
  bool woken() const { return woken_; }

 private:
  asio::steady_timer& timer_;
  std::vector<std::weak_ptr<partition_state>> watched_;
  bool woken_ = false;
};

// Keeps the whole batches of `rd` that start below `limit` (read_committed stops at the last
// stable offset) and returns the last offset kept (-1 when none).
int64_t keep_below(storage::read_result& rd, int64_t limit) {
  std::vector<shared_chunk> kept;
  size_t bytes = 0;
  int64_t last = -1;
  for (auto& c : rd.chunks) {
    size_t pos = 0;
    while (pos + records::batch_header_size <= c.size) {
      const auto h = records::read_batch_header(c.data + pos);
      if (h.base_offset >= limit) break;
      last = h.last_offset();
      pos += h.size_bytes();
    }
    if (pos >= c.size) {
      bytes += c.size;
      kept.push_back(std::move(c));
      continue;
    }
    if (pos > 0) {
      kept.push_back(c.slice(0, pos));
      bytes += pos;
    }
    break;
  }
  rd.chunks = std::move(kept);
  rd.bytes = bytes;
  return last;
}

struct build_result {
  proto::fetch_response resp;
  size_t bytes = 0;
  bool any_error = false;
  std::vector<std::shared_ptr<partition_state>> partitions;  // to watch while parked
};

build_result build(request_context& ctx, const proto::fetch_request& req) {
  build_result out;
  auto& topics = ctx.svc().topics;
  const int16_t v = ctx.version();
  const bool by_id = v >= 13;
  int64_t remaining = v >= 3 ? std::min<int64_t>(req.max_bytes, ctx.env.config.fetch_max_bytes)
                             : std::numeric_limits<int64_t>::max();
  bool first_data = true;
  for (const auto& ft : req.topics) {
    auto& tr = out.resp.responses.emplace_back();
    tr.topic = ft.topic;
    tr.topic_id = ft.topic_id;
    topic_state* t = by_id ? topics.find(ft.topic_id) : topics.find(ft.topic);
    for (const auto& fp : ft.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = fp.partition;
      pr.records_ = proto::records::empty_set();
      if (v >= 4 && req.isolation_level == 1) pr.aborted_transactions.emplace();
      auto fail = [&](error_code e) {
        pr.error_code = code(e);
        pr.high_watermark = -1;
        pr.last_stable_offset = -1;
        pr.log_start_offset = -1;
        out.any_error = true;
      };
      if (!t) {
        fail(by_id ? error_code::unknown_topic_id : error_code::unknown_topic_or_partition);
        continue;
      }
      const auto& pp = fp.partition >= 0 && static_cast<size_t>(fp.partition) < t->partitions.size()
                           ? t->partitions[static_cast<size_t>(fp.partition)]
                           : nullptr;
      if (!pp) {
        fail(error_code::unknown_topic_or_partition);
        continue;
      }
      partition_state& p = *pp;
      if (auto e = check_leader(p, ctx.node_id, fp.current_leader_epoch); e != error_code::none) {
        fail(e);
        if (leadership_error(e)) hint_leader(ctx, p, pr.current_leader, out.resp.node_endpoints);
        continue;
      }
      auto& log = *p.log;
      const bool committed_only = v >= 4 && req.isolation_level == 1;
      const int64_t lso = p.last_stable_offset();
      const int64_t upper = committed_only ? lso : log.end_offset();  // what this fetch may read
      pr.high_watermark = log.end_offset();
      pr.last_stable_offset = lso;
      pr.log_start_offset = log.start_offset();
      if (fp.fetch_offset < log.start_offset() || fp.fetch_offset > log.end_offset()) {
        pr.error_code = code(error_code::offset_out_of_range);
        out.any_error = true;
        continue;
      }
      // As Kafka does, judge by the topic's compression.type, not by the stored batches: zstd
      // batches produced to a "producer"-compressed topic reach old fetchers that can read them.
      if (v < 10 && t->configs.get("compression.type") == "zstd") {
        pr.error_code = code(error_code::unsupported_compression_type);
        out.any_error = true;
        continue;
      }
      out.partitions.push_back(pp);
      if (fp.fetch_offset >= upper || fp.partition_max_bytes <= 0) continue;
      if (!first_data && remaining <= 0) continue;
      size_t limit = static_cast<size_t>(std::min<int64_t>(fp.partition_max_bytes, std::max<int64_t>(remaining, 0)));
      auto read = log.read(fp.fetch_offset, limit);
      if (!read) {
        spdlog::warn("{}: fetch from {}-{} at {} failed: storage {}", ctx.peer, t->name, p.index, fp.fetch_offset,
                     storage::to_string(read.error()));
        fail(storage_error_code(read.error()));
        continue;
      }
      auto& rd = read.value();
      if (committed_only) {
        const int64_t last = keep_below(rd, lso);
        // The aborted transactions the consumer must skip in what it gets (Kafka's
        // collectAbortedTransactions: those ending at or after the fetch offset and starting
        // at or before the last offset returned).
        for (const auto& a : p.aborted)
          if (a.last_offset >= fp.fetch_offset && a.first_offset <= last) {
            auto& at = pr.aborted_transactions->emplace_back();
            at.producer_id = a.producer_id;
            at.first_offset = a.first_offset;
          }
      }
      if (rd.chunks.empty()) continue;
      if (!first_data && rd.bytes > limit) continue;  // only the very first batch may exceed limits
      first_data = false;
      remaining -= static_cast<int64_t>(rd.bytes);
      out.bytes += rd.bytes;
      if (v < 4) {
        // Old readers cannot parse v2 batches: convert (a copy, on this cold path only).
        std::vector<uint8_t> in;
        in.reserve(rd.bytes);
        for (const auto& c : rd.chunks) in.insert(in.end(), c.data, c.data + c.size);
        std::vector<uint8_t> legacy;
        if (!records::down_convert(in.data(), in.size(), v <= 1 ? 0 : 1, legacy)) {
          spdlog::warn("{}: down-conversion of {}-{} at {} failed", ctx.peer, t->name, p.index, fp.fetch_offset);
          pr.error_code = code(error_code::corrupt_message);
          out.any_error = true;
          continue;
        }
        pr.records_.chunks.push_back(shared_chunk::adopt(std::move(legacy)));
      } else {
        pr.records_.chunks = std::move(rd.chunks);
      }
    }
  }
  return out;
}

}  // namespace

asio::awaitable<proto::fetch_response> fetch(request_context& ctx, proto::fetch_request& req) {
  mk::clock& clk = ctx.env.clock;
  const int64_t deadline = clk.steady_ms() + std::max(req.max_wait_ms, 0);
  const size_t min_bytes = static_cast<size_t>(std::max(req.min_bytes, 0));
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    build_result r = build(ctx, req);
    if (r.bytes >= min_bytes || r.any_error || req.max_wait_ms <= 0 || clk.steady_ms() >= deadline ||
        r.partitions.empty() || ctx.env.stopping)
      co_return std::move(r.resp);
    timer_waiter waiter(timer);
    for (auto& p : r.partitions) waiter.watch(p);
    clock_wait armed = clk.arm(timer, deadline);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // Woken by an append (cancelled), by the deadline, or by the clock: rebuild and decide again.
  }
}

}  // namespace mk::handlers
