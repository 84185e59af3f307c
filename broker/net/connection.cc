#include "broker/net/connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>

#include "broker/server.h"
#include "protocol/framing.h"
#include "protocol/generated/api_keys.h"

namespace mk {

namespace {
// Stop reading new requests while this many response bytes wait to be written.
constexpr size_t max_queued_bytes = 64 * 1024 * 1024;
// Bytes asked of each recv beyond the current request (see read_loop).
constexpr size_t read_ahead_bytes = 16 * 1024;

std::string api_name(int16_t key) {
  const auto* a = proto::find_api_key(key);
  return a ? a->name : "unknown";
}
}  // namespace

void connection::record(const proto::request_header& h, const uint8_t* frame, size_t size) {
  std::string client;
  for (char c : h.client_id) client.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_');
  std::string name = api_name(h.api_key);
  std::string snake;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::isupper(static_cast<unsigned char>(name[i])) && i > 0) snake.push_back('_');
    snake.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(name[i]))));
  }
  std::string path = srv_.config().record_requests_dir + "/" + snake + "_request_v" + std::to_string(h.api_version) + "_" +
                     (client.empty() ? "anonymous" : client) + ".bin";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(frame), static_cast<std::streamsize>(size));
}

connection::connection(server& srv, asio::ip::tcp::socket socket, int32_t node_id)
    : srv_(srv), socket_(std::move(socket)), node_id_(node_id), drained_(socket_.get_executor()) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  srv_.metrics().connections_opened++;
  spdlog::debug("{}: connection opened", peer_);
}

connection::~connection() {
  srv_.metrics().connections_closed++;
  spdlog::debug("{}: connection closed", peer_);
  srv_.forget(this);
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

asio::awaitable<void> connection::read_loop() {
  auto self = shared_from_this();
  const size_t max_size = srv_.config().max_request_size;
  uint8_t size_buf[4];
  // Read-ahead: one recv usually brings a request's size and body together (and, when the
  // client pipelines, the next requests too), instead of one recv for each. A body is copied out
  // of it into a frame buffer of its own, because stored record batches keep their frame alive;
  // the part of a larger body that has not arrived yet is read straight into its frame.
  std::vector<uint8_t> ahead(read_ahead_bytes);
  size_t ahead_pos = 0, ahead_end = 0;
  try {
    for (;;) {
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
        int32_t n = static_cast<int32_t>((uint32_t{size_buf[0]} << 24) | (uint32_t{size_buf[1]} << 16) |
                                         (uint32_t{size_buf[2]} << 8) | size_buf[3]);
        srv_.metrics().connections_rejected_requests++;
        spdlog::warn("{}: closing connection: request size {} is {} (limit {} bytes)", peer_, n,
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
      srv_.metrics().bytes_in += body_size + 4;
      const auto started = std::chrono::steady_clock::now();

      proto::reader r(frame.get(), body_size, frame);
      proto::request_header h;
      if (!proto::decode_request_header(r, h)) {
        srv_.metrics().connections_rejected_requests++;
        spdlog::warn("{}: closing connection: malformed request header ({} bytes)", peer_, body_size);
        break;
      }
      const api_entry* e = srv_.apis().find(h.api_key);
      bool version_ok = e && h.api_version >= e->min_version && h.api_version <= e->max_version;
      if (!version_ok && h.api_key == proto::api_versions_key && e) {
        // KIP-511: answer an unknown ApiVersions version in v0 with UNSUPPORTED_VERSION and our
        // own ApiVersions range, so the client retries with a version we know.
        proto::writer w;
        w.i32(0);
        proto::encode_response_header(w, h.correlation_id, 0);
        w.i16(proto::code(proto::error_code::unsupported_version));
        w.i32(1);
        w.i16(e->key);
        w.i16(e->min_version);
        w.i16(e->max_version);
        w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
        send(w.take_chunks());
        continue;
      }
      if (!e) {
        srv_.metrics().connections_rejected_requests++;
        spdlog::warn("{}: closing connection: unsupported API key {} ({}) v{} from client '{}'", peer_, h.api_key,
                     api_name(h.api_key), h.api_version, h.client_id);
        break;
      }
      if (!version_ok) {
        srv_.metrics().connections_rejected_requests++;
        spdlog::warn("{}: closing connection: unsupported version {} of {} (served: {}-{}) from client '{}'", peer_,
                     h.api_version, e->name, e->min_version, e->max_version, h.client_id);
        break;
      }

      if (!srv_.config().record_requests_dir.empty()) record(h, frame.get(), body_size);
      request_context ctx{srv_, h, node_id_, peer_};
      reply rep = co_await e->fn(ctx, r);
      if (api_metrics* m = srv_.metrics().api(h.api_key)) {
        m->requests++;
        if (!rep.ok || rep.close_after || rep.errors > 0) m->errors++;
        m->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      }
      if (closed_) break;
      if (!rep.ok) {
        srv_.metrics().connections_rejected_requests++;
        spdlog::warn("{}: closing connection: {} from client '{}'", peer_, rep.error, h.client_id);
        break;
      }
      if (rep.respond) {
        proto::writer head;
        head.i32(0);
        proto::encode_response_header(head, h.correlation_id, proto::response_header_version(h.api_key, h.api_version));
        head.patch_i32(0, static_cast<int32_t>(head.size() - 4 + rep.body.size()));
        auto chunks = head.take_chunks();
        auto body = rep.body.take_chunks();
        chunks.insert(chunks.end(), std::make_move_iterator(body.begin()), std::make_move_iterator(body.end()));
        send(std::move(chunks));
      }
      if (rep.close_after) {
        if (!rep.error.empty()) spdlog::warn("{}: closing connection: {}", peer_, rep.error);
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
      spdlog::debug("{}: connection error: {}", peer_, ex.what());
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
  srv_.metrics().bytes_out += n;
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
