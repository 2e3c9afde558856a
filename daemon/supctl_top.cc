// TEMP stub: the top verbs' group is being written.
#include "daemon/supctl.h"

namespace supd::supctl {

void AddTopVerbs(CLI::App& app, Verbs* verbs) {}

}  // namespace supd::supctl
