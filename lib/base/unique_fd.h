// UniqueFd: the one owner of a file descriptor. Move-only; the destructor closes.
//
// Every fd supd opens is O_CLOEXEC / SOCK_CLOEXEC, so a child inherits only what its spawn plan
// lists. To hand an fd to Asio, release() it into the Asio object: there is one owner at a time.
#pragma once

#include <string>

#include "lib/base/result.h"

#include <utility>

namespace supd {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

  // Gives up ownership; the caller now closes it.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

  // Closes the current fd (if any) and takes fd. close() errors are ignored: on Linux the fd is
  // gone whatever close() returns, and retrying could close an fd another owner just got.
  void reset(int fd = -1);

 private:
  int fd_ = -1;  // -1 when empty
};

// A pipe, both ends close-on-exec (pipe2 with O_CLOEXEC).
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};
// Errors: "pipe2 for <what>: <strerror>".
[[nodiscard]] Result<Pipe> OpenPipe(const std::string& what);

}  // namespace supd
