// The admin API's HTTP/1.1 listener (Boost.Beast) on the broker's state thread: reads a request
// (bodies over 8 MiB get 413 before they are read), calls handle_admin_request(), writes the
// response, keeps the connection alive when the client asks. Malformed HTTP gets 400 and a close.
// Runs on: broker state thread.
#pragma once

#include <memory>
#include <string>

#include "broker/asio.h"

namespace mk {

class server;

class http_server {
 public:
  http_server(server& srv, boost::asio::io_context& io);
  ~http_server();
  // Binds host:port (0 = ephemeral); throws std::system_error on failure. Returns the bound port.
  uint16_t listen(const std::string& host, uint16_t port);
  void close();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);

  server& srv_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace mk
