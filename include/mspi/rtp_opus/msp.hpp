// ptapi - portable TAPI
// mspi/rtp_opus/msp.hpp: the RTP/Opus Media Service Provider (an ITMSPAddress), shared by every TSP
// that negotiates media with SDP (loopback, SIP).
#pragma once

#include <ptapi/config.hpp>
#include <mspi/rtp_opus/msp_fwd.hpp>

// Separate compilation: the above declares the provider; ptapi/src.hpp compiles the rest.
#if PTAPI_FULL_DEFINITIONS

#include <mspi/detail/run_catching.hpp>
#include <mspi/error.hpp>
#include <mspi/media_pool.hpp>
#include <mspi/msp.hpp>
#include <mspi/msp_event.hpp>
#include <mspi/rtp_opus/call.hpp>
#include <mspi/rtp/dtls_certificate.hpp>
#include <mspi/rtp/srtp.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/rtp_opus/detail/rtp_media.hpp>
#include <mspi/terminal_support.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mspi {

/// The RTP/Opus MSP: 48 kHz mono audio, Opus (or G.711 PCMU/PCMA, resampled from and to 48 kHz) in RTP
/// over UDP, with jitter buffer, loss concealment, RFC 4733 DTMF, hold by re-offer, and RTCP.
/// One instance serves one address (TAPI creates one ITMSPAddress per address). Its calls' media runs on
/// the `media_pool` of `msp_context::media` (the TAPI object's media threads, shared by its addresses),
/// each call on the least loaded thread for its whole life; without one, `initialize` starts a pool of
/// one thread that `shutdown` joins.
///
/// Source: TAPI 3's ITMSPAddress (CMSPAddress) and ITTerminalSupport; RTP per RFC 3550, Opus payload per
/// RFC 7587, G.711 per RFC 3551 §4.5.14, telephone events per RFC 4733, SDP offer/answer per RFC 3264.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: the contract members (`initialize` ... `get_event`) must be
/// called from one thread at a time (the TAPI object's); `terminals()`, `media_types()`, `config()` and
/// the calls' streams may be used from any thread.
class rtp_opus_msp {
 public:
  /// Settings, given at registration.
  using config_type = rtp_opus_config;
  /// The MSP call object (an `mspi::stream_control`).
  using call_type = rtp_opus_call;

  /// Keeps `cfg`; nothing starts before `initialize`. Invalid settings are reported by `initialize`.
  /// Throws only std::bad_alloc.
  explicit rtp_opus_msp(const config_type& cfg = {}) : cfg_(cfg) {}
  rtp_opus_msp(const rtp_opus_msp&) = delete;
  rtp_opus_msp& operator=(const rtp_opus_msp&) = delete;
  /// Shuts down (as `shutdown`) if still initialized.
  ~rtp_opus_msp() { shutdown(); }

  /// ITMSPAddress::Initialize: checks the settings, then takes `ctx.media` as its media threads or, when
  /// null, starts a media thread of its own. Errors:
  /// `already_initialized`; `invalid_argument` for a ptime other than 10/20/40/60 ms, a payload type
  /// outside 96-127, an empty codec list or one naming a codec twice, a telephone-event payload type
  /// outside 96-127 or equal to the Opus one, jitter depths outside 1 <= min <= max <= 16 packets, an
  /// RTCP interval <= 0 ms, a CNAME outside 1..255 bytes, `max_calls` < 1, `reserved_fds` < 0, Opus
  /// settings libopus refuses, (SRTP not off) an empty SRTP suite list or one naming a suite twice, a
  /// `stun_timeout` outside 10..10000 ms, a `stun_server` with port 0 or an unspecified address, or a
  /// `public_address` that is not an IP literal, `ice_ta` outside 5..1000 ms or `ice_rto` outside 10..3000 ms,
  /// a `turn_server` without `ice`, with port 0, an unspecified address, an empty `turn_username` or one over
  /// 513 bytes, or `ice_relay_only` without `turn_server`.
  /// With SRTP (`srtp` not off) it initializes libsrtp (`srtp_session::initialize_library`; its status in
  /// `srtp_category` when that fails). With DTLS-SRTP (`srtp_keying` dtls) it also makes the MSP's
  /// self-signed certificate (`dtls_certificate`; `dtls_errc::certificate_failed` when OpenSSL cannot).
  /// Keeps `ctx.signalling_secured` for its calls' SDES (see `rtp_opus_config::srtp`). Throws only std::bad_alloc and
  /// std::system_error when the thread cannot start.
  void initialize(const msp_context& ctx, std::error_code& ec) {
    if (initialized_) {
      ec = tapi_errc::already_initialized;
      return;
    }
    if (cfg_.local_address.empty()) cfg_.local_address = ctx.signalling_address.empty() ? "127.0.0.1" : ctx.signalling_address;
    if (!valid_config(cfg_)) {
      ec = tapi_errc::invalid_argument;
      return;
    }
    // libsrtp's one-time initialization (~45 ms, far more under sanitizers) here rather than on the first
    // call's media thread, where a DTLS-SRTP call's keys arrive while its send clock already runs.
    if (cfg_.srtp != srtp_policy::off) {
      srtp_session::initialize_library(ec);
      if (ec) return;
    }
    if (cfg_.srtp != srtp_policy::off && cfg_.srtp_keying == srtp_key_exchange::dtls && !certificate_) {
      certificate_ = dtls_certificate::generate(ec);  // one per MSP (address), kept across re-initializations
      if (ec) return;
    }
    ec.clear();
    signalling_secured_ = ctx.signalling_secured;
    own_pool_ = !ctx.media;
    pool_ = own_pool_ ? std::make_shared<media_pool>(1) : ctx.media;
    events_->set_signal(ctx.event_signal);
    active_ = 0;
    initialized_ = true;
  }

  /// ITMSPAddress::Shutdown: shuts down the calls still alive and lets their media stop (when it returns,
  /// the stops have run on the media threads), joins its own media thread if it started one, and drops
  /// queued events. No effect when not initialized. Not from a media thread. No errors.
  void shutdown() {
    if (!initialized_) return;
    initialized_ = false;
    for (auto& weak : calls_)
      if (auto call = weak.lock()) call->shutdown();
    calls_.clear();
    if (own_pool_) {
      pool_->stop();  // the thread ends once the stops posted above have run
    } else {
      try {
        pool_->sync();  // the TAPI object's pool runs on; wait for the stops posted above
      } catch (...) {   // bad_alloc: the stops still run, later
      }
    }
    events_->set_signal({});
    events_->clear();
  }

  /// ITMSPAddress::CreateMSPCall: a call with its capture and render audio streams and bound sockets.
  /// Errors: `not_initialized`; `invalid_media_type` unless `media` is audio; `call_unavailable` when
  /// `config().max_calls` calls of this address (on whichever media threads) are alive and not yet shut
  /// down, or when the process's open descriptors + 2 + `config().reserved_fds` exceed its `RLIMIT_NOFILE`
  /// soft limit; `std::errc::invalid_argument` (generic category) when `config().local_address` is not an IP address; the system error when a
  /// socket or the media thread's reactor cannot be created or bound (e.g. `EMFILE`, `ENOBUFS`);
  /// `std::errc::not_enough_memory` when an allocation fails. Null on error. Never throws.
  std::shared_ptr<call_type> create_msp_call(msp_handle call, media_type media, std::error_code& ec) noexcept {
    if (!initialized_) {
      ec = tapi_errc::not_initialized;
      return nullptr;
    }
    if (media != media_type::audio) {
      ec = tapi_errc::invalid_media_type;
      return nullptr;
    }
    try {
      if (active_ >= cfg_.max_calls) recount();  // exact again (calls dropped without ShutdownMSPCall)
      if (active_ >= cfg_.max_calls || !descriptors_left(2 + cfg_.reserved_fds)) {
        ec = tapi_errc::call_unavailable;
        return nullptr;
      }
      if (calls_.size() >= 2 * static_cast<std::size_t>(active_) + 16)  // amortized O(1) per call
        std::erase_if(calls_, [](const auto& weak) { return weak.expired(); });
      auto created = call_type::create(pool_->assign(), call, cfg_, events_, ec, signalling_secured_, certificate_);
      if (created) {
        calls_.push_back(created);
        ++active_;
      }
      return created;
    } catch (...) {  // Asio's reactor or a socket (EMFILE...), an allocation: the call is refused, no more
      ec = current_exception_error();
      return nullptr;
    }
  }

  /// ITMSPAddress::ShutdownMSPCall: stops the call's media and unselects its terminals. Null is ignored.
  /// No errors.
  void shutdown_msp_call(const std::shared_ptr<call_type>& call) {
    if (!call || call->shut_down()) return;
    call->shutdown();
    if (initialized_ && active_ > 0) --active_;
  }

  /// ITMSPAddress::ReceiveTSPData: a channel message from the TSP for `call` (address-level data,
  /// with a null call, is not used by this MSP and is ignored). No errors: malformed data is ignored.
  /// The channel messages `conference_join` and `conference_leave` are handled here: the calls that join
  /// one conference identifier share one `conference_bridge` (made at the first join, gone with its last
  /// party), whichever `rtp_opus_msp` (address) they belong to: identifiers are process-wide; a join that
  /// fails (a full bridge, or another ptime than the bridge's) is answered with `media_error`.
  void receive_tsp_data(const std::shared_ptr<call_type>& call, std::span<const std::byte> data) {
    if (!call) return;
    const auto msg = decode_channel_message(data);
    if (msg && msg->type == channel_message_type::conference_join) return join_conference(call, msg->body);
    if (msg && msg->type == channel_message_type::conference_leave) return call->leave_conference();
    call->receive_tsp_data(data);
  }

  /// A new local conference bridge for this address's calls (frames of `config().ptime`), for
  /// `rtp_opus_call::join_conference`. Any thread. Throws only std::bad_alloc.
  [[nodiscard]] std::shared_ptr<conference_bridge> create_conference_bridge() const {
    return std::make_shared<conference_bridge>(samples_per_frame(static_cast<int>(cfg_.ptime.count())));
  }

  /// ITMSPAddress::GetEvent: the next queued event; `tapi_errc::no_event` (and nullopt) when there is none.
  std::optional<msp_event> get_event(std::error_code& ec) { return events_->get_event(ec); }

  /// ITTerminalSupport of this address: PortAudio devices and the dynamic terminal classes. Never throws.
  terminal_support& terminals() { return terminals_; }

  /// ITMediaSupport::get_MediaTypes: audio. Never throws.
  [[nodiscard]] media_type media_types() const noexcept { return media_type::audio; }

  /// The settings this MSP runs with. Never throws.
  [[nodiscard]] const config_type& config() const noexcept { return cfg_; }

  /// Exceptions that escaped a handler on the media threads this MSP uses (the TAPI object's pool counts
  /// those of all its addresses): caught and counted, the thread ran on (diagnostic). Same thread as the
  /// contract members. Never throws.
  [[nodiscard]] std::uint64_t handler_exceptions() const noexcept { return pool_ ? pool_->handler_exceptions() : 0; }

 private:
  // The settings `initialize` accepts; the rest would make call creation throw (codec, jitter buffer)
  // or make the media misbehave (a zero RTCP interval spins, an empty CNAME breaks RFC 3550 §6.1).
  static bool valid_config(const config_type& c) {
    if (!valid_ptime(c.ptime) || c.payload_type < 96 || c.payload_type > 127) return false;
    if (c.jitter_min_packets < 1 || c.jitter_max_packets < c.jitter_min_packets ||
        static_cast<std::size_t>(c.jitter_max_packets) > detail::rtp_media::jitter_capacity_packets)
      return false;
    if (c.rtcp_interval <= std::chrono::milliseconds::zero() || c.rtcp_interval > std::chrono::hours(1) || c.cname.empty() || c.cname.size() > 255) return false;
    if (c.playout_lead && (c.playout_lead->count() < 0 || c.playout_lead->count() > 1000)) return false;
    if (c.max_expected_loss_percent < 0 || c.max_expected_loss_percent > 100) return false;
    if (c.max_calls < 1 || c.reserved_fds < 0) return false;
    if (c.codecs.empty()) return false;
    if (c.stun_timeout < std::chrono::milliseconds(10) || c.stun_timeout > std::chrono::milliseconds(10000)) return false;
    if (c.stun_server && (c.stun_server->port() == 0 || c.stun_server->address().is_unspecified())) return false;
    if (c.ice_ta < std::chrono::milliseconds(5) || c.ice_ta > std::chrono::milliseconds(1000) ||
        c.ice_rto < std::chrono::milliseconds(10) || c.ice_rto > std::chrono::milliseconds(3000))
      return false;
    if (c.turn_server && (!c.ice || c.turn_server->port() == 0 || c.turn_server->address().is_unspecified() ||
                          c.turn_username.empty() || c.turn_username.size() > 513))
      return false;
    if (c.ice_relay_only && !c.turn_server) return false;
    if (!c.public_address.empty()) {
      boost::system::error_code bec;
      (void)boost::asio::ip::make_address(c.public_address, bec);
      if (bec) return false;
    }
    if (c.srtp != srtp_policy::off) {
      if (c.srtp_suites.empty() || c.srtp_suites.size() > 3) return false;
      for (auto it = c.srtp_suites.begin(); it != c.srtp_suites.end(); ++it)
        if (std::find(c.srtp_suites.begin(), it, *it) != it || srtp_suite_name(*it).empty()) return false;
    }
    for (auto it = c.codecs.begin(); it != c.codecs.end(); ++it) {
      if (*it != audio_codec::opus && *it != audio_codec::pcmu && *it != audio_codec::pcma) return false;
      if (std::find(c.codecs.begin(), it, *it) != it) return false;  // listed twice
    }
    if (c.telephone_event_payload_type != -1 && (c.telephone_event_payload_type < 96 || c.telephone_event_payload_type > 127 ||
                                                 c.telephone_event_payload_type == c.payload_type))
      return false;
    std::error_code ec;
    (void)opus_encoder::create(c.opus, ec);
    return !ec;
  }

  // Counts the calls alive and not shut down (O(calls); only when the cheap count says the address is full).
  void recount() {
    std::erase_if(calls_, [](const auto& weak) { return weak.expired(); });
    active_ = static_cast<int>(std::count_if(calls_.begin(), calls_.end(), [](const auto& weak) {
      auto c = weak.lock();
      return c && !c->shut_down();
    }));
  }

  // False when fewer than `needed` descriptors are free below RLIMIT_NOFILE's soft limit (counted in
  // /proc/self/fd; true where the count is unknown: the socket's own error then reports it).
  static bool descriptors_left(long needed) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return true;
    std::error_code ec;
    long open = -1;  // the directory's own descriptor is listed too
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++open;
    if (ec == std::errc::too_many_files_open) return false;
    if (ec) return true;
    return open + needed <= static_cast<long>(limit.rlim_cur);
  }

  // conference_join: the bridge of that identifier (made on first use), the call joins it. The bridges are
  // shared by every address (a hub's calls may be on several), under a lock (TAPI objects' threads only).
  void join_conference(const std::shared_ptr<call_type>& call, std::string_view id) {
    static std::mutex mutex;
    static std::map<std::string, std::weak_ptr<conference_bridge>, std::less<>> bridges;  // by identifier
    std::shared_ptr<conference_bridge> bridge;
    {
      std::lock_guard lock(mutex);
      std::erase_if(bridges, [](const auto& b) { return b.second.expired(); });
      auto& weak = bridges[std::string(id)];
      bridge = weak.lock();
      if (!bridge) weak = bridge = create_conference_bridge();
    }
    std::error_code ec;
    call->join_conference(bridge, ec);
    if (ec) events_->post(msp_event{call->handle(), msp_tsp_data{encode_channel_message(
                                                        channel_message_type::media_error, "conference_join: " + ec.message())}});
  }

  config_type cfg_;
  std::shared_ptr<msp_event_queue> events_ = std::make_shared<msp_event_queue>();
  terminal_support terminals_;
  // The media threads; each call keeps its thread's io_context alive (its sockets may outlive shutdown).
  std::shared_ptr<media_pool> pool_;
  bool own_pool_ = false, initialized_ = false, signalling_secured_ = false;
  std::shared_ptr<const dtls_certificate> certificate_;  // DTLS-SRTP's, made at the first initialize
  std::vector<std::weak_ptr<call_type>> calls_;  // expired entries are swept now and then
  int active_ = 0;  // calls created and not shut down through shutdown_msp_call (an upper bound; see recount)
};

static_assert(media_service_provider<rtp_opus_msp>);

}  // namespace mspi

#endif  // PTAPI_FULL_DEFINITIONS
