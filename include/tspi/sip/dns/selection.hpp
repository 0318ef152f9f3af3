// ptapi - portable TAPI
// tspi/sip/dns/selection.hpp: the decisions of RFC 3263 §4.1-4.2 that need no network: what to look up
// first for a SIP URI, which transport its target uses, which NAPTR records a client may follow.
#pragma once

#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/dns/error.hpp>
#include <tspi/sip/dns/srv_order.hpp>
#include <tspi/sip/transport/peer.hpp>
#include <tspi/sip/uri.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace tspi::sip {

/// The transports a resolution may choose (`sip_config::udp` / `tcp` / `tls`). A plain value.
struct dns_transports {
  bool udp = true;   ///< UDP enabled.
  bool tcp = true;   ///< TCP enabled.
  bool tls = false;  ///< TLS enabled (RFC 3261 §26.2: `sips:` and `;transport=tls` need it).
};

/// The first step of resolving a URI (RFC 3263 §4): a result at once, or which lookup starts.
struct dns_plan {
  /// What happens first.
  enum class step : std::uint8_t {
    failed,     ///< `error` says why (TLS required but not enabled, unsupported transport).
    literal,    ///< The host is an IP literal or `localhost`: `target` is the answer, no DNS (§4.2).
    addresses,  ///< A port is given: A/AAAA of the host, `transport` and `port` (§4.2).
    srv,        ///< A transport but no port: SRV (`srv_name`), else A/AAAA with the default port (§4.2).
    naptr,      ///< Neither: NAPTR, else SRV for each enabled transport, else A/AAAA with `port` (§4.1).
  };
  step first = step::failed;  ///< The first step.
  std::error_code error;                             ///< With `failed`.
  transport_protocol transport = transport_protocol::udp;  ///< The URI's or the default transport.
  std::uint16_t port = 5060;                         ///< The URI's port, or 5060 (5061 for TLS).
  peer target;                                       ///< With `literal`.
  /// Only TLS may be used (a `sips:` URI, RFC 3261 §26.2.2 / RFC 3263 §4.1: NAPTR `SIPS+D2T` and SRV
  /// `_sips._tcp` only).
  bool tls_only = false;
};

/// What to do for `u` with `enabled` transports (at least one enabled). A `sips:` URI or `;transport=tls`
/// goes over TLS only (port 5061 by default; RFC 3261 §26.2.2, RFC 5630): without `enabled.tls` it fails
/// with `dns_errc::tls_required`, never replaced by UDP/TCP. Another transport than udp/tcp/tls fails with
/// `transport_unsupported`. A `;transport=udp|tcp` of a disabled transport takes the enabled one (as
/// before this resolver existed; TLS only when neither is enabled). The default transport of a `sip:` URI
/// without one is UDP, else TCP, else TLS (§4.1: "udp" for sip:). `maddr` is ignored. Throws only
/// std::bad_alloc. Thread safety: pure.
[[nodiscard]] inline dns_plan plan_resolution(const uri& u, dns_transports enabled) {
  dns_plan plan;
  const auto t = u.param("transport");
  plan.tls_only = u.scheme == "sips" || (t && detail::iequals(*t, "tls"));
  if (plan.tls_only && !enabled.tls) {
    plan.error = dns_errc::tls_required;
    return plan;
  }
  if (t && !detail::iequals(*t, "udp") && !detail::iequals(*t, "tcp") && !detail::iequals(*t, "tls")) {
    plan.error = dns_errc::transport_unsupported;
    return plan;
  }
  if (plan.tls_only || (!enabled.udp && !enabled.tcp)) {
    plan.transport = transport_protocol::tls;
  } else {
    plan.transport = (t && detail::iequals(*t, "tcp")) || !enabled.udp ? transport_protocol::tcp : transport_protocol::udp;
    if (plan.transport == transport_protocol::tcp && !enabled.tcp) plan.transport = transport_protocol::udp;
  }
  plan.port = u.port ? u.port : plan.transport == transport_protocol::tls ? 5061 : 5060;
  boost::system::error_code bec;
  auto literal = boost::asio::ip::make_address(detail::iequals(u.host, "localhost") ? "127.0.0.1" : u.host, bec);
  if (!bec) {
    plan.first = dns_plan::step::literal;
    plan.target = {plan.transport, literal, plan.port};
  } else if (u.port != 0) {
    plan.first = dns_plan::step::addresses;
  } else {
    plan.first = t ? dns_plan::step::srv : dns_plan::step::naptr;
  }
  return plan;
}

/// The SRV name of `transport` for `host` (RFC 3263 §4.1): "_sip._udp.<host>", "_sip._tcp.<host>" or, for
/// TLS, "_sips._tcp.<host>".
[[nodiscard]] inline std::string srv_name(transport_protocol transport, const std::string& host) {
  return (transport == transport_protocol::tls ? "_sips._tcp." : transport == transport_protocol::tcp ? "_sip._tcp." : "_sip._udp.") + host;
}

/// The NAPTR records a SIP client follows (RFC 3263 §4.1): flag "s", service "SIP+D2U", "SIP+D2T" or
/// "SIPS+D2T" of an enabled transport (others are unknown), in ascending order then preference, at most
/// `limit`, as (transport, SRV name). For a `sips:` URI pass only `tls` enabled. Throws only std::bad_alloc.
/// Thread safety: pure.
[[nodiscard]] inline std::vector<std::pair<transport_protocol, std::string>> usable_naptr(std::vector<naptr_record> records,
                                                                                          dns_transports enabled, std::size_t limit) {
  std::stable_sort(records.begin(), records.end(), [](const naptr_record& a, const naptr_record& b) {
    return a.order != b.order ? a.order < b.order : a.preference < b.preference;
  });
  std::vector<std::pair<transport_protocol, std::string>> out;
  for (const auto& r : records) {
    if (out.size() >= limit) break;
    if (!detail::iequals(r.flags, "s") || r.replacement.empty() || r.replacement == ".") continue;
    if (detail::iequals(r.service, "SIP+D2U") && enabled.udp) out.emplace_back(transport_protocol::udp, r.replacement);
    else if (detail::iequals(r.service, "SIP+D2T") && enabled.tcp) out.emplace_back(transport_protocol::tcp, r.replacement);
    else if (detail::iequals(r.service, "SIPS+D2T") && enabled.tls) out.emplace_back(transport_protocol::tls, r.replacement);
  }
  return out;
}

}  // namespace tspi::sip
