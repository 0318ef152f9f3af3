// ptapi - portable TAPI
// mspi/ice/candidate.hpp: an ICE candidate (RFC 8445 §5.1) and its SDP `a=candidate` attribute (RFC 8839
// §5.1): parsed from hostile text with bounds, and written.
#pragma once

#include <mspi/ice/credentials.hpp>
#include <mspi/ice/ice.hpp>

#include <boost/asio/ip/udp.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mspi::ice {

/// One candidate of a media stream's component (RFC 8445 §5.1). A plain value.
struct candidate {
  /// The foundation (RFC 8445 §5.1.1.3): 1..32 ice-chars (ALPHA / DIGIT / "+" / "/").
  std::string foundation;
  std::uint16_t component = 1;  ///< 1 = RTP (with rtcp-mux also RTCP), 2 = RTCP; 1..256.
  std::uint32_t priority = 0;   ///< RFC 8445 §5.1.2, 1..2^31-1.
  /// The transport address (UDP; an IP literal: FQDN candidates are not used, RFC 8839 §5.1).
  boost::asio::ip::udp::endpoint address;
  candidate_type type = candidate_type::host;  ///< `typ`: host, srflx, prflx or relay (RFC 8839 §5.1).
  /// `raddr`/`rport` (RFC 8839 §5.1): the base of a reflexive or relayed candidate; informational only.
  std::optional<boost::asio::ip::udp::endpoint> related;
};

/// The SDP name of a candidate type (RFC 8839 §5.1 cand-type): host, srflx, prflx, relay.
[[nodiscard]] constexpr std::string_view type_name(candidate_type t) noexcept {
  switch (t) {
    case candidate_type::host: return "host";
    case candidate_type::server_reflexive: return "srflx";
    case candidate_type::peer_reflexive: return "prflx";
    case candidate_type::relayed: return "relay";
  }
  return "host";
}

namespace detail {
inline std::string_view next_field(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const auto sp = s.find(' ');
  auto tok = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp);
  return tok;
}
template <class Int>
bool to_number(std::string_view t, Int& out) {
  if (t.empty() || t.size() > 10) return false;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc{} && end == t.data() + t.size();
}
inline bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}
inline std::optional<boost::asio::ip::address> ip_literal(std::string_view t) {
  if (t.empty() || t.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(t), ec);
  if (ec) return std::nullopt;
  return a;
}
}  // namespace detail

/// Longest `a=candidate` value read, in bytes; a longer one is refused.
inline constexpr std::size_t max_candidate_bytes = 512;

/// Parses the value of an `a=candidate` attribute (the text after "candidate:", RFC 8839 §5.1):
/// `foundation component transport priority address port typ type [raddr addr] [rport port] *(ext value)`.
/// nullopt when it is not one we can use: longer than `max_candidate_bytes`, a bad foundation (1..32
/// ice-chars), component outside 1..256, a transport other than UDP (case-insensitive), priority outside
/// 1..2^31-1, an address that is not an IP literal (FQDN or mDNS names are not resolved), a port of 0, an
/// unknown type, a bad `raddr`/`rport`. Unknown extension pairs are skipped. Never reads outside `value`;
/// allocates only the result. Thread safety: pure.
[[nodiscard]] inline std::optional<candidate> parse_candidate(std::string_view value) {
  if (value.size() > max_candidate_bytes) return std::nullopt;
  candidate c;
  auto f = detail::next_field(value);
  if (!valid_ice_string(f, 1, 32)) return std::nullopt;
  c.foundation = std::string(f);
  unsigned component = 0;
  if (!detail::to_number(detail::next_field(value), component) || component < 1 || component > 256) return std::nullopt;
  c.component = static_cast<std::uint16_t>(component);
  if (!detail::iequal(detail::next_field(value), "udp")) return std::nullopt;
  if (!detail::to_number(detail::next_field(value), c.priority) || c.priority < 1 || c.priority > 0x7fffffffU)
    return std::nullopt;
  auto addr = detail::ip_literal(detail::next_field(value));
  std::uint16_t port = 0;
  if (!addr || !detail::to_number(detail::next_field(value), port) || port == 0) return std::nullopt;
  c.address = {*addr, port};
  if (detail::next_field(value) != "typ") return std::nullopt;
  const auto t = detail::next_field(value);
  if (t == "host") c.type = candidate_type::host;
  else if (t == "srflx") c.type = candidate_type::server_reflexive;
  else if (t == "prflx") c.type = candidate_type::peer_reflexive;
  else if (t == "relay") c.type = candidate_type::relayed;
  else return std::nullopt;
  std::optional<boost::asio::ip::address> raddr;
  std::optional<std::uint16_t> rport;
  for (int pairs = 0; pairs < 32; ++pairs) {  // extensions: name value pairs (RFC 8839 §5.1 cand-extension)
    const auto name = detail::next_field(value);
    if (name.empty()) break;
    const auto v = detail::next_field(value);
    if (v.empty()) return std::nullopt;
    if (name == "raddr") {
      if (!(raddr = detail::ip_literal(v))) return std::nullopt;
    } else if (name == "rport") {
      std::uint16_t p = 0;
      if (!detail::to_number(v, p)) return std::nullopt;
      rport = p;
    }
  }
  if (raddr && rport) c.related = boost::asio::ip::udp::endpoint(*raddr, *rport);
  return c;
}

/// The `a=candidate` value of `c` (without "candidate:"), e.g. `1 1 UDP 2130706431 192.0.2.1 40000 typ
/// host`, with `raddr`/`rport` when `related` is set. Throws only std::bad_alloc. Thread safety: pure.
[[nodiscard]] inline std::string to_string(const candidate& c) {
  std::string s = c.foundation + ' ' + std::to_string(c.component) + " UDP " + std::to_string(c.priority) + ' ' +
                  c.address.address().to_string() + ' ' + std::to_string(c.address.port()) + " typ " +
                  std::string(type_name(c.type));
  if (c.related)
    s += " raddr " + c.related->address().to_string() + " rport " + std::to_string(c.related->port());
  return s;
}

}  // namespace mspi::ice
