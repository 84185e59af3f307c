#include "broker/admin/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "broker/admin/admin_api.h"

namespace mk {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

namespace {
constexpr size_t max_body_bytes = 8 * 1024 * 1024;

http_request to_request(const http::request<http::string_body>& r) {
  return make_http_request(std::string(r.method_string()), std::string_view(r.target().data(), r.target().size()),
                           r.body());
}
}  // namespace

http_server::http_server(asio::io_context& io, handler h) : handler_(std::move(h)), acceptor_(io) {}
http_server::~http_server() = default;

uint16_t http_server::listen(const std::string& host, uint16_t port) {
  asio::ip::tcp::resolver res(acceptor_.get_executor());
  auto ep = res.resolve(host, std::to_string(port), asio::ip::resolver_base::passive).begin()->endpoint();
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
  return acceptor_.local_endpoint().port();
}

void http_server::close() {
  closed_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto* s : sessions_) {
    s->shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    s->close(ec);
  }
}

asio::awaitable<void> http_server::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    auto s = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    // After close() (or during teardown) the acceptor may be gone: leave without touching it.
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    if (closed_) co_return;
    asio::co_spawn(acceptor_.get_executor(), session(std::move(s)), asio::detached);
  }
}

asio::awaitable<void> http_server::write_stream(beast::tcp_stream& stream, http_response& resp, unsigned version) {
  http::response<http::empty_body> res{static_cast<http::status>(resp.status), version};
  res.set(http::field::server, "minikafka");
  res.set(http::field::content_type, resp.content_type);
  res.keep_alive(false);
  res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  boost::system::error_code ec;
  stream.expires_never();  // the stream may stay open for a long time; the producer bounds it
  co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  std::optional<std::string> chunk = std::move(resp.body);
  while (!closed_) {
    if (chunk && !chunk->empty()) {
      co_await asio::async_write(stream, http::make_chunk(asio::buffer(*chunk)), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    chunk = co_await resp.stream();
    if (!chunk) break;
  }
  if (!closed_) co_await asio::async_write(stream, http::make_chunk_last(), asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> http_server::session(asio::ip::tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  sessions_.insert(&stream.socket());
  struct unregister {
    std::set<asio::ip::tcp::socket*>& set;
    asio::ip::tcp::socket* s;
    ~unregister() { set.erase(s); }
  } guard{sessions_, &stream.socket()};
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_body_bytes);
    stream.expires_after(std::chrono::seconds(60));
    boost::system::error_code ec;
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && parser.get()[http::field::expect] == "100-continue") {
      // Tell curl & co to send the body now instead of after their own timeout.
      http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
      co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec && !parser.is_done())
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
      break;
    http_response resp;
    bool keep_alive = false;
    unsigned version = 11;
    if (ec == http::error::body_limit) {
      resp = http_response{413, "application/json",
                           R"({"error":"payload_too_large","message":"request body over 8 MiB"})", {}};
    } else if (ec) {
      resp = http_response{400, "application/json",
                           std::string(R"({"error":"bad_request","message":"malformed HTTP request: )") + ec.message() + "\"}", {}};
    } else {
      auto& req = parser.get();
      keep_alive = req.keep_alive();
      version = req.version();
      resp = co_await handler_(to_request(req));
    }
    if (resp.stream) {
      co_await write_stream(stream, resp, version);
      break;
    }
    http::response<http::string_body> res{static_cast<http::status>(resp.status), version};
    res.set(http::field::server, "minikafka");
    res.set(http::field::content_type, resp.content_type);
    if (!resp.allow.empty()) res.set(http::field::allow, resp.allow);
    res.keep_alive(keep_alive);
    res.body() = std::move(resp.body);
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(60));  // a route may have waited (long-polls, wait_ms)
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive || closed_) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

}  // namespace mk
