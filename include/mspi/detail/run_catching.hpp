// ptapi - portable TAPI
// mspi/detail/run_catching.hpp: runs an io_context on a thread of ptapi's own without letting an exception
// from a handler end the process (the TAPI object's core and event threads, the MSP media threads).
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>

namespace mspi::detail {

/// Runs `io` until it runs out of work or is stopped. An exception thrown out of a handler is caught,
/// counted in `exceptions`, and `io.run()` resumes (Asio allows it: the throwing handler is gone, the rest
/// are still queued), so it never reaches std::terminate. Thread safety: `exceptions` is atomic.
inline void run_catching(boost::asio::io_context& io, std::atomic<std::uint64_t>& exceptions) noexcept {
  for (;;) {
    try {
      io.run();
      return;
    } catch (...) {
      exceptions.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

}  // namespace mspi::detail
