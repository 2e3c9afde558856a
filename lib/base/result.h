// Result<T>: a value or an Error, returned at every system-call boundary in lib/.
//
// Error carries what was attempted, on what, and (when it came from a system call) errno's
// text, already formatted for a human: "open /etc/supd/units/web.service: Permission denied".
// There is no exception path: callers test the Result and return early with SUPD_TRY.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace supd {

struct Error {
  std::string message;  // complete, human-readable; never empty
  int sys_errno = 0;    // errno when the failure came from a system call, else 0
};

// "what: strerror(err)". err is an errno value.
Error ErrnoError(std::string what, int err = errno);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error&& take_error() { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> Ok() { return Result<void>(); }

}  // namespace supd

// Evaluates expr (a Result); on failure returns its Error from the enclosing function.
#define SUPD_TRY(expr)                               \
  do {                                               \
    auto supd_try_result_ = (expr);                  \
    if (!supd_try_result_.ok())                      \
      return supd_try_result_.take_error();          \
  } while (0)
