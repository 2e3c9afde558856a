// Condition*= / Assert*= types: which ones supd evaluates, and how (EvaluateConditions() is
// declared in lib/unit/unit_loader.h).
//
// The tests read the filesystem (stat, access, glob, directory listings), the host name, the
// machine id and the process environment at call time; thread-safe as long as nobody modifies
// the environment.
#pragma once

#include <string_view>

#include "lib/unit/service_spec.h"

namespace supd {

// `type` is the name without "Condition"/"Assert": "PathExists".
bool IsSupportedConditionType(std::string_view type);
// Condition types systemd knows but supd does not evaluate yet ("Virtualization", ...).
bool IsKnownUnsupportedConditionType(std::string_view type);
// Whether the value must be an absolute path ("PathExists", "FileNotEmpty", ...).
bool ConditionTakesPath(std::string_view type);

// The outcome of one condition, negation ('!') applied.
bool TestCondition(const Condition& c);

}  // namespace supd
