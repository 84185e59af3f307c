// The broker's engine room: owns the clock, the state (cluster, group coordinator, storage), the
// services over it, one Kafka listener and dispatcher per simulated broker node (--brokers), the
// HTTP listener, the connections, and the one thread that runs them.
//
// A node taken down (cluster_service::broker_down) has its acceptor closed (new connections are
// refused) and its connections closed; brought up, it listens again on the same port.
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

  // Binds every node's Kafka listener and the admin API's (throws listen_error, naming the
  // listener, on failure; nothing is left listening then) and starts the state thread.
  void start();
  // Stops accepting, closes every connection (Kafka and HTTP), answers parked requests, cancels
  // timers and lets the state thread run out of work, then joins it. Idempotent.
  void stop();

  // Ports and ids are fixed from start() on (a node brought back up reuses its port), so these
  // may be read from any thread after start().
  uint16_t port() const { return nodes_.front()->port; }  // the first node's Kafka port
  uint16_t port(int32_t node_id) const;                     // 0 for an unknown id
  std::vector<int32_t> node_ids() const;                    // in id order
  uint16_t admin_port() const { return admin_port_; }  // 0 when the admin API is off
  bool serving() const { return running_; }
  std::string advertised_host() const;
  // "host:port" of every node, comma-separated, in id order (bootstrap.servers).
  std::string bootstrap() const;

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
  mk::dispatcher& dispatcher() { return *nodes_.front()->dispatch; }  // the first node's
  mk::dispatcher* dispatcher(int32_t node_id);                         // null for an unknown id
  broker_metrics& metrics() { return metrics_; }
  size_t connection_count() const;  // open Kafka connections over every node
  const broker_config& config() const { return cfg_; }
  asio::io_context& io() { return io_; }

 private:
  // One simulated broker's Kafka side: its listener, dispatcher (own API table) and connections.
  struct node_listener {
    int32_t id = 0;
    uint16_t port = 0;  // bound port, kept while down so `up` listens on the same one
    std::shared_ptr<asio::ip::tcp::acceptor> acceptor;  // null or closed while down
    std::set<connection*> connections;
    std::unique_ptr<mk::dispatcher> dispatch;
    std::unique_ptr<listener_env> env;
    std::unique_ptr<asio::steady_timer> drain_timer;  // bounds drain_and_close() when going down
  };
  node_listener* find_node(int32_t id);
  // Binds `n` on `port` (0 = ephemeral) and starts accepting. Throws system_error naming it.
  void listen(node_listener& n, uint16_t port);
  // Closes `n`'s acceptor and every connection it accepted: at once (stop), or, when the broker
  // goes down, after each connection answered what it already handled (drain_and_close; any
  // still open 2 s later are closed outright).
  void close_listener(node_listener& n, bool drain = false);
  asio::awaitable<void> accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acc, node_listener& n);
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
  // Before io_: connections (owned by coroutines io_ destroys) unregister from their node's set
  // and use its dispatcher while io_ dies.
  std::vector<std::unique_ptr<node_listener>> nodes_;  // in id order
  uint64_t next_connection_id_ = 1;
  asio::io_context io_{1};
  std::unique_ptr<asio::steady_timer> group_timer_;
  clock_wait group_wait_;
  int64_t group_timer_at_ = 0;
  uint64_t group_timer_gen_ = 0;
  std::unique_ptr<asio::steady_timer> housekeeping_timer_;  // retention and compaction
  clock_wait housekeeping_wait_;
  std::unique_ptr<log_compactor> compactor_;
  uint16_t admin_port_ = 0;
  std::unique_ptr<admin_context> admin_ctx_;
  std::unique_ptr<http_server> admin_;
  std::thread thread_;
  std::future<void> ran_out_;  // ready when the state thread's run() returns
  std::atomic<bool> running_{false};
};

}  // namespace mk
