#include "broker/clock.h"

#include <chrono>
#include <vector>

namespace mk {

clock_wait& clock_wait::operator=(clock_wait&& o) noexcept {
  if (this != &o) {
    release();
    clock_ = o.clock_;
    id_ = o.id_;
    o.clock_ = nullptr;
  }
  return *this;
}

void clock_wait::release() {
  if (clock_) clock_->unregister(id_);
  clock_ = nullptr;
}

int64_t system_clock::wall_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t system_clock::steady_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

clock_wait system_clock::arm(asio::steady_timer& t, int64_t at_ms) {
  t.expires_at(asio::steady_timer::time_point(std::chrono::milliseconds(at_ms)));
  return {};
}

manual_clock::manual_clock() : wall_ms_(system_clock().wall_ms()), steady_ms_(system_clock().steady_ms()) {}

clock_wait manual_clock::arm(asio::steady_timer& t, int64_t at_ms) {
  t.expires_at(asio::steady_timer::time_point::max());
  if (at_ms <= steady_ms_) {
    // Already due: complete at once, as an expired system timer would.
    t.expires_at(asio::steady_timer::time_point::min());
    return {};
  }
  const uint64_t id = next_id_++;
  timers_.emplace(id, armed{&t, at_ms});
  return clock_wait(this, id);
}

void manual_clock::advance(int64_t ms) {
  if (ms < 0) ms = 0;
  wall_ms_ += ms;
  steady_ms_ += ms;
  std::vector<asio::steady_timer*> due;
  for (auto it = timers_.begin(); it != timers_.end();) {
    if (it->second.at_ms <= steady_ms_) {
      due.push_back(it->second.timer);
      it = timers_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto* t : due) t->cancel();
  for (auto& f : observers_) f();
}

}  // namespace mk
