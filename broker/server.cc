#include "broker/server.h"

#include <spdlog/spdlog.h>

#include "broker/admin/http_server.h"
#include "broker/compaction.h"
#include "broker/net/connection.h"
#include "broker/retention.h"
#include "broker/rocksdb_backend.h"
#include "storage/metadata_store.h"
#include "storage/memory/memory_engine.h"

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

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

server::server(broker_config cfg, std::unique_ptr<storage::storage_engine> engine)
    : cfg_(std::move(cfg)), engine_(std::move(engine)), apis_(api_table::defaults()) {
  if (!engine_) engine_ = make_engine(cfg_);
  cluster_ = std::make_unique<mk::cluster>(cfg_, *engine_);
  groups::coordinator_config gc;
  gc.initial_rebalance_delay_ms = cfg_.group_initial_rebalance_delay_ms;
  gc.min_session_timeout_ms = cfg_.group_min_session_timeout_ms;
  gc.max_session_timeout_ms = cfg_.group_max_session_timeout_ms;
  groups_ = std::make_unique<groups::group_coordinator>(
      gc, [] { return steady_ms(); }, [] { return proto::uuid::random().to_hex().substr(0, 8) + "-" + proto::uuid::random().to_hex().substr(0, 12); });
  cluster_->on_topic_deleted([this](const std::string& topic) { groups_->topic_deleted(topic); });
  recover();
  group_timer_ = std::make_unique<asio::steady_timer>(io_);
  housekeeping_timer_ = std::make_unique<asio::steady_timer>(io_);
}

void server::recover() {
  if (auto err = cluster_->recover()) throw std::runtime_error("recovering topics: " + err.message);
  auto offsets = engine_->metadata().load_offsets();
  if (!offsets) throw std::runtime_error(std::string("recovering group offsets: ") + storage::to_string(offsets.error()));
  for (const auto& r : offsets.value()) {
    groups::offset_commit c{r.topic, r.partition, r.offset, r.leader_epoch, r.metadata};
    (void)groups_->commit_offsets(r.group, -1, "", std::nullopt, {c}, r.commit_timestamp,
                                  [](const std::string&, int32_t) { return true; });
  }
  if (!offsets.value().empty()) spdlog::info("recovered {} committed group offset(s)", offsets.value().size());
}

void server::schedule_housekeeping() {
  if (cfg_.retention_check_interval_ms <= 0) return;
  // Retention, then compaction, every interval. The handler re-arms itself and carries the
  // compactor, whose per-partition progress makes a tick with nothing new to compact O(1).
  struct tick {
    server* srv;
    std::shared_ptr<log_compactor> compactor;
    void arm() const {
      srv->housekeeping_timer_->expires_after(std::chrono::milliseconds(srv->cfg_.retention_check_interval_ms));
      srv->housekeeping_timer_->async_wait(*this);
    }
    void operator()(boost::system::error_code ec) const {
      if (ec) return;
      apply_retention(*srv->cluster_, srv->now_ms());
      compactor->run(*srv->cluster_, srv->now_ms());
      arm();
    }
  };
  tick{this, std::make_shared<log_compactor>()}.arm();
}

void server::groups_changed() {
  auto next = groups_->next_deadline();
  if (!next) return;
  if (group_timer_at_ != 0 && group_timer_at_ <= *next) return;  // an earlier wake-up is already set
  group_timer_at_ = *next;
  group_timer_->expires_at(asio::steady_timer::time_point(std::chrono::milliseconds(*next)));
  group_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    group_timer_at_ = 0;
    groups_->tick();
    groups_changed();
  });
}

server::~server() {
  stop();
  group_timer_.reset();
  housekeeping_timer_.reset();
  // Destroy pending handlers (parked coroutines hold connections) while the state they refer to
  // is still alive.
  // Closed acceptors complete their pending accepts with operation_aborted during this poll, so
  // they are destroyed only afterwards.
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

int64_t server::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
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
  // The admin listener is bound before any accept loop runs, so a failure leaves nothing behind.
  if (cfg_.admin_port >= 0) {
    auto listen_admin = [this](uint16_t port) {
      admin_ = std::make_unique<http_server>(*this, io_);
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
  }
  asio::co_spawn(io_, accept_loop(*acceptor_, cfg_.node_id), asio::detached);
  schedule_housekeeping();
  running_ = true;
  thread_ = std::thread([this] {
    try {
      io_.run();
    } catch (const std::exception& ex) {
      spdlog::critical("broker state thread died: {}", ex.what());
      std::abort();  // a bug: state may be inconsistent
    }
  });
  spdlog::info("node {} serving Kafka on {}:{} (advertised {})", cfg_.node_id, cfg_.host, bound_port_, bootstrap());
}

void server::stop() {
  if (!running_) return;
  running_ = false;
  asio::post(io_, [this] {
    stopping_ = true;
    boost::system::error_code ec;
    if (acceptor_) acceptor_->close(ec);
    if (admin_) admin_->close();
    for (auto* c : std::set<connection*>(connections_)) c->close();
    // Wake parked fetches so their coroutines finish.
    for (const auto& [name, t] : cluster_->topics())
      for (auto& p : t->partitions) p->notify_append();
    io_.stop();
  });
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
    auto c = std::make_shared<connection>(*this, std::move(s), node_id);
    connections_.insert(c.get());
    c->start();
  }
}

}  // namespace mk
