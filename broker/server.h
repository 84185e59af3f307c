// The broker's engine room: the io_context that owns all state, the Kafka listeners, the
// connections, and the table of APIs served.
//
// Threading model: one thread runs io_context_ and is the only thread that touches the cluster,
// the logs, parked requests and connections, so none of them lock. Other threads (the embedding
// API, signal handlers) reach the state by posting to the executor and waiting (`call`).
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
#include "broker/cluster.h"
#include "broker/config.h"
#include "broker/groups/group_coordinator.h"
#include "broker/metrics.h"
#include "storage/partition_log.h"

namespace mk {

namespace asio = boost::asio;
class connection;
class http_server;

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
  explicit server(broker_config cfg, std::unique_ptr<storage::storage_engine> engine = nullptr);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds the Kafka listener and the admin API's (throws listen_error, naming the listener, on
  // failure; nothing is left listening then) and starts the state thread.
  void start();
  // Closes listeners and connections, wakes parked requests, joins the state thread. Idempotent.
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

  // Runs on: state thread.
  asio::io_context& io() { return io_; }
  mk::cluster& cluster() { return *cluster_; }
  groups::group_coordinator& groups() { return *groups_; }
  storage::storage_engine& engine() { return *engine_; }
  broker_metrics& metrics() { return metrics_; }
  size_t connection_count() const { return connections_.size(); }
  // Monotonic time the server was constructed (uptime).
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  // Call after every coordinator call: re-arms the one timer that drives its tick().
  void groups_changed();
  const broker_config& config() const { return cfg_; }
  const api_table& apis() const { return apis_; }
  api_table& apis() { return apis_; }
  void forget(connection* c) { connections_.erase(c); }
  bool stopping() const { return stopping_; }

  // Wall-clock milliseconds (timestamps) — overridable later for tests.
  int64_t now_ms() const;

 private:
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acc, int32_t node_id);
  void schedule_housekeeping();
  void recover();  // reloads topics and group offsets from a persistent engine (throws on failure)

  broker_config cfg_;
  std::unique_ptr<storage::storage_engine> engine_;
  std::unique_ptr<mk::cluster> cluster_;
  api_table apis_;
  broker_metrics metrics_;
  std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  std::unique_ptr<groups::group_coordinator> groups_;
  std::set<connection*> connections_;  // before io_: connections unregister while io_ dies
  asio::io_context io_{1};
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> group_timer_;
  std::unique_ptr<asio::steady_timer> housekeeping_timer_;  // retention
  int64_t group_timer_at_ = 0;
  uint16_t bound_port_ = 0;
  uint16_t admin_port_ = 0;
  std::unique_ptr<http_server> admin_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  bool stopping_ = false;  // state thread: set when stop() begins
};

}  // namespace mk
