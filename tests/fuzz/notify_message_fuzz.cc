// libFuzzer target: one sd_notify datagram's payload, as NotifyServer hands it to
// ParseNotifyMessage (at most NotifyServer::kMaxDatagramBytes; longer ones are dropped before
// parsing, but the parser must not care). The ancillary data (SCM_CREDENTIALS, SCM_RIGHTS) is
// read by NotifyServer on the Asio loop; tests/integration/hardening_test.cc and
// tests/lib/notify/notify_server_test.cc send it real fds and credentials instead.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/notify/notify_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = supd::ParseNotifyMessage(std::string_view(reinterpret_cast<const char*>(data), size));
  if (m.ok() && m->status && m->status->size() > supd::kMaxStatusBytes) __builtin_trap();
  return 0;
}
