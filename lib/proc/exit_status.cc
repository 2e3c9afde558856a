#include "lib/proc/exit_status.h"

namespace supd {

std::string DescribeExit(const ExitStatus& st) {
  if (st.unknown) return "exited, status unknown (not a child of supd)";
  if (st.exited) return "exited with status " + std::to_string(st.code);
  std::string s = "killed by signal " + SigName(st.signal);
  if (st.core_dumped) s += " (core dumped)";
  return s;
}

}  // namespace supd
