// The injectable clock (broker/clock.h): the manual clock moves only when advanced and wakes the
// timers armed through it; released waits are forgotten.
#include <gtest/gtest.h>

#include "broker/clock.h"

namespace {

using mk::manual_clock;

struct fired {
  bool done = false;
  boost::system::error_code ec;
};

TEST(ManualClock, StartsAtTheRealTimeAndMovesOnlyWhenAdvanced) {
  const int64_t before = mk::system_clock().wall_ms();
  manual_clock c;
  EXPECT_GE(c.wall_ms(), before);
  const int64_t w = c.wall_ms(), s = c.steady_ms();
  c.advance(1500);
  EXPECT_EQ(c.wall_ms(), w + 1500);
  EXPECT_EQ(c.steady_ms(), s + 1500);
  c.advance(-5);  // never backwards
  EXPECT_EQ(c.steady_ms(), s + 1500);
  EXPECT_TRUE(c.manual());
  EXPECT_FALSE(mk::system_clock().manual());
}

TEST(ManualClock, ArmedTimerCompletesOnlyOnceTheDeadlineIsReached) {
  boost::asio::io_context io;
  manual_clock c;
  boost::asio::steady_timer t(io);
  fired f;
  auto wait = c.arm(t, c.steady_ms() + 100);
  t.async_wait([&](boost::system::error_code ec) {
    f.done = true;
    f.ec = ec;
  });
  io.poll();
  EXPECT_FALSE(f.done);
  c.advance(99);
  io.poll();
  EXPECT_FALSE(f.done);
  c.advance(1);
  io.poll();
  EXPECT_TRUE(f.done);
}

TEST(ManualClock, DeadlineAlreadyPassedCompletesAtOnce) {
  boost::asio::io_context io;
  manual_clock c;
  boost::asio::steady_timer t(io);
  bool done = false;
  auto wait = c.arm(t, c.steady_ms() - 1);
  t.async_wait([&](boost::system::error_code) { done = true; });
  io.poll();
  EXPECT_TRUE(done);
}

TEST(ManualClock, ReleasedWaitIsNotWokenAndObserversRunAfterEachAdvance) {
  boost::asio::io_context io;
  manual_clock c;
  int advances = 0;
  c.on_advance([&] { ++advances; });
  {
    boost::asio::steady_timer t(io);
    auto wait = c.arm(t, c.steady_ms() + 10);
    wait.release();
    c.advance(20);  // the timer is no longer registered: nothing touches it
  }
  {
    // A wait destroyed with its timer unregisters too.
    boost::asio::steady_timer t(io);
    auto wait = c.arm(t, c.steady_ms() + 10);
  }
  c.advance(20);
  EXPECT_EQ(advances, 2);
}

TEST(SystemClock, ArmSetsTheTimersExpiry) {
  boost::asio::io_context io;
  mk::system_clock c;
  boost::asio::steady_timer t(io);
  auto wait = c.arm(t, c.steady_ms() + 5000);
  const auto left = t.expiry() - boost::asio::steady_timer::clock_type::now();
  EXPECT_GT(left, std::chrono::milliseconds(4000));
  EXPECT_LE(left, std::chrono::milliseconds(5000));
}

}  // namespace
