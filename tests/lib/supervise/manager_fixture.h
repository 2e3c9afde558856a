// The Manager driven through fakes of the host (fake_host.h): the fixture manager_test.cc and
// manager_deps_test.cc share. No root, no cgroups, no real processes or time; the units are
// real files in a temporary directory.
#pragma once

#include <signal.h>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lib/supervise/manager.h"
#include "tests/lib/supervise/fake_host.h"

namespace supd {

using namespace std::chrono_literals;
using testing::FakeCgroupControl;
using testing::FakeLauncher;
using testing::FakeLoop;
using testing::FakeProcessControl;

class ManagerTest : public ::testing::Test {
 protected:
  ManagerTest() {
    char tmpl[] = "/tmp/supd-manager-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/units");
    std::filesystem::create_directories(dir_ + "/logs");
  }
  ~ManagerTest() override {
    manager_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Unit(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/units/" + name;
    std::ofstream(path) << text;
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write |
                                           std::filesystem::perms::group_read |
                                           std::filesystem::perms::others_read);
  }

  void Start(bool notify = false) {
    testing::FakeHost fake(io_);
    loop_ = fake.loop;
    procs_ = fake.procs;
    cgroups_ = fake.cgroups;
    launcher_ = fake.launcher;
    HostParts h = std::move(fake.parts);
    h.probes = probes_;
    ManagerConfig cfg;
    cfg.units_dir = dir_ + "/units";
    cfg.log_dir = dir_ + "/logs";
    cfg.state_dir = dir_;
    if (notify) cfg.notify_socket = dir_ + "/notify";
    manager_ = std::make_unique<Manager>(io_, cfg, std::move(h));
    bool loaded = false;
    manager_->LoadUnits([&] { loaded = true; });
    Poll();
    ASSERT_TRUE(loaded);
  }

  // Runs what is posted (the worker's answers, log flushes) until nothing is left.
  void Poll() {
    for (int i = 0; i < 100 && io_.poll() > 0; ++i) io_.restart();
    io_.restart();
  }

  // Runs what is posted until `done` holds, for at most 10 s (answers wait for the log
  // writer's thread, which posts back when the service's log is flushed).
  bool PollUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(10ms);
      io_.restart();
    }
    return done();
  }

  // Runs an operation; returns its result once it answered (nullopt if it did not).
  std::optional<JobResult> Op(const std::function<void(JobDone)>& op) {
    auto out = std::make_shared<std::optional<JobResult>>();
    op([out](JobResult r) { *out = std::move(r); });
    PollUntil([&] { return out->has_value(); });
    return *out;
  }
  std::optional<JobResult> StartUnit(const std::string& u, JobOptions o = {}) {
    return Op([&](JobDone d) { manager_->Start(u, o, std::move(d)); });
  }
  std::optional<JobResult> StopUnit(const std::string& u) {
    return Op([&](JobDone d) { manager_->Stop(u, {}, std::move(d)); });
  }
  // Runs `op`, which stops `unit` (running now): its main process exits on the SIGTERM.
  std::optional<JobResult> OpStopping(const std::string& unit,
                                      const std::function<void(JobDone)>& op) {
    const pid_t pid = *Snap(unit).main_pid;
    auto out = std::make_shared<std::optional<JobResult>>();
    op([out](JobResult r) { *out = std::move(r); });
    Poll();
    Exit(pid, ExitStatus::Signal(SIGTERM));
    PollUntil([&] { return out->has_value(); });
    return *out;
  }

  ServiceSnapshot Snap(const std::string& name) {
    auto s = manager_->Snapshot({name});
    EXPECT_TRUE(s.ok());
    return std::get<ServiceSnapshot>(s->at(0));
  }

  // The process exits and leaves its cgroup.
  void Exit(pid_t pid, ExitStatus st) {
    for (auto& [dir, pids] : cgroups_->members) pids.erase(pid);
    procs_->Exit(pid, st);
    Poll();
  }

  std::string dir_;
  boost::asio::io_context io_;
  FakeLoop* loop_ = nullptr;
  FakeProcessControl* procs_ = nullptr;
  FakeCgroupControl* cgroups_ = nullptr;
  FakeLauncher* launcher_ = nullptr;
  std::unique_ptr<Manager> manager_;
  ProbeFactory probes_;  // null: no probes (HostParts::probes)
};

}  // namespace supd
