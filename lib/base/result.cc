#include "lib/base/result.h"

#include <cstring>

namespace supd {

Error ErrnoError(std::string what, int err) {
  what += ": ";
  what += std::strerror(err);
  return Error{std::move(what), err};
}

}  // namespace supd
