// startup_time: how long from fork/exec of the broker to its first Metadata answer.
//
//   startup_time path/to/minikafka [runs=20]
//
// Each run spawns `minikafka --port 0` (stderr to /dev/null), reads the "kafka HOST:PORT" line
// it prints on stdout, connects, sends Metadata v1 and waits for the response; the wall time
// from just before fork() to the decoded response is one sample. The broker is then stopped with
// SIGTERM. Prints every sample and min / median / max in milliseconds.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/generated/metadata_request.h"
#include "protocol/generated/metadata_response.h"
#include "test_client.h"

namespace {

using clock_type = std::chrono::steady_clock;

struct child {
  pid_t pid = -1;
  int out = -1;  // read end of the child's stdout
};

child spawn(const char* binary) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDERR_FILENO);
    execl(binary, binary, "--port", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

// Reads the child's first stdout line ("kafka HOST:PORT") within `timeout`.
std::string first_line(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  std::string line;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    if (left <= 0) throw std::runtime_error("no listener line within the deadline");
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) throw std::runtime_error("broker exited before printing its address");
    if (c == '\n') return line;
    line.push_back(c);
  }
}

double one_run(const char* binary) {
  const auto t0 = clock_type::now();
  child ch = spawn(binary);
  std::string line = first_line(ch.out, std::chrono::seconds(10));
  if (line.rfind("kafka ", 0) != 0) throw std::runtime_error("unexpected first line: " + line);
  std::string addr = line.substr(6);
  auto colon = addr.rfind(':');
  std::string host = addr.substr(0, colon);
  auto port = static_cast<uint16_t>(std::stoi(addr.substr(colon + 1)));

  mk::test::client c(port, host);
  mk::proto::metadata_request md;  // v1: null topics = all
  md.topics = std::nullopt;
  auto resp = c.call(md, 1);
  const auto t1 = clock_type::now();
  if (resp.brokers.size() != 1) throw std::runtime_error("Metadata without the broker");

  kill(ch.pid, SIGTERM);
  int status = 0;
  waitpid(ch.pid, &status, 0);
  close(ch.out);
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s path/to/minikafka [runs=20]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 20;
  std::vector<double> ms;
  try {
    for (int i = 0; i < runs; ++i) {
      ms.push_back(one_run(argv[1]));
      std::printf("run %2d: %7.2f ms\n", i + 1, ms.back());
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "startup_time: %s\n", ex.what());
    return 1;
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  std::printf("fork/exec -> Metadata v1 response over %d runs: min %.2f ms, median %.2f ms, max %.2f ms\n", runs,
              ms.front(), median, ms.back());
  return 0;
}
