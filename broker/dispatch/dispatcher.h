// The dispatcher: everything between a connection's framed bytes and a handler.
//
//   connection (bytes, framing, ordered writes)
//     -> dispatcher: request header, API lookup, version gate (KIP-511 fallback for ApiVersions),
//        request recording, interceptor chain, handler, per-API metrics, response header
//     -> handler (broker/handlers/) -> services (broker/services/)
//
// One dispatcher per broker node; it owns that node's API table, so one node's advertised
// versions can be narrowed without touching another's. Requests of one connection are
// dispatched one at a time, so a delayed answer keeps the connection's response order.
// Runs on: broker state thread.
#pragma once

#include <boost/container/small_vector.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "broker/api_table.h"
#include "broker/asio.h"
#include "broker/dispatch/interceptor.h"
#include "broker/dispatch/request_recorder.h"
#include "broker/metrics.h"
#include "minikafka_common/shared_chunk.h"

namespace mk {

namespace asio = boost::asio;

struct connection_info {
  uint64_t id = 0;
  int32_t node_id = 0;
  std::string peer;
};

struct dispatch_result {
  std::vector<shared_chunk> frame;  // size prefix + response header + body; empty: send nothing
  bool close = false;               // close the connection (after `frame`, if any)
  std::string reason;               // why it closes, for the log line
};

class dispatcher {
 public:
  dispatcher(const handler_env& env, broker_metrics& metrics, const std::string& record_requests_dir);

  // Handles one request frame (without its size prefix). `frame` owns the bytes; record data
  // stored by Produce keeps referring to it.
  asio::awaitable<dispatch_result> dispatch(const connection_info& conn, std::shared_ptr<uint8_t[]> frame, size_t size);

  api_table& apis() { return apis_; }
  const api_table& apis() const { return apis_; }

  // Interceptors run in the order added. Adding or removing one between two requests is safe.
  void add_interceptor(std::shared_ptr<interceptor> i) { interceptors_.push_back(std::move(i)); }
  void remove_interceptor(const interceptor* i);
  bool has_interceptors() const { return !interceptors_.empty(); }

 private:
  using interceptor_chain = boost::container::small_vector<std::shared_ptr<interceptor>, 4>;
  intercept_action run_on_request(interceptor_chain& chain, const request_info& info);
  static reply decided_reply(const api_entry& e, const request_context& ctx, proto::reader body,
                             const intercept_action& decided);
  static void run_on_response(const interceptor_chain& chain, const request_info& info, const intercept_action& decided,
                              const reply& rep, std::chrono::steady_clock::time_point started);
  dispatch_result reject(const std::string& reason);

  const handler_env& env_;
  broker_metrics& metrics_;
  api_table apis_;
  std::unique_ptr<request_recorder> recorder_;
  std::vector<std::shared_ptr<interceptor>> interceptors_;
};

}  // namespace mk
