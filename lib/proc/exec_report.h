// The exec-status pipe's records: what a child of Spawn() writes between fork and exec
// (lib/proc/spawn.cc) and ReadExecStatus() reads. Internal to lib/proc; a header of its own so
// that tests can write records by hand.
//
// A child writes any number of notes (what it went on without: a clamped limit, a skipped OOM
// score), then, only if a step fails, one report of that step, and exits with the step's
// number. Each record is one write() of a fixed size, well under PIPE_BUF, so the parent reads
// each whole. EOF with no step report means execve succeeded (the pipe is close-on-exec).
#pragma once

#include <limits.h>

#include <cstdint>

namespace supd::exec_report {

// The steps the child reports, with the exit status systemd uses for each (systemd.exec(5),
// "Process Exit Codes").
enum ChildStep : int32_t {
  kStepChdir = 200,
  kStepNice = 201,   // EXIT_NICE
  kStepStdio = 208,  // EXIT_STDIN / EXIT_STDOUT
  kStepExec = 203,
  kStepLimits = 205,      // EXIT_LIMITS
  kStepOomAdjust = 206,   // EXIT_OOM_ADJUST
  kStepSignalMask = 207,  // EXIT_SIGNAL_MASK
  kStepSecurebits = 213,  // EXIT_SECUREBITS
  kStepSetsid = 220,      // EXIT_SETSID
  kStepGroup = 216,
  kStepUser = 217,
  kStepCapabilities = 218,  // EXIT_CAPABILITIES
  kStepCgroup = 219,
  kStepFds = 202,              // EXIT_FDS
  kStepNoNewPrivileges = 230,  // EXIT_NO_NEW_PRIVILEGES
};

// What part of kStepGroup / kStepCapabilities failed (ChildReport::detail).
enum GroupPart : int32_t { kSetGroups = 0, kSetGid = 1 };
enum CapabilityPart : int32_t {
  kCapDropBounding = 0,  // value: the capability
  kCapInheritable = 1,   // capget/capset adding the ambient set to the inheritable set
  kCapRaiseAmbient = 2,  // value: the capability
};

// What the child went on without (ChildReport::step below 100, which no exit status uses).
enum ChildNote : int32_t {
  // detail: the resource; flags: RlimitRefusal bits; value/value2: soft/hard asked for,
  // value3/value4: soft/hard it got, value5: fs.nr_open (0: unknown).
  kNoteLimitClamped = 1,
  // err: why the write failed; flags: RlimitRefusal bits (kRefusedNoCapSysResource); value: the
  // score asked for.
  kNoteOomScoreSkipped = 2,
};

// One record. For a step, detail and value say which part of it failed and with what, e.g.
// RLIMIT_NOFILE and the limit, so that ReadExecStatus can name it.
struct ChildReport {
  int32_t step;  // a ChildStep, or a ChildNote
  int32_t err;
  int32_t detail;
  uint32_t flags;
  uint64_t value;
  uint64_t value2;
  uint64_t value3;
  uint64_t value4;
  uint64_t value5;
};
static_assert(sizeof(ChildReport) <= PIPE_BUF, "one atomic write per report");

}  // namespace supd::exec_report
