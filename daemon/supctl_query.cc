// TEMP stub: the query verbs' group is being written.
#include "daemon/supctl.h"

namespace supd::supctl {

void AddQueryVerbs(CLI::App& app, Verbs* verbs) {}

}  // namespace supd::supctl
