// What the kernel tells about a listening socket that supd holds, for status.
#pragma once

#include <cstdint>
#include <optional>

namespace supd {

struct ListenQueue {
  uint32_t queued = 0;   // connections waiting to be accepted
  uint32_t backlog = 0;  // the most that may wait (listen()'s backlog as the kernel capped it)
};

// For a listening TCP socket (TCP_INFO: tcpi_unacked is the accept queue's length and
// tcpi_sacked its limit while in LISTEN); nullopt for any other socket or on error.
std::optional<ListenQueue> ListenQueueOf(int fd);

}  // namespace supd
