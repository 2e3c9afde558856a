// libFuzzer target: the scalar value parsers of unit files and their neighbours. The first
// byte picks the parser (so each corpus file exercises one), the rest is its input.
// New value parsers (sizes, limits, ...) get a case here and seed files in corpus/values/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/control/protocol.h"
#include "lib/unit/exec_command.h"
#include "lib/unit/socket_loader.h"
#include "lib/unit/specifiers.h"
#include "lib/unit/unit_loader.h"
#include "lib/unit/unit_syntax.h"
#include "lib/unit/values.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char which = static_cast<char>(data[0]);
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (which) {
    case 't': {  // time span
      auto r = supd::ParseTimeSpan(text);
      (void)r;
      break;
    }
    case 'b':
      (void)supd::ParseBoolean(text);
      break;
    case 's': {  // signal; a parsed one must have a name that parses back to it
      auto r = supd::ParseSignal(text);
      if (r.ok()) {
        auto back = supd::ParseSignal(supd::SignalName(*r));
        if (!back.ok() || *back != *r) __builtin_trap();
      }
      break;
    }
    case 'u':
      (void)supd::ParseUnsigned(text);
      break;
    case 'x': {  // SuccessExitStatus= words
      supd::ExitStatusSet set;
      auto words = supd::SplitWords(text, supd::kExtractUnquote);
      if (words.ok()) {
        for (const std::string& w : *words) (void)supd::AddExitStatusWord(w, &set);
      }
      break;
    }
    case 'n': {  // unit names
      if (supd::IsValidUnitName(text)) {
        (void)supd::TemplateNameOf(text);
        (void)supd::SplitUnitName(text);
      }
      (void)supd::UnitNameUnescape(text);
      (void)supd::control::NormalizeUnitName(text);
      break;
    }
    case 'l':
      (void)supd::ParseListenAddress(text);
      break;
    case 'w': {  // word splitting with every flag combination
      for (unsigned flags = 0; flags < 16; ++flags) (void)supd::SplitWords(text, flags);
      break;
    }
    case 'e': {  // an Exec line
      std::vector<supd::Diagnostic> warnings;
      supd::ExecLineContext ctx;
      ctx.key = "ExecStart";
      ctx.file = "fuzz.service";
      ctx.line = 1;
      ctx.resolve_specifiers = [](const std::string& s) -> supd::Result<std::string> { return s; };
      ctx.warnings = &warnings;
      (void)supd::ParseExecLine(text, ctx);
      break;
    }
    case 'p': {  // specifiers, for an instance with an escaped name
      const supd::SpecifierData d{"w@a-b\\x2dc.service", "/etc/supd/units/w@.service",
                                  supd::SpecifierContext{"host", "/run", "root", "/root", 0}};
      (void)supd::ResolveSpecifiers(text, d);
      break;
    }
    case '8':
      (void)supd::IsValidUtf8(text);
      break;
    default:
      break;
  }
  return 0;
}
