// The admin API's HTTP/1.1 listener (Boost.Beast) on the broker's state thread: reads a request
// (bodies over 8 MiB get 413 before they are read), calls the route handler it was given, writes
// the response, keeps the connection alive when the client asks. Malformed HTTP gets 400 and a
// close. Open sessions are tracked so close() ends them all.
// Runs on: broker state thread.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "broker/admin/admin_api.h"
#include "broker/asio.h"
#include <boost/beast/core/tcp_stream.hpp>

namespace mk {

class http_server {
 public:
  using handler = std::function<boost::asio::awaitable<http_response>(http_request)>;
  http_server(boost::asio::io_context& io, handler h);
  ~http_server();
  // Binds host:port (0 = ephemeral); throws std::system_error on failure. Returns the bound port.
  uint16_t listen(const std::string& host, uint16_t port);
  // Closes the listener and every open session.
  void close();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> write_stream(boost::beast::tcp_stream& stream, http_response& resp, unsigned version);

  handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::set<boost::asio::ip::tcp::socket*> sessions_;
  bool closed_ = false;
};

}  // namespace mk
