// libFuzzer target: a whole unit file from bytes, through everything supd does with it before
// a start — the INI syntax, every directive's value parser, specifiers, Exec lines — as a
// .service (plain and as a template instance) and as a .socket. Then the pure start-time
// helpers over the result: EnvironmentFile= syntax and $VAR expansion of every command.
//
// The only I/O reached is stat() in executable search (ExecStart=foo without a path).
#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/unit/socket_loader.h"
#include "lib/unit/target_spec.h"
#include "lib/unit/unit_loader.h"

namespace {

const supd::SpecifierContext& Context() {
  static const supd::SpecifierContext ctx{"fuzzhost", "/run", "root", "/root", 0};
  return ctx;
}

void Exercise(const supd::ServiceSpec& spec) {
  supd::EnvList env = spec.environment;
  env.emplace_back("MAINPID", "42");
  for (const auto* list :
       {&spec.exec_condition, &spec.exec_start, &spec.exec_start_pre, &spec.exec_start_post,
        &spec.exec_stop, &spec.exec_stop_post, &spec.exec_reload}) {
    for (const supd::ExecCommand& cmd : *list) (void)supd::ExpandCommand(cmd, env);
  }
  for (const auto* probe : {&spec.startup_probe, &spec.readiness_probe, &spec.liveness_probe}) {
    if (*probe && (*probe)->kind == supd::ProbeSpec::Kind::kExec)
      (void)supd::ExpandCommand((*probe)->command, env);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto spec = supd::ParseServiceText(text, "units/fuzz.service", "fuzz.service", Context());
      spec.ok()) {
    Exercise(*spec);
  }
  if (auto spec =
          supd::ParseServiceText(text, "units/w@.service", "w@a-b\\x2dc.service", Context());
      spec.ok()) {
    Exercise(*spec);
  }
  (void)supd::ParseSocketText(text, "units/fuzz.socket", "fuzz.socket", Context());
  (void)supd::ParseTargetText(text, "units/fuzz.target", "fuzz.target", Context());
  (void)supd::ParseTargetText(text, "units/f@.target", "f@.target", Context());
  std::vector<supd::Diagnostic> warnings;
  (void)supd::ParseEnvironmentFile(text, "fuzz.env", &warnings);
  return 0;
}
