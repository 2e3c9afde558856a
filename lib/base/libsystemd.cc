#include "lib/base/libsystemd.h"

#include <dlfcn.h>
#include <systemd/sd-journal.h>

#include <cerrno>
#include <mutex>

namespace supd {

namespace {

struct Libsystemd {
  decltype(&::sd_journal_stream_fd) journal_stream_fd = nullptr;
  decltype(&::sd_journal_sendv) journal_sendv = nullptr;
  std::string error;
};

template <typename Fn>
void Resolve(void* handle, const char* name, Fn* fn, std::string* error) {
  // dlsym's void* to a function pointer: the one conversion POSIX requires to work.
  *fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*fn == nullptr && error->empty()) error->assign("libsystemd.so.0 has no ").append(name);
}

const Libsystemd& Get() {
  static Libsystemd lib;
  static std::once_flag once;
  std::call_once(once, [] {
    // Never closed: the functions stay in use for supd's lifetime.
    void* handle = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      lib.error = why ? why : "dlopen failed";
      return;
    }
    Resolve(handle, "sd_journal_stream_fd", &lib.journal_stream_fd, &lib.error);
    Resolve(handle, "sd_journal_sendv", &lib.journal_sendv, &lib.error);
  });
  return lib;
}

}  // namespace

int JournalStreamFd(const std::string& identifier, int priority, bool level_prefix) {
  const Libsystemd& lib = Get();
  return lib.journal_stream_fd
             ? lib.journal_stream_fd(identifier.c_str(), priority, level_prefix ? 1 : 0)
             : -ENOSYS;
}

int JournalSendv(const struct iovec* iov, int n) {
  const Libsystemd& lib = Get();
  return lib.journal_sendv ? lib.journal_sendv(iov, n) : -ENOSYS;
}

std::string LibsystemdError() { return Get().error; }

}  // namespace supd
