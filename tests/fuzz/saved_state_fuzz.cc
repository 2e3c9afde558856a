// libFuzzer target: the state one supd hands to the supd it execs (daemon-reexec), as the new
// supd reads it from its memfd (DecodeSavedState, at most kMaxSavedStateBytes). A state that
// decodes must encode and decode again to the same state: what the new supd would write at its
// next reexec is read back as it was. Seeds: tests/lib/supervise/saved_state_test.cc writes
// them (SavedState.WritesFuzzSeeds).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/supervise/saved_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto state = supd::DecodeSavedState(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!state.ok()) {
    if (state.error().message.empty()) __builtin_trap();
    return 0;
  }
  // Decoding drops fields it does not know, so compare the re-encoded bytes, not the input.
  const std::string once = supd::EncodeSavedState(*state);
  auto again = supd::DecodeSavedState(once);
  if (!again.ok()) __builtin_trap();
  if (supd::EncodeSavedState(*again) != once) __builtin_trap();
  if (supd::FdsOf(*again) != supd::FdsOf(*state)) __builtin_trap();
  return 0;
}
