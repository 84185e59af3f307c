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
  if (!clock_) clock_ = std::make_unique<system_clock>();
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
  env_ = std::make_unique<handler_env>(handler_env{*services_, *clock_, cfg_, stopping_});
  dispatcher_ = std::make_unique<mk::dispatcher>(*env_, metrics_, cfg_.record_requests_dir);
  listener_env_ = std::make_unique<listener_env>(listener_env{*dispatcher_, metrics_, cfg_.max_request_size, connections_});
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
  // After a forced stop (drain_limit passed), completion handlers may still be queued: run them
  // while the state they refer to is alive. After a clean drain there are none.
  io_.restart();
  io_.poll();
  acceptor_.reset();
  admin_.reset();
}

std::string server::advertised_host() const {
  if (!cfg_.advertised_host.empty()) return cfg_.advertised_host;
  if (cfg_.host == "0.0.0.0" || cfg_.host == "::" || cfg_.host.empty()) return "127.0.0.1";
  return cfg_.host;
}

void server::start() {
  if (running_) return;
  if (io_.stopped()) io_.restart();  // started again after stop()
  stopping_ = false;
  try {
    asio::ip::tcp::resolver res(io_);
    auto results = res.resolve(cfg_.host, std::to_string(cfg_.port), asio::ip::resolver_base::passive);
    auto ep = results.begin()->endpoint();
    acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(io_);
    acceptor_->open(ep.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    acceptor_->bind(ep);
    acceptor_->listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    acceptor_.reset();
    throw listen_error("kafka", cfg_.host, cfg_.port, e.code());
  }
  bound_port_ = acceptor_->local_endpoint().port();
  cluster_->set_node(node_info{cfg_.node_id, advertised_host(), bound_port_, std::nullopt});
  std::vector<services::listener_info> listeners{{"kafka", cfg_.node_id, advertised_host(), bound_port_}};
  // The admin listener is bound before any accept loop runs, so a failure leaves nothing behind.
  // The admin routes' context exists whether or not the listener is on: admin_request() uses it.
  if (!admin_ctx_) {
    admin_ctx_ = std::make_unique<admin_context>(admin_context{
        *services_, metrics_, [this] { return running_.load(); }, [this] { return connections_.size(); }});
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
      acceptor_.reset();
      throw listen_error("admin", cfg_.admin_host, cfg_.admin_port, e.code());
    }
    listeners.push_back({"admin", -1, cfg_.admin_host, admin_port_});
  }
  services_->cluster.set_listeners(std::move(listeners));
  asio::co_spawn(io_, accept_loop(*acceptor_, cfg_.node_id), asio::detached);
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
  spdlog::info("node {} serving Kafka on {}:{} (advertised {})", cfg_.node_id, cfg_.host, bound_port_, bootstrap());
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
  boost::system::error_code ec;
  if (acceptor_) acceptor_->close(ec);
  if (admin_) admin_->close();
  ++group_timer_gen_;
  group_wait_.release();
  housekeeping_wait_.release();
  group_timer_->cancel();
  housekeeping_timer_->cancel();
  for (auto* c : std::set<connection*>(connections_)) c->close();
  // Parked requests: fetches see `stopping_` when woken; held JoinGroup/SyncGroup answers are
  // given now (their connections are closed, so nobody reads them).
  for (const auto& [name, t] : cluster_->topics())
    for (auto& p : t->partitions) p->notify_append();
  groups_->abandon_pending();
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

asio::awaitable<void> server::accept_loop(asio::ip::tcp::acceptor& acc, int32_t node_id) {
  for (;;) {
    boost::system::error_code ec;
    asio::ip::tcp::socket s = co_await acc.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acc.is_open()) co_return;
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    if (stopping_) co_return;
    std::make_shared<connection>(*listener_env_, std::move(s), node_id, next_connection_id_++)->start();
  }
}

}  // namespace mk
