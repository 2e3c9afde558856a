// What the loader tests share: the specifier context they load with, and loading a text that
// must (or must not) parse, with the failure shown in the test's output.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/unit/unit_loader.h"

namespace supd::testing_util {

inline SpecifierContext TestSpecifiers() {
  SpecifierContext c;
  c.hostname = "box";
  c.runtime_dir = "/run";
  c.user_name = "root";
  c.user_home = "/root";
  c.uid = 0;
  return c;
}

// `parse` is ParseServiceText, ParseSocketText or ParseTargetText; the unit is "units/NAME".
template <typename Spec, typename Parse>
Spec LoadOk(Parse parse, const std::string& text, const std::string& name) {
  auto r = parse(text, "units/" + name, name, TestSpecifiers());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(*r) : Spec{};
}

template <typename Parse>
std::string LoadError(Parse parse, const std::string& text, const std::string& name) {
  auto r = parse(text, "units/" + name, name, TestSpecifiers());
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message;
}

// The spec's warnings as "file:line: message".
template <typename Spec>
std::vector<std::string> Warnings(const Spec& s) {
  std::vector<std::string> out;
  for (const auto& w : s.warnings) out.push_back(w.ToString());
  return out;
}

}  // namespace supd::testing_util
