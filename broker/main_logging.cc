#include "broker/main_logging.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/async.h>
#include <spdlog/details/os.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace mk {

namespace {

using spdlog::memory_buf_t;
using spdlog::details::log_msg;

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c == 0xE0) len = 3, lo = 0xA0;
  else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
  else if (c == 0xED) len = 3, hi = 0x9F;  // no UTF-16 surrogates
  else if (c == 0xF0) len = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) len = 4;
  else if (c == 0xF4) len = 4, hi = 0x8F;
  else return 0;
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return len;
}

void append(memory_buf_t& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

void append_json_string(memory_buf_t& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      append(out, "\\n");
    } else if (c == '\r') {
      append(out, "\\r");
    } else if (c == '\t') {
      append(out, "\\t");
    } else if (c < 0x20) {
      append(out, "\\u00");
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    } else if (c >= 0x80) {
      if (size_t len = utf8_sequence_length(s, i)) {
        append(out, s.substr(i, len));
        i += len;
        continue;
      }
      append(out, "\xEF\xBF\xBD");  // U+FFFD: the output stays valid UTF-8, hence valid JSON
    } else {
      out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  out.push_back('"');
}

// The level names --log-level accepts (spdlog says "warning" and "error" in its own way).
std::string_view level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    case spdlog::level::off: return "off";
    case spdlog::level::n_levels: break;
  }
  return "unknown";
}

// One JSON object per line: time (UTC, milliseconds), level, logger, message.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const log_msg& msg, memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char time_buf[64];
    std::snprintf(time_buf, sizeof time_buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
    append(dest, "{\"time\":\"");
    append(dest, time_buf);
    append(dest, "\",\"level\":\"");
    append(dest, level_name(msg.level));
    append(dest, "\",\"logger\":");
    append_json_string(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    append(dest, ",\"message\":");
    append_json_string(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    append(dest, "}\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<json_formatter>(); }
};

// Writes formatted lines to a file descriptor with plain write(2): no stdio buffer, so nothing
// waits in the process when it exits. Runs on: the logger's worker thread (only there), where
// blocking on a full pipe is allowed. A failed write (EPIPE: the reader went away) drops the
// line and counts it; SIGPIPE is ignored by main().
class fd_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // `queue` (optional) is the pool whose overruns this sink reports before its next line.
  fd_sink(int fd, bool owns_fd, spdlog::details::thread_pool* queue) : fd_(fd), owns_fd_(owns_fd), queue_(queue) {
    color_ = isatty(fd) && spdlog::details::os::is_color_terminal();
  }
  ~fd_sink() override {
    if (owns_fd_) ::close(fd_);
  }
  size_t write_drops() const { return write_drops_.load(); }

 protected:
  void sink_it_(const log_msg& msg) override {
    if (queue_) {
      const size_t total = queue_->overrun_counter() + write_drops_.load();
      if (total > reported_) {
        const size_t n = total - reported_;
        reported_ = total;
        const std::string text = std::to_string(n) + (n == 1 ? " log line" : " log lines") +
                                 " dropped: the log output was not being read (or not fast enough)";
        write_msg(log_msg(msg.time, spdlog::source_loc{}, msg.logger_name, spdlog::level::warn, text), false);
      }
    }
    write_msg(msg, true);
  }
  void flush_() override {}

 private:
  void write_msg(const log_msg& msg, bool count_failure) {
    memory_buf_t buf;
    formatter_->format(msg, buf);
    bool ok;
    if (color_ && msg.color_range_end > msg.color_range_start && msg.color_range_end <= buf.size()) {
      memory_buf_t coloured;
      const std::string_view text(buf.data(), buf.size());
      append(coloured, text.substr(0, msg.color_range_start));
      append(coloured, level_color(msg.level));
      append(coloured, text.substr(msg.color_range_start, msg.color_range_end - msg.color_range_start));
      append(coloured, "\033[m");
      append(coloured, text.substr(msg.color_range_end));
      ok = write_all(coloured.data(), coloured.size());
    } else {
      ok = write_all(buf.data(), buf.size());
    }
    if (!ok && count_failure) write_drops_++;
  }

  bool write_all(const char* p, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w > 0) {
        p += w;
        n -= static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else {
        return false;
      }
    }
    return true;
  }

  // spdlog's colours (sinks/ansicolor_sink-inl.h).
  static std::string_view level_color(spdlog::level::level_enum l) {
    switch (l) {
      case spdlog::level::trace: return "\033[37m";
      case spdlog::level::debug: return "\033[36m";
      case spdlog::level::info: return "\033[32m";
      case spdlog::level::warn: return "\033[33m\033[1m";
      case spdlog::level::err: return "\033[31m\033[1m";
      case spdlog::level::critical: return "\033[1m\033[41m";
      default: return "\033[m";
    }
  }

  int fd_;
  bool owns_fd_;
  bool color_ = false;
  spdlog::details::thread_pool* queue_;  // outlives every call: sinks run on its worker
  size_t reported_ = 0;                  // drops already reported (worker thread only)
  std::atomic<size_t> write_drops_{0};
};

// The last sink: counts the flushes the worker has reached, so that the destructor can tell
// when everything queued before its flush has been written.
class flush_marker final : public spdlog::sinks::sink {
 public:
  void log(const log_msg&) override {}
  void flush() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++flushes_;
    }
    cv_.notify_all();
  }
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

  uint64_t flushes() {
    std::lock_guard<std::mutex> lock(mu_);
    return flushes_;
  }
  bool wait_beyond(uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return flushes_ > seen; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t flushes_ = 0;
};

// spdlog allocates and constructs every slot up front (~420 bytes each, message buffer included),
// so the queue is sized for bursts, not for minutes of a stalled output: 8192 slots cost 3.4 MB of
// RSS (idle RSS is ~6 MB), 1024 cost ~0.4 MB.
constexpr size_t queue_lines = 1024;
constexpr std::chrono::milliseconds drain_timeout{1000};

// The sink of the default (front) logger, on the logging thread: hands each line to the async
// logger. A critical line means the broker is about to stop (a failed start, or the state thread
// dying and aborting), so it waits, up to drain_timeout, until it is written.
class forward_sink final : public spdlog::sinks::sink {
 public:
  forward_sink(std::shared_ptr<spdlog::async_logger> target, std::shared_ptr<flush_marker> marker)
      : target_(std::move(target)), marker_(std::move(marker)) {}
  void log(const log_msg& msg) override {
    if (msg.level < spdlog::level::critical) {
      target_->log(msg.time, msg.source, msg.level, msg.payload);
      return;
    }
    const uint64_t seen = marker_->flushes();
    target_->log(msg.time, msg.source, msg.level, msg.payload);
    target_->flush();
    marker_->wait_beyond(seen, drain_timeout);
  }
  void flush() override { target_->flush(); }
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

 private:
  std::shared_ptr<spdlog::async_logger> target_;
  std::shared_ptr<flush_marker> marker_;
};

}  // namespace

struct log_output::impl {
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<spdlog::async_logger> logger;
  std::vector<std::shared_ptr<fd_sink>> outputs;
  std::shared_ptr<flush_marker> marker;
};

log_output::log_output(const log_options& options) : impl_(std::make_unique<impl>()) {
  auto make_formatter = [&]() -> std::unique_ptr<spdlog::formatter> {
    if (options.format == "json") return std::make_unique<json_formatter>();
    return std::make_unique<spdlog::pattern_formatter>();  // spdlog's default line, as before
  };
  impl_->pool = std::make_shared<spdlog::details::thread_pool>(queue_lines, 1);
  std::vector<spdlog::sink_ptr> sinks;
  if (options.file.empty()) {
    impl_->outputs.push_back(std::make_shared<fd_sink>(STDERR_FILENO, false, impl_->pool.get()));
  } else {
    int fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open --log-file " + options.file + ": " + std::strerror(errno));
    impl_->outputs.push_back(std::make_shared<fd_sink>(fd, true, impl_->pool.get()));
    // Errors also reach whoever started the broker.
    auto errors = std::make_shared<fd_sink>(STDERR_FILENO, false, nullptr);
    errors->set_level(spdlog::level::err);
    impl_->outputs.push_back(errors);
  }
  for (auto& s : impl_->outputs) {
    s->set_formatter(make_formatter());
    sinks.push_back(s);
  }
  impl_->marker = std::make_shared<flush_marker>();
  sinks.push_back(impl_->marker);
  // overrun_oldest: a full queue drops its oldest line instead of making the caller wait.
  impl_->logger = std::make_shared<spdlog::async_logger>("minikafka", sinks.begin(), sinks.end(), impl_->pool,
                                                         spdlog::async_overflow_policy::overrun_oldest);
  impl_->logger->set_level(spdlog::level::trace);  // the front logger filters
  auto front = std::make_shared<spdlog::logger>("minikafka",
                                                std::make_shared<forward_sink>(impl_->logger, impl_->marker));
  spdlog::set_default_logger(front);
  spdlog::set_level(spdlog::level::from_str(options.level));
}

log_output::~log_output() {
  const uint64_t seen = impl_->marker->flushes();
  impl_->logger->flush();  // queued behind every line logged so far (dropped if the queue is full)
  const bool drained = impl_->marker->wait_beyond(seen, drain_timeout);
  // Whatever logs from now on goes nowhere rather than to a worker that may be gone.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("minikafka"));
  if (drained) {
    impl_->logger.reset();
    impl_->pool.reset();  // the worker is idle: it takes the stop message and is joined
  } else {
    // The worker is blocked writing to an output nobody reads. Joining it would hang the exit,
    // so it is left running (its pool is never destroyed) and ends with the process.
    (void)new impl(std::move(*impl_));
  }
}

size_t log_output::dropped() const {
  size_t n = impl_->pool ? impl_->pool->overrun_counter() : 0;
  for (const auto& s : impl_->outputs) n += s->write_drops();
  return n;
}

}  // namespace mk
