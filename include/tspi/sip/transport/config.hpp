// ptapi - portable TAPI
// tspi/sip/transport/config.hpp: settings and counters of the SIP transport: parse limits, the TCP
// connection limits and the TLS settings (light: no Asio, no OpenSSL).
#pragma once

#include <tspi/sip/parse_limits.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tspi::sip {

namespace detail {
/// The default `transport_config::max_tcp_connections`: min(1024, RLIMIT_NOFILE soft limit / 4), at
/// least 16 (1024 when the limit is unlimited or cannot be read). A quarter of the descriptors leaves
/// the rest for media sockets, reactors, files and the application: with the common `ulimit -n 1024`,
/// 256 connections. Reads getrlimit(2) on each call. Thread safety: safe.
[[nodiscard]] inline std::size_t default_max_tcp_connections() noexcept {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1024;
  return std::clamp<std::size_t>(static_cast<std::size_t>(rl.rlim_cur / 4), 16, 1024);
}
}  // namespace detail

/// Whether a TLS listener asks the connecting client for a certificate (mutual TLS). RFC 3261 §26.2.1 and
/// RFC 5630 leave mutual TLS (between proxies, or for a trusted client) to the deployment; RFC 5922 §7.4
/// lets a server ask for the client's certificate and verify it (the client's domain is not known in
/// advance: the chain is verified, no name is checked). Used by `tls_config::client_certificates`.
enum class tls_client_certificates {
  none,      ///< No CertificateRequest is sent: any client is accepted (the default, as most SIP servers).
  optional,  ///< A certificate is asked for; a client without one is accepted, one whose chain fails is refused.
  required,  ///< A certificate is asked for and must be sent and verify, else the connection is refused.
};

/// TLS settings of a `transport` (SIP over TLS, RFC 3261 §26.2, RFC 5630), on OpenSSL through Boost.Asio's
/// SSL streams. TLS connections are TCP connections with a TLS layer: the TCP limits of `transport_config`
/// (count, per source, message time, idle time, queued bytes) apply to them as well, in one count.
/// Unlike a TCP connection, a TLS connection holds a 16 KiB read buffer while open (plus OpenSSL's own
/// record buffers). TLS 1.2 is the minimum version (1.3 preferred). The files are read when the transport is constructed;
/// a file that cannot be read makes `transport::tls_error()` say why, and `listen(tls)` fail with it.
struct tls_config {
  /// Server side: PEM file with our certificate first, then its intermediate CAs (RFC 5922 §7.1: the
  /// certificate's subjectAltName should name our SIP domain). Empty: we do not accept TLS connections
  /// (`listen(tls)` fails with std::errc::invalid_argument); outgoing TLS still works.
  std::string certificate_chain_file;
  std::string private_key_file;  ///< PEM private key of that certificate (server side; also client certificate if set).
  /// PEM file of the CAs trusted to sign the certificates of the servers we connect to; with `ca_path`
  /// empty too: OpenSSL's default trust store (Debian: /etc/ssl/certs).
  std::string ca_file;
  std::string ca_path;  ///< Directory of hashed CA certificates (c_rehash), as OpenSSL's -CApath.
  /// Server side, mutual TLS (RFC 5922 §7.4): whether our TLS listener asks clients for a certificate.
  /// Their chain is verified against the same CAs as servers' (`ca_file`, `ca_path`, else the default
  /// store; `ca_file`'s subjects are named to the client as acceptable CAs). A connection whose client
  /// certificate is missing (`required`) or fails verification is closed during the handshake and counted
  /// (`transport_stats::tls_client_certificates_missing`, `tls_client_certificates_rejected`, both also in
  /// `tls_handshake_failures`). Our own
  /// certificate (`certificate_chain_file`) is always offered when a server asks for one.
  tls_client_certificates client_certificates = tls_client_certificates::none;
  /// Client side: TLS sessions kept for resumption (RFC 5246 §7.3 session IDs and tickets, RFC 8446 §2.2
  /// PSK tickets), one per destination and server name (never offered to another name or address), least
  /// recently stored evicted beyond this count; 0 turns resumption off. Each holds an OpenSSL SSL_SESSION
  /// (~1-2 KiB). A TLS 1.3 ticket is used once. Server side: OpenSSL's stateless session tickets (no per-client
  /// state) and a session-ID cache of at most this many sessions (at least 1) for TLS 1.2 clients without tickets.
  std::size_t max_cached_sessions = 256;
  /// Time a TLS connection being closed (transport closed, idle, error on our side) waits for the peer to
  /// answer our close_notify (RFC 8446 §6.1, RFC 5246 §7.2.1) before its socket is closed anyway, ms. The
  /// close never blocks: it runs on the transport's executor after the connection left the table.
  std::chrono::milliseconds close_notify_timeout{500};
  /// INSECURE, for tests and lab setups with self-signed certificates only: accept any server
  /// certificate, without checking its chain or its identity (RFC 5922). The connection is still
  /// encrypted, but anyone on the path can pose as the server. False (default): verified.
  bool insecure_skip_verification = false;
  /// Time a TLS handshake has to complete (after the TCP connect for an outgoing connection, after the
  /// accept for an incoming one), ms; beyond, the connection is closed (`tls_handshake_timeouts`; an
  /// outgoing one reports std::errc::timed_out).
  std::chrono::milliseconds handshake_timeout{10000};
  /// Incoming TLS handshakes in progress at once: more accepted connections are closed at once
  /// (`tls_handshakes_rejected`), so that a handshake flood costs bounded CPU and memory.
  std::size_t max_handshakes_in_progress = 64;
};

/// Settings of a `transport`. The TCP limits bound what a stranger can hold (RFC 3261 §18.3, RFC 5923
/// §9 "connection reuse" leaves closing idle connections to the server):
/// - a connection must deliver a complete message within `tcp_message_timeout`: an accepted connection
///   its first message counted from the accept, any connection a message counted from its first byte
///   (CRLF keep-alives are not messages); otherwise it is closed (`transport_stats::tcp_message_timeouts`);
/// - a connection with no traffic either way for `tcp_idle_timeout` is closed. A connection that
///   carries a dialog's requests (a TCP client's registration or call) stays as long as that client or
///   this side sends something at least that often (SIP keep-alives, re-registrations, in-dialog
///   requests); the transport does not see transactions or dialogs;
/// - a message in progress holds only its own bytes: the header at most `max_tcp_header_bytes` (more
///   without the empty line ending it: the stream cannot be framed, the connection is closed), header
///   plus body at most `limits.max_message_bytes`; between messages a connection holds no receive buffer;
/// - at most `max_tcp_connections_per_source` accepted connections per source IP address: more are closed
///   at once (`tcp_source_rejected`);
/// - at most `max_tcp_connections` in all: at the limit, an accept or an outgoing connection evicts the
///   connection that has least claim to stay (one that has not delivered a complete message first, then
///   the least recently active; never one with messages waiting to be written or still connecting,
///   `tcp_evicted`); only when none can be evicted is the new one refused (`tcp_rejected`, or
///   std::errc::too_many_files_open to `on_error` for an outgoing one).
/// accept() failing (EMFILE, ENFILE, ENOBUFS...) is retried after 100 ms (`accept_errors`), never spun on.
struct transport_config {
  parse_limits limits;                             ///< Per-message limits (message.hpp); larger messages are dropped.
  /// TCP connections open or connecting at once (both directions); see detail::default_max_tcp_connections
  /// (256 under `ulimit -n 1024`, at most 1024).
  std::size_t max_tcp_connections = detail::default_max_tcp_connections();
  std::size_t max_tcp_connections_per_source = 32;  ///< Accepted TCP connections per source IP address; 0 = no limit.
  /// Time a connection has to deliver a complete message (a new incoming connection its first one), ms.
  std::chrono::milliseconds tcp_message_timeout{10000};
  std::size_t max_tcp_header_bytes = 16384;        ///< Bytes of a TCP message's header (start line to the empty line, leading CRLFs not counted).
  std::chrono::seconds tcp_idle_timeout{300};      ///< A TCP connection with no traffic either way for this long is closed, seconds.
  std::chrono::seconds tcp_connect_timeout{32};    ///< An outgoing TCP connect not done by then fails (timed_out).
  std::size_t max_tcp_queued_bytes = 1 << 20;      ///< Bytes waiting to be written on one connection; beyond, it is closed (no_buffer_space).
  /// SO_RCVBUF asked for the UDP socket, bytes (the kernel caps it at net.core.rmem_max); 0 = the kernel's
  /// default. A burst of INVITEs while the SIP thread is descheduled waits here instead of being dropped.
  std::size_t udp_receive_buffer_bytes = 4 << 20;
  tls_config tls;  ///< SIP over TLS (see `tls_config`).
};

/// Counters of a `transport` since construction (`tcp_connections` and `tcp_buffered_bytes` are gauges).
struct transport_stats {
  std::uint64_t received = 0;           ///< Well-formed messages passed to `on_message`.
  std::uint64_t malformed_dropped = 0;  ///< Datagrams or stream messages that did not parse, and unframeable TCP streams.
  std::uint64_t truncated_requests = 0; ///< UDP requests whose Content-Length exceeds the body, passed to `on_truncated_request`.
  std::uint64_t keepalives = 0;         ///< CRLF keep-alives received (RFC 5626 §3.5.1; double-CRLF pings are answered).
  std::uint64_t sent = 0;               ///< Messages handed to the OS (UDP datagrams sent, TCP messages written).
  std::uint64_t send_errors = 0;        ///< Error reports passed to `on_error` (one per failed datagram or failed connection).
  std::uint64_t handler_errors = 0;     ///< Exceptions thrown by `on_message`, `on_truncated_request` or `on_error`, caught (the message is lost).
  std::uint64_t tcp_connections = 0;    ///< TCP connections open or connecting now.
  std::uint64_t tcp_buffered_bytes = 0; ///< Bytes allocated now for partial TCP messages, all connections together.
  std::uint64_t tcp_accepted = 0;       ///< Incoming TCP connections accepted.
  std::uint64_t tcp_connected = 0;      ///< Outgoing TCP connections established.
  std::uint64_t tcp_rejected = 0;       ///< Incoming connections closed at once: `max_tcp_connections` open, none evictable.
  std::uint64_t tcp_source_rejected = 0;  ///< Incoming connections closed at once: `max_tcp_connections_per_source` from that address.
  std::uint64_t tcp_evicted = 0;        ///< Connections closed to make room for a new one (see transport_config).
  std::uint64_t tcp_message_timeouts = 0;  ///< Connections closed for not completing a message within `tcp_message_timeout`.
  std::uint64_t tcp_idle_closed = 0;    ///< Connections closed after `tcp_idle_timeout` without traffic.
  std::uint64_t accept_errors = 0;      ///< accept() failures (out of descriptors...), each retried after 100 ms.
  std::uint64_t pongs = 0;              ///< Single-CRLF pongs received alone on TCP connections (RFC 5626 §4.4.1), passed to `on_pong`.
  std::uint64_t tls_handshakes = 0;     ///< TLS handshakes completed (both directions; the server's identity checked on outgoing ones).
  std::uint64_t tls_handshake_failures = 0;  ///< TLS handshakes failed: protocol error, certificate not trusted, identity mismatch.
  std::uint64_t tls_handshake_timeouts = 0;  ///< TLS connections closed for not completing the handshake within `tls_config::handshake_timeout`.
  std::uint64_t tls_handshakes_rejected = 0; ///< Accepted TLS connections closed at once: `tls_config::max_handshakes_in_progress` reached.
  std::uint64_t tls_client_certificates_missing = 0;   ///< Accepted TLS connections refused: no client certificate (`tls_client_certificates::required`).
  std::uint64_t tls_client_certificates_rejected = 0;  ///< Accepted TLS connections refused: the client's certificate chain did not verify (untrusted, expired...).
  std::uint64_t tls_sessions_resumed = 0;  ///< TLS handshakes that resumed an earlier session (both directions; also in `tls_handshakes`).
  std::uint64_t tls_close_notify_sent = 0; ///< TLS connections we closed with a close_notify alert (the peer's answer not awaited beyond `close_notify_timeout`).
};

}  // namespace tspi::sip
