#include "test_client.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mk::test {

namespace {
using clock = std::chrono::steady_clock;

int ms_until(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<millis>(deadline - clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}
}  // namespace

client::client(uint16_t port, const std::string& host) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw client_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd_);
    throw client_error("bad IPv4 address " + host);
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw client_error("connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(e));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

client::client(client&& o) noexcept
    : client_id(std::move(o.client_id)), fd_(o.fd_), next_correlation_id_(o.next_correlation_id_), timeout_(o.timeout_) {
  o.fd_ = -1;
}

client::~client() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<uint8_t> client::encode_header(int16_t api_key, int16_t version, int32_t* corr) {
  proto::writer w;
  proto::request_header h;
  h.api_key = api_key;
  h.api_version = version;
  h.correlation_id = next_correlation_id_++;
  h.client_id = client_id;
  proto::encode_request_header(w, h);
  if (corr) *corr = h.correlation_id;
  return w.flatten();
}

std::vector<uint8_t> client::frame(std::span<const uint8_t> body) {
  std::vector<uint8_t> out;
  out.reserve(body.size() + 4);
  auto n = static_cast<uint32_t>(body.size());
  out.push_back(static_cast<uint8_t>(n >> 24));
  out.push_back(static_cast<uint8_t>(n >> 16));
  out.push_back(static_cast<uint8_t>(n >> 8));
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

bool client::try_send_raw(std::span<const uint8_t> bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

void client::send_raw(std::span<const uint8_t> bytes) {
  if (!try_send_raw(bytes)) throw connection_closed(std::string("send: ") + std::strerror(errno));
}

wait_result client::wait_readable(millis timeout) {
  pollfd p{fd_, POLLIN, 0};
  for (;;) {
    int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return wait_result::timeout;
    if (rc < 0) return wait_result::closed;
    if (p.revents & POLLIN) {
      // Readable: data, or EOF / reset. Peek to tell them apart.
      uint8_t b;
      ssize_t n = ::recv(fd_, &b, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return wait_result::data;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      return wait_result::closed;
    }
    return wait_result::closed;  // POLLERR / POLLHUP without data
  }
}

wait_result client::read_exact(uint8_t* out, size_t n, clock::time_point deadline) {
  size_t got = 0;
  while (got < n) {
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, ms_until(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return wait_result::timeout;
    ssize_t r = ::recv(fd_, out + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    return wait_result::closed;  // 0 = orderly close; <0 = ECONNRESET and friends
  }
  return wait_result::data;
}

std::optional<std::vector<uint8_t>> client::try_receive_frame(millis timeout, wait_result* why) {
  const auto deadline = clock::now() + timeout;
  uint8_t size_buf[4];
  auto st = read_exact(size_buf, 4, deadline);
  if (st != wait_result::data) {
    if (why) *why = st;
    return std::nullopt;
  }
  int32_t size = static_cast<int32_t>((uint32_t{size_buf[0]} << 24) | (uint32_t{size_buf[1]} << 16) |
                                      (uint32_t{size_buf[2]} << 8) | uint32_t{size_buf[3]});
  if (size < 4 || size > (512 << 20)) throw client_error("response frame with bad size " + std::to_string(size));
  std::vector<uint8_t> body(static_cast<size_t>(size));
  st = read_exact(body.data(), body.size(), deadline);
  if (why) *why = st;
  if (st != wait_result::data) return std::nullopt;
  return body;
}

std::vector<uint8_t> client::receive_frame(std::optional<millis> timeout) {
  wait_result why = wait_result::data;
  auto body = try_receive_frame(timeout.value_or(timeout_), &why);
  if (body) return std::move(*body);
  if (why == wait_result::closed) throw connection_closed("broker closed the connection");
  throw client_error("no response within " + std::to_string(timeout.value_or(timeout_).count()) + " ms");
}

bool client::closed_within(millis timeout) {
  const auto deadline = clock::now() + timeout;
  uint8_t buf[4096];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, ms_until(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return false;
    ssize_t r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) continue;  // discard data sent before the close
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    return true;
  }
}

}  // namespace mk::test
