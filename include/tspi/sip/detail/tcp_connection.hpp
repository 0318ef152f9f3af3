// ptapi - portable TAPI
// tspi/sip/detail/tcp_connection.hpp: one TCP connection of the SIP transport: socket, partial message, write
// queue, deadline timer.
#pragma once

#include <tspi/sip/transport/peer.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace tspi::sip::detail {

/// One TCP connection: socket, partial-message buffer, write queue, timer. Owned by the connection
/// table and by the handlers of its pending operations.
struct tcp_connection {
  using clock = std::chrono::steady_clock;
  /// A connection over `s` to or from `p`; `accepted`: it came in through the acceptor.
  tcp_connection(boost::asio::ip::tcp::socket s, peer p, bool accepted)
      : socket(std::move(s)), timer(socket.get_executor()), remote(std::move(p)), incoming(accepted) {}
  boost::asio::ip::tcp::socket socket;
  boost::asio::steady_timer timer;  // connect timeout, then message and idle deadlines
  peer remote;
  std::vector<char> in;             // bytes of the message in progress only; no allocation between messages
  std::deque<std::string> out;      // messages not yet written; the first `writing` are in flight
  std::vector<boost::asio::const_buffer> gather;
  std::size_t writing = 0;
  std::size_t queued_bytes = 0;     // bytes in `out`
  std::uint64_t messages = 0;       // complete messages received
  clock::time_point last_activity{};    // last bytes read or written
  clock::time_point message_started{};  // accept time (first message), or first byte of the message in progress
  clock::time_point armed_at = clock::time_point::max();  // expiry of the pending deadline wait
  bool incoming = false;
  bool in_message = false;          // `in` holds part of a message (not only CRLFs)
  bool connected = false;
  bool closed = false;
};

}  // namespace tspi::sip::detail
