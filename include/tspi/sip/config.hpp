// ptapi - portable TAPI
// tspi/sip/config.hpp: settings of the SIP TSP: where it listens, its accounts (one TAPI address each),
// timers and limits. Light: it names the SIP message type without including the stack.
#pragma once

#include <tspi/sip/dns/config.hpp>
#include <tspi/sip/transaction/timer_config.hpp>
#include <tspi/sip/transport/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tspi::sip {

struct message;  // tspi/sip/message.hpp; only named by `sip_config::trace` and `stray_trace`

/// One SIP account: a TAPI address whose name is the account's address-of-record.
struct sip_account {
  std::string aor;                 ///< Address-of-record, a SIP URI: "sip:alice@example.com".
  std::string display_name;        ///< Display name in From, may be empty.
  std::string username;            ///< Digest user name (RFC 8760); empty = the AOR's user part.
  std::string password;            ///< Digest password; empty = answer no challenge.
  std::string registrar;           ///< "host[:port]" or a SIP URI to REGISTER with; empty = no registration
                                   ///< (the registrar-less mode: calls go straight to SIP URIs).
  std::chrono::seconds expires{600};  ///< Registration lifetime asked for (RFC 3261 §10.2.1.1), seconds.
  /// Realms whose Digest challenges (RFC 3261 §22) this account answers, for REGISTER and INVITE alike,
  /// compared exactly. Empty = the realm of the registrar's first challenge (trust on first use: the
  /// registrar is configured, a callee is not); an account without registrar and without realms answers
  /// no challenge. A call challenged by any other realm ends `disconnected` with `blocked` (see `sip_tsp`)
  /// and no credentials are sent.
  std::vector<std::string> realms;
  /// Answer challenges without qop (RFC 2069 compatibility: no client nonce, so an eavesdropper or the
  /// challenger can test passwords offline). Off by default; such a challenge then ends the call like a
  /// foreign realm.
  bool allow_rfc2069 = false;
  /// Outbound proxy (RFC 3261 §8.1.2), a SIP URI ("sip:proxy.example.com", "sip:192.0.2.1:5070;transport=tcp");
  /// empty = none. Requests outside a dialog (INVITE, REGISTER) carry a preloaded `Route: <proxy;lr>` and
  /// go to the proxy's address, resolved by RFC 3263 (DNS for a host name); `lr` is added when missing
  /// (loose routing); `sips:` or `;transport=tls` reaches it over TLS (`sip_config::tls`). A value that does
  /// not parse, or asks for TLS while TLS is not enabled, makes `provider_init` fail with
  /// `tapi_errc::invalid_argument`.
  std::string outbound_proxy;
};

/// Keep-alive of each registration's flow toward its registrar while registered (RFC 5626 §4.4.1, §3.5.1):
/// it keeps NAT bindings and TCP connections open so that the registrar can reach the phone. Over TCP a
/// double-CRLF ping every `tcp_interval`; when its single-CRLF pong does not come within 10 s the flow
/// is taken as failed and the account registers again (over a new connection). Over UDP, `udp`: a CRLF
/// datagram, or an OPTIONS request (whose answer is not needed), every `udp_interval`. A plain value.
struct sip_keepalive {
  /// What goes over UDP.
  enum class method : std::uint8_t {
    none,     ///< Nothing.
    crlf,     ///< One CRLF (RFC 5626 §3.5.1 allows it on UDP; registrars ignore it).
    options,  ///< OPTIONS to the AOR's domain (for registrars that drop bare CRLFs).
  };
  method udp = method::crlf;                 ///< Over UDP.
  std::chrono::seconds udp_interval{25};     ///< UDP keep-alive period, seconds (RFC 5626 §4.4.1: 24-29 s); 0 = none.
  std::chrono::seconds tcp_interval{100};    ///< TCP ping period, seconds (RFC 5626 §4.4.1: 95-120 s); 0 = none.
};

/// Settings of `sip_tsp`. Checked by `provider_init` (`tapi_errc::invalid_argument` when
/// `listen_address` is not an IP literal, no transport is enabled, an account's AOR or registrar does
/// not parse, session timers are on with `min_se` < 1 s or `session_expires` < `min_se`, or `tls` is on
/// and a file of `transport.tls` does not load). A plain value.
struct sip_config {
  std::string listen_address = "127.0.0.1";  ///< IPv4 or IPv6 literal to bind; also the host of Via and Contact.
  std::uint16_t port = 5060;                 ///< Port for UDP and TCP; 0 = an ephemeral port (the same for both when possible).
  bool udp = true;                           ///< Listen on and send over UDP (RFC 3261 §18).
  bool tcp = true;                           ///< Listen on and send over TCP (used when a URI says `;transport=tcp`).
  /// SIP over TLS (RFC 3261 §26.2, RFC 5630): `sips:` URIs and `;transport=tls` go over TLS, verified as
  /// `transport.tls` says (CA file or the system's trust store; the server's certificate must name the
  /// host of the URI, RFC 5922); listens on `tls_port` when `transport.tls.certificate_chain_file` is set.
  /// Off: such URIs fail with `dns_errc::tls_required`, never sent in clear. With `udp` and `tcp` off,
  /// every request goes over TLS and `sip_tsp::signalling_secured()` is true; this needs a certificate
  /// (the TLS listener's address is our Via sent-by and Contact), and the default account is then
  /// `sips:ptapi@<listen_address>:<TLS port>`.
  bool tls = false;
  std::uint16_t tls_port = 5061;             ///< Port of the TLS listener; 0 = an ephemeral port.
  /// The accounts; empty = one account `sip:ptapi@<listen_address>:<port>` without registrar.
  std::vector<sip_account> accounts;
  timer_config timers;                       ///< T1, T2, T4 (RFC 3261 §17, table 4).
  /// Parse limits and TCP limits (transport/config.hpp): by default a TCP connection must deliver a complete
  /// message within 10 s and is closed after 300 s without traffic; 16 KiB of header per message in
  /// progress; 32 connections per source address; min(1024, RLIMIT_NOFILE/4) connections in all, the
  /// least useful idle one evicted for a newcomer at the limit.
  transport_config transport;
  std::string user_agent = "ptapi/0.1";      ///< User-Agent and Server header value; empty = none.
  /// Calls at once per account (LINEADDRESSCAPS::dwMaxNumActiveCalls); more get 503 with Retry-After.
  std::uint32_t max_active_calls = 256;
  /// Retry-After (RFC 3261 §20.33), seconds, of the 503 Service Unavailable that refuses an INVITE for lack
  /// of room (`max_active_calls`, the MSP's capacity) or of a resource (file descriptors, memory); also of
  /// the 503 answering a request whose handling failed for lack of a resource. 0 = no Retry-After.
  std::chrono::seconds retry_after{10};
  /// How long an incoming call may stay offering (nobody answers or rejects it) before it is refused with
  /// 480 Temporarily Unavailable and reported `disconnected` with `noanswer` (RFC 3261 §13.3.1.1 lets the
  /// UAS end an unanswered INVITE), milliseconds. 0 = never (the caller's CANCEL or Expires ends it).
  std::chrono::milliseconds no_answer_timeout{std::chrono::minutes(3)};
  /// One ring, for the no-answer forwarding rules (`forward_information::num_rings_no_answer` rings),
  /// milliseconds. 6 s is the North American ring cadence (2 s on, 4 s off).
  std::chrono::milliseconds ring_period{std::chrono::seconds(6)};
  std::chrono::seconds registration_retry{30};  ///< Wait before retrying a failed registration, seconds.
  /// Every SIP message sent (`outgoing` true) or received, on the TSP's thread (logging, tracing,
  /// collecting response codes): sent messages as they go on the wire (with the Via, branch and
  /// Max-Forwards the transaction layer adds; not retransmissions), requests as they arrive (before
  /// `received`/`rport` are filled in; retransmissions included), responses as matched to one of our
  /// transactions (those matching none go to `stray_trace`). Must not block. May be empty.
  std::function<void(const message&, bool outgoing)> trace;
  /// Responses the transaction layer matched to no client transaction (RFC 3261 §17.1.3; e.g. a 2xx
  /// retransmission after the INVITE transaction ended, or anyone's forgery carrying a live Call-ID), on
  /// the TSP's thread. Must not block. May be empty.
  std::function<void(const message&)> stray_trace;
  /// The address put in Contact and in the SDP `c=`/`o=` lines instead of the local one (NAT with a fixed
  /// public address and forwarded ports): an IP literal; empty = the local address, which for a bind on the
  /// wildcard address (0.0.0.0, ::) is the address of the interface that routes to the peer (or to the
  /// registrar), updated by what the registrar reports (Via `received`/`rport`, RFC 3581: the account then
  /// registers again with that Contact). Checked by `provider_init` (`invalid_argument`).
  std::string public_address;
  /// Keep-alive of registration flows (see `sip_keepalive`).
  sip_keepalive keepalive;
  /// The outcome of each REGISTER transaction of account `account` (index in `accounts`): the registrar's
  /// final status and reason (2xx: registered, or unregistered at shutdown; 408 with a ptapi reason when
  /// no answer came), on the TSP's thread, before the address's state event. Must not block. May be empty.
  std::function<void(std::size_t account, int status, std::string_view reason)> on_registration;
  /// Session timers (RFC 4028): the Session-Expires we ask for in our INVITEs (with `Supported: timer`),
  /// seconds; the refresher re-INVITEs at half the negotiated interval, and the other side sends BYE when
  /// no refresh came by interval - min(32 s, interval/3) (the call ends `disconnected` with
  /// `line_disconnect_mode::tempfailure`, TAPI 3 cause `disconnect_failed`). 0 = session timers off: no timer headers, and a `Require: timer`
  /// gets 420 again. See session/session_timer.hpp.
  std::chrono::seconds session_expires{1800};
  /// Our Min-SE (RFC 4028 §4), seconds: an INVITE offering a shorter Session-Expires gets 422 with this
  /// Min-SE, and our INVITEs carry it. RFC 4028 forbids less than 90 s; smaller values (down to 1 s) are
  /// accepted only so that tests can watch a refresh and an expiry in seconds: never use them with real peers.
  std::chrono::seconds min_se{90};
  /// How many times an INVITE answered 422 Session Interval Too Small is retried with the larger
  /// interval the 422's Min-SE asks for (RFC 4028 §7.4); after that the 422 ends the call.
  int session_interval_retries = 2;
  /// Whether a REFER from the far end of a confirmed call (RFC 3515: we are the transferee) is accepted:
  /// true = 202, a new outgoing call to the Refer-To target (reason `call_reason::transfer`), NOTIFYs with
  /// its progress, and this call dropped once the new one connects; false = 603 Decline.
  bool accept_refer = true;
  /// DNS (RFC 3263) for host names in dialled URIs, registrars, outbound proxies and in-dialog next hops:
  /// the servers ("host:port"; empty = /etc/resolv.conf's), timeout and tries, bounds and cache
  /// (dns/config.hpp). A server c-ares cannot parse fails `provider_init` with `invalid_argument`.
  dns_config dns;
  /// Most 3xx redirections (RFC 3261 §8.1.3.4) one outgoing call follows; 0 = none (a 3xx ends the call).
  std::uint32_t max_redirects = 5;
};

}  // namespace tspi::sip
