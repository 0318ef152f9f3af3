// ptapi - portable TAPI
// tspi/sip/transport.hpp: the SIP transport layer (RFC 3261 §18) over Boost.Asio: one UDP socket, one
// TCP acceptor, one TLS acceptor (RFC 3261 §26.2) and their connections (IPv4 or IPv6), stream framing
// (§18.3), connection reuse, and the `peer` a message came from or goes to. The transaction layer (tspi/sip/transaction.hpp) sits on top.
// This file holds the front, `transport`; its parts: transport/peer.hpp (`peer`), transport/config.hpp
// (settings, counters), transport/udp.hpp, transport/tcp.hpp and transport/tls.hpp (the sides of
// detail::transport_core), transport/tls_error.hpp (TLS failures).
#pragma once

#include <tspi/sip/detail/transport_core.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transport/config.hpp>
#include <tspi/sip/transport/peer.hpp>
#include <tspi/sip/transport/tcp.hpp>
#include <tspi/sip/transport/tls.hpp>
#include <tspi/sip/transport/tls_error.hpp>
#include <tspi/sip/transport/udp.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tspi::sip {

/// The SIP transport layer (RFC 3261 §18): a UDP socket, a TCP acceptor and a TLS acceptor (IPv4 or
/// IPv6, one of each) and the TCP and TLS connections made or accepted, on one executor.
///
/// TLS (RFC 3261 §26.2, `transport_protocol::tls`): a TCP connection with a TLS layer (TLS 1.2 at least,
/// `transport_config::tls`), framed and bounded like TCP. An outgoing TLS connection sends SNI and checks
/// the server's chain and identity (RFC 5922 §7: the name given by `set_tls_server_name`, else the
/// address) unless `tls_config::insecure_skip_verification`; a failed handshake closes the connection
/// and reports why to `on_error` (the certificate's verification error in `tls_certificate_category`,
/// `tls_errc::identity_mismatch`, OpenSSL's error, or std::errc::timed_out after
/// `tls_config::handshake_timeout`). A message for a TLS peer is only ever sent over TLS. Accepted TLS
/// connections ask for no client certificate; a failed incoming handshake is counted and closed silently.
///
/// Receiving: every well-formed message goes to `on_message` with the `peer` it came from; datagrams
/// that do not parse (or exceed `transport_config::limits`) are dropped and counted, except requests
/// whose Content-Length exceeds the datagram (`on_truncated_request`, §18.3); on TCP, messages are
/// framed by Content-Length (§18.3), split and pipelined writes are handled, and a stream that cannot be
/// framed closes its connection. CRLF keep-alives are ignored (double-CRLF pings on TCP get a CRLF
/// pong, RFC 5626 §4.4.1). TCP connections are bounded in number, per source, in buffered bytes and in
/// time (see `transport_config`).
///
/// An exception thrown by a callback is caught (and counted in `transport_stats::handler_errors`): it
/// never unwinds into the executor's run(); the message being delivered is lost.
///
/// Sending: UDP datagrams go out at once (queued only when the socket buffer is full); TCP messages go
/// over the connection to or from that peer (address and port), or a new connection (queued while it
/// connects). Failures are reported to `on_error`, always later from the executor, never from inside
/// `send`.
///
/// Thread safety: none. Every member function must be called, and every callback runs, on the
/// executor given to the constructor, one at a time (the caller guarantees it, as with an Asio strand).
/// Lifetime: the transport may be destroyed with operations pending (their handlers keep its internal
/// state alive and do nothing); the executor's execution context must outlive those handlers as usual.
/// Not copyable or movable (handlers refer to it).
class transport {
 public:
  /// A transport that does nothing until `listen`. `ex`: the executor of every socket, timer and callback.
  explicit transport(boost::asio::any_io_executor ex, transport_config cfg = {})
      : core_(std::make_shared<detail::transport_core>(std::move(ex), std::move(cfg), this)) {}
  /// Closes everything (see `close`).
  ~transport() {
    core_->detach();
    core_->close();
  }
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  /// Binds a UDP socket or a TCP or TLS listening socket to `addr`:`port` (port 0: an ephemeral port, see
  /// `local`) and starts receiving or accepting. UDP, TCP and TLS may all listen, on different addresses if
  /// wanted; the IPv6 unspecified address `::` also receives IPv4 (dual stack) where the OS allows.
  /// Errors in `ec`: the OS's bind/listen error (address in use, address not available...),
  /// std::errc::already_connected when `p` already listens, std::errc::bad_file_descriptor after `close`;
  /// for TLS: std::errc::invalid_argument without `tls_config::certificate_chain_file`, `tls_error()`
  /// when the TLS files did not load.
  void listen(transport_protocol p, const boost::asio::ip::address& addr, std::uint16_t port, std::error_code& ec) {
    core_->listen(p, addr, port, ec);
  }
  /// The bound address and port of protocol `p`, nullopt when it does not listen (or after `close`).
  [[nodiscard]] std::optional<peer> local(transport_protocol p) const { return core_->local(p); }
  /// `local(to.protocol)`, except that an unspecified bound address (0.0.0.0, ::) is replaced by the
  /// address of the local interface the OS routes `to` through (for Via sent-by and Contact; cached per
  /// destination address, 64 entries). nullopt when `to.protocol` does not listen.
  [[nodiscard]] std::optional<peer> local_for(const peer& to) { return core_->local_for(to); }
  /// True when a TCP connection to or from `p` is open or connecting (the one `send` would use).
  /// See transport::has_connection.
  [[nodiscard]] bool has_connection(const peer& p) const { return core_->has_connection(p); }
  /// The SIP domain (RFC 5922 §7) that a new outgoing TLS connection to `p` sends as SNI and expects in
  /// the server's certificate: the host of the URI that led to `p` (the Request-URI's or the proxy's, not
  /// an SRV target's). Without one, the address itself must be in the certificate (iPAddress). A
  /// connection already open to `p` is reused as it is. Keeps 4096 names (then starts over: a later new
  /// connection to a forgotten one checks the address instead, and fails unless the certificate names it).
  void set_tls_server_name(const peer& p, std::string name) { core_->set_tls_server_name(p, std::move(name)); }
  /// Why TLS is not usable (`tls_errc::not_configured`: a certificate, key or CA file of
  /// `transport_config::tls` did not load), or no error.
  [[nodiscard]] std::error_code tls_error() const noexcept { return core_->tls_error(); }

  /// Serializes `m` (message::to_string) and sends it to `to` (see `send_text`).
  void send(const peer& to, const message& m) { core_->send_text(to, m.to_string()); }
  /// As `send_text(to, text)`, moving `text` into the TCP write queue instead of copying it.
  template <class S>
    requires std::same_as<S, std::string>  // an rvalue std::string only (literals and views take the overload above)
  void send_text(const peer& to, S&& text) {
    core_->send_text(to, std::move(text));
  }
  /// Sends already serialized message text to `to`. UDP: one datagram, from the listening socket (an
  /// IPv4 peer is reached through a dual-stack IPv6 socket as IPv4-mapped). TCP: over the connection to
  /// or from `to`, else over a new connection (connect timeout `tcp_connect_timeout`); messages are
  /// written in order. Errors go to `on_error(to, ec)`, later: UDP not listening (std::errc::not_connected),
  /// the OS's send error, TCP connect failure or timeout (std::errc::timed_out), a connection lost with
  /// messages still queued, more than `max_tcp_connections` (std::errc::too_many_files_open), more
  /// than `max_tcp_queued_bytes` waiting on a connection (std::errc::no_buffer_space; the connection is
  /// closed). Does nothing after `close`. Throws only std::bad_alloc.
  void send_text(const peer& to, std::string_view text) { core_->send_text(to, text); }

  /// Every well-formed message received, with its source. Runs on the executor. May call any member
  /// (including `close`), and may replace itself. An exception it throws is caught and counted.
  std::function<void(message&&, const peer& from)> on_message;
  /// A UDP request whose Content-Length exceeds the datagram (RFC 3261 §18.3), as parsed from its header
  /// (parse_truncated_message; the body is empty), for the owner to answer 400. Such responses are
  /// dropped. Runs on the executor; may be empty (the request is then dropped).
  std::function<void(message&& header, const peer& from)> on_truncated_request;
  /// Send and connect failures (RFC 3261 §17.1.4, §18.4): the destination and the error. Runs on the
  /// executor, never from inside `send`.
  std::function<void(const peer& to, std::error_code)> on_error;
  /// A single-CRLF pong received alone on a TCP connection (RFC 5626 §4.4.1: the answer to a double-CRLF
  /// ping we sent with `send_text`), with the connection's peer. Runs on the executor; may be empty.
  std::function<void(const peer& from)> on_pong;

  /// Closes the sockets and every connection (queued TCP messages are discarded). No callback runs
  /// afterwards; `send` does nothing; `listen` fails. Idempotent.
  void close() { core_->close(); }
  /// Closes the TCP or TLS connection to or from `p` if one is open (a TLS one with close_notify, see
  /// `tls_config::close_notify_timeout`); messages still queued on it go to `on_error`
  /// (std::errc::connection_aborted). The next `send` to `p` opens a new connection (TLS: resuming the
  /// cached session, `tls_config::max_cached_sessions`). RFC 5923 §9 leaves closing connections to
  /// their ends; e.g. a flow that must be tried afresh (RFC 5626 §4.4). Does nothing for UDP or after `close`.
  void close_connection(const peer& p) { core_->close_connection(p); }
  /// Counters (see `transport_stats`).
  [[nodiscard]] transport_stats stats() const { return core_->stats(); }
  /// The configuration given to the constructor.
  [[nodiscard]] const transport_config& config() const noexcept { return core_->config(); }
  /// The executor everything runs on.
  [[nodiscard]] const boost::asio::any_io_executor& get_executor() const noexcept { return core_->executor(); }

 private:
  std::shared_ptr<detail::transport_core> core_;
};

/// @cond PTAPI_INTERNAL
namespace detail {

// Callbacks are called through a copy, so that they may reassign or clear themselves or destroy the
// transport. An exception from one is caught and counted here: it must not unwind into the executor's
// run() (std::terminate or a dead SIP thread); the message it was handling is lost.
template <class F, class... A>
void transport_core::call_owner(F transport::*callback, A&&... args) {
  if (closed_ || !owner_ || !(owner_->*callback)) return;
  const auto f = owner_->*callback;
  try {
    f(std::forward<A>(args)...);
  } catch (...) {
    ++stats_.handler_errors;
  }
}

inline void transport_core::deliver(message&& m, const peer& from) {
  ++stats_.received;
  call_owner(&transport::on_message, std::move(m), from);
}

inline void transport_core::deliver_pong(const peer& from) {
  ++stats_.pongs;
  call_owner(&transport::on_pong, from);
}

inline void transport_core::deliver_truncated(message&& m, const peer& from) {
  call_owner(&transport::on_truncated_request, std::move(m), from);
}

inline void transport_core::report(const peer& to, std::error_code ec) {
  ++stats_.send_errors;
  boost::asio::post(ex_, [self = shared_from_this(), to, ec] { self->call_owner(&transport::on_error, to, ec); });
}

}  // namespace detail
/// @endcond

}  // namespace tspi::sip
