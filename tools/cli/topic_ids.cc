// fetch_topic_ids: topic ids through a direct Metadata request.
//
// librdkafka 2.0 neither sends Metadata v10+ nor exposes topic ids, but `topics --describe`
// prints them like Kafka's tool. So this opens one plain TCP connection to a broker, asks
// ApiVersions v0 which Metadata versions it serves and, if v10+ is among them, sends one
// Metadata request for the topics at the highest version both sides know. Everything is bounded
// by one deadline; any failure just yields no ids.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocol/records/byte_io.h"
#include "protocol/framing.h"
#include "protocol/generated/api_versions_request.h"
#include "protocol/generated/api_versions_response.h"
#include "protocol/generated/metadata_request.h"
#include "protocol/generated/metadata_response.h"
#include "tools/cli/common.h"

namespace mk::cli {

namespace {

class connection {
 public:
  connection(const std::string& host, int port, const deadline& dl) : dl_(dl) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return;
    for (addrinfo* a = res; a && fd_ < 0 && !dl_.expired(); a = a->ai_next) {
      int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0 || (errno == EINPROGRESS && wait(fd, POLLOUT) && !so_error(fd)))
        fd_ = fd;
      else
        ::close(fd);
    }
    freeaddrinfo(res);
  }
  ~connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  // Sends one request and returns the response body (after the response header).
  template <typename Req>
  std::optional<std::vector<uint8_t>> round_trip(const Req& req, int16_t version) {
    proto::writer w;
    w.i32(0);
    proto::request_header h;
    h.api_key = Req::api_key;
    h.api_version = version;
    h.correlation_id = ++correlation_;
    h.client_id = "minikafka-cli";
    proto::encode_request_header(w, h);
    req.encode(w, version);
    auto bytes = w.flatten();
    uint32_t n = static_cast<uint32_t>(bytes.size() - 4);
    bytes[0] = static_cast<uint8_t>(n >> 24);
    bytes[1] = static_cast<uint8_t>(n >> 16);
    bytes[2] = static_cast<uint8_t>(n >> 8);
    bytes[3] = static_cast<uint8_t>(n);
    if (!send_all(bytes.data(), bytes.size())) return std::nullopt;
    uint8_t size_buf[4];
    if (!recv_all(size_buf, 4)) return std::nullopt;
    uint32_t size = records::load_be32(size_buf);
    if (size < 4 || size > 64u * 1024 * 1024) return std::nullopt;
    std::vector<uint8_t> body(size);
    if (!recv_all(body.data(), body.size())) return std::nullopt;
    proto::reader r(body.data(), body.size());
    if (r.i32() != h.correlation_id) return std::nullopt;
    if (proto::response_header_version(Req::api_key, version) >= 1) {
      proto::unknown_tags ignored;
      r.tagged_fields(ignored, [](uint32_t, proto::reader&) { return false; });
    }
    if (!r.ok()) return std::nullopt;
    size_t header = body.size() - r.remaining();
    return std::vector<uint8_t>(body.begin() + static_cast<long>(header), body.end());
  }

 private:
  bool wait(int fd, short events) {
    while (true) {
      int left = dl_.remaining_ms();
      if (left <= 0) return false;
      pollfd p{fd, events, 0};
      int r = ::poll(&p, 1, left);
      if (r > 0) return true;
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
  }
  static bool so_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0;
  }
  bool send_all(const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t k = ::send(fd_, p, n, MSG_NOSIGNAL);
      if (k > 0) {
        p += k;
        n -= static_cast<size_t>(k);
      } else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait(fd_, POLLOUT)) return false;
      } else {
        return false;
      }
    }
    return true;
  }
  bool recv_all(uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t k = ::recv(fd_, p, n, 0);
      if (k > 0) {
        p += k;
        n -= static_cast<size_t>(k);
      } else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait(fd_, POLLIN)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  const deadline& dl_;
  int fd_ = -1;
  int32_t correlation_ = 0;
};

}  // namespace

std::map<std::string, std::string> fetch_topic_ids(const std::string& host, int port,
                                                   const std::vector<std::string>& topics, int timeout_ms) {
  std::map<std::string, std::string> out;
  if (topics.empty()) return out;
  deadline dl(timeout_ms);
  connection c(host, port, dl);
  if (!c.ok()) return out;

  proto::api_versions_request av;
  auto av_body = c.round_trip(av, 0);
  if (!av_body) return out;
  proto::api_versions_response avr;
  proto::reader ar(av_body->data(), av_body->size());
  avr.decode(ar, 0);
  if (!ar.ok() || avr.error_code != 0) return out;
  int16_t version = -1;
  for (const auto& k : avr.api_keys)
    if (k.api_key == proto::metadata_request::api_key)
      version = std::min<int16_t>(k.max_version, proto::metadata_request::max_version);
  if (version < 10) return out;

  proto::metadata_request req;
  req.topics.emplace();
  for (const auto& t : topics) {
    auto& rt = req.topics->emplace_back();
    rt.name = t;
  }
  req.allow_auto_topic_creation = false;
  auto md_body = c.round_trip(req, version);
  if (!md_body) return out;
  proto::metadata_response resp;
  proto::reader mr(md_body->data(), md_body->size());
  resp.decode(mr, version);
  if (!mr.ok()) return out;
  for (const auto& t : resp.topics)
    if (t.error_code == 0 && t.name && !t.topic_id.is_zero()) out[*t.name] = t.topic_id.to_base64();
  return out;
}

}  // namespace mk::cli
