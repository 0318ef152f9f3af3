// ptapi - portable TAPI
// mspi/ice/gathering.hpp: gathering server-reflexive candidates (RFC 8445 §5.1.1.2) for the sockets of one
// media stream (RTP and, without rtcp-mux, RTCP) through one STUN server, within a bounded time.
#pragma once

#include <mspi/stun/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <system_error>

namespace mspi::ice {

/// The outcome of `async_gather_server_reflexive`.
struct reflexive_gathering {
  /// The server-reflexive transport address of each socket, in the order given (only `error`-free
  /// results are meaningful); unspecified entries beyond the sockets given.
  std::array<boost::asio::ip::udp::endpoint, 2> mapped{};
  /// The first failure: `stun::stun_errc::timeout` when the bound ran out, else the STUN client's error
  /// (an error response, no mapped address, a request that could not be sent). Empty on success.
  std::error_code error;
  /// From the start to the last answer (or to the failure), µs.
  std::chrono::microseconds elapsed{0};
};

namespace detail {

class reflexive_gatherer : public std::enable_shared_from_this<reflexive_gatherer> {
 public:
  using udp = boost::asio::ip::udp;
  using handler_type = std::function<void(const reflexive_gathering&)>;
  reflexive_gatherer(std::array<udp::socket*, 2> sockets, std::size_t count, handler_type handler)
      : sockets_(sockets), count_(count), timer_(sockets[0]->get_executor()), handler_(std::move(handler)) {}

  void start(const udp::endpoint& server, std::chrono::milliseconds timeout) {
    start_ = std::chrono::steady_clock::now();
    stun::binding_options opt;
    // RFC 8489 §6.2.1 retransmissions, with the first RTO scaled to the bound (50..500 ms) so that at least
    // three requests leave before it ends; the deadline below ends the transactions anyway.
    opt.rto = std::clamp(timeout / 8, std::chrono::milliseconds(50), std::chrono::milliseconds(500));
    for (std::size_t i = 0; i < count_; ++i)
      stun::async_binding(*sockets_[i], server, opt,
                          boost::asio::bind_cancellation_slot(
                              cancel_[i].slot(), [self = shared_from_this(), i](std::error_code ec, const stun::binding_result& r) {
                                self->on_binding(i, ec, r);
                              }));
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->done_) return;
      self->finish(stun::stun_errc::timeout);
    });
  }

 private:
  void on_binding(std::size_t i, std::error_code ec, const stun::binding_result& r) {
    if (done_) return;
    if (ec) return finish(ec);
    result_.mapped[i] = r.mapped;
    if (++answered_ == count_) finish({});
  }

  void finish(std::error_code ec) {
    done_ = true;
    timer_.cancel();
    // Ends the transactions still waiting (at the deadline, or after another one failed), and only them:
    // never socket.cancel() on borrowed sockets, whose other operations (a media receive loop) must go on.
    for (std::size_t i = 0; i < count_; ++i) cancel_[i].emit(boost::asio::cancellation_type::terminal);
    result_.error = ec;
    result_.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_);
    auto h = std::move(handler_);
    h(result_);
  }

  std::array<udp::socket*, 2> sockets_;
  std::array<boost::asio::cancellation_signal, 2> cancel_;  // one per transaction
  std::size_t count_, answered_ = 0;
  boost::asio::steady_timer timer_;
  handler_type handler_;
  std::chrono::steady_clock::time_point start_{};
  reflexive_gathering result_;
  bool done_ = false;
};

}  // namespace detail

/// Learns the server-reflexive transport address of `count` (1 or 2) sockets, e.g. a stream's RTP and
/// RTCP sockets, from `server` (RFC 8445 §5.1.1.2): one STUN Binding transaction per socket
/// (`stun::async_binding`, run in parallel; first RTO = `timeout`/8 within 50..500 ms), all ended after
/// `timeout` (> 0). `handler(const reflexive_gathering&)` runs exactly once, on the sockets' executor
/// (a thread running their io_context), when every socket has its address, at the first failure, or at
/// the deadline (`stun::stun_errc::timeout`), and never inside this call.
///
/// While it runs each transaction keeps a receive of its own pending on its socket (see
/// `stun::async_binding`): start it before media reads the sockets (a datagram it takes meanwhile is
/// dropped), and let the media path tell a late STUN answer from RTP by its first byte (`classify`, RFC
/// 7983). At the deadline only the gatherer's own transactions are cancelled (per-operation
/// cancellation), never the sockets' other operations: a media receive loop started meanwhile goes on.
/// Allocation: the gatherer, one operation per socket. Thread safety: the sockets must not be used by other
/// threads meanwhile; call it on the sockets' executor or before that runs.
inline void async_gather_server_reflexive(std::array<boost::asio::ip::udp::socket*, 2> sockets, std::size_t count,
                                          const boost::asio::ip::udp::endpoint& server, std::chrono::milliseconds timeout,
                                          std::function<void(const reflexive_gathering&)> handler) {
  count = std::clamp<std::size_t>(count, 1, 2);
  std::make_shared<detail::reflexive_gatherer>(sockets, count, std::move(handler))->start(server, timeout);
}

}  // namespace mspi::ice
