// ptapi - portable TAPI
// tspi/sip/detail/advertised_address.hpp: the address a message advertises (NAT, wildcard binds): SDP
// `c=`/`o=` lines rewritten to it (RFC 4566 §5.2, §5.7).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tspi::sip::detail {

/// `sdp` with the unicast address of its `o=` and `c=` lines replaced by `host` (an IP literal, IPv6
/// without brackets; the address type IP4/IP6 follows it) where that address is unspecified (0.0.0.0,
/// ::) or, with `always`, everywhere (a configured public address). A `c=` TTL/count suffix is kept.
/// Lines that do not have the RFC 4566 shape, and an empty or non-IP `host`, leave `sdp` unchanged.
/// Throws only std::bad_alloc. Thread safety: a pure function.
[[nodiscard]] inline std::string advertise_sdp_address(std::string sdp, std::string_view host, bool always) {
  boost::system::error_code bec;
  const auto target = boost::asio::ip::make_address(std::string(host), bec);
  if (bec) return sdp;
  const std::string type = target.is_v4() ? "IP4" : "IP6";
  std::string out;
  out.reserve(sdp.size() + 32);
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    auto end = sdp.find('\n', pos);
    end = end == std::string::npos ? sdp.size() : end + 1;
    std::string_view line(sdp.data() + pos, end - pos);
    pos = end;
    std::string_view eol;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      eol = std::string_view(line.data() + line.size() - 1, eol.size() + 1);
      line.remove_suffix(1);
    }
    const bool c_line = line.starts_with("c="), o_line = line.starts_with("o=");
    const auto in = line.rfind(" IN IP");  // o=<user> <id> <version> IN IP4 <addr>; c=IN IP4 <addr>
    const auto at = c_line && line.starts_with("c=IN IP") ? std::size_t{1} : in;
    if ((c_line || o_line) && at != std::string_view::npos && line.size() > at + 8 && line[at + 7] == ' ') {
      auto addr = line.substr(at + 8);
      const auto slash = addr.find('/');
      const auto suffix = slash == std::string_view::npos ? std::string_view() : addr.substr(slash);
      addr = addr.substr(0, slash == std::string_view::npos ? addr.size() : slash);
      const auto old = boost::asio::ip::make_address(std::string(addr), bec);
      if (!bec && (always || old.is_unspecified())) {
        out.append(line.substr(0, at + 1));
        out += "IN ";
        out += type;
        out += ' ';
        out += target.to_string();
        out.append(suffix);
        out.append(eol);
        continue;
      }
    }
    out.append(line);
    out.append(eol);
  }
  return out;
}

}  // namespace tspi::sip::detail
