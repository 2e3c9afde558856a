// TEMP stubs (drop when merging): the lead's Manager reexec API and helper A's codec, just
// enough for daemon/reexec to build and to exec a supd with no units.
#include <charconv>
#include <sstream>

#include "lib/supervise/manager.h"
#include "lib/supervise/saved_state.h"

namespace supd {

std::string Manager::NotAtRest() const { return ""; }
void Manager::PauseForExec() {}
void Manager::ResumeAfterFailedExec() {}
Result<void> Manager::SaveState(SavedState* state) {
  state->daemon.notify_refused = notify_refused();
  return {};
}
void Manager::RestoreUnits(SavedState state, std::function<void()> loaded) {
  LoadUnits(std::move(loaded));
}

std::vector<int> FdsOf(const SavedState& state) {
  std::vector<int> fds;
  for (int fd : {state.daemon.control_fd, state.daemon.notify_fd, state.daemon.metrics_fd})
    if (fd >= 0) fds.push_back(fd);
  return fds;
}

std::string EncodeSavedState(const SavedState& s) {
  std::ostringstream o;
  o << "SUPDSTAT " << s.format << ' ' << s.writer_version << ' ' << s.daemon.reexecs << ' '
    << s.daemon.control_fd << ' ' << s.daemon.notify_fd << ' ' << s.daemon.metrics_fd << ' '
    << s.daemon.started_realtime << ' ' << s.daemon.notify_refused << ' ' << s.boot_finished;
  return o.str();
}

Result<SavedState> DecodeSavedState(std::string_view bytes) {
  std::istringstream in{std::string(bytes)};
  std::string magic;
  SavedState s;
  in >> magic >> s.format >> s.writer_version >> s.daemon.reexecs >> s.daemon.control_fd >>
      s.daemon.notify_fd >> s.daemon.metrics_fd >> s.daemon.started_realtime >>
      s.daemon.notify_refused >> s.boot_finished;
  if (magic != "SUPDSTAT" || !in) return Error{"saved state: not a state (TEMP stub codec)"};
  if (s.format > kSavedStateFormat)
    return Error{"saved state: format " + std::to_string(s.format) +
                 " is newer than this supd reads (" + std::to_string(kSavedStateFormat) + ")"};
  return s;
}

}  // namespace supd
