// ptapi - portable TAPI
// tspi/sip/detail/tcp_connection.hpp: one TCP or TLS connection of the SIP transport: socket (and its TLS
// layer), partial message, write queue, deadline timer.
#pragma once

#include <tspi/sip/transport/peer.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tspi::sip::detail {

/// The TLS layer of a TLS connection, over the connection's own socket.
using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;

/// One TCP or TLS connection: socket (and TLS layer), partial-message buffer, write queue, timer. Owned
/// by the connection table and by the handlers of its pending operations. The message framing is the
/// same for both (RFC 3261 §18.3); only the byte stream differs (`with_stream`).
struct tcp_connection {
  using clock = std::chrono::steady_clock;
  /// A connection over `s` to or from `p`; `accepted`: it came in through the acceptor. A TLS connection
  /// (p.protocol == tls) gets its TLS layer from the transport (`tls`).
  tcp_connection(boost::asio::ip::tcp::socket s, peer p, bool accepted)
      : socket(std::move(s)), timer(socket.get_executor()), remote(std::move(p)), incoming(accepted) {}
  /// Calls `f` with the byte stream of the connection: the TLS stream, or the socket.
  template <class F>
  decltype(auto) with_stream(F&& f) {
    return tls ? f(*tls) : f(socket);
  }
  boost::asio::ip::tcp::socket socket;
  boost::asio::steady_timer timer;  // connect (TLS: handshake) timeout, then message and idle deadlines
  peer remote;
  std::unique_ptr<tls_stream> tls;  // TLS connections: the TLS layer over `socket`
  std::string tls_name;             // outgoing TLS: the SIP domain checked in the server's certificate (RFC 5922), SNI
  std::string tls_session_key;      // outgoing TLS: the key of its session in the resumption cache (name and address)
  std::vector<char> tls_in;         // TLS: the read buffer of the pending read (TLS records are read whole)
  bool handshaking = false;         // TLS: handshake in progress
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
