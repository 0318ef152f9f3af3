// ptapi - portable TAPI
// tspi/sip/uri.hpp: SIP URIs (RFC 3261 §19.1) and name-addr values of From, To, Contact, Route
// (RFC 3261 §20.10, §25.1).
#pragma once

#include <tspi/sip/detail/text.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tspi::sip {

/// A `sip:` or `sips:` URI (RFC 3261 §19.1.1): `sip:user:password@host:port;uri-parameters?headers`.
/// A plain value; thread safety as for any aggregate.
struct uri {
  std::string scheme = "sip";                ///< "sip" or "sips" (lower case).
  std::string user;                          ///< userinfo user part, escaped as received; may be empty.
  std::string password;                      ///< userinfo password (discouraged, RFC 3261 §19.1.1); may be empty.
  std::string host;                          ///< Host name, IPv4 literal, or IPv6 literal without brackets.
  std::uint16_t port = 0;                    ///< Port; 0 when absent (then 5060, or 5061 for sips, RFC 3263).
  std::vector<detail::parameter> params;     ///< uri-parameters (`transport`, `lr`, `maddr`...), in order.
  std::string headers;                       ///< The `?` headers part, verbatim without the `?`; may be empty.

  /// The value of uri-parameter `name` (case-insensitive), nullopt when absent ("" when it has no value).
  [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const noexcept {
    return detail::parameter_value(params, name);
  }
  /// `host` or `[host]` for IPv6, then `:port` when set.
  [[nodiscard]] std::string host_port() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != 0) out += ":" + std::to_string(port);
    return out;
  }
  /// The port to use: `port`, or 5060 (5061 for sips) when absent (RFC 3263 §4.2).
  [[nodiscard]] std::uint16_t port_or_default() const noexcept { return port ? port : (scheme == "sips" ? 5061 : 5060); }
  /// The URI as text (RFC 3261 §25.1 SIP-URI).
  [[nodiscard]] std::string to_string() const {
    std::string out = scheme + ":";
    if (!user.empty()) {
      out += user;
      if (!password.empty()) out += ":" + password;
      out += '@';
    }
    out += host_port();
    detail::append_parameters(out, params);
    if (!headers.empty()) out += "?" + headers;
    return out;
  }
};

/// Longest URI accepted by `parse_uri`, in bytes.
inline constexpr std::size_t max_uri_bytes = 1024;

/// Parses a SIP or SIPS URI (RFC 3261 §19.1.1; schemes compared case-insensitively; surrounding SP/HT
/// ignored). The userinfo ends at the first '@' (user and password may hold ';', '?', '/' and the other
/// user-unreserved characters, but never a raw '@'); uri-parameters follow the host after ';', headers
/// after the first '?' behind the host. nullopt when it is longer than `max_uri_bytes`, has another
/// scheme, holds a control character, SP, '<', '>' or '"', has an empty user before '@', an empty or
/// malformed host (IPv6 literals must be in brackets, RFC 5118 §4.10), a port that is not 1-65535, or a
/// parameter name that is not a token. Never throws except std::bad_alloc. Thread safety: pure function.
inline std::optional<uri> parse_uri(std::string_view s) {
  s = detail::trim(s);
  if (s.size() > max_uri_bytes) return std::nullopt;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '<' || c == '>' || c == '"') return std::nullopt;
  }
  const auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  uri u;
  const auto scheme = s.substr(0, colon);
  if (detail::iequals(scheme, "sip")) u.scheme = "sip";
  else if (detail::iequals(scheme, "sips")) u.scheme = "sips";
  else return std::nullopt;
  auto rest = s.substr(colon + 1);
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto pc = userinfo.find(':');
    u.user = std::string(userinfo.substr(0, pc));
    if (pc != std::string_view::npos) u.password = std::string(userinfo.substr(pc + 1));
    if (u.user.empty()) return std::nullopt;
  }
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    u.headers = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  const auto semi = rest.find(';');
  const auto hostport = rest.substr(0, semi);
  if (semi != std::string_view::npos && !detail::parse_parameters(rest.substr(semi + 1), u.params)) return std::nullopt;
  if (!detail::parse_host_port(hostport, u.host, u.port)) return std::nullopt;
  return u;
}

/// A name-addr or addr-spec header value with its header parameters (RFC 3261 §20.10, §20.20, §20.39):
/// `"Display" <sip:uri>;tag=x`. A plain value.
struct name_addr {
  std::string display_name;               ///< Display name, unquoted and unescaped (quoted-pairs undone); may be empty.
  sip::uri address;                       ///< The URI.
  std::vector<detail::parameter> params;  ///< Header parameters after the URI (`tag`, `expires`, `q`...).

  /// Header parameter `name` (case-insensitive), nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const noexcept {
    return detail::parameter_value(params, name);
  }
  /// The `tag` parameter (RFC 3261 §19.3), empty when absent.
  [[nodiscard]] std::string tag() const { return std::string(param("tag").value_or("")); }
  /// Sets or replaces header parameter `name`.
  void set_param(std::string_view name, std::string value) { detail::set_parameter(params, name, std::move(value)); }
  /// The value as text, always in name-addr form (`<...>`), so URI parameters stay with the URI. The
  /// display name is written as a quoted-string (`detail::quote`: '"', '\\' and control characters escaped,
  /// CR and LF written as SP), so no display name can break the header line.
  [[nodiscard]] std::string to_string() const {
    std::string out;
    if (!display_name.empty()) out = detail::quote(display_name) + " ";
    out += "<" + address.to_string() + ">";
    detail::append_parameters(out, params);
    return out;
  }
};

/// Parses a From/To/Contact/Route/Refer-To value (RFC 3261 §25.1 name-addr / addr-spec). In the addr-spec
/// form (no `<>`) the URI ends at the first ';' and what follows are header parameters (RFC 3261 §20.10).
/// The display name is a quoted-string (unescaped into `display_name`) or unquoted tokens (kept as
/// written, surrounding whitespace removed). nullopt when the URI does not parse (see `parse_uri`), a
/// quoted string is unterminated or followed by more than whitespace before '<', an unquoted display name
/// holds '"' or a control character, '>' is missing, or anything but parameters follows the URI.
/// Throws only std::bad_alloc. Thread safety: pure function.
inline std::optional<name_addr> parse_name_addr(std::string_view s) {
  s = detail::trim(s);
  name_addr na;
  std::string_view params_text;
  if (auto lt = detail::find_unquoted(s, '<'); lt != std::string_view::npos) {
    const auto display = detail::trim(s.substr(0, lt));
    if (!display.empty() && display.front() == '"') {
      if (!detail::unquote(display, na.display_name)) return std::nullopt;
    } else {
      for (char c : display) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || (u < 0x20 && c != '\t') || u == 0x7f) return std::nullopt;
      }
      na.display_name = std::string(display);
    }
    const auto gt = s.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    auto u = parse_uri(s.substr(lt + 1, gt - lt - 1));
    if (!u) return std::nullopt;
    na.address = std::move(*u);
    params_text = s.substr(gt + 1);
  } else {
    const auto semi = s.find(';');
    auto u = parse_uri(s.substr(0, semi));
    if (!u) return std::nullopt;
    na.address = std::move(*u);
    if (semi != std::string_view::npos) params_text = s.substr(semi);
  }
  params_text = detail::trim(params_text);
  if (!params_text.empty()) {
    if (params_text.front() != ';') return std::nullopt;
    if (!detail::parse_parameters(params_text.substr(1), na.params)) return std::nullopt;
  }
  return na;
}

}  // namespace tspi::sip
