// Tests of what prints local times (systemctl's timestamps, journalctl's modes) run in a fixed
// zone: ScopedTimeZone sets TZ for its lifetime and puts back what was there.
#pragma once

#include <stdlib.h>
#include <time.h>

#include <optional>
#include <string>

namespace supd::control::testing {

class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* tz) {
    if (const char* old = getenv("TZ")) saved_ = old;
    Set(tz);
  }
  ~ScopedTimeZone() {
    if (saved_) {
      setenv("TZ", saved_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  ScopedTimeZone(const ScopedTimeZone&) = delete;
  ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

  // Another zone, until the end of the scope.
  void Set(const char* tz) {
    setenv("TZ", tz, 1);
    tzset();
  }

 private:
  std::optional<std::string> saved_;
};

}  // namespace supd::control::testing
