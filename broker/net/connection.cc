#include "broker/net/connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

#include "protocol/framing.h"
#include "protocol/records/byte_io.h"

namespace mk {

namespace {
// Stop reading new requests while this many response bytes wait to be written.
constexpr size_t max_queued_bytes = 64 * 1024 * 1024;
// Bytes asked of each recv beyond the current request (see read_loop).
constexpr size_t read_ahead_bytes = 16 * 1024;
// How long a draining connection (drain_and_close) stays open after its last response.
constexpr auto drain_linger = std::chrono::milliseconds(100);
}  // namespace

connection::connection(listener_env& env, asio::ip::tcp::socket socket, int32_t node_id, uint64_t id)
    : env_(env), socket_(std::move(socket)), drained_(socket_.get_executor()) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  info_.id = id;
  info_.node_id = node_id;
  info_.peer = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  env_.metrics.connections_opened++;
  env_.open.insert(this);
  spdlog::debug("{}: connection opened", info_.peer);
}

connection::~connection() {
  env_.metrics.connections_closed++;
  env_.open.erase(this);
  spdlog::debug("{}: connection closed", info_.peer);
}

void connection::start() {
  asio::co_spawn(socket_.get_executor(), [self = shared_from_this()] { return self->read_loop(); },
                 asio::detached);
}

void connection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  drained_.cancel();
}

void connection::drain_and_close() {
  if (closed_ || draining_) return;
  draining_ = true;
  // A pending read ends (EOF); the read loop then stops before the next request.
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
}

asio::awaitable<void> connection::read_loop() {
  auto self = shared_from_this();
  const size_t max_size = env_.max_request_size;
  uint8_t size_buf[4];
  // Read-ahead: one recv usually brings a request's size and body together (and, when the
  // client pipelines, the next requests too), instead of one recv for each. A body is copied out
  // of it into a frame buffer of its own, because stored record batches keep their frame alive;
  // the part of a larger body that has not arrived yet is read straight into its frame.
  std::vector<uint8_t> ahead(read_ahead_bytes);
  size_t ahead_pos = 0, ahead_end = 0;
  try {
    for (;;) {
      if (draining_) break;  // requests already read ahead are dropped, never handled
      while (ahead_end - ahead_pos < 4) {
        if (ahead_pos > 0) {
          std::memmove(ahead.data(), ahead.data() + ahead_pos, ahead_end - ahead_pos);
          ahead_end -= ahead_pos;
          ahead_pos = 0;
        }
        ahead_end += co_await socket_.async_read_some(asio::buffer(ahead.data() + ahead_end, ahead.size() - ahead_end),
                                                      asio::use_awaitable);
      }
      std::memcpy(size_buf, ahead.data() + ahead_pos, 4);
      ahead_pos += 4;
      size_t body_size = 0;
      auto st = proto::peek_frame(size_buf, 4, max_size, body_size);
      if (st == proto::frame_status::too_large || st == proto::frame_status::negative_size) {
        const int32_t n = records::load_i32(size_buf);
        env_.metrics.connections_rejected_requests++;
        spdlog::warn("{}: closing connection: request size {} is {} (limit {} bytes)", info_.peer, n,
                     n < 0 ? "negative" : "over the limit", max_size);
        break;
      }
      // Allocated only now that the size is known to be within the limit; not zero-filled.
      std::shared_ptr<uint8_t[]> frame = std::make_shared_for_overwrite<uint8_t[]>(body_size);
      const size_t have = std::min(body_size, ahead_end - ahead_pos);
      std::memcpy(frame.get(), ahead.data() + ahead_pos, have);
      ahead_pos += have;
      if (ahead_pos == ahead_end) ahead_pos = ahead_end = 0;
      if (have < body_size)
        co_await asio::async_read(socket_, asio::buffer(frame.get() + have, body_size - have), asio::use_awaitable);
      env_.metrics.bytes_in += body_size + 4;
      dispatch_result res = co_await env_.dispatch.dispatch(info_, std::move(frame), body_size);
      if (closed_) break;
      if (!res.frame.empty()) send(std::move(res.frame));
      if (res.close) {
        if (!res.reason.empty()) spdlog::warn("{}: closing connection: {}", info_.peer, res.reason);
        break;
      }
      // Back-pressure: a client that does not read its responses stops being read.
      while (queued_bytes_ > max_queued_bytes && !closed_) {
        drained_.expires_at(asio::steady_timer::time_point::max());
        boost::system::error_code ec;
        co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (closed_) break;
    }
  } catch (const boost::system::system_error& ex) {
    if (ex.code() != asio::error::eof && ex.code() != asio::error::operation_aborted &&
        ex.code() != asio::error::connection_reset)
      spdlog::debug("{}: connection error: {}", info_.peer, ex.what());
  }
  if (draining_ && !closed_) {
    // The broker went down: write what is queued, then wait a little before closing. A client
    // that reads a response together with the connection's end may drop the response (kafka-
    // python 2.0.2 discards what one recv batch brought when it also saw EOF) and retry an
    // append that was done; the pause lets it read the answer first.
    boost::system::error_code ec;
    while (writing_ && !closed_) {
      drained_.expires_at(asio::steady_timer::time_point::max());
      co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!closed_) {
      drained_.expires_after(drain_linger);
      co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    close();
    co_return;
  }
  // Let queued responses go out before closing (e.g. an error reply before a close).
  if (!writing_) close();
  else closed_after_write_ = true;
}

void connection::send(std::vector<shared_chunk> frame) {
  if (closed_) return;
  size_t n = 0;
  for (const auto& c : frame) n += c.size;
  queued_bytes_ += n;
  env_.metrics.bytes_out += n;
  outq_.push_back(std::move(frame));
  if (!writing_) write_more();
}

void connection::write_more() {
  if (outq_.empty() || closed_) {
    writing_ = false;
    drained_.cancel();
    if (closed_after_write_) close();
    return;
  }
  writing_ = true;
  // Gather everything queued into one write.
  auto batch = std::make_shared<std::vector<std::vector<shared_chunk>>>();
  std::vector<asio::const_buffer> bufs;
  while (!outq_.empty()) {
    for (const auto& c : outq_.front()) bufs.emplace_back(c.data, c.size);
    batch->push_back(std::move(outq_.front()));
    outq_.pop_front();
  }
  asio::async_write(socket_, bufs, [self = shared_from_this(), batch](boost::system::error_code ec, size_t n) {
    self->queued_bytes_ -= n;
    if (ec) {
      self->writing_ = false;
      self->close();
      return;
    }
    self->write_more();
  });
}

}  // namespace mk
