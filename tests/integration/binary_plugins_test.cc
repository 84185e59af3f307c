// The `minikafka` executable and what it loads only on demand (docs/ARCHITECTURE.md, "Binary and
// plugins"): the in-memory broker maps neither librocksdb nor librdkafka; --storage rocksdb
// loads minikafka-rocksdb.so from next to the binary or from ../lib/minikafka, and keeps data
// across restarts through it; a missing plugin or tools program is a clear error.
//
// The binary is $MINIKAFKA_BIN, or build/broker/minikafka found from this test's own path
// (build/tests/integration/); without it every test is skipped.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "protocol/generated/create_topics_request.h"
#include "protocol/generated/create_topics_response.h"
#include "protocol/generated/metadata_request.h"
#include "protocol/generated/metadata_response.h"
#include "test_client.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path broker_binary() {
  if (const char* env = std::getenv("MINIKAFKA_BIN"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return self.parent_path().parent_path().parent_path() / "broker" / "minikafka";
}

// Reads everything from fd until EOF or the deadline.
std::string drain(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string out;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// A child process with its stdout and stderr on pipes.
struct process {
  pid_t pid = -1;
  int out = -1;
  int err = -1;

  static process spawn(const std::vector<std::string>& args) {
    int o[2], e[2];
    if (pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      dup2(o[1], STDOUT_FILENO);
      dup2(e[1], STDERR_FILENO);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(o[1]);
    close(e[1]);
    return {pid, o[0], e[0]};
  }

  // The first stdout line, or "" when the process ends (or the deadline passes) first.
  std::string first_line(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{out, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char c;
      if (read(out, &c, 1) != 1) return "";
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

  // Waits for the exit (SIGKILL after `timeout`); the exit code, or 128 + signal.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      usleep(5000);
    }
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  void close_pipes() {
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    out = err = -1;
  }
};

struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs a command that is expected to end by itself within a few seconds.
run_result run(const std::vector<std::string>& args) {
  process p = process::spawn(args);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  run_result r;
  r.err = drain(p.err, deadline);
  r.out = drain(p.out, deadline);
  r.code = p.wait(5s);
  p.close_pipes();
  return r;
}

// A broker started with --port 0; stopped with SIGTERM by stop() or the destructor.
class running_broker {
 public:
  explicit running_broker(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--port", "0", "--admin-port", "-1"});
    p_ = process::spawn(args);
    std::string line = p_.first_line(20s);
    if (line.rfind("kafka ", 0) != 0) {
      std::string err = drain(p_.err, std::chrono::steady_clock::now() + 2s);
      stop();
      throw std::runtime_error("broker did not start; stderr: " + err);
    }
    port_ = static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  }
  ~running_broker() { stop(); }

  uint16_t port() const { return port_; }
  pid_t pid() const { return p_.pid; }

  // Paths of the shared objects mapped into the broker.
  std::string maps() const {
    std::ifstream f("/proc/" + std::to_string(p_.pid) + "/maps");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  int stop() {
    if (p_.pid < 0) return -1;
    kill(p_.pid, SIGTERM);
    int code = p_.wait(20s);
    p_.close_pipes();
    return code;
  }

 private:
  process p_;
  uint16_t port_ = 0;
};

std::vector<std::string> topic_names(uint16_t port) {
  mk::test::client c(port);
  mk::proto::metadata_request md;
  md.topics = std::nullopt;
  auto resp = c.call(md, 1);
  std::vector<std::string> names;
  for (const auto& t : resp.topics) names.push_back(t.name.value_or(""));
  return names;
}

class BinaryPlugins : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = broker_binary();
    if (bin_.empty() || !fs::exists(bin_)) GTEST_SKIP() << "no minikafka binary at '" << bin_.string() << "'";
    std::string tmpl = (fs::temp_directory_path() / "minikafka-plugins-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }

  fs::path plugin() const { return bin_.parent_path() / "minikafka-rocksdb.so"; }
  // A copy of the binary alone in `dir` (a symlink would still find its neighbours through
  // /proc/self/exe).
  fs::path copy_binary_to(const fs::path& dir) const {
    fs::create_directories(dir);
    fs::copy_file(bin_, dir / "minikafka");
    return dir / "minikafka";
  }

  fs::path bin_;
  fs::path tmp_;
};

TEST_F(BinaryPlugins, MemoryBrokerMapsNeitherRocksDbNorRdkafka) {
  running_broker b({bin_.string()});
  EXPECT_EQ(topic_names(b.port()).size(), 0u);
  const std::string maps = b.maps();
  ASSERT_FALSE(maps.empty());
  EXPECT_EQ(maps.find("librocksdb"), std::string::npos);
  EXPECT_EQ(maps.find("minikafka-rocksdb.so"), std::string::npos);
  EXPECT_EQ(maps.find("librdkafka"), std::string::npos);
  EXPECT_EQ(b.stop(), 0);
}

TEST_F(BinaryPlugins, RocksDbThroughThePluginKeepsTopicsAcrossRestarts) {
  if (!fs::exists(plugin())) GTEST_SKIP() << "built without RocksDB";
  const std::string data = (tmp_ / "data").string();
  {
    running_broker b({bin_.string(), "--storage", "rocksdb", "--data-dir", data});
    const std::string maps = b.maps();
    EXPECT_NE(maps.find("minikafka-rocksdb.so"), std::string::npos);
    EXPECT_NE(maps.find("librocksdb"), std::string::npos);
    mk::test::client c(b.port());
    mk::proto::create_topics_request req;
    mk::proto::create_topics_request::creatable_topic t;
    t.name = "kept";
    t.num_partitions = 2;
    t.replication_factor = 1;
    req.topics.push_back(t);
    auto resp = c.call(req, 4);
    ASSERT_EQ(resp.topics.size(), 1u);
    EXPECT_EQ(resp.topics[0].error_code, 0);
    EXPECT_EQ(b.stop(), 0);
  }
  running_broker again({bin_.string(), "--storage", "rocksdb", "--data-dir", data});
  EXPECT_EQ(topic_names(again.port()), std::vector<std::string>{"kept"});
  EXPECT_EQ(again.stop(), 0);
}

TEST_F(BinaryPlugins, InstalledLayoutFindsThePluginInLibMinikafka) {
  if (!fs::exists(plugin())) GTEST_SKIP() << "built without RocksDB";
  const fs::path bin = copy_binary_to(tmp_ / "prefix" / "bin");
  fs::create_directories(tmp_ / "prefix" / "lib" / "minikafka");
  fs::copy_file(plugin(), tmp_ / "prefix" / "lib" / "minikafka" / "minikafka-rocksdb.so");
  running_broker b({bin.string(), "--storage", "rocksdb", "--data-dir", (tmp_ / "data").string()});
  EXPECT_NE(b.maps().find((tmp_ / "prefix" / "lib" / "minikafka" / "minikafka-rocksdb.so").string()),
            std::string::npos);
  EXPECT_EQ(b.stop(), 0);
}

TEST_F(BinaryPlugins, MissingPluginIsAClearStartupError) {
  const fs::path bin = copy_binary_to(tmp_ / "alone");
  auto r = run({bin.string(), "--port", "0", "--admin-port", "-1", "--storage", "rocksdb", "--data-dir",
                (tmp_ / "data").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");  // no listener line: the broker never started
  if (fs::exists(plugin())) {
    EXPECT_NE(r.err.find("--storage rocksdb needs the RocksDB plugin minikafka-rocksdb.so"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find((tmp_ / "alone" / "minikafka-rocksdb.so").string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find((tmp_ / "lib" / "minikafka" / "minikafka-rocksdb.so").string()), std::string::npos) << r.err;
  } else {
    EXPECT_NE(r.err.find("no RocksDB support"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(tmp_ / "data"));
}

TEST_F(BinaryPlugins, BrokenPluginIsAClearStartupError) {
  const fs::path bin = copy_binary_to(tmp_ / "broken");
  std::ofstream(tmp_ / "broken" / "minikafka-rocksdb.so") << "not a shared object\n";
  auto r = run({bin.string(), "--port", "0", "--admin-port", "-1", "--storage", "rocksdb", "--data-dir",
                (tmp_ / "data").string()});
  EXPECT_EQ(r.code, 1);
  if (fs::exists(plugin())) {
    EXPECT_NE(r.err.find("cannot load the RocksDB plugin " + (tmp_ / "broken" / "minikafka-rocksdb.so").string()),
              std::string::npos)
        << r.err;
  }
}

TEST_F(BinaryPlugins, ToolsRunThroughTheExecutable) {
  auto r = run({bin_.string(), "topics", "--help"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("minikafka topics"), std::string::npos) << r.out;
  // Kafka's script names too.
  r = run({bin_.string(), "kafka-consumer-groups.sh", "--help"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(BinaryPlugins, MissingToolsProgramIsAClearError) {
  const fs::path bin = copy_binary_to(tmp_ / "alone");
  auto r = run({bin.string(), "topics", "--list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("command-line tools are not installed: minikafka-tools not found"), std::string::npos) << r.err;
}

}  // namespace
