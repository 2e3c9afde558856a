#include "lib/log/output_target.h"

#include <fcntl.h>
#include <unistd.h>

namespace supd {
namespace {

using Kind = ServiceSpec::Output::Kind;

// Opens one target; *to_log is set when it goes to supd's log.
Result<UniqueFd> OpenOne(const ServiceSpec& spec, const ServiceSpec::Output& o, const char* key,
                         JournalStreams* journal, bool* to_log,
                         std::vector<std::string>* warnings) {
  *to_log = false;
  switch (o.kind) {
    case Kind::kJournal: {
      const std::string why = journal ? journal->Unavailable() : "no journald support";
      if (why.empty()) {
        auto fd = journal->Open(JournalRequestFor(spec));
        if (fd.ok()) return fd;
        warnings->push_back(std::string(key) + "=" + o.as_written + ": " + fd.error().message +
                            "; writing to supd's log file instead");
      } else if (o.set) {
        // Only said when the unit asked for journal itself: it is also the default, and
        // without journald the default's meaning under supd is the log file.
        warnings->push_back(std::string(key) + "=" + o.as_written + ": " + why +
                            "; writing to supd's log file instead");
      }
      *to_log = true;
      return UniqueFd();
    }
    case Kind::kNull:
    case Kind::kInherit:  // stdout only here: stdin is /dev/null
      return UniqueFd();
    case Kind::kFile:
    case Kind::kAppend:
    case Kind::kTruncate: {
      // O_NONBLOCK for the open only: supd opens on its loop, and opening a FIFO without a
      // reader would block it (systemd opens in the child, where blocking stalls only that
      // start). A FIFO without a reader is then ENXIO, a clear error; the child gets the file
      // as a blocking one, as under systemd.
      int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
      if (o.kind == Kind::kAppend) flags |= O_APPEND;
      if (o.kind == Kind::kTruncate) flags |= O_TRUNC;
      UniqueFd fd(::open(o.path.c_str(), flags, 0644));
      if (!fd) return ErrnoError(std::string(key) + "=" + o.as_written + ": open " + o.path);
      const int fl = ::fcntl(fd.get(), F_GETFL);
      if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0)
        return ErrnoError(std::string(key) + "=" + o.as_written + ": fcntl " + o.path);
      return fd;
    }
  }
  return UniqueFd();
}

}  // namespace

Result<OutputTargets> OpenOutputTargets(const ServiceSpec& spec, JournalStreams* journal) {
  OutputTargets t;
  auto out = OpenOne(spec, spec.standard_output, "StandardOutput", journal, &t.out_to_log,
                     &t.warnings);
  if (!out.ok()) return out.take_error();
  t.out = std::move(*out);
  if (spec.standard_error.kind == Kind::kInherit) {
    // As stdout. A pipe to the log is one per stream (so that lines keep their stream tag);
    // a journald stream is shared, as systemd shares it.
    t.err_to_log = t.out_to_log;
    if (t.out) {
      const int fd = ::fcntl(t.out.get(), F_DUPFD_CLOEXEC, 3);
      if (fd < 0) return ErrnoError("duplicate the stdout target for StandardError=inherit");
      t.err = UniqueFd(fd);
    }
    return t;
  }
  std::vector<std::string> err_warnings;
  auto err = OpenOne(spec, spec.standard_error, "StandardError", journal, &t.err_to_log,
                     &err_warnings);
  if (!err.ok()) return err.take_error();
  t.err = std::move(*err);
  // One warning is enough when both fall back for the same reason.
  for (auto& w : err_warnings)
    if (!(spec.standard_output.kind == Kind::kJournal && t.out_to_log)) t.warnings.push_back(w);
  return t;
}

}  // namespace supd
