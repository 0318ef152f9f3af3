// ptapi - portable TAPI
// tspi/sip/bind_address.hpp: a local or server transport address written as `IP[:PORT]` (the form of
// command lines and configuration files), parsed into `sip_config::listen_address` / `port` shape.
#pragma once

#include <mspi/error.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace tspi::sip {

/// An IP literal and a UDP/TCP port: where the SIP provider listens (`sip_config::listen_address`,
/// `sip_config::port`), or a STUN/TURN server's transport address (`mspi::rtp_opus_config::stun_server`).
struct bind_address {
  std::string host;        ///< The IP literal in its canonical text form (`::1`, not `[::1]`; `0.0.0.0` for any).
  std::uint16_t port = 0;  ///< The port (0: an ephemeral one, where the consumer allows it).
};

/// Parses `IP[:PORT]`, `[IPv6][:PORT]` or a bare IPv6 literal (RFC 3986 §3.2.2's bracket form for IPv6 with
/// a port). `default_port` when no port is written. Host names are refused (a bind address is local;
/// resolve names before). Errors (in `ec`; the result is then empty): `tapi_errc::invalid_address` when
/// `text` is empty, longer than 256 characters, the host is not an IPv4/IPv6 literal, brackets are
/// unbalanced, or the port is empty, not decimal or above 65535. Pure; never throws but std::bad_alloc.
/// Thread safety: any thread.
inline bind_address parse_bind_address(std::string_view text, std::uint16_t default_port, std::error_code& ec) {
  ec = mspi::tapi_errc::invalid_address;
  if (text.empty() || text.size() > 256) return {};
  std::string_view host = text, port_text;
  bool has_port = false;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return {};
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return {};
    has_port = !rest.empty();
    if (has_port) port_text = rest.substr(1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {  // IPv4 (or a name) with a port
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
  }
  boost::system::error_code bec;
  const auto address = boost::asio::ip::make_address(std::string(host), bec);
  if (host.empty() || bec) return {};
  bind_address out{address.to_string(), default_port};
  if (has_port) {
    unsigned port = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [at, err] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || err != std::errc{} || at != end || port > 65535) return {};
    out.port = static_cast<std::uint16_t>(port);
  }
  ec.clear();
  return out;
}

/// Throwing form of `parse_bind_address(text, default_port, ec)`.
/// @throws std::system_error with `tapi_errc::invalid_address` and "parse_bind_address" in `what()`.
inline bind_address parse_bind_address(std::string_view text, std::uint16_t default_port) {
  std::error_code ec;
  auto out = parse_bind_address(text, default_port, ec);
  mspi::throw_if(ec, "parse_bind_address");
  return out;
}

}  // namespace tspi::sip
