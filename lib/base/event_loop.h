// Running supd's one io_context so that a bug in one handler does not end supervision.
//
// Asio lets an exception thrown by a handler propagate out of io_context::run(); the io_context
// itself stays usable and run() may simply be called again (Asio's documented pattern). supd's
// control and notify handlers already turn bad input into error replies; this is the net under
// every other handler: the exception is logged as an internal error naming what it said, and the
// loop goes on, so the services keep their supervisor instead of being orphaned by a crash.
#pragma once

#include <cstddef>

namespace boost::asio {
class io_context;
}

namespace supd {

// Runs `io` until it runs out of work or is stopped. Returns how many handler exceptions were
// caught (and logged at critical level) on the way.
size_t RunEventLoop(boost::asio::io_context& io);

}  // namespace supd
