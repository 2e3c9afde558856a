// The real host behind the supervisor's interfaces (host.h, launch.h): the io_context's timers
// and descriptors, lib/proc's process control and spawning, lib/cgroup's tracking, limits and
// leftovers, and a BlockingWorker thread.
//
// Everything here runs on the io_context thread, except BlockingWorker's jobs.
#pragma once

#include <memory>
#include <string>

#include "lib/supervise/host.h"
#include "lib/supervise/launch.h"
#include "lib/supervise/manager.h"

namespace boost::asio {
class io_context;
}

namespace supd {

// "supd-<8 hex digits>": the cgroup subtree of the supd whose state directory is `state_dir`
// (FNV-1a of the path), so that two supd never share service cgroups and a restarted supd finds
// its predecessor's.
std::string CgroupTreeName(const std::string& state_dir);

std::unique_ptr<Loop> MakeRealLoop(boost::asio::io_context& io);
std::unique_ptr<ProcessControl> MakeRealProcessControl(boost::asio::io_context& io);
std::unique_ptr<CgroupControl> MakeRealCgroupControl(boost::asio::io_context& io,
                                                      const std::string& tree_name);
std::unique_ptr<Launcher> MakeRealLauncher(boost::asio::io_context& io);
std::shared_ptr<BlockingWork> MakeRealWorker(boost::asio::io_context& io);

}  // namespace supd
