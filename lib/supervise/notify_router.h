// NotifyRouter: one sd_notify datagram → the events of the service it is for.
//
// The kernel says who sent it (SCM_CREDENTIALS); the router finds that process's service and
// its role there (main, control, another process of the current instance, a process of an
// instance an overlap restart set aside), asks the service's machine whether NotifyAccess=
// lets that sender speak (ServiceFsm::AcceptsNotify), then applies what the datagram says: the
// fd store, STATUS=/ERRNO=, MAINPID= (after the machine's verdict; the pidfd is opened before
// the process is checked to belong to the service, so a reused pid is never adopted), and the
// READY/RELOADING/STOPPING/WATCHDOG events in systemd's precedence.
//
// A datagram it refuses changes nothing; refusals are counted and logged at most once a second.
// Touched only on the io_context thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/unique_fd.h"
#include "lib/notify/notify_message.h"
#include "lib/notify/notify_server.h"
#include "lib/supervise/action_runner.h"
#include "lib/supervise/host.h"
#include "lib/supervise/service.h"

namespace supd {

class NotifyRouter {
 public:
  struct Env {
    Loop* loop = nullptr;
    ProcessControl* process = nullptr;
    CgroupControl* cgroups = nullptr;
    ActionRunner* runner = nullptr;
    std::function<Service*(const std::string&)> find;
    // Every service, for the process-group fallback without cgroup tracking.
    std::function<void(const std::function<void(Service&)>&)> for_each;
  };
  explicit NotifyRouter(Env env) : env_(std::move(env)) {}

  void Route(const NotifyMessage& m, const NotifyCredentials& cred, std::vector<UniqueFd> fds);
  uint64_t refused() const { return refused_; }
  void RestoreRefused(uint64_t n) { refused_ = n; }  // daemon-reexec

 private:
  struct Sender {
    Service* service = nullptr;
    SenderRole role = SenderRole::kOtherInCurrentInstance;
  };
  Sender Identify(pid_t pid);
  void Refuse(const NotifyCredentials& cred, const std::string& why);
  void StoreFds(Service& s, const NotifyMessage& m, std::vector<UniqueFd>& fds);
  void ChangeMainPid(Service& s, pid_t pid, bool sender_trusted);

  Env env_;
  uint64_t refused_ = 0;
  int64_t refused_logged_at_ = 0;  // CLOCK_MONOTONIC µs, for rate-limiting the log line
};

}  // namespace supd
