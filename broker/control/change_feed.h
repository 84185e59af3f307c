// "Something changed": the one signal the await oracles (GET /v1/await/..., the embedding API's
// await_* calls) wait on instead of polling. The services notify it when the state an await
// may depend on changes: records appended, topics created, grown or deleted, group membership,
// state or committed offsets changed, a request arrived, a reset ran, the manual clock moved.
//
// A notification carries no detail: every subscriber re-checks its own condition. notify() with
// no subscriber is one empty() check, so the feed costs nothing while nobody waits.
// Runs on: broker state thread (not thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

namespace mk::control {

class change_feed {
 public:
  // Unsubscribes when destroyed.
  class subscription {
   public:
    subscription() = default;
    subscription(change_feed* f, uint64_t id) : feed_(f), id_(id) {}
    subscription(subscription&& o) noexcept : feed_(std::exchange(o.feed_, nullptr)), id_(o.id_) {}
    subscription& operator=(subscription&& o) noexcept {
      if (this != &o) {
        reset();
        feed_ = std::exchange(o.feed_, nullptr);
        id_ = o.id_;
      }
      return *this;
    }
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription() { reset(); }
    void reset() {
      if (feed_) feed_->subscribers_.erase(id_);
      feed_ = nullptr;
    }

   private:
    change_feed* feed_ = nullptr;
    uint64_t id_ = 0;
  };

  // `f` runs on every notify() until the subscription is destroyed. It may unsubscribe itself
  // or others, and may subscribe new callbacks (they first run on the next notify()).
  [[nodiscard]] subscription subscribe(std::function<void()> f) {
    const uint64_t id = next_id_++;
    subscribers_.emplace(id, std::move(f));
    return subscription(this, id);
  }

  void notify() {
    if (subscribers_.empty()) return;
    ++generation_;
    // Walk by id so that callbacks may (un)subscribe while we iterate.
    for (uint64_t last = 0;;) {
      auto it = subscribers_.upper_bound(last);
      if (it == subscribers_.end()) break;
      last = it->first;
      auto f = it->second;  // a copy: the callback may destroy its own subscription
      f();
    }
  }

  bool empty() const { return subscribers_.empty(); }
  // Counts notifications delivered to at least one subscriber (for tests and diagnostics).
  uint64_t generation() const { return generation_; }

 private:
  std::map<uint64_t, std::function<void()>> subscribers_;
  uint64_t next_id_ = 1;
  uint64_t generation_ = 0;
};

}  // namespace mk::control
