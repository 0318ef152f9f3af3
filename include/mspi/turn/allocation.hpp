// ptapi - portable TAPI
// mspi/turn/allocation.hpp: a TURN client over UDP (RFC 8656): one allocation on a TURN server, reached
// from a caller's Asio UDP socket, giving a relayed transport address (ICE's relayed candidate, RFC 8445
// §5.1.1.2) through which peers are reached with Send indications or, once a channel is bound, ChannelData.
// Own code by issue 9's decision (include/mspi/ice/ice.hpp says why): TURN shares the RTP socket.
#pragma once

#include <mspi/turn/channel_data.hpp>
#include <mspi/turn/detail/allocation_core.hpp>
#include <mspi/turn/detail/completion.hpp>
#include <mspi/turn/error.hpp>
#include <mspi/turn/options.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/udp.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

namespace mspi::turn {

/// One TURN allocation (RFC 8656 §2.2, §6): a relayed transport address on `server`, for the 5-tuple of
/// the caller's UDP socket and the server. The socket is borrowed and must outlive the allocation.
///
/// What it does (RFC 8656 over UDP, long-term credentials of RFC 8489 §9.2):
///  - `async_allocate`: Allocate with REQUESTED-TRANSPORT UDP and LIFETIME; the first 401 gives REALM and
///    NONCE, the request is sent again with USERNAME, REALM, NONCE, MESSAGE-INTEGRITY (MD5 key of
///    username:realm:password); 438 Stale Nonce retries with the new nonce; at most
///    `allocation_options::max_auth_retries` of both per request (§7.1-§7.3; RFC 8489 §9.2.4-§9.2.5).
///    Every later request carries the credentials from the start.
///  - Refresh (§8) before the allocation expires, CreatePermission (§10) every `permission_refresh`,
///    ChannelBind (§12) every `channel_refresh`, all by itself while the allocation lives; failures are
///    counted (`statistics().refresh_failures`) and a 437 to a Refresh marks the allocation `failed`.
///  - `send_to(peer, payload)`: ChannelData (§12.4) when a channel is bound to the peer, otherwise a Send
///    indication (§11.1) when its address has a permission.
///  - `handle(from, datagram)`: the demultiplexer of what the server sends (ChannelData, Data
///    indications, responses); `receive_mode::own` calls it from a receive operation of its own.
///  - `async_deallocate` (Refresh, LIFETIME 0) and `close()` (the same, without waiting).
///
/// Hostile input: only datagrams from `server`'s exact address are considered; a response must match a
/// pending transaction ID and method, verify its FINGERPRINT when present and, once credentials are in
/// use, its MESSAGE-INTEGRITY; ChannelData must name a bound channel and fit the datagram; Data
/// indications must come from a peer with a permission (§11.4). Anything else is dropped and counted.
/// All tables are bounded (`detail::allocation_core::max_transactions`, `max_permissions`, `max_channels`).
///
/// Allocation: one object per operation started by the user; none per relayed datagram in either
/// direction (send_to writes a header on the stack and gathers it with the payload; handle returns a view).
/// Thread safety: not thread-safe. Every call, and the socket's other use, must run on one thread or
/// strand (the socket's executor, as the media path's); handlers run on their associated executor
/// (default: the socket's).
class allocation {
 public:
  using udp = boost::asio::ip::udp;  ///< Asio's UDP protocol.
  /// A relayed datagram: the peer and the payload (valid only during the call). `receive_mode::own`.
  using data_handler = detail::allocation_core::data_handler;

  /// An allocation to be made on `server` (the TURN server's UDP transport address) from `socket` (open,
  /// bound) with `creds`. Nothing is sent until `async_allocate`.
  allocation(udp::socket& socket, udp::endpoint server, credentials creds, allocation_options options = {})
      : core_(std::make_shared<detail::allocation_core>(socket, std::move(server), std::move(creds),
                                                        std::move(options))) {}
  /// Closes (see `close`).
  ~allocation() { close(); }
  allocation(const allocation&) = delete;
  allocation& operator=(const allocation&) = delete;
  /// Moves the allocation (its state, timers and pending operations go along); the moved-from object may
  /// only be destroyed or assigned to.
  allocation(allocation&&) noexcept = default;
  /// Closes this allocation (see `close`), then takes `other`'s.
  allocation& operator=(allocation&& other) noexcept {
    if (this != &other) {
      close();
      core_ = std::move(other.core_);
    }
    return *this;
  }

  /// Requests the allocation (RFC 8656 §7). Completion: `void(std::error_code, allocate_result)` with the
  /// relayed and mapped addresses and the granted lifetime, posted to the handler's associated executor,
  /// never run inside this call; any Asio completion token, `deferred` by default. Errors:
  /// `turn_errc::unauthorized` (401 to the credentials: wrong username or password), `stale_nonce`,
  /// `allocation_mismatch` (437), `allocation_quota_reached` (486), `insufficient_capacity` (508), others
  /// by ERROR-CODE (`last_error_code()`), `no_relayed_address`, `already_allocated` (not idle or failed),
  /// `stun::stun_errc::timeout` (no answer after the retransmissions, about 39.5 s with the defaults), the
  /// socket's error when a request cannot be sent, `closed`.
  template <class Token = boost::asio::deferred_t>
  auto async_allocate(Token&& token = {}) {
    return initiate<void(std::error_code, allocate_result), detail::invoke_allocate>(
        std::forward<Token>(token), [](detail::allocation_core& c, auto done) { c.allocate(std::move(done)); });
  }

  /// Installs (or refreshes) a permission for `peer`'s IP address (RFC 8656 §10: any port of it may then
  /// send to the relayed address); kept by refreshes until close. Completion: `void(std::error_code)`.
  /// Errors: `not_allocated`, `too_many_peers`, `forbidden` (403), `peer_address_family_mismatch` (443),
  /// `unauthorized`, `stale_nonce`, `stun::stun_errc::timeout`, `closed`.
  template <class Token = boost::asio::deferred_t>
  auto async_create_permission(boost::asio::ip::address peer, Token&& token = {}) {
    return initiate<void(std::error_code), detail::invoke_error>(
        std::forward<Token>(token),
        [peer](detail::allocation_core& c, auto done) { c.create_permission(peer, std::move(done)); });
  }

  /// Binds a channel number (0x4000..0x4FFF, the next unused) to `peer` (RFC 8656 §12.1); installs its
  /// address's permission too (§12.2). From the success response on, `send_to(peer, ...)` sends ChannelData
  /// and the server's ChannelData on that channel is reported as from `peer`. Completes at once with the
  /// number when already bound. Completion: `void(std::error_code, std::uint16_t channel)`. Errors: as
  /// `async_create_permission`, and `insufficient_capacity` (508), `error_response` (400: the number or
  /// peer is bound otherwise).
  template <class Token = boost::asio::deferred_t>
  auto async_bind_channel(udp::endpoint peer, Token&& token = {}) {
    return initiate<void(std::error_code, std::uint16_t), detail::invoke_channel>(
        std::forward<Token>(token),
        [peer](detail::allocation_core& c, auto done) { c.bind_channel(peer, std::move(done)); });
  }

  /// Deletes the allocation: Refresh with LIFETIME 0 (RFC 8656 §8.1); permissions and channels are
  /// forgotten, the state becomes `deallocated`. Completion: `void(std::error_code)`. Errors:
  /// `not_allocated`, `allocation_mismatch` (437: the server had lost it already), `stun::stun_errc::timeout`, `closed`.
  template <class Token = boost::asio::deferred_t>
  auto async_deallocate(Token&& token = {}) {
    return initiate<void(std::error_code), detail::invoke_error>(
        std::forward<Token>(token), [](detail::allocation_core& c, auto done) { c.deallocate(std::move(done)); });
  }

  /// Sends `payload` (at most 65535 bytes) to `peer` through the relay: ChannelData when a channel is
  /// bound to the exact endpoint, otherwise a Send indication (RFC 8656 §11.1) when the peer's address has
  /// a permission (installed or requested). Synchronous, as `udp::socket::send_to` (a non-blocking
  /// socket may return `would_block`). Errors: `not_allocated`, `no_permission`, `std::errc::message_size`,
  /// the socket's. Allocation: none.
  std::error_code send_to(const udp::endpoint& peer, std::span<const std::byte> payload) noexcept {
    return core_->send_to(peer, payload);
  }

  /// Demultiplexes one datagram received on the socket from `from` (RFC 7983 §7, RFC 8656 §12.6): not
  /// from the server (`not_from_server`: the caller's own, e.g. RTP from a host candidate's peer);
  /// ChannelData on a bound channel or a Data indication from a permitted peer (`data`, with the peer and
  /// a view of the payload inside `datagram`); a response of a pending transaction (`control`); anything
  /// else from the server (`dropped`). For `receive_mode::external`; harmless in `own` mode. Allocation: none.
  received handle(const udp::endpoint& from, std::span<const std::byte> datagram) noexcept {
    return core_->handle(from, datagram);
  }

  /// The handler of relayed data in `receive_mode::own` (called on the socket's executor for each;
  /// data arriving without one is dropped). Set it before the data flows.
  void set_data_handler(data_handler h) { core_->set_data_handler(std::move(h)); }

  /// Ends the allocation's activity: pending operations complete with `turn_errc::closed`, timers and the
  /// own receive operation are cancelled (`receive_mode::own` cancels the socket's operations), and an
  /// existing allocation is deleted by one Refresh with LIFETIME 0 sent without waiting for the answer
  /// (RFC 8656 §8; the server would otherwise keep it until its lifetime ends). Idempotent.
  void close() noexcept {
    if (core_) core_->close();
  }

  /// The state (idle, allocating, allocated, failed, deallocated).
  [[nodiscard]] allocation_state state() const noexcept { return core_->state(); }
  /// The last Allocate's result: relayed and mapped addresses, lifetime (valid once allocated).
  [[nodiscard]] const allocate_result& result() const noexcept { return core_->result(); }
  /// The TURN server's transport address.
  [[nodiscard]] const udp::endpoint& server() const noexcept { return core_->server(); }
  /// The ERROR-CODE (300..699) of the last error response, 0 when none came.
  [[nodiscard]] int last_error_code() const noexcept { return core_->last_error_code(); }
  /// The channel bound to `peer` (0x4000..0x4FFF), or 0 when none is (yet).
  [[nodiscard]] std::uint16_t channel_of(const udp::endpoint& peer) const noexcept { return core_->channel_of(peer); }
  /// Whether the server confirmed a permission for `peer`'s address.
  [[nodiscard]] bool has_permission(const boost::asio::ip::address& peer) const noexcept {
    return core_->has_permission(peer);
  }
  /// Counters (requests, challenges, refreshes, relayed datagrams, drops).
  [[nodiscard]] const allocation_statistics& statistics() const noexcept { return core_->statistics(); }

 private:
  template <class Signature, class Invoke, class Token, class Start>
  auto initiate(Token&& token, Start start) {
    return boost::asio::async_initiate<Token, Signature>(
        [core = core_, start](auto handler) {
          using handler_type = std::decay_t<decltype(handler)>;
          using executor_type = udp::socket::executor_type;
          auto done = std::make_unique<detail::completion_of<handler_type, executor_type, Invoke>>(
              std::move(handler), core->executor());
          start(*core, std::unique_ptr<detail::completion>(std::move(done)));
        },
        token);
  }

  std::shared_ptr<detail::allocation_core> core_;
};

}  // namespace mspi::turn
