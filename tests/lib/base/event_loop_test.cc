#include "lib/base/event_loop.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <stdexcept>
#include <vector>

namespace supd {
namespace {

// A handler that throws is logged and skipped: the handlers queued after it, and the timers
// still pending, run as if nothing happened, and the loop ends only when the work does.
TEST(EventLoopTest, AThrowingHandlerDoesNotEndTheLoop) {
  boost::asio::io_context io;
  std::vector<int> ran;
  boost::asio::post(io, [&] { ran.push_back(1); });
  boost::asio::post(io, [] { throw std::runtime_error("bug in a handler"); });
  boost::asio::post(io, [&] { ran.push_back(2); });
  boost::asio::post(io, [] { throw 42; });
  boost::asio::steady_timer timer(io, std::chrono::milliseconds(5));
  timer.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) ran.push_back(3);
  });
  EXPECT_EQ(2u, RunEventLoop(io));
  EXPECT_EQ((std::vector<int>{1, 2, 3}), ran);
}

TEST(EventLoopTest, StopEndsTheLoop) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);  // would run for ever without the stop
  bool after = false;
  boost::asio::post(io, [&] { io.stop(); });
  boost::asio::post(io, [&] { after = true; });
  EXPECT_EQ(0u, RunEventLoop(io));
  EXPECT_FALSE(after);
}

}  // namespace
}  // namespace supd
