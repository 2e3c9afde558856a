#include "lib/base/blocking_worker.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <exception>
#include <spdlog/spdlog.h>

namespace supd {

BlockingWorker::BlockingWorker(boost::asio::io_context& io) : io_(io) {
  thread_ = std::thread([this] { Loop(); });
}

BlockingWorker::~BlockingWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_one();
  thread_.join();
}

void BlockingWorker::Run(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void BlockingWorker::Loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    std::function<void()> then;
    try {
      then = job();
    } catch (const std::exception& e) {
      // A bug in a job; the loop must not wait for an answer that never comes, so the job's
      // caller learns nothing, but supd goes on.
      spdlog::critical("internal error: a blocking job threw ({})", e.what());
      continue;
    }
    if (then) boost::asio::post(io_, std::move(then));
  }
}

}  // namespace supd
