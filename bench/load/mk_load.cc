// mk_load: the client side of bench/load.py. Each subcommand runs one workload with librdkafka
// against a running broker (minikafka or the librdkafka mock anchor; both print "kafka HOST:PORT"
// as their first stdout line) and prints one JSON object on stdout. Times are wall-clock on a
// steady clock; the broker's CPU time is measured by the script, outside this process.
//
//   produce     --bootstrap B --topic T --partitions P --messages N --size S --acks 1|all
//   consume     --bootstrap B --topic T --messages N --group G      (subscribe, from earliest)
//   roundtrip   --bootstrap B --topic T --messages N                (produce one, await its ack)
//   e2e         --bootstrap B --topic T --partitions P --rate R --seconds S   (default consumer)
//   first-message --bootstrap B --topic T --group G                 (subscribe → first message)
//   rebalance   --bootstrap B --topic T --group G                   (second member joins)
//   hold        --bootstrap B --topic T --partitions P              (connected producer + fetching
//                                                                    consumer; "ready" on stdout)
//   startup     --runs N -- COMMAND...                              (spawn → first Metadata answer,
//                                                                    idle RSS, SIGTERM → exit)
//   pump        --size S --seconds T                                (loopback TCP between 2 processes)
//   embedded    --runs N                                            (in-process start+stop)
#include <arpa/inet.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "minikafka/broker.h"
#include "protocol/records/byte_io.h"

namespace {

using clock_type = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}
double ms_since(int64_t start_ns) { return static_cast<double>(now_ns() - start_ns) / 1e6; }

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "mk_load: %s\n", why.c_str());
  std::exit(2);
}

// --key value pairs; everything after "--" is kept as the command.
struct args {
  std::map<std::string, std::string> kv;
  std::vector<std::string> command;

  std::string str(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    if (it != kv.end()) return it->second;
    if (def.empty()) die("missing --" + k);
    return def;
  }
  long num(const std::string& k, long def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::stol(it->second);
  }
};

args parse(int argc, char** argv, int first) {
  args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--") {
      for (++i; i < argc; ++i) a.command.emplace_back(argv[i]);
      break;
    }
    if (s.rfind("--", 0) != 0 || i + 1 >= argc) die("bad argument " + s);
    a.kv[s.substr(2)] = argv[++i];
  }
  return a;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

// One flat JSON object, numbers only (plus a few strings), printed on one line.
class json_out {
 public:
  json_out& num(const std::string& k, double v) {
    std::ostringstream o;
    o.precision(6);
    o << v;
    fields_.push_back("\"" + k + "\": " + o.str());
    return *this;
  }
  json_out& str(const std::string& k, const std::string& v) {
    fields_.push_back("\"" + k + "\": \"" + v + "\"");
    return *this;
  }
  void print() const {
    std::string s = "{";
    for (size_t i = 0; i < fields_.size(); ++i) s += (i ? ", " : "") + fields_[i];
    std::printf("%s}\n", s.c_str());
    std::fflush(stdout);
  }

 private:
  std::vector<std::string> fields_;
};

// ---------------------------------------------------------------- librdkafka helpers

rd_kafka_conf_t* base_conf(const std::string& bootstrap, const std::map<std::string, std::string>& extra) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) die(k + ": " + err);
  };
  set("bootstrap.servers", bootstrap);
  set("log_level", "3");
  for (const auto& [k, v] : extra) set(k, v);
  return conf;
}

rd_kafka_t* make_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) die(std::string("rd_kafka_new: ") + err);
  return rk;
}

struct delivery_state {
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> failed{0};
  std::string first_error;
  int64_t last_dr_ns = 0;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<delivery_state*>(opaque);
  if (m->err) {
    if (st->failed++ == 0) st->first_error = rd_kafka_err2str(m->err);
  } else {
    ++st->delivered;
  }
  st->last_dr_ns = now_ns();
}

rd_kafka_t* make_producer(const std::string& bootstrap, std::map<std::string, std::string> extra, delivery_state* st) {
  extra.emplace("queue.buffering.max.messages", "1000000");
  rd_kafka_conf_t* conf = base_conf(bootstrap, extra);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, st);
  return make_handle(RD_KAFKA_PRODUCER, conf);
}

void produce_one(rd_kafka_t* rk, const std::string& topic, int32_t partition, const void* data, size_t len) {
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                                              RD_KAFKA_V_VALUE(const_cast<void*>(data), len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die(std::string("produce: ") + rd_kafka_err2str(e));
    rd_kafka_poll(rk, 1);
  }
}

void flush_or_die(rd_kafka_t* rk, const delivery_state& st) {
  if (rd_kafka_flush(rk, 300000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("flush timed out");
  if (st.failed) die("delivery failed: " + st.first_error);
}

rd_kafka_t* make_consumer(const std::string& bootstrap, std::map<std::string, std::string> extra) {
  rd_kafka_t* rk = make_handle(RD_KAFKA_CONSUMER, base_conf(bootstrap, extra));
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

void subscribe(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_subscribe(rk, l)) die("subscribe failed");
  rd_kafka_topic_partition_list_destroy(l);
}

void close_consumer(rd_kafka_t* rk) {
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

// ---------------------------------------------------------------- workloads

int cmd_produce(const args& a) {
  const std::string topic = a.str("topic");
  const int partitions = static_cast<int>(a.num("partitions", 1));
  const long n = a.num("messages", 1000000);
  const size_t size = static_cast<size_t>(a.num("size", 100));
  delivery_state st;
  rd_kafka_t* rk = make_producer(a.str("bootstrap"), {{"acks", a.str("acks", "1")}}, &st);
  std::string payload(size, 'x');
  // Warm-up outside the timed part: connection, metadata and one batch per partition.
  for (int p = 0; p < partitions; ++p) produce_one(rk, topic, p, payload.data(), payload.size());
  flush_or_die(rk, st);
  const int64_t start = now_ns();
  for (long i = 0; i < n; ++i) {
    produce_one(rk, topic, static_cast<int32_t>(i % partitions), payload.data(), payload.size());
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  flush_or_die(rk, st);
  const double secs = static_cast<double>(now_ns() - start) / 1e9;
  rd_kafka_destroy(rk);
  json_out()
      .num("messages", static_cast<double>(n))
      .num("seconds", secs)
      .num("msgs_per_s", static_cast<double>(n) / secs)
      .num("mb_per_s", static_cast<double>(n) * static_cast<double>(size) / secs / 1e6)
      .print();
  return 0;
}

int cmd_consume(const args& a) {
  const long n = a.num("messages", 1000000);
  rd_kafka_t* rk = make_consumer(a.str("bootstrap"), {{"group.id", a.str("group")}, {"auto.offset.reset", "earliest"}});
  const int64_t start = now_ns();
  subscribe(rk, a.str("topic"));
  long got = 0;
  int64_t first = 0;
  while (got < n) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m) {
      if (!m->err) {
        if (got++ == 0) first = now_ns();
      }
      rd_kafka_message_destroy(m);
    }
    if (now_ns() - start > 300'000'000'000) die("consume: timed out after " + std::to_string(got) + " messages");
  }
  const int64_t end = now_ns();
  close_consumer(rk);
  const double steady = static_cast<double>(end - first) / 1e9;
  json_out()
      .num("messages", static_cast<double>(n))
      .num("join_ms", static_cast<double>(first - start) / 1e6)
      .num("seconds", static_cast<double>(end - start) / 1e9)
      .num("msgs_per_s", static_cast<double>(n - 1) / steady)
      .print();
  return 0;
}

int cmd_roundtrip(const args& a) {
  const std::string topic = a.str("topic");
  const long n = a.num("messages", 10000);
  delivery_state st;
  rd_kafka_t* rk = make_producer(a.str("bootstrap"), {{"acks", "1"}, {"linger.ms", "0"}}, &st);
  std::string payload(100, 'r');
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(n));
  for (long i = -100; i < n; ++i) {  // the first 100 warm up connection and metadata
    const int64_t before = st.delivered + st.failed;
    const int64_t t0 = now_ns();
    produce_one(rk, topic, 0, payload.data(), payload.size());
    while (st.delivered + st.failed == before) rd_kafka_poll(rk, 1000);
    if (i >= 0) lat.push_back(static_cast<double>(st.last_dr_ns - t0) / 1e6);
  }
  if (st.failed) die("delivery failed: " + st.first_error);
  rd_kafka_destroy(rk);
  json_out()
      .num("p50_ms", percentile(lat, 50))
      .num("p99_ms", percentile(lat, 99))
      .num("p999_ms", percentile(lat, 99.9))
      .print();
  return 0;
}

// Fixed-rate producer (linger.ms=0) and a consumer with librdkafka's default fetch settings,
// assigned to every partition at the end. Each value carries its send time.
int cmd_e2e(const args& a) {
  const std::string bootstrap = a.str("bootstrap");
  const std::string topic = a.str("topic");
  const int partitions = static_cast<int>(a.num("partitions", 1));
  const long rate = a.num("rate", 1000);
  const double seconds = static_cast<double>(a.num("seconds", 3));
  rd_kafka_t* c = make_consumer(bootstrap, {{"group.id", "mk-load-e2e"}, {"enable.auto.commit", "false"}});
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  if (rd_kafka_assign(c, l)) die("assign failed");
  rd_kafka_topic_partition_list_destroy(l);

  std::atomic<bool> measuring{false}, stop{false}, seen_probe{false};
  std::atomic<long> received{0};
  std::vector<double> lat;  // reader thread only, until joined
  std::thread reader([&] {
    while (!stop) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
      if (!m) continue;
      if (!m->err && m->len >= 9) {
        int64_t sent;
        std::memcpy(&sent, m->payload, 8);
        const bool probe = static_cast<const char*>(m->payload)[8] == 'p';
        if (probe) seen_probe = true;
        else if (measuring) {
          lat.push_back(static_cast<double>(now_ns() - sent) / 1e6);
          ++received;
        }
      }
      rd_kafka_message_destroy(m);
    }
  });

  delivery_state st;
  rd_kafka_t* p = make_producer(bootstrap, {{"acks", "1"}, {"linger.ms", "0"}}, &st);
  char value[100];
  std::memset(value, 'v', sizeof value);
  // Probe until the consumer sees messages, so its fetches are running before measuring.
  const int64_t probe_start = now_ns();
  while (!seen_probe) {
    value[8] = 'p';
    for (int part = 0; part < partitions; ++part) {
      int64_t t = now_ns();
      std::memcpy(value, &t, 8);
      produce_one(p, topic, part, value, sizeof value);
    }
    rd_kafka_poll(p, 50);
    if (now_ns() - probe_start > 30'000'000'000) die("e2e: consumer never saw a probe message");
  }
  rd_kafka_flush(p, 10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let stray probes drain
  measuring = true;
  value[8] = 'm';
  const long total = static_cast<long>(static_cast<double>(rate) * seconds);
  const int64_t start = now_ns();
  const int64_t interval = 1'000'000'000 / rate;
  for (long i = 0; i < total; ++i) {
    const int64_t due = start + i * interval;
    while (now_ns() < due) {
      rd_kafka_poll(p, 0);
      const int64_t left = due - now_ns();
      if (left > 200'000) std::this_thread::sleep_for(std::chrono::nanoseconds(left - 100'000));
    }
    int64_t t = now_ns();
    std::memcpy(value, &t, 8);
    produce_one(p, topic, static_cast<int32_t>(i % partitions), value, sizeof value);
  }
  rd_kafka_flush(p, 30000);
  const int64_t wait_start = now_ns();
  while (received < total && now_ns() - wait_start < 10'000'000'000)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  reader.join();
  rd_kafka_destroy(p);
  close_consumer(c);
  json_out()
      .num("sent", static_cast<double>(total))
      .num("received", static_cast<double>(lat.size()))
      .num("p50_ms", percentile(lat, 50))
      .num("p99_ms", percentile(lat, 99))
      .print();
  return 0;
}

int cmd_first_message(const args& a) {
  rd_kafka_t* c = make_consumer(a.str("bootstrap"), {{"group.id", a.str("group")}, {"auto.offset.reset", "earliest"}});
  const int64_t start = now_ns();
  subscribe(c, a.str("topic"));
  for (;;) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 10);
    bool ok = m && !m->err;
    if (m) rd_kafka_message_destroy(m);
    if (ok) break;
    if (now_ns() - start > 60'000'000'000) die("first-message: nothing within 60 s");
  }
  const double ms = ms_since(start);
  close_consumer(c);
  json_out().num("ms", ms).print();
  return 0;
}

struct member_state {
  int assigned = 0;  // partitions held after the last rebalance
  int generations = 0;
};

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* ms = static_cast<member_state*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, parts);
    ms->assigned = parts->cnt;
    ++ms->generations;
  } else {
    rd_kafka_assign(rk, nullptr);
    ms->assigned = 0;
  }
}

rd_kafka_t* make_member(const args& a, member_state* ms) {
  rd_kafka_conf_t* conf =
      base_conf(a.str("bootstrap"), {{"group.id", a.str("group")}, {"auto.offset.reset", "earliest"}});
  rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
  rd_kafka_conf_set_opaque(conf, ms);
  rd_kafka_t* rk = make_handle(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  subscribe(rk, a.str("topic"));
  return rk;
}

void poll_once(rd_kafka_t* rk) {
  rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 1);
  if (m) rd_kafka_message_destroy(m);
}

// The first member holds every partition; the second subscribes. Measured: the second member's
// subscribe until both hold partitions again.
int cmd_rebalance(const args& a) {
  member_state s1, s2;
  rd_kafka_t* c1 = make_member(a, &s1);
  const int64_t t_first = now_ns();
  while (s1.assigned == 0) {
    poll_once(c1);
    if (now_ns() - t_first > 60'000'000'000) die("rebalance: first member never assigned");
  }
  const int gen_before = s1.generations;
  const int64_t start = now_ns();
  rd_kafka_t* c2 = make_member(a, &s2);
  while (!(s2.assigned > 0 && s1.assigned > 0 && s1.generations > gen_before)) {
    poll_once(c1);
    poll_once(c2);
    if (now_ns() - start > 120'000'000'000) die("rebalance: not done within 120 s");
  }
  const double ms = ms_since(start);
  close_consumer(c2);
  close_consumer(c1);
  json_out().num("ms", ms).print();
  return 0;
}

// A producer and a consumer that is fetching (parked fetches on the broker). Prints "ready" once
// the consumer has reached the end of a partition, then stays until killed or stdin closes.
int cmd_hold(const args& a) {
  const std::string topic = a.str("topic");
  const int partitions = static_cast<int>(a.num("partitions", 1));
  delivery_state st;
  rd_kafka_t* p = make_producer(a.str("bootstrap"), {}, &st);
  char v = 'h';
  produce_one(p, topic, 0, &v, 1);
  flush_or_die(p, st);
  rd_kafka_t* c = make_consumer(a.str("bootstrap"), {{"group.id", "mk-load-hold"}, {"enable.partition.eof", "true"}});
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
  for (int i = 0; i < partitions; ++i) rd_kafka_topic_partition_list_add(l, topic.c_str(), i)->offset = RD_KAFKA_OFFSET_END;
  rd_kafka_assign(c, l);
  rd_kafka_topic_partition_list_destroy(l);
  bool ready = false;
  std::thread watch_stdin([] {
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
    std::_Exit(0);
  });
  watch_stdin.detach();
  for (;;) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
    if (m) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && !ready) {
        ready = true;
        std::printf("ready\n");
        std::fflush(stdout);
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(p, 0);
  }
}

// ---------------------------------------------------------------- processes

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Sends a Metadata v0 request (all topics) and reads the whole answer. False if the connection
// is refused or closed.
bool metadata_roundtrip(const sockaddr_in& addr) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  bool ok = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    // size, api_key 3, version 0, correlation 7, client id "mk", topics: empty array (v0: all)
    const unsigned char req[] = {0, 0, 0, 16, 0, 3, 0, 0, 0, 0, 0, 7, 0, 2, 'm', 'k', 0, 0, 0, 0};
    if (write(fd, req, sizeof req) == static_cast<ssize_t>(sizeof req)) {
      unsigned char hdr[4];
      size_t got = 0;
      while (got < 4) {
        ssize_t r = read(fd, hdr + got, 4 - got);
        if (r <= 0) break;
        got += static_cast<size_t>(r);
      }
      if (got == 4) {
        uint32_t len = mk::records::load_be32(hdr);
        std::vector<char> body(len);
        size_t have = 0;
        while (have < len) {
          ssize_t r = read(fd, body.data() + have, len - have);
          if (r <= 0) break;
          have += static_cast<size_t>(r);
        }
        ok = have == len;
      }
    }
  }
  close(fd);
  return ok;
}

sockaddr_in parse_hostport(const std::string& hp) {
  auto colon = hp.rfind(':');
  if (colon == std::string::npos) die("bad address " + hp);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(hp.substr(colon + 1))));
  std::string host = hp.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) die("bad host " + host);
  return addr;
}

int cmd_startup(const args& a) {
  if (a.command.empty()) die("startup: missing -- COMMAND");
  const long runs = a.num("runs", 10);
  std::vector<double> start_ms, exit_ms, rss;
  for (long r = 0; r < runs; ++r) {
    int out[2];
    if (pipe(out) != 0) die("pipe");
    const int64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 2);
      std::vector<char*> argv;
      for (const auto& s : a.command) argv.push_back(const_cast<char*>(s.c_str()));
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char ch;
    while (read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
    if (line.rfind("kafka ", 0) != 0) die("startup: unexpected first line '" + line + "'");
    std::string hp = line.substr(6);
    if (auto comma = hp.find(','); comma != std::string::npos) hp.resize(comma);
    const sockaddr_in addr = parse_hostport(hp);
    while (!metadata_roundtrip(addr)) {
      if (now_ns() - t0 > 10'000'000'000) die("startup: no Metadata answer within 10 s");
    }
    start_ms.push_back(ms_since(t0));
    rss.push_back(static_cast<double>(rss_kib(pid)) / 1024.0);
    const int64_t t1 = now_ns();
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    exit_ms.push_back(ms_since(t1));
    close(out[0]);
  }
  json_out()
      .num("startup_ms", percentile(start_ms, 50))
      .num("idle_rss_mib", percentile(rss, 50))
      .num("sigterm_idle_ms", percentile(exit_ms, 50))
      .print();
  return 0;
}

int cmd_pump(const args& a) {
  const size_t size = static_cast<size_t>(a.num("size", 10240));
  const double seconds = static_cast<double>(a.num("seconds", 2));
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 1) != 0) die("pump: listen");
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  pid_t pid = fork();
  if (pid == 0) {  // writer: size-byte writes for `seconds`
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(1);
    std::vector<char> buf(size, 'p');
    const int64_t end = now_ns() + static_cast<int64_t>(seconds * 1e9);
    while (now_ns() < end) {
      size_t off = 0;
      while (off < size) {
        ssize_t w = write(fd, buf.data() + off, size - off);
        if (w <= 0) _exit(1);
        off += static_cast<size_t>(w);
      }
    }
    close(fd);
    _exit(0);
  }
  int fd = accept(lfd, nullptr, nullptr);
  std::vector<char> buf(1 << 20);
  size_t total = 0;
  int64_t start = 0;
  for (;;) {
    ssize_t r = read(fd, buf.data(), buf.size());
    if (r <= 0) break;
    if (!start) start = now_ns();
    total += static_cast<size_t>(r);
  }
  const double secs = static_cast<double>(now_ns() - start) / 1e9;
  waitpid(pid, nullptr, 0);
  close(fd);
  close(lfd);
  json_out().num("mb_per_s", static_cast<double>(total) / secs / 1e6).print();
  return 0;
}

int cmd_embedded(const args& a) {
  const long runs = a.num("runs", 100);
  minikafka::set_log_level("warn");
  std::vector<double> mk, mock;
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) die(err);
  for (long r = 0; r < runs; ++r) {
    int64_t t0 = now_ns();
    {
      minikafka::broker b;
      b.start();
      b.stop();
    }
    mk.push_back(ms_since(t0));
    t0 = now_ns();
    rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, 1);
    if (!mc) die("rd_kafka_mock_cluster_new failed");
    rd_kafka_mock_cluster_destroy(mc);
    mock.push_back(ms_since(t0));
  }
  rd_kafka_destroy(rk);
  json_out().num("minikafka_ms", percentile(mk, 50)).num("mock_ms", percentile(mock, 50)).print();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) die("usage: mk_load SUBCOMMAND [--key value]... (see the top of bench/load/mk_load.cc)");
  const std::string cmd = argv[1];
  const args a = parse(argc, argv, 2);
  if (cmd == "produce") return cmd_produce(a);
  if (cmd == "consume") return cmd_consume(a);
  if (cmd == "roundtrip") return cmd_roundtrip(a);
  if (cmd == "e2e") return cmd_e2e(a);
  if (cmd == "first-message") return cmd_first_message(a);
  if (cmd == "rebalance") return cmd_rebalance(a);
  if (cmd == "hold") return cmd_hold(a);
  if (cmd == "startup") return cmd_startup(a);
  if (cmd == "pump") return cmd_pump(a);
  if (cmd == "embedded") return cmd_embedded(a);
  die("unknown subcommand " + cmd);
}
