// probe_bootstrap: a look at the bootstrap servers before librdkafka gets them.
//
// librdkafka retries a refused connection until the caller's timeout, and reports a port that
// answers in another protocol as "Invalid response size 1213486160" (the bytes "HTTP"). So each
// server is tried once here: a TCP connect, and (plaintext only) one ApiVersions v0 request whose
// answer must start like a Kafka response. An HTTP answer from minikafka's admin API is asked
// (GET /v1/cluster) where the Kafka listener is, so the error can name it.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tools/cli/common.h"

namespace mk::cli {

namespace {

struct server_address {
  std::string text;  // as given
  std::string host;
  std::string port;
};

// "host:port", "[v6]:port", "PLAINTEXT://host:port"; the port defaults to 9092 like Kafka's.
server_address parse_server(const std::string& given) {
  server_address a{given, trim(given), "9092"};
  if (auto scheme = a.host.find("://"); scheme != std::string::npos) a.host = a.host.substr(scheme + 3);
  if (!a.host.empty() && a.host.front() == '[') {
    auto close = a.host.find(']');
    if (close != std::string::npos) {
      if (close + 1 < a.host.size() && a.host[close + 1] == ':') a.port = a.host.substr(close + 2);
      a.host = a.host.substr(1, close - 1);
    }
  } else if (auto colon = a.host.rfind(':'); colon != std::string::npos && a.host.find(':') == colon) {
    a.port = a.host.substr(colon + 1);
    a.host = a.host.substr(0, colon);
  }
  return a;
}

bool wait_for(int fd, short events, const deadline& dl) {
  while (true) {
    const int left = dl.remaining_ms();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, left);
    if (r > 0) return true;
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
}

// A connected socket to one of host:port's addresses, or -1 with `error` set: an errno value
// (ECONNREFUSED when every address refused), -1 for an unknown host, EAGAIN when the name
// cannot be resolved right now.
int connect_to(const server_address& a, const deadline& dl, int& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(a.host.c_str(), a.port.c_str(), &hints, &res); rc != 0) {
    error = rc == EAI_AGAIN ? EAGAIN : -1;  // -1: no such host
    return -1;
  }
  int fd = -1;
  error = ECONNREFUSED;
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    int s = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0) continue;
    int err = 0;
    if (::connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        if (!wait_for(s, POLLOUT, dl)) {
          err = ETIMEDOUT;
        } else {
          socklen_t len = sizeof err;
          if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
    }
    if (err == 0) {
      fd = s;
    } else {
      ::close(s);
      // A refusal from one address (::1) must not hide a timeout or another error elsewhere.
      if (error == ECONNREFUSED) error = err;
    }
  }
  freeaddrinfo(res);
  return fd;
}

bool send_all(int fd, const std::string& data, const deadline& dl) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t k = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (k > 0) {
      off += static_cast<size_t>(k);
    } else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, dl)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Reads until `enough` bytes, EOF, or the deadline.
std::string recv_some(int fd, size_t enough, const deadline& dl) {
  std::string out;
  char buf[4096];
  while (out.size() < enough) {
    const ssize_t k = ::recv(fd, buf, sizeof buf, 0);
    if (k > 0) {
      out.append(buf, static_cast<size_t>(k));
    } else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLIN, dl)) break;
    } else {
      break;
    }
  }
  return out;
}

// ApiVersions v0: size, api_key 18, version 0, correlation id, client id.
std::string api_versions_request() {
  const std::string client = "minikafka-probe";
  std::string body;
  auto be16 = [&](int v) { body.push_back(static_cast<char>((v >> 8) & 0xff)), body.push_back(static_cast<char>(v & 0xff)); };
  be16(18);
  be16(0);
  body.append("\x00\x00\x6d\x6b", 4);
  be16(static_cast<int>(client.size()));
  body += client;
  std::string frame(4, '\0');
  const auto n = static_cast<uint32_t>(body.size());
  frame[0] = static_cast<char>(n >> 24), frame[1] = static_cast<char>(n >> 16), frame[2] = static_cast<char>(n >> 8),
  frame[3] = static_cast<char>(n);
  return frame + body;
}

std::string printable_prefix(const std::string& bytes) {
  std::string out;
  for (char c : bytes.substr(0, bytes.find_first_of("\r\n"))) {
    if (out.size() >= 60) break;
    out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '.');
  }
  return out;
}

// Where the Kafka listeners of the minikafka whose admin API listens at `a` are, comma-separated
// (one per broker with --brokers N), "" if unknown.
std::string kafka_listener_behind_admin_api(const server_address& a) {
  deadline dl(2000);
  int error = 0;
  const int fd = connect_to(a, dl, error);
  if (fd < 0) return {};
  std::string host_header = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  std::string reply;
  if (send_all(fd, "GET /v1/cluster HTTP/1.0\r\nHost: " + host_header + ":" + a.port + "\r\n\r\n", dl))
    reply = recv_some(fd, 1 << 20, dl);
  ::close(fd);
  const auto body_at = reply.find("\r\n\r\n");
  if (!reply.starts_with("HTTP/1.") || reply.find(" 200 ") == std::string::npos || body_at == std::string::npos)
    return {};
  const auto j = nlohmann::json::parse(reply.substr(body_at + 4), nullptr, false);
  if (!j.is_object() || !j.contains("listeners") || !j["listeners"].is_array()) return {};
  std::string out;
  for (const auto& l : j["listeners"])
    if (l.is_object() && l.value("name", "") == "kafka" && l.contains("host") && l.contains("port") &&
        l["host"].is_string() && l["port"].is_number_integer())
      out += (out.empty() ? "" : ",") + l["host"].get<std::string>() + ":" + std::to_string(l["port"].get<int>());
  return out;
}

}  // namespace

void probe_bootstrap(const std::string& servers, bool plaintext, int timeout_ms) {
  deadline dl(timeout_ms);
  std::vector<std::string> failures;
  bool timed_out = false;
  for (const auto& entry : split(servers, ',')) {
    if (trim(entry).empty()) continue;
    const server_address a = parse_server(entry);
    int error = 0;
    const int fd = connect_to(a, dl, error);
    if (fd < 0) {
      std::string why = error == -1             ? "unknown host " + a.host
                        : error == EAGAIN       ? "cannot resolve " + a.host + " (temporary failure)"
                        : error == ECONNREFUSED ? std::string("connection refused (nothing listens there: is the "
                                                              "broker running, and is this its Kafka port?)")
                                                : std::string(std::strerror(error));
      if (error == ETIMEDOUT) timed_out = true;
      failures.push_back(a.host + ":" + a.port + ": " + why);
      continue;
    }
    if (!plaintext) {
      ::close(fd);
      return;  // TLS/SASL: reachable is all that can be told without a handshake
    }
    std::string answer;
    {
      // A Kafka broker answers at once; anything slower is left to librdkafka to judge.
      deadline reply_dl(std::min(dl.remaining_ms(), 2000));
      if (send_all(fd, api_versions_request(), reply_dl)) answer = recv_some(fd, 8, reply_dl);
    }
    ::close(fd);
    if (answer.size() < 4) return;  // no answer (yet): let librdkafka try
    if (answer.starts_with("HTTP/")) {
      const std::string listener = kafka_listener_behind_admin_api(a);
      throw runtime_failure(
          a.host + ":" + a.port + " speaks HTTP, not the Kafka protocol (is it minikafka's admin API?); " +
          (listener.empty() ? std::string("the Kafka listener is another port (minikafka prints it at startup as "
                                          "'kafka HOST:PORT'; 9092 by default)")
                            : (listener.find(',') == std::string::npos ? "the Kafka listener is "
                                                                            : "the Kafka listeners are ") +
                                  listener + ": use --bootstrap-server " + listener));
    }
    const auto* u = reinterpret_cast<const unsigned char*>(answer.data());
    const int64_t size = (int64_t(u[0]) << 24) | (int64_t(u[1]) << 16) | (int64_t(u[2]) << 8) | u[3];
    if (size < 4 || size > 64 * 1024 * 1024)
      throw runtime_failure(a.host + ":" + a.port + " does not speak the Kafka protocol: it answered '" +
                            printable_prefix(answer) + "'. Is that the broker's Kafka port?");
    return;  // a Kafka answer
  }
  if (failures.empty()) return;
  std::string msg = "Could not reach a Kafka broker at " + servers;
  if (timed_out) msg += " within " + std::to_string(timeout_ms) + " ms";
  if (failures.size() == 1) {
    msg += failures[0].substr(failures[0].find(": "));  // the address is already named
  } else {
    msg += ": ";
    for (size_t i = 0; i < failures.size(); ++i) msg += (i ? "; " : "") + failures[i];
  }
  throw runtime_failure(msg);
}

}  // namespace mk::cli
