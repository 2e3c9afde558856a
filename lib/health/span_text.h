// How a probe's spans read in its messages: "1s", "250ms", "1.5s", "800us", "infinity".
// (lib/control/ has the causes' formatter, whole milliseconds only; lib/health/ sits below it
// and prints sub-second probe timeouts, so it has its own.)
#pragma once

#include <string>

#include "lib/unit/service_spec.h"

namespace supd {

// Whole seconds as "Ns", below a second as "Nms" (or "Nus" below a millisecond), otherwise
// seconds with up to three decimals: "1.5s", "2.125s". Truncated to whole milliseconds above
// one millisecond.
std::string FormatProbeSpan(Usec span);

}  // namespace supd
