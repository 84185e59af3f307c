// A tiny blocking Kafka client for protocol-level integration tests.
//
// One object = one TCP connection (plain POSIX sockets, TCP_NODELAY). Requests are framed with
// the generated request structs and protocol/framing.h; responses are decoded with the generated
// response structs at the same version. Every read has a deadline, so a broker that never answers
// fails the test instead of hanging it.
//
//   mk::test::client c(broker.port());
//   auto resp = c.call(mk::proto::metadata_request{}, 1);          // send + receive + decode
//   int32_t id = c.send(req, 4);                                    // pipelining: send now ...
//   auto r = c.receive<mk::proto::fetch_response>(1, 4, id);        // ... read later
//   c.send_raw(bytes);                                              // anything at all
//   EXPECT_TRUE(c.closed_within(2s));                               // the broker hung up
//
// Errors (timeout, closed connection, undecodable response, wrong correlation id) throw
// mk::test::client_error, which GoogleTest reports as a test failure.
#pragma once

#include <chrono>
#include <memory>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/framing.h"
#include "protocol/wire.h"

namespace mk::test {

using namespace std::chrono_literals;
using millis = std::chrono::milliseconds;

class client_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised when the broker closed the connection while we were waiting for a response.
class connection_closed : public client_error {
 public:
  using client_error::client_error;
};

// How a wait on the socket ended.
enum class wait_result { data, closed, timeout };

class client {
 public:
  // Connects to host:port (throws client_error on failure).
  explicit client(uint16_t port, const std::string& host = "127.0.0.1");
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  client(client&& o) noexcept;

  // Default read deadline for receive()/call().
  void set_timeout(millis t) { timeout_ = t; }
  millis timeout() const { return timeout_; }
  std::string client_id = "mk-integration-test";

  // ------------------------------------------------------------------------ framing helpers

  // Header (for api_key/version, with a fresh correlation id unless one is given) + body, without
  // the size prefix. The correlation id used is stored in *corr when given.
  template <typename Req>
  std::vector<uint8_t> encode_request(const Req& req, int16_t version, int32_t* corr = nullptr,
                                      std::optional<int16_t> api_key = std::nullopt) {
    proto::writer w;
    proto::request_header h;
    h.api_key = api_key.value_or(Req::api_key);
    h.api_version = version;
    h.correlation_id = next_correlation_id_++;
    h.client_id = client_id;
    proto::encode_request_header(w, h);
    req.encode(w, version);
    if (corr) *corr = h.correlation_id;
    return w.flatten();
  }
  // Header only (for hand-made bodies): key, version, a fresh correlation id, client id.
  std::vector<uint8_t> encode_header(int16_t api_key, int16_t version, int32_t* corr = nullptr);
  // Size prefix + body.
  static std::vector<uint8_t> frame(std::span<const uint8_t> body);

  // ------------------------------------------------------------------------------- sending

  // Sends a request; returns its correlation id.
  template <typename Req>
  int32_t send(const Req& req, int16_t version) {
    int32_t corr = 0;
    auto body = encode_request(req, version, &corr);
    send_raw(frame(body));
    return corr;
  }
  // Sends bytes exactly as given (no framing). Throws connection_closed when the peer is gone.
  void send_raw(std::span<const uint8_t> bytes);
  // Like send_raw but reports failure (peer closed / reset) as false instead of throwing.
  bool try_send_raw(std::span<const uint8_t> bytes);

  // ----------------------------------------------------------------------------- receiving

  // One response frame body (without the size prefix). Throws client_error on timeout and
  // connection_closed on EOF/reset.
  std::vector<uint8_t> receive_frame(std::optional<millis> timeout = std::nullopt);
  // One response frame body, or nullopt when the connection closed or the deadline passed.
  std::optional<std::vector<uint8_t>> try_receive_frame(millis timeout, wait_result* why = nullptr);

  // Receives and decodes the response to a request sent at (api_key, version) with correlation
  // id `corr`: checks the correlation id and that the body decodes exactly (no bytes left).
  template <typename Resp>
  Resp receive(int16_t version, int32_t corr, std::optional<millis> timeout = std::nullopt) {
    return decode_response<Resp>(receive_frame(timeout), version, corr);
  }

  // Decodes a response frame body. Record data in the result points into a buffer it keeps alive.
  template <typename Resp>
  static Resp decode_response(std::vector<uint8_t> frame_body, int16_t version, int32_t corr) {
    auto body = std::make_shared<std::vector<uint8_t>>(std::move(frame_body));
    proto::reader r(body->data(), body->size(), body);
    int32_t got = r.i32();
    if (proto::response_header_version(Resp::api_key, version) >= 1) {
      proto::unknown_tags tags;
      r.tagged_fields(tags, [](uint32_t, proto::reader&) { return false; });
    }
    if (!r.ok()) throw client_error(std::string("truncated response header for ") + Resp::name);
    if (got != corr)
      throw client_error(std::string(Resp::name) + ": correlation id " + std::to_string(got) + ", expected " +
                         std::to_string(corr));
    Resp resp;
    resp.decode(r, version);
    if (!r.ok()) throw client_error(std::string("cannot decode ") + Resp::name + " v" + std::to_string(version));
    if (r.remaining() != 0)
      throw client_error(std::string(Resp::name) + " v" + std::to_string(version) + ": " +
                         std::to_string(r.remaining()) + " trailing bytes");
    return resp;
  }

  // send() + receive() for request/response pairs whose types follow the generated naming.
  template <typename Req, typename Resp = void>
  auto call(const Req& req, int16_t version, std::optional<millis> timeout = std::nullopt);

  // ------------------------------------------------------------------------- connection state

  // Waits until the broker closes the connection (read returns 0 or ECONNRESET), discarding any
  // bytes that arrive first. False when the connection is still open after `timeout`.
  bool closed_within(millis timeout);
  // Waits for the socket to become readable; does not consume anything.
  wait_result wait_readable(millis timeout);
  // True if nothing is readable right now and the connection is not closed.
  bool idle() { return wait_readable(0ms) == wait_result::timeout; }

  int fd() const { return fd_; }

 private:
  // Reads exactly n bytes by the deadline into out. Returns data / closed / timeout.
  wait_result read_exact(uint8_t* out, size_t n, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int32_t next_correlation_id_ = 1;
  millis timeout_ = 10s;
};

// Maps request types to response types for client::call().
template <typename Req>
struct response_of;

}  // namespace mk::test

#include "protocol/generated/all_messages.h"

namespace mk::test {

#define MK_TEST_RESPONSE_OF(req, resp) \
  template <>                          \
  struct response_of<proto::req> {     \
    using type = proto::resp;          \
  };
MK_TEST_RESPONSE_OF(api_versions_request, api_versions_response)
MK_TEST_RESPONSE_OF(metadata_request, metadata_response)
MK_TEST_RESPONSE_OF(produce_request, produce_response)
MK_TEST_RESPONSE_OF(fetch_request, fetch_response)
MK_TEST_RESPONSE_OF(init_producer_id_request, init_producer_id_response)
MK_TEST_RESPONSE_OF(list_offsets_request, list_offsets_response)
MK_TEST_RESPONSE_OF(create_topics_request, create_topics_response)
MK_TEST_RESPONSE_OF(delete_topics_request, delete_topics_response)
MK_TEST_RESPONSE_OF(create_partitions_request, create_partitions_response)
MK_TEST_RESPONSE_OF(describe_configs_request, describe_configs_response)
MK_TEST_RESPONSE_OF(find_coordinator_request, find_coordinator_response)
#undef MK_TEST_RESPONSE_OF

template <typename Req, typename Resp>
auto client::call(const Req& req, int16_t version, std::optional<millis> timeout) {
  using R = std::conditional_t<std::is_void_v<Resp>, typename response_of<Req>::type, Resp>;
  int32_t corr = send(req, version);
  return receive<R>(version, corr, timeout);
}

}  // namespace mk::test
