// One client connection: reads frames, dispatches each request through the API table, and writes
// responses in request order.
//
// Requests on one connection are handled one at a time in arrival order (as Kafka does), while
// responses are written asynchronously, so a client may pipeline freely: the kernel buffers what
// it sends ahead. A request that parks (Fetch long-poll) holds back later requests on the same
// connection only, never other connections.
//
// A frame that cannot be framed or decoded (bad size, garbage header, unknown API key or
// version) gets one log line and closes this connection; nothing else is affected.
//
// Runs on: the broker state thread.
#pragma once

#include "broker/asio.h"
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "minikafka_common/shared_chunk.h"
#include "protocol/framing.h"

namespace mk {

class server;
namespace asio = boost::asio;

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(server& srv, asio::ip::tcp::socket socket, int32_t node_id);
  ~connection();

  void start();
  void close();
  const std::string& peer() const { return peer_; }

 private:
  asio::awaitable<void> read_loop();
  void send(std::vector<shared_chunk> frame);
  void write_more();
  void record(const proto::request_header& h, const uint8_t* frame, size_t size);

  server& srv_;
  asio::ip::tcp::socket socket_;
  int32_t node_id_;
  std::string peer_;
  std::deque<std::vector<shared_chunk>> outq_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  bool closed_after_write_ = false;  // reading ended; close once the queue is written
  asio::steady_timer drained_;  // signalled when the write queue drains (back-pressure)
};

}  // namespace mk
