// supctl's shared parts: exit codes, the global options, one request to supd, and the verb
// registry through which each group of verbs (supctl_top.cc, supctl_query.cc) adds itself.
// Formatting that tests check lives in lib/control; these files parse arguments and print.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace supd::supctl {

// Exit codes: 0 ok, 1 the daemon refused or the operation failed, 2 usage, 3 the daemon is
// unreachable. Verbs with systemctl's own codes (is-active: 3 for inactive, 4 no such unit)
// say so where they are defined.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

// The options every verb sees (they may come before or after the verb).
struct GlobalOptions {
  std::string socket;
  std::optional<std::chrono::milliseconds> timeout;  // --timeout
  bool no_color = false;                             // --no-color
  bool no_pager = false;                             // --no-pager
};

// Whether to colour standard output: not with --no-color or $NO_COLOR, not on TERM=dumb,
// else when it is a terminal (lib/control/dependency_tree.h UseColor). Decided on standard
// output as it was before a pager took it.
bool ColorOn(const GlobalOptions& g);

// Pages what follows through $SUPD_PAGER, else $SYSTEMD_PAGER, else $PAGER, else `less`, as
// systemctl does: only when standard output is a terminal (and TERM is not "dumb"), not with
// --no-pager; a pager of "" or "cat" means none. less gets $SUPD_LESS, else $SYSTEMD_LESS,
// else "FRXK" (quit at once when it fits, colours, no screen clearing, Ctrl-C quits). Under
// sudo or pkexec only less runs, with LESSSECURE=1 (no shell escape). A pager that cannot be
// exec'd falls back to `more`, then to a plain copy; one that starts and fails (a pager
// string run by sh that names no program) loses the output, as systemctl's does. The pager
// dies with supctl and is waited for at exit; quitting it early is not an error.
void StartPager(const GlobalOptions& g);

struct Outcome {
  int code;
  nlohmann::json response;  // the whole answer ({"ok":…, "result":…}); null when unreachable
};

// Sends one request; prints transport failures and refusals on stderr and returns the exit
// code they mean. `wait`: how long to wait for the answer (unset: as long as it takes).
Outcome Call(const std::string& socket, const std::string& cmd, const nlohmann::json& args,
             std::optional<std::chrono::milliseconds> wait = std::nullopt);

// A verb added by a group: its subcommand and what runs when it was given.
struct Verb {
  CLI::App* command;
  std::function<int(const GlobalOptions&)> run;
};
using Verbs = std::vector<Verb>;

// The groups (each in its own file).
void AddTopVerbs(CLI::App& app, Verbs* verbs);    // supctl_top.cc: top
void AddQueryVerbs(CLI::App& app, Verbs* verbs);  // supctl_query.cc: list-units, show, …

}  // namespace supd::supctl
