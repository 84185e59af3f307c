// The `minikafka` executable's log output (broker/main.cc only; the library and embedders keep
// whatever spdlog logger they install, synchronous or not).
//
// A message is formatted on the thread that logs it and handed to one spdlog worker thread
// through a bounded queue of 1024 lines (spdlog's async logger, overflow policy
// overrun_oldest): the broker's state thread never waits for the output. When the output stops
// being read (a pipe nobody drains, a stopped terminal) the worker blocks on it, the queue fills
// and the oldest queued lines are dropped and counted; once the output moves again the worker
// first writes one warning, "N log lines dropped ...", then the lines still queued. The one
// exception is a critical line (the broker is about to stop: a failed start, or the state thread
// dying before it aborts), whose caller waits up to a second for it to be written.
//
// Output: stderr, or --log-file PATH (appended to; error and critical lines then also go to
// stderr, so a failed start is explained where it was started). Format: spdlog's usual text
// line (level coloured on a terminal), or one JSON object per line:
//   {"time":"2026-11-24T10:00:00.123Z","level":"info","logger":"minikafka","message":"..."}
// (time in UTC; levels as --log-level spells them; invalid UTF-8 in a message becomes U+FFFD).
#pragma once

#include <memory>
#include <string>

namespace mk {

struct log_options {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // text | json
  std::string file;             // empty: stderr
};

class log_output {
 public:
  // Installs the asynchronous default logger. Throws std::runtime_error when the log file cannot
  // be opened. Create it after blocking the signals main() waits for: the worker thread inherits
  // the signal mask.
  explicit log_output(const log_options& options);
  // Waits (at most about a second) until every queued line is written, then stops the worker. A
  // worker still blocked on its output after that is left behind (not joined) so that the process
  // can exit; its queued lines are lost.
  ~log_output();
  log_output(const log_output&) = delete;
  log_output& operator=(const log_output&) = delete;

  // Lines dropped so far: overrun in the queue or failed writes (e.g. the reader went away).
  size_t dropped() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mk
