// ptapi - portable TAPI
// tspi/sip/transport/peer.hpp: where a SIP message came from or goes to: transport protocol, IP address and
// port (RFC 3261 §18).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tspi::sip {

/// The transport protocols this stack speaks (RFC 3261 §18, TLS: §26.2 and RFC 5630; SCTP is not supported).
enum class transport_protocol : std::uint8_t { udp, tcp, tls };

/// The transport token of a Via header (RFC 3261 §20.42): "UDP", "TCP" or "TLS".
[[nodiscard]] constexpr std::string_view via_token(transport_protocol p) noexcept {
  return p == transport_protocol::tls ? "TLS" : p == transport_protocol::tcp ? "TCP" : "UDP";
}

/// True for the connection-oriented transports (TCP, TLS over TCP): reliable delivery, no retransmission
/// timers A/E/G (RFC 3261 §17.1.1.2), responses over the request's connection (§18.2.2). Pure.
[[nodiscard]] constexpr bool is_reliable(transport_protocol p) noexcept { return p != transport_protocol::udp; }

/// Where a message came from or goes to: protocol, IP address and port. IPv4-mapped IPv6 addresses
/// are reported as IPv4. A plain value; thread safety as for any aggregate.
struct peer {
  transport_protocol protocol = transport_protocol::udp;  ///< UDP, TCP or TLS.
  boost::asio::ip::address address;                       ///< IPv4 or IPv6 address.
  std::uint16_t port = 0;                                 ///< Port, host byte order.

  /// "udp:192.0.2.1:5060", "tcp:[2001:db8::1]:5060" or "tls:192.0.2.1:5061" (for logs and tests). Throws
  /// only std::bad_alloc.
  [[nodiscard]] std::string to_string() const {
    std::string out = protocol == transport_protocol::tls ? "tls:" : protocol == transport_protocol::tcp ? "tcp:" : "udp:";
    if (address.is_v6()) {
      out += '[';
      out += address.to_string();
      out += ']';
    } else {
      out += address.to_string();
    }
    out += ':';
    out += std::to_string(port);
    return out;
  }
  /// Same transport protocol and remote transport address.
  friend bool operator==(const peer&, const peer&) = default;
};

namespace detail {

/// Hash of a `peer` for the connection table.
struct peer_hash {
  std::size_t operator()(const peer& p) const noexcept {
    std::size_t h = std::hash<boost::asio::ip::address>{}(p.address);
    h ^= (static_cast<std::size_t>(p.port) << 1) ^ (static_cast<std::size_t>(p.protocol) << 17);
    return h * static_cast<std::size_t>(0x9E3779B97F4A7C15ull);
  }
};

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, from dual-stack sockets) as IPv4; other addresses unchanged.
inline boost::asio::ip::address normalized(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace detail

}  // namespace tspi::sip
