// One client connection: bytes, framing and the ordered write queue. Each framed request goes
// to the dispatcher (broker/dispatch/dispatcher.h), which answers with a response frame, nothing,
// or "close".
//
// Requests on one connection are handled one at a time in arrival order (as Kafka does), while
// responses are written asynchronously, so a client may pipeline freely: the kernel buffers what
// it sends ahead. A request that parks (Fetch long-poll) holds back later requests on the same
// connection only, never other connections.
//
// A frame that cannot be framed (bad size) or dispatched (garbage header, unknown API key or
// version, undecodable body) gets one log line and closes this connection; nothing else is
// affected.
//
// Runs on: the broker state thread.
#pragma once

#include "broker/asio.h"
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/dispatch/dispatcher.h"
#include "broker/metrics.h"
#include "minikafka_common/shared_chunk.h"

namespace mk {

namespace asio = boost::asio;
class connection;

// What a listener gives its connections.
struct listener_env {
  dispatcher& dispatch;
  broker_metrics& metrics;
  size_t max_request_size;
  std::set<connection*>& open;  // every open connection of the broker (closed on shutdown)
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(listener_env& env, asio::ip::tcp::socket socket, int32_t node_id, uint64_t id);
  ~connection();

  void start();
  void close();
  // Stops reading (requests not yet dispatched are never handled), lets the request being
  // handled finish and every queued response be written, then closes. A broker taken down does
  // this, so whatever it did (an append) was answered, and what it did not do was not done.
  void drain_and_close();
  bool draining() const { return draining_; }
  const std::string& peer() const { return info_.peer; }

 private:
  asio::awaitable<void> read_loop();
  void send(std::vector<shared_chunk> frame);
  void write_more();

  listener_env& env_;
  asio::ip::tcp::socket socket_;
  connection_info info_;
  std::deque<std::vector<shared_chunk>> outq_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  bool closed_after_write_ = false;  // reading ended; close once the queue is written
  bool draining_ = false;            // drain_and_close() was called
  asio::steady_timer drained_;  // signalled when the write queue drains (back-pressure)
};

}  // namespace mk
