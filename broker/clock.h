// The broker's one clock: wall time for record timestamps and commit times, monotonic time for
// deadlines (group sessions and rebalances, fetch max-wait, retention and compaction ticks).
// The server owns one and hands it to everything that asks the time, so a test can replace the
// system clock with a manual one and move time by hand.
//
// Timers: code that waits for a deadline arms an asio::steady_timer through the clock
// (`arm`). With the system clock the timer simply expires at that time. With the manual clock it
// never expires by itself; advance() cancels it once the clock has reached the deadline. Either
// way a woken waiter must re-check the time (a cancellation may come from something else), which
// is what every waiter here does anyway.
//
// Runs on: the broker state thread (advance() too: post it there).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "broker/asio.h"

namespace mk {

namespace asio = boost::asio;

class clock;

// Keeps a manual-clock registration alive; destroying it (or re-arming) unregisters the timer.
class clock_wait {
 public:
  clock_wait() = default;
  clock_wait(clock* c, uint64_t id) : clock_(c), id_(id) {}
  clock_wait(clock_wait&& o) noexcept : clock_(o.clock_), id_(o.id_) { o.clock_ = nullptr; }
  clock_wait& operator=(clock_wait&& o) noexcept;
  clock_wait(const clock_wait&) = delete;
  clock_wait& operator=(const clock_wait&) = delete;
  ~clock_wait() { release(); }
  void release();

 private:
  clock* clock_ = nullptr;
  uint64_t id_ = 0;
};

class clock {
 public:
  virtual ~clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t wall_ms() const = 0;
  // Monotonic milliseconds (an arbitrary origin; only differences mean anything).
  virtual int64_t steady_ms() const = 0;
  // Arms `t` to complete when steady_ms() reaches `at_ms`. Keep the returned handle while
  // waiting. Waiters re-check the time when the timer completes.
  [[nodiscard]] virtual clock_wait arm(asio::steady_timer& t, int64_t at_ms) = 0;
  // True for a clock that moves only when told to.
  virtual bool manual() const { return false; }

 private:
  friend class clock_wait;
  virtual void unregister(uint64_t) {}
};

// The real clocks (std::chrono::system_clock and steady_clock).
class system_clock final : public clock {
 public:
  int64_t wall_ms() const override;
  int64_t steady_ms() const override;
  clock_wait arm(asio::steady_timer& t, int64_t at_ms) override;
};

// A clock that starts at the real time of its creation and then moves only by advance().
class manual_clock final : public clock {
 public:
  manual_clock();
  int64_t wall_ms() const override { return wall_ms_; }
  int64_t steady_ms() const override { return steady_ms_; }
  clock_wait arm(asio::steady_timer& t, int64_t at_ms) override;
  bool manual() const override { return true; }

  // Moves both times forward by `ms` (>= 0), wakes every timer whose deadline is reached, then
  // calls the observers (the server runs its due housekeeping from there).
  void advance(int64_t ms);
  // Called after every advance().
  void on_advance(std::function<void()> f) { observers_.push_back(std::move(f)); }

 private:
  void unregister(uint64_t id) override { timers_.erase(id); }

  struct armed {
    asio::steady_timer* timer;
    int64_t at_ms;
  };
  int64_t wall_ms_;
  int64_t steady_ms_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, armed> timers_;
  std::vector<std::function<void()>> observers_;
};

}  // namespace mk
