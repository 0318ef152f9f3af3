// ptapi - portable TAPI
// tspi/sip/config.hpp: settings of the SIP TSP: where it listens, its accounts (one TAPI address each),
// timers and limits. Light: it names the SIP message type without including the stack.
#pragma once

#include <tspi/sip/dns/config.hpp>
#include <tspi/sip/transaction/timer_config.hpp>
#include <tspi/sip/transport/config.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
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
  /// (loose routing). A value that does not parse, or asks for TLS (`sips:`, `;transport=tls`), makes
  /// `provider_init` fail with `tapi_errc::invalid_argument`.
  std::string outbound_proxy;
};

/// Settings of `sip_tsp`. Checked by `provider_init` (`tapi_errc::invalid_argument` when
/// `listen_address` is not an IP literal, no transport is enabled, or an account's AOR or registrar does
/// not parse). A plain value.
struct sip_config {
  std::string listen_address = "127.0.0.1";  ///< IPv4 or IPv6 literal to bind; also the host of Via and Contact.
  std::uint16_t port = 5060;                 ///< Port for UDP and TCP; 0 = an ephemeral port (the same for both when possible).
  bool udp = true;                           ///< Listen on and send over UDP (RFC 3261 §18).
  bool tcp = true;                           ///< Listen on and send over TCP (used when a URI says `;transport=tcp`).
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
  std::chrono::seconds registration_retry{30};  ///< Wait before retrying a failed registration, seconds.
  /// Every SIP message sent (`outgoing` true) or received, as parsed, on the TSP's thread (logging,
  /// tracing, collecting response codes), except responses that match no transaction of ours (see
  /// `stray_trace`). Must not block. May be empty.
  std::function<void(const message&, bool outgoing)> trace;
  /// Responses the transaction layer matched to no client transaction (RFC 3261 §17.1.3; e.g. a 2xx
  /// retransmission after the INVITE transaction ended, or anyone's forgery carrying a live Call-ID), on
  /// the TSP's thread. Must not block. May be empty.
  std::function<void(const message&)> stray_trace;
  /// DNS (RFC 3263) for host names in dialled URIs, registrars, outbound proxies and in-dialog next hops:
  /// the servers ("host:port"; empty = /etc/resolv.conf's), timeout and tries, bounds and cache
  /// (dns/config.hpp). A server c-ares cannot parse fails `provider_init` with `invalid_argument`.
  dns_config dns;
  /// Most 3xx redirections (RFC 3261 §8.1.3.4) one outgoing call follows; 0 = none (a 3xx ends the call).
  std::uint32_t max_redirects = 5;
};

}  // namespace tspi::sip
