// ptapi - portable TAPI
// tspi/sip/transport/udp.hpp: the UDP side of the SIP transport (RFC 3261 §18): receiving datagrams
// (keep-alives, §18.3 truncated requests) and sending them.
#pragma once

#include <tspi/sip/detail/transport_core.hpp>
#include <tspi/sip/message.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

/// @cond PTAPI_INTERNAL
namespace tspi::sip::detail {

inline void transport_core::udp_receive(unsigned gen) {
  udp_.async_receive_from(boost::asio::buffer(udp_buf_), udp_from_,
                          [self = shared_from_this(), gen](const boost::system::error_code& ec, std::size_t n) {
                            self->on_udp(gen, ec, n);
                          });
}

inline void transport_core::on_udp(unsigned gen, const boost::system::error_code& ec, std::size_t n) {
  if (closed_ || gen != udp_gen_ || ec == boost::asio::error::operation_aborted) return;
  if (!ec) {
    datagram(n);
    // Drain what is already queued without another trip through the reactor.
    for (int i = 0; i < 32 && !closed_ && gen == udp_gen_; ++i) {
      boost::system::error_code e2;
      const auto m = udp_.receive_from(boost::asio::buffer(udp_buf_), udp_from_, 0, e2);
      if (e2) break;
      datagram(m);
    }
  }
  // Other errors (an ICMP error surfacing on the socket) are not fatal: keep receiving.
  if (!closed_ && gen == udp_gen_) udp_receive(gen);
}

inline void transport_core::datagram(std::size_t n) {
  const std::string_view data(udp_buf_.data(), n);
  if (data.find_first_not_of("\r\n \t") == std::string_view::npos) {
    ++stats_.keepalives;
    return;
  }
  const peer from{transport_protocol::udp, normalized(udp_from_.address()), udp_from_.port()};
  auto m = parse_message(data, cfg_.limits);
  if (m) {
    deliver(std::move(*m), from);
    return;
  }
  // RFC 3261 §18.3: a request whose Content-Length exceeds the datagram is answered 400 (by the
  // owner, which knows how); a response is dropped.
  if (auto t = parse_truncated_message(data, cfg_.limits); t && t->is_request()) {
    ++stats_.truncated_requests;
    deliver_truncated(std::move(*t), from);
    return;
  }
  ++stats_.malformed_dropped;
}

inline void transport_core::send_udp(const peer& to, std::string_view text) {
  if (!udp_.is_open()) {
    report(to, std::make_error_code(std::errc::not_connected));
    return;
  }
  udp::endpoint ep(to.address, to.port);
  if (to.address.is_v4() && udp_local_ && udp_local_->address.is_v6())
    ep.address(boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, to.address.to_v4()));
  boost::system::error_code ec;
  udp_.send_to(boost::asio::buffer(text.data(), text.size()), ep, 0, ec);
  if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
    // Socket buffer full: hand a copy to the reactor.
    auto copy = std::make_unique<std::string>(text);
    auto* data = copy.get();
    udp_.async_send_to(boost::asio::buffer(*data), ep,
                       [self = shared_from_this(), to, copy = std::move(copy)](const boost::system::error_code& e, std::size_t) {
                         if (self->closed_ || e == boost::asio::error::operation_aborted) return;
                         if (e) self->report(to, e);
                         else ++self->stats_.sent;
                       });
  } else if (ec) {
    report(to, ec);
  } else {
    ++stats_.sent;
  }
}

}  // namespace tspi::sip::detail
/// @endcond
