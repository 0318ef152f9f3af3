// ptapi - portable TAPI
// tspi/sip/dns/error.hpp: why a SIP URI could not be resolved to a transport address (dns_errc, a
// std::error_code enum).
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace tspi::sip {

/// Why `dns_resolver::resolve` found no target. Used through `std::error_code` with `dns_category()`.
enum class dns_errc : int {
  not_found = 1,          ///< No NAPTR, SRV, A or AAAA record led to an address (NXDOMAIN or no data).
  timeout,                ///< The DNS server(s) did not answer (c-ares ARES_ETIMEOUT / ARES_ECONNREFUSED).
  server_failure,         ///< The server answered SERVFAIL, REFUSED or a malformed message.
  tls_required,           ///< A `sips:` URI or `;transport=tls` while TLS is not enabled: never downgraded (RFC 3261 §26.2.2).
  transport_unsupported,  ///< `;transport=` names SCTP, WS or another transport this stack lacks, or one disabled in `sip_config`.
  cancelled,              ///< The resolver closed before an answer came.
  init_failed,            ///< c-ares could not start (bad `dns_config::servers`, no memory, no resolv.conf).
};

namespace detail {
class dns_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "sip.dns"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<dns_errc>(ev)) {
      case dns_errc::not_found: return "host name not found in DNS (no NAPTR, SRV, A or AAAA record)";
      case dns_errc::timeout: return "DNS server did not answer";
      case dns_errc::server_failure: return "DNS server failure";
      case dns_errc::tls_required: return "URI requires TLS (sips: or transport=tls), which is not enabled";
      case dns_errc::transport_unsupported: return "URI names a transport that is not supported or not enabled";
      case dns_errc::cancelled: return "DNS resolution cancelled";
      case dns_errc::init_failed: return "DNS resolver could not start";
    }
    return "unknown DNS error";
  }
};
}  // namespace detail

/// The category of `dns_errc`; its `name()` is "sip.dns". Never throws. Thread safety: a constant
/// singleton, safe from any thread.
inline const std::error_category& dns_category() noexcept {
  static const detail::dns_category_impl category;
  return category;
}

/// Makes a `std::error_code` from a `dns_errc` (found by ADL). Never throws; pure.
inline std::error_code make_error_code(dns_errc e) noexcept { return {static_cast<int>(e), dns_category()}; }

}  // namespace tspi::sip

template <>
struct std::is_error_code_enum<tspi::sip::dns_errc> : std::true_type {};
