// BlockingWorker: one thread for calls that may block without bound (NSS lookups through LDAP,
// reading files a user named), so that the event loop never waits on them.
//
// A job runs on the worker thread and returns a continuation; the continuation is posted to
// the io_context and runs there, like every other handler. Jobs run one at a time, in order.
// A job must touch only what it captured (never the loop's state); the continuation may touch
// anything the loop owns, if it checks that it still exists (the job may outlive its caller).
//
// Run() may be called from the loop thread only. The destructor stops the thread after the job
// that runs (if any); jobs not started yet are dropped, and a continuation that was not run is
// destroyed with the io_context.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace boost::asio {
class io_context;
}

namespace supd {

class BlockingWorker {
 public:
  using Job = std::function<std::function<void()>()>;
  explicit BlockingWorker(boost::asio::io_context& io);
  ~BlockingWorker();
  BlockingWorker(const BlockingWorker&) = delete;
  BlockingWorker& operator=(const BlockingWorker&) = delete;

  void Run(Job job);

 private:
  void Loop();

  boost::asio::io_context& io_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // GUARDED_BY(mu_)
  bool stop_ = false;      // GUARDED_BY(mu_)
  std::thread thread_;     // started last, in the constructor's body
};

}  // namespace supd
