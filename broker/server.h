// The broker's engine room: owns the clock, the state (cluster, group coordinator, storage), the
// services over it, the dispatcher, the Kafka and HTTP listeners and their connections, and the
// one thread that runs them.
//
// Threading model: one thread runs io_context_ and is the only thread that touches the state,
// the logs, parked requests and connections, so none of them lock. Other threads (the embedding
// API, the CLI's main) reach the state by posting to the executor and waiting (`call`).
#pragma once

#include "broker/asio.h"
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/api_table.h"
#include "broker/clock.h"
#include "broker/cluster.h"
#include "broker/compaction.h"
#include "broker/config.h"
#include "broker/dispatch/dispatcher.h"
#include "broker/groups/group_coordinator.h"
#include "broker/txn/transaction_coordinator.h"
#include "broker/metrics.h"
#include "broker/net/connection.h"
#include "broker/services/services.h"
#include "storage/partition_log.h"

namespace mk {

namespace asio = boost::asio;
class http_server;
struct admin_context;
struct http_request;
struct http_response;

// Thrown by server::start() when a listener cannot be set up: which one ("kafka" or "admin"),
// the address it was asked to use, and the cause (e.g. asio::error::address_in_use).
class listen_error : public boost::system::system_error {
 public:
  listen_error(std::string listener, std::string host, int port, boost::system::error_code ec)
      : boost::system::system_error(ec, listener + " listener " + host + ":" + std::to_string(port)),
        listener_(std::move(listener)), host_(std::move(host)), port_(port) {}
  const std::string& listener() const { return listener_; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  std::string listener_;
  std::string host_;
  int port_;
};

class server {
 public:
  // `clk` replaces the system clock (tests, --clock manual); the server keeps it.
  explicit server(broker_config cfg, std::unique_ptr<storage::storage_engine> engine = nullptr,
                  std::unique_ptr<mk::clock> clk = nullptr);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds the Kafka listener and the admin API's (throws listen_error, naming the listener, on
  // failure; nothing is left listening then) and starts the state thread.
  void start();
  // Stops accepting, closes every connection (Kafka and HTTP), answers parked requests, cancels
  // timers and lets the state thread run out of work, then joins it. Idempotent.
  void stop();

  uint16_t port() const { return bound_port_; }
  uint16_t admin_port() const { return admin_port_; }  // 0 when the admin API is off
  bool serving() const { return running_; }
  std::string advertised_host() const;
  std::string bootstrap() const { return advertised_host() + ":" + std::to_string(bound_port_); }

  // Runs `f` on the state thread and returns its result. Must not be called from that thread.
  // Before start() and after stop() nothing runs the state, so `f` runs on the caller's thread
  // (not concurrently with start()/stop()).
  template <typename F>
  auto call(F&& f) -> decltype(f()) {
    if (!running_) return f();
    using R = decltype(f());
    std::packaged_task<R()> task(std::forward<F>(f));
    auto fut = task.get_future();
    asio::post(io_, [&task] { task(); });
    return fut.get();
  }

  // Runs an admin API request in-process: the same routes (and the same admin_context) as the
  // HTTP listener, which need not be on; so every route, present and future, is reachable from
  // the embedding API and the C ABI. Waits for the route, including one that parks (an await).
  // 503 when the broker is not serving. Must not be called from the state thread.
  http_response admin_request(http_request req);

  // Runs on: state thread.
  services::broker_services& services() { return *services_; }
  mk::clock& clock() { return *clock_; }
  mk::dispatcher& dispatcher() { return *dispatcher_; }
  broker_metrics& metrics() { return metrics_; }
  size_t connection_count() const { return connections_.size(); }
  const broker_config& config() const { return cfg_; }
  asio::io_context& io() { return io_; }

 private:
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acc, int32_t node_id);
  void deadlines_changed();  // re-arms the one timer that drives the coordinators' tick()
  void arm_housekeeping();
  void shutdown_on_state_thread();

  broker_config cfg_;
  std::unique_ptr<mk::clock> clock_;
  std::unique_ptr<storage::storage_engine> engine_;
  std::unique_ptr<mk::cluster> cluster_;
  std::unique_ptr<groups::group_coordinator> groups_;
  std::unique_ptr<txn::transaction_coordinator> txns_;
  std::unique_ptr<services::broker_services> services_;
  bool stopping_ = false;  // state thread: set when stop() begins
  std::unique_ptr<handler_env> env_;
  broker_metrics metrics_;
  std::unique_ptr<mk::dispatcher> dispatcher_;
  std::set<connection*> connections_;  // before io_: connections unregister while io_ dies
  uint64_t next_connection_id_ = 1;
  std::unique_ptr<listener_env> listener_env_;
  asio::io_context io_{1};
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> group_timer_;
  clock_wait group_wait_;
  int64_t group_timer_at_ = 0;
  uint64_t group_timer_gen_ = 0;
  std::unique_ptr<asio::steady_timer> housekeeping_timer_;  // retention and compaction
  clock_wait housekeeping_wait_;
  std::unique_ptr<log_compactor> compactor_;
  uint16_t bound_port_ = 0;
  uint16_t admin_port_ = 0;
  std::unique_ptr<admin_context> admin_ctx_;
  std::unique_ptr<http_server> admin_;
  std::thread thread_;
  std::future<void> ran_out_;  // ready when the state thread's run() returns
  std::atomic<bool> running_{false};
};

}  // namespace mk
