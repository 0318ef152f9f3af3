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

/// The transports a resolution may choose (`sip_config::udp` / `tcp`). A plain value.
struct dns_transports {
  bool udp = true;  ///< UDP enabled.
  bool tcp = true;  ///< TCP enabled.
};

/// The first step of resolving a URI (RFC 3263 §4): a result at once, or which lookup starts.
struct dns_plan {
  /// What happens first.
  enum class step : std::uint8_t {
    failed,     ///< `error` says why (TLS required, unsupported transport).
    literal,    ///< The host is an IP literal or `localhost`: `target` is the answer, no DNS (§4.2).
    addresses,  ///< A port is given: A/AAAA of the host, `transport` and `port` (§4.2).
    srv,        ///< A transport but no port: SRV `_sip._<transport>.<host>`, else A/AAAA with the default port (§4.2).
    naptr,      ///< Neither: NAPTR, else SRV for each enabled transport, else A/AAAA with 5060 (§4.1).
  };
  step first = step::failed;  ///< The first step.
  std::error_code error;                             ///< With `failed`.
  transport_protocol transport = transport_protocol::udp;  ///< The URI's or the default transport.
  std::uint16_t port = 5060;                         ///< The URI's port, or 5060.
  peer target;                                       ///< With `literal`.
};

/// What to do for `u` with `enabled` transports (at least one enabled). A `sips:` URI or
/// `;transport=tls` fails with `dns_errc::tls_required` (TLS is not implemented and never replaced by
/// UDP/TCP, RFC 3261 §26.2.2); another transport than udp/tcp fails with `transport_unsupported`. A
/// `;transport=` of a disabled transport takes the enabled one (as before this resolver existed). The
/// default transport of a URI without one is UDP, TCP when UDP is disabled (§4.1: "udp" for sip:).
/// `maddr` is ignored. Throws only std::bad_alloc. Thread safety: pure.
[[nodiscard]] inline dns_plan plan_resolution(const uri& u, dns_transports enabled) {
  dns_plan plan;
  const auto t = u.param("transport");
  if (u.scheme == "sips" || (t && detail::iequals(*t, "tls"))) {
    plan.error = dns_errc::tls_required;
    return plan;
  }
  if (t && !detail::iequals(*t, "udp") && !detail::iequals(*t, "tcp")) {
    plan.error = dns_errc::transport_unsupported;
    return plan;
  }
  plan.transport = (t && detail::iequals(*t, "tcp")) || !enabled.udp ? transport_protocol::tcp : transport_protocol::udp;
  if (plan.transport == transport_protocol::tcp && !enabled.tcp) plan.transport = transport_protocol::udp;
  plan.port = u.port_or_default();
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

/// The SRV name of `transport` for `host` (RFC 3263 §4.1): "_sip._udp.<host>" or "_sip._tcp.<host>".
[[nodiscard]] inline std::string srv_name(transport_protocol transport, const std::string& host) {
  return (transport == transport_protocol::tcp ? "_sip._tcp." : "_sip._udp.") + host;
}

/// The NAPTR records a SIP client follows (RFC 3263 §4.1): flag "s", service "SIP+D2U" or "SIP+D2T" of
/// an enabled transport (SIPS+D2T needs TLS; others are unknown), in ascending order then preference,
/// at most `limit`, as (transport, SRV name). Throws only std::bad_alloc. Thread safety: pure.
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
  }
  return out;
}

}  // namespace tspi::sip
