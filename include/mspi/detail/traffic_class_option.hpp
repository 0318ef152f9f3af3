// ptapi - portable TAPI
// mspi/detail/traffic_class_option.hpp: the IPv4 TOS / IPv6 traffic class socket option, as an Asio
// SettableSocketOption (DiffServ marking of a UDP socket's packets, RFC 2474).
#pragma once

#include <boost/asio/ip/udp.hpp>  // the platform's socket headers (IP_TOS, IPV6_TCLASS)

#include <cstddef>

namespace mspi::detail {

/// IP_TOS (IPv4) or IPV6_TCLASS (IPv6) with value `traffic_class` (the whole byte: DSCP << 2 | ECN), for
/// `basic_socket::set_option`. A value type; never throws.
class traffic_class_option {
 public:
  traffic_class_option(bool v6, int traffic_class) noexcept : v6_(v6), value_(traffic_class) {}
  template <class Protocol>
  [[nodiscard]] int level(const Protocol&) const noexcept {
    return v6_ ? IPPROTO_IPV6 : IPPROTO_IP;
  }
  template <class Protocol>
  [[nodiscard]] int name(const Protocol&) const noexcept {
    return v6_ ? IPV6_TCLASS : IP_TOS;
  }
  template <class Protocol>
  [[nodiscard]] const int* data(const Protocol&) const noexcept {
    return &value_;
  }
  template <class Protocol>
  [[nodiscard]] std::size_t size(const Protocol&) const noexcept {
    return sizeof(value_);
  }

 private:
  bool v6_;
  int value_;
};

}  // namespace mspi::detail
