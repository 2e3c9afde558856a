#include "lib/base/event_loop.h"

#include <boost/asio/io_context.hpp>
#include <exception>
#include <spdlog/spdlog.h>

namespace supd {

size_t RunEventLoop(boost::asio::io_context& io) {
  size_t caught = 0;
  for (;;) {
    try {
      io.run();
      return caught;
    } catch (const std::exception& e) {
      ++caught;
      spdlog::critical("internal error: an event handler threw ({}); supd carries on", e.what());
    } catch (...) {
      ++caught;
      spdlog::critical("internal error: an event handler threw a non-standard exception; supd "
                       "carries on");
    }
  }
}

}  // namespace supd
