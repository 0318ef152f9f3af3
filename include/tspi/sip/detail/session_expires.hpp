// ptapi - portable TAPI
// tspi/sip/detail/session_expires.hpp: the Session-Expires and Min-SE values of RFC 4028 §4 and the
// refresh and expiry instants of §10; no dependency on the provider, so tests include it alone.
#pragma once

#include <tspi/sip/detail/text.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tspi::sip {

namespace detail {

/// Session-Expires (RFC 4028 §4): `delta-seconds *(;se-params)`, e.g. "1800;refresher=uac".
struct session_expires_value {
  std::chrono::seconds interval{0};
  std::string refresher;  ///< "uac", "uas", or empty when absent.
};

/// Parses a Session-Expires (or Min-SE, whose refresher stays empty) value; nullopt when the number is
/// missing, not decimal or 0.
inline std::optional<session_expires_value> parse_session_expires(std::string_view v) {
  const auto semi = v.find(';');
  std::uint32_t n = 0;
  if (!parse_int(trim(v.substr(0, semi)), n) || n == 0) return std::nullopt;
  session_expires_value out{std::chrono::seconds(n), {}};
  std::vector<parameter> ps;
  if (semi != std::string_view::npos && parse_parameters(v.substr(semi + 1), ps))
    if (auto r = parameter_value(ps, "refresher")) out.refresher = std::string(trim(*r));
  return out;
}

/// When the non-refresher ends an unrefreshed session (RFC 4028 §10): interval - min(32 s, interval/3).
inline std::chrono::milliseconds session_expiry_after(std::chrono::seconds interval) {
  const std::chrono::milliseconds i = interval;
  return i - std::min<std::chrono::milliseconds>(std::chrono::seconds(32), i / 3);
}

/// When the refresher refreshes (RFC 4028 §10: half the interval is recommended).
inline std::chrono::milliseconds session_refresh_after(std::chrono::seconds interval) {
  return std::chrono::milliseconds(interval) / 2;
}

}  // namespace detail

}  // namespace tspi::sip
