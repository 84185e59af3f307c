#include "broker/server.h"

#include <spdlog/spdlog.h>

#include "broker/admin/admin_api.h"
#include "broker/admin/http_server.h"
#include "broker/retention.h"
#include "broker/rocksdb_backend.h"
#include "storage/memory/memory_engine.h"
#include "storage/metadata_store.h"

namespace mk {

namespace {

std::unique_ptr<storage::storage_engine> make_engine(const broker_config& cfg) {
  if (cfg.storage == "memory") return std::make_unique<storage::memory_engine>(cfg.max_memory_bytes);
  if (cfg.storage == "rocksdb") {
    if (cfg.data_dir.empty()) throw std::runtime_error("--storage rocksdb needs --data-dir");
    // Linked in (minikafka_broker) or loaded from the plugin (the executable): rocksdb_backend.h.
    auto e = open_rocksdb_backend(cfg.data_dir, cfg.sync);
    spdlog::info("storage: RocksDB in {} ({})", cfg.data_dir, cfg.sync ? "fsync before acknowledging" : "no fsync");
    return e;
  }
  throw std::runtime_error("unknown storage backend '" + cfg.storage + "' (memory or rocksdb)");
}

std::string new_member_suffix() {
  return proto::uuid::random().to_hex().substr(0, 8) + "-" + proto::uuid::random().to_hex().substr(0, 12);
}

// How long stop() lets the state thread run out of work before it stops it outright.
constexpr auto drain_limit = std::chrono::seconds(5);

}  // namespace

server::server(broker_config cfg, std::unique_ptr<storage::storage_engine> engine, std::unique_ptr<mk::clock> clk)
    : cfg_(std::move(cfg)), clock_(std::move(clk)), engine_(std::move(engine)) {
  if (cfg_.brokers < 1) throw std::invalid_argument("the broker count must be at least 1");
  if (!clock_) {
    if (cfg_.clock == "manual") clock_ = std::make_unique<manual_clock>();
    else if (cfg_.clock == "system") clock_ = std::make_unique<system_clock>();
    else throw std::runtime_error("unknown clock '" + cfg_.clock + "' (system or manual)");
  }
  if (!engine_) engine_ = make_engine(cfg_);
  cluster_ = std::make_unique<mk::cluster>(cfg_, *engine_);
  groups::coordinator_config gc;
  gc.initial_rebalance_delay_ms = cfg_.group_initial_rebalance_delay_ms;
  gc.min_session_timeout_ms = cfg_.group_min_session_timeout_ms;
  gc.max_session_timeout_ms = cfg_.group_max_session_timeout_ms;
  groups_ = std::make_unique<groups::group_coordinator>(gc, [c = clock_.get()] { return c->steady_ms(); },
                                                        &new_member_suffix);
  txns_ = std::make_unique<txn::transaction_coordinator>(
      txn::coordinator_config{cfg_.transaction_max_timeout_ms}, [c = clock_.get()] { return c->steady_ms(); },
      [this] { return cluster_->next_producer_id(); },
      [this](const txn::completion& c) { services_->transactions.complete(c); });
  services_ = std::make_unique<services::broker_services>(*cluster_, *groups_, *txns_, engine_->metadata(), *clock_,
                                                          cfg_, engine_->name(), [this] { deadlines_changed(); });
  if (auto err = cluster_->recover()) throw std::runtime_error("recovering topics: " + err.message);
  services_->groups.recover();
  services_->transactions.recover();
  env_ = std::make_unique<handler_env>(handler_env{*services_, *clock_, cfg_, stopping_});
  for (const auto& n : cluster_->nodes()) {
    auto l = std::make_unique<node_listener>();
    l->id = n.node_id;
    l->dispatch = std::make_unique<mk::dispatcher>(*env_, metrics_, cfg_.record_requests_dir);
    services_->control.attach(*l->dispatch, n.node_id);  // fault rules and the trace, per broker
    l->env = std::make_unique<listener_env>(listener_env{*l->dispatch, metrics_, cfg_.max_request_size, l->connections});
    nodes_.push_back(std::move(l));
  }
  // Brokers going down and up (cluster_service::broker_down/up) close and reopen listeners.
  services_->cluster.set_listener_switch([this](int32_t id, bool up) -> std::string {
    node_listener* n = find_node(id);
    if (!n) return "unknown broker";
    if (!up) {
      close_listener(*n, /*drain=*/true);
      return {};
    }
    if (!running_ || stopping_) return {};  // start() listens on every live node
    try {
      listen(*n, n->port);
    } catch (const std::exception& ex) {
      return ex.what();
    }
    return {};
  });
  compactor_ = std::make_unique<log_compactor>();
  group_timer_ = std::make_unique<asio::steady_timer>(io_);
  housekeeping_timer_ = std::make_unique<asio::steady_timer>(io_);
  if (clock_->manual()) {
    // Time moves only when told to: run what became due after each advance.
    static_cast<manual_clock&>(*clock_).on_advance([this] {
      if (stopping_) return;
      groups_->tick();
      txns_->tick();
      group_timer_at_ = 0;
      deadlines_changed();
    });
  }
}

void server::arm_housekeeping() {
  if (cfg_.retention_check_interval_ms <= 0 || stopping_) return;
  // Retention, then compaction, every interval. The compactor's per-partition progress makes a
  // tick with nothing new to compact O(1).
  housekeeping_wait_ = clock_->arm(*housekeeping_timer_, clock_->steady_ms() + cfg_.retention_check_interval_ms);
  housekeeping_timer_->async_wait([this, due = clock_->steady_ms() + cfg_.retention_check_interval_ms](
                                      boost::system::error_code) {
    if (stopping_) return;
    if (clock_->steady_ms() >= due) {
      apply_retention(*cluster_, clock_->wall_ms());
      compactor_->run(*cluster_, clock_->wall_ms());
    }
    arm_housekeeping();
  });
}

void server::deadlines_changed() {
  if (stopping_) return;
  services_->control.notify();  // awaits on groups re-check
  auto next = groups_->next_deadline();
  if (auto t = txns_->next_deadline(); t && (!next || *t < *next)) next = t;
  if (!next) return;
  if (group_timer_at_ != 0 && group_timer_at_ <= *next) return;  // an earlier wake-up is already set
  group_timer_at_ = *next;
  const uint64_t gen = ++group_timer_gen_;
  group_wait_ = clock_->arm(*group_timer_, *next);
  group_timer_->async_wait([this, gen](boost::system::error_code) {
    // Superseded by a newer arming, or shutting down: nothing to do.
    if (gen != group_timer_gen_ || stopping_) return;
    group_timer_at_ = 0;
    groups_->tick();
    txns_->tick();
    deadlines_changed();
  });
}

server::~server() {
  stop();
  group_wait_.release();
  housekeeping_wait_.release();
  group_timer_.reset();
  housekeeping_timer_.reset();
  for (auto& n : nodes_) n->drain_timer.reset();  // timers go before the io_context they use
  // After a forced stop (drain_limit passed), completion handlers may still be queued: run them
  // while the state they refer to is alive. After a clean drain there are none.
  io_.restart();
  io_.poll();
  for (auto& n : nodes_) n->acceptor.reset();
  admin_.reset();
}

std::string server::advertised_host() const { return mk::advertised_host(cfg_); }

server::node_listener* server::find_node(int32_t id) {
  for (auto& n : nodes_)
    if (n->id == id) return n.get();
  return nullptr;
}

uint16_t server::port(int32_t node_id) const {
  for (const auto& n : nodes_)
    if (n->id == node_id) return n->port;
  return 0;
}

std::vector<int32_t> server::node_ids() const {
  std::vector<int32_t> out;
  for (const auto& n : nodes_) out.push_back(n->id);
  return out;
}

std::string server::bootstrap() const {
  std::string out;
  for (const auto& n : nodes_) {
    if (!out.empty()) out += ",";
    out += advertised_host() + ":" + std::to_string(n->port);
  }
  return out;
}

mk::dispatcher* server::dispatcher(int32_t node_id) {
  node_listener* n = find_node(node_id);
  return n ? n->dispatch.get() : nullptr;
}

size_t server::connection_count() const {
  size_t total = 0;
  for (const auto& n : nodes_) total += n->connections.size();
  return total;
}

void server::listen(node_listener& n, uint16_t port) {
  try {
    asio::ip::tcp::resolver res(io_);
    auto results = res.resolve(cfg_.host, std::to_string(port), asio::ip::resolver_base::passive);
    auto ep = results.begin()->endpoint();
    auto acc = std::make_shared<asio::ip::tcp::acceptor>(io_);
    acc->open(ep.protocol());
    acc->set_option(asio::socket_base::reuse_address(true));
    acc->bind(ep);
    acc->listen(asio::socket_base::max_listen_connections);
    n.port = acc->local_endpoint().port();
    n.acceptor = acc;
    cluster_->set_node_port(n.id, n.port);
    asio::co_spawn(io_, accept_loop(std::move(acc), n), asio::detached);
  } catch (const boost::system::system_error& e) {
    throw listen_error("kafka", cfg_.host, port, e.code());
  }
}

void server::close_listener(node_listener& n, bool drain) {
  boost::system::error_code ec;
  if (n.acceptor) n.acceptor->close(ec);
  n.acceptor.reset();  // the accept loop holds it until it sees the close
  if (!drain) {
    if (n.drain_timer) n.drain_timer->cancel();
    for (auto* c : std::set<connection*>(n.connections)) c->close();
    return;
  }
  for (auto* c : std::set<connection*>(n.connections)) c->drain_and_close();
  // A request that stays parked (it should not: leadership and coordinators moved away, which
  // answers parked fetches and joins) does not keep the connection open for long.
  if (!n.drain_timer) n.drain_timer = std::make_unique<asio::steady_timer>(io_);
  n.drain_timer->expires_after(std::chrono::seconds(2));
  n.drain_timer->async_wait([this, &n](boost::system::error_code e) {
    if (e || stopping_) return;
    for (auto* c : std::set<connection*>(n.connections))
      if (c->draining()) c->close();
  });
}

void server::start() {
  if (running_) return;
  if (io_.stopped()) io_.restart();  // started again after stop()
  stopping_ = false;
  // --port P with N brokers: P..P+N-1 (0: each ephemeral).
  if (cfg_.port != 0 && cfg_.port + nodes_.size() - 1 > 65535)
    throw std::runtime_error("--port " + std::to_string(cfg_.port) + " with " + std::to_string(nodes_.size()) +
                             " brokers goes past port 65535");
  auto close_all = [this] {
    for (auto& n : nodes_) close_listener(*n);
    io_.restart();
    io_.poll();  // let the accept loops see their closed acceptors
  };
  std::vector<services::listener_info> listeners;
  try {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      listen(*nodes_[i], cfg_.port == 0 ? 0 : static_cast<uint16_t>(cfg_.port + i));
      listeners.push_back({"kafka", nodes_[i]->id, advertised_host(), nodes_[i]->port});
    }
  } catch (...) {
    close_all();
    throw;
  }
  // Brokers taken down before start() keep their (now known) port but do not accept.
  for (auto& n : nodes_)
    if (!cluster_->node_up(n->id)) close_listener(*n);
  // The admin routes' context exists whether or not the listener is on: admin_request() uses it.
  if (!admin_ctx_) {
    admin_ctx_ = std::make_unique<admin_context>(admin_context{
        *services_, metrics_, [this] { return running_.load(); }, [this] { return connection_count(); }, clock_.get(),
        &stopping_});
  }
  if (cfg_.admin_port >= 0) {
    auto listen_admin = [this](uint16_t port) {
      admin_ = std::make_unique<http_server>(io_, [ctx = admin_ctx_.get()](http_request req) {
        return handle_admin_request(*ctx, std::move(req));
      });
      return admin_->listen(cfg_.admin_host, port);
    };
    try {
      try {
        admin_port_ = listen_admin(static_cast<uint16_t>(cfg_.admin_port));
      } catch (const boost::system::system_error& e) {
        if (!cfg_.admin_port_fallback || cfg_.admin_port == 0 || e.code() != asio::error::address_in_use) throw;
        admin_port_ = listen_admin(0);
      }
    } catch (const boost::system::system_error& e) {
      admin_.reset();
      close_all();
      throw listen_error("admin", cfg_.admin_host, cfg_.admin_port, e.code());
    }
    listeners.push_back({"admin", -1, cfg_.admin_host, admin_port_});
  }
  services_->cluster.set_listeners(std::move(listeners));
  arm_housekeeping();
  running_ = true;
  std::promise<void> ran_out;
  ran_out_ = ran_out.get_future();
  thread_ = std::thread([this, ran_out = std::move(ran_out)]() mutable {
    try {
      io_.run();
      ran_out.set_value();
    } catch (const std::exception& ex) {
      spdlog::critical("broker state thread died: {}", ex.what());
      std::abort();  // a bug: state may be inconsistent
    }
  });
  for (const auto& n : nodes_)
    spdlog::info("node {} serving Kafka on {}:{} (advertised {}:{})", n->id, cfg_.host, n->port, advertised_host(), n->port);
}

http_response server::admin_request(http_request req) {
  if (!running_ || !admin_ctx_) {
    http_response r;
    r.status = 503;
    r.body = R"({"error":"not_serving","message":"the broker is not started"})";
    return r;
  }
  // The promise lives in the completion handler only: if the state thread is stopped outright
  // with the route still parked, destroying the handler breaks the promise and get() throws.
  auto done = std::make_shared<std::promise<http_response>>();
  auto result = done->get_future();
  asio::co_spawn(io_, handle_admin_request(*admin_ctx_, std::move(req)),
                 [done](std::exception_ptr ex, http_response r) {
                   if (ex) done->set_exception(ex);
                   else done->set_value(std::move(r));
                 });
  try {
    return result.get();
  } catch (const std::exception&) {
    http_response r;
    r.status = 503;
    r.body = std::string(R"({"error":"not_serving","message":"the broker stopped during the request"})");
    return r;
  }
}

void server::shutdown_on_state_thread() {
  stopping_ = true;
  if (admin_) admin_->close();
  ++group_timer_gen_;
  group_wait_.release();
  housekeeping_wait_.release();
  group_timer_->cancel();
  housekeeping_timer_->cancel();
  for (auto& n : nodes_) close_listener(*n);
  // Parked requests: fetches see `stopping_` when woken; held JoinGroup/SyncGroup answers are
  // given now (their connections are closed, so nobody reads them).
  for (const auto& [name, t] : cluster_->topics())
    for (auto& p : t->partitions) p->notify_append();
  groups_->abandon_pending();
  services_->control.shutdown();  // parked awaits (HTTP long-polls) answer now
}

void server::stop() {
  if (!running_) return;
  running_ = false;
  asio::post(io_, [this] { shutdown_on_state_thread(); });
  // run() returns once nothing is left to do. A handler that never finishes (a bug) would keep
  // it forever, so after drain_limit the io_context is stopped outright.
  if (ran_out_.wait_for(drain_limit) == std::future_status::timeout) {
    spdlog::warn("node {}: shutdown did not drain within {} s; stopping the state thread", cfg_.node_id,
                 std::chrono::duration_cast<std::chrono::seconds>(drain_limit).count());
    io_.stop();
  }
  if (thread_.joinable()) thread_.join();
  spdlog::info("node {} stopped", cfg_.node_id);
}

asio::awaitable<void> server::accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acc, node_listener& n) {
  for (;;) {
    boost::system::error_code ec;
    asio::ip::tcp::socket s = co_await acc->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acc->is_open()) co_return;
      spdlog::warn("node {}: accept failed: {}", n.id, ec.message());
      continue;
    }
    // Closed (broker down, or stopping) while this connection was being accepted.
    if (stopping_ || n.acceptor != acc) co_return;
    std::make_shared<connection>(*n.env, std::move(s), n.id, next_connection_id_++)->start();
  }
}

}  // namespace mk
