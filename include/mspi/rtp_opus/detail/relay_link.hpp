// ptapi - portable TAPI
// mspi/rtp_opus/detail/relay_link.hpp: the TURN side of one call's RTP socket (issue 9): a TURN allocation
// (RFC 8656) made on the media socket itself in receive_mode::external, whose relayed transport address is
// ICE's relayed candidate (RFC 8445 §5.1.1.2); permissions for the peer's candidates, a channel for the
// selected pair, and the counters the streams' statistics show. Runs on the media thread only.
#pragma once

#include <mspi/turn/allocation.hpp>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <system_error>

namespace mspi::detail {

/// One call's TURN allocation on its RTP socket (RFC 8656 over UDP, long-term credentials), for ICE's
/// relayed candidate. The media path reads the socket and hands every datagram from `server()` to
/// `handle` (RFC 7983 demultiplexing); ICE checks and media towards a pair whose local candidate is the
/// relayed one leave through `send` (Send indications, ChannelData once `bind` succeeded).
///
/// Bounds: `allocate` ends at its deadline (the allocation is then closed and unused); at most
/// `max_permissions` peer addresses get a permission (RFC 8656 §9: one per IP address, any port).
/// Allocation: the allocation and its operations; none per relayed datagram.
/// Thread safety: not thread safe; every member and callback runs on the socket's executor (the media
/// thread). Keep it in a `std::shared_ptr` (callbacks hold a weak one).
class relay_link : public std::enable_shared_from_this<relay_link> {
 public:
  using udp = boost::asio::ip::udp;  ///< Asio's UDP protocol.
  /// Told once when the allocation is made or failed: the error (empty on success) and the result.
  using allocated_function = std::function<void(std::error_code, const turn::allocate_result&)>;
  /// Most peer addresses given a permission (the allocation's own table holds 32).
  static constexpr std::size_t max_permissions = 16;

  /// An allocation to be made on `server` (an IP literal's UDP address) from `socket` (bound, owned by the
  /// caller, outliving this) with `creds`, bounded by `timeout` (> 0, ms; its requests' first RTO is
  /// `timeout`/8 within 50..500 ms, RFC 8489 §6.2.1). Nothing is sent before `allocate`.
  relay_link(udp::socket& socket, udp::endpoint server, turn::credentials creds, std::chrono::milliseconds timeout)
      : allocation_(socket, std::move(server), std::move(creds), options(timeout)), deadline_(socket.get_executor()),
        timeout_(timeout) {}

  /// Requests the allocation (RFC 8656 §7) and ends the attempt after the constructor's `timeout`:
  /// `done(error, result)` runs once on the media thread, with `stun::stun_errc::timeout` at the deadline
  /// (the allocation is closed) or the allocation's error (`turn::turn_errc::unauthorized` for wrong
  /// credentials, ...), never inside this call. Call it once.
  void allocate(allocated_function done) {
    done_ = std::move(done);
    std::weak_ptr<relay_link> weak = shared_from_this();
    deadline_.expires_after(timeout_);
    deadline_.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->allocation_.close();
      self->finish(stun::stun_errc::timeout);
    });
    allocation_.async_allocate([weak](std::error_code ec, const turn::allocate_result& r) {
      if (auto self = weak.lock()) self->finish(ec, r);
    });
  }

  /// Demultiplexes a datagram received on the socket (see `turn::allocation::handle`).
  turn::received handle(const udp::endpoint& from, std::span<const std::byte> datagram) noexcept {
    const auto r = allocation_.handle(from, datagram);
    if (r.what == turn::received::kind::data) ++received_;
    return r;
  }

  /// Installs a permission for `peer`'s address (RFC 8656 §10) unless one was requested already; a failure
  /// is kept as `error()`. No-op when not allocated or `max_permissions` addresses have one.
  void permit(const boost::asio::ip::address& peer) {
    if (!allocated() || permitted_count_ == max_permissions) return;
    if (std::find(permitted_.begin(), permitted_.begin() + static_cast<std::ptrdiff_t>(permitted_count_), peer) !=
        permitted_.begin() + static_cast<std::ptrdiff_t>(permitted_count_))
      return;
    permitted_[permitted_count_++] = peer;
    allocation_.async_create_permission(peer, [weak = weak_from_this()](std::error_code ec) {
      if (auto self = weak.lock(); self && ec) self->error_ = ec;
    });
  }

  /// Binds a channel to `peer` (RFC 8656 §12), after which `send` to it uses ChannelData (4-byte header
  /// instead of a 36-byte Send indication). A failure is kept as `error()`; sending goes on by Send
  /// indications. Once per peer (the allocation refreshes the channel itself).
  void bind(const udp::endpoint& peer) {
    if (!allocated() || std::find(bound_.begin(), bound_.begin() + static_cast<std::ptrdiff_t>(bound_count_), peer) !=
                            bound_.begin() + static_cast<std::ptrdiff_t>(bound_count_) ||
        bound_count_ == bound_.size())
      return;
    bound_[bound_count_++] = peer;
    allocation_.async_bind_channel(peer, [weak = weak_from_this()](std::error_code ec, std::uint16_t) {
      if (auto self = weak.lock(); self && ec) self->error_ = ec;
    });
  }

  /// Sends `bytes` to `peer` through the relay (see `turn::allocation::send_to`); counted when it left.
  std::error_code send(const udp::endpoint& peer, std::span<const std::byte> bytes) noexcept {
    const auto ec = allocation_.send_to(peer, bytes);
    if (!ec) ++sent_;
    return ec;
  }

  /// Deletes the allocation without waiting (RFC 8656 §8, `turn::allocation::close`). Idempotent.
  void close() noexcept {
    deadline_.cancel();
    allocation_.close();
  }

  /// The channel bound to `peer` (0x4000..0x4FFF), 0 when none is (yet).
  [[nodiscard]] std::uint16_t channel_of(const udp::endpoint& peer) const noexcept { return allocation_.channel_of(peer); }
  /// Whether the relayed address exists.
  [[nodiscard]] bool allocated() const noexcept { return allocation_.state() == turn::allocation_state::allocated; }
  /// The relayed transport address (valid once allocated).
  [[nodiscard]] const udp::endpoint& relayed() const noexcept { return allocation_.result().relayed; }
  /// The TURN server's address (datagrams from it go to `handle`).
  [[nodiscard]] const udp::endpoint& server() const noexcept { return allocation_.server(); }
  /// The first failure of the allocation, a permission or a channel; empty when none.
  [[nodiscard]] std::error_code error() const noexcept { return error_; }
  /// Datagrams sent through the relay, and relayed data received (ChannelData or Data indications).
  [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }
  /// See `sent`.
  [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
  /// The allocation's own counters.
  [[nodiscard]] const turn::allocation_statistics& statistics() const noexcept { return allocation_.statistics(); }

 private:
  static turn::allocation_options options(std::chrono::milliseconds timeout) {
    turn::allocation_options o;
    o.receive = turn::receive_mode::external;
    o.retransmission.rto = std::clamp(timeout / 8, std::chrono::milliseconds(50), std::chrono::milliseconds(500));
    return o;
  }
  void finish(std::error_code ec, const turn::allocate_result& r = {}) {
    if (!done_) return;
    deadline_.cancel();
    if (ec && !error_) error_ = ec;
    auto d = std::move(done_);
    done_ = nullptr;
    d(ec, r);
  }

  turn::allocation allocation_;
  boost::asio::steady_timer deadline_;
  std::chrono::milliseconds timeout_;
  allocated_function done_;
  std::array<boost::asio::ip::address, max_permissions> permitted_{};
  std::size_t permitted_count_ = 0;
  std::array<udp::endpoint, 4> bound_{};  // peers a channel was requested for (selected pairs)
  std::size_t bound_count_ = 0;
  std::error_code error_;
  std::uint64_t sent_ = 0, received_ = 0;
};

}  // namespace mspi::detail
