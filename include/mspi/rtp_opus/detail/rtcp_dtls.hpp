// ptapi - portable TAPI
// mspi/rtp_opus/detail/rtcp_dtls.hpp: the RTCP component's own DTLS-SRTP association and SRTCP sessions
// (RFC 5764 §4.1, RFC 8842 §5) for a DTLS-SRTP call whose RTCP is not multiplexed (RFC 5761).
#pragma once

#include <mspi/rtp/dtls_transport.hpp>
#include <mspi/rtp/srtp.hpp>
#include <mspi/rtp_opus/detail/dtls_negotiation.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

namespace mspi::detail {

/// RTCP on a port of its own in a DTLS-SRTP call (the peer refused `a=rtcp-mux`): RFC 5764 §4.1 (and
/// RFC 8842 §5) make it a component with its own DTLS association, whose exported keys protect SRTCP on
/// that component; the RTP association's keys protect SRTP only. This object holds that association (a
/// `dtls_transport` over the RTCP socket, same role and peer fingerprints as the RTP one, RFC 5763 §5)
/// and the two SRTCP sessions keyed from it.
///
/// States: disengaged (RTCP is multiplexed, or the call is SDES/plain: the RTP keys protect RTCP, and
/// `engaged()` is false); engaged without keys (`awaiting_keys()`: no RTCP may be sent, received RTCP is
/// dropped); keyed (`tx()`/`rx()` active). A handshake that fails leaves it engaged without keys, so RTCP
/// stays silent for the rest of the association (never sent under the RTP keys, never in clear); the
/// owner's `done` hears why (a `dtls_errc`).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe; the RTP/Opus engine uses it from its media thread only.
class rtcp_dtls {
 public:
  /// Sends one datagram to the peer's RTCP transport address (from the RTCP socket).
  using send_function = dtls_transport::send_function;
  /// The handshake's outcome, once per association, on the media thread: a cleared error once the SRTCP
  /// sessions are keyed, or the `dtls_errc` (then RTCP stays silent) or libsrtp's error.
  using done_function = std::function<void(std::error_code)>;

  /// Engages the RTCP component for `p` (the call's DTLS parameters) unless an association with the same
  /// role and peer fingerprints is already engaged and not failed (a renegotiation keeps it, RFC 5763
  /// §6.7.1). A new association starts its handshake at once (the client sends its ClientHello through
  /// `send`). `suites`: the use_srtp profiles offered (`rtp_opus_config::srtp_suites`). Throws only
  /// std::bad_alloc.
  void start(const boost::asio::any_io_executor& executor, const dtls_parameters& p,
             const std::vector<srtp_suite>& suites, send_function send, done_function done) {
    if (dtls_ && dtls_->role() == p.role && dtls_->remote_fingerprints() == p.remote &&
        dtls_->current_state() != dtls_transport::state::failed)
      return;
    stop();
    done_ = std::move(done);
    dtls_ = std::make_shared<dtls_transport>(
        executor, p.certificate, p.role, p.remote, suites, std::move(send),
        [this, generation = ++generation_](std::error_code ec, const std::optional<dtls_srtp_keys>& keys) {
          if (generation == generation_) on_done(ec, keys);
        });
    dtls_->start();
  }

  /// Disengages: stops the association (its timers) and forgets the SRTCP keys. Never throws.
  void stop() noexcept {
    ++generation_;  // a handshake still running reports to nobody
    if (dtls_) dtls_->stop();
    dtls_.reset();
    tx_.reset();
    rx_.reset();
  }

  /// One DTLS datagram (first byte 20..63, RFC 7983 §7) from the peer's RTCP address. Never throws.
  void handle(std::span<const std::byte> datagram) noexcept {
    if (dtls_) dtls_->handle(datagram);
  }

  /// True while RTCP has a component of its own (see the class comment). Never throws.
  [[nodiscard]] bool engaged() const noexcept { return dtls_ != nullptr; }
  /// Engaged and the SRTCP sessions not keyed: RTCP must be neither sent nor read. Never throws.
  [[nodiscard]] bool awaiting_keys() const noexcept { return dtls_ && !tx_.active(); }
  /// The SRTCP session protecting what we send on the RTCP component (active once keyed). Never throws.
  [[nodiscard]] srtp_session& tx() noexcept { return tx_; }
  /// The SRTCP session checking what we receive on the RTCP component (active once keyed). Never throws.
  [[nodiscard]] srtp_session& rx() noexcept { return rx_; }
  /// The RTCP association's handshake duration in ms once keyed, -1 otherwise. Never throws.
  [[nodiscard]] double handshake_ms() const noexcept { return dtls_ && tx_.active() ? dtls_->handshake_ms() : -1; }

 private:
  void on_done(std::error_code ec, const std::optional<dtls_srtp_keys>& keys) {
    if (!ec && keys) {
      tx_.start(keys->suite, std::span<const std::byte>(keys->local.data(), srtp_key_salt_bytes(keys->suite)),
                srtp_direction::outbound, ec);
      if (!ec)
        rx_.start(keys->suite, std::span<const std::byte>(keys->remote.data(), srtp_key_salt_bytes(keys->suite)),
                  srtp_direction::inbound, ec);
      if (ec) {
        tx_.reset();
        rx_.reset();
      }
    }
    if (auto done = std::exchange(done_, nullptr)) done(ec);
  }

  std::shared_ptr<dtls_transport> dtls_;  // while engaged
  srtp_session tx_, rx_;                  // keyed by dtls_
  done_function done_;
  std::uint64_t generation_ = 0;          // of the association whose outcome is awaited
};

}  // namespace mspi::detail
