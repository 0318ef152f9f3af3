// ptapi - portable TAPI
// mspi/rtp_opus/msp.hpp: the RTP/Opus Media Service Provider (an ITMSPAddress), shared by every TSP
// that negotiates media with SDP (loopback, SIP).
#pragma once

#include <mspi/error.hpp>
#include <mspi/msp.hpp>
#include <mspi/msp_event.hpp>
#include <mspi/rtp_opus/call.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/terminal_support.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <thread>
#include <vector>

namespace mspi {

/// The RTP/Opus MSP: 48 kHz mono audio, Opus in RTP over UDP, with jitter buffer, loss concealment and
/// RTCP. One instance serves one address (TAPI creates one ITMSPAddress per address); its calls share
/// one media thread, started by `initialize` and joined by `shutdown`.
///
/// @par Thread Safety
/// The contract members (`initialize` ... `get_event`) are called by the TAPI object from one thread;
/// `terminals()` and the calls' streams may be used from any thread.
class rtp_opus_msp {
 public:
  using config_type = rtp_opus_config;  ///< Settings, given at registration.
  using call_type = rtp_opus_call;      ///< The MSP call object (an `mspi::stream_control`).

  /// Keeps `cfg`; nothing starts before `initialize`. Invalid settings are reported by `initialize`.
  explicit rtp_opus_msp(const config_type& cfg = {}) : cfg_(cfg) {}
  rtp_opus_msp(const rtp_opus_msp&) = delete;
  rtp_opus_msp& operator=(const rtp_opus_msp&) = delete;
  ~rtp_opus_msp() { shutdown(); }

  /// ITMSPAddress::Initialize: starts the media thread. Errors: `invalid_argument` for a ptime other than
  /// 10/20/40/60 ms or a payload type outside 96-127; `already_initialized`.
  void initialize(const msp_context& ctx, std::error_code& ec) {
    if (thread_.joinable()) {
      ec = tapi_errc::already_initialized;
      return;
    }
    if (!valid_ptime(cfg_.ptime_ms) || cfg_.payload_type < 96 || cfg_.payload_type > 127) {
      ec = tapi_errc::invalid_argument;
      return;
    }
    ec.clear();
    events_->set_signal(ctx.event_signal);
    io_ = std::make_shared<boost::asio::io_context>();
    work_.emplace(io_->get_executor());
    thread_ = std::thread([io = io_] { io->run(); });
  }

  /// ITMSPAddress::Shutdown: shuts down the calls still alive, lets their media stop, and joins the media
  /// thread.
  void shutdown() {
    if (!thread_.joinable()) return;
    for (auto& weak : calls_)
      if (auto call = weak.lock()) call->shutdown();
    calls_.clear();
    work_.reset();  // the thread ends once the stops posted above have run
    thread_.join();
    io_.reset();
    events_->set_signal({});
    events_->clear();
  }

  /// ITMSPAddress::CreateMSPCall: a call with its capture and render audio streams and bound sockets.
  /// Errors: `invalid_media_type` unless `media` is audio; `not_initialized`; socket errors.
  std::shared_ptr<call_type> create_msp_call(msp_handle call, media_type media, std::error_code& ec) {
    if (!io_) {
      ec = tapi_errc::not_initialized;
      return nullptr;
    }
    if (media != media_type::audio) {
      ec = tapi_errc::invalid_media_type;
      return nullptr;
    }
    auto created = call_type::create(io_, call, cfg_, events_, ec);
    if (created) {
      std::erase_if(calls_, [](const auto& weak) { return weak.expired(); });
      calls_.push_back(created);
    }
    return created;
  }

  /// ITMSPAddress::ShutdownMSPCall: stops the call's media and unselects its terminals.
  void shutdown_msp_call(const std::shared_ptr<call_type>& call) {
    if (call) call->shutdown();
  }

  /// ITMSPAddress::ReceiveTSPData: a channel message from the TSP for `call` (address-level data,
  /// with a null call, is not used by this MSP and is ignored).
  void receive_tsp_data(const std::shared_ptr<call_type>& call, std::span<const std::byte> data) {
    if (call) call->receive_tsp_data(data);
  }

  /// ITMSPAddress::GetEvent: the next queued event; `no_event` when there is none.
  std::optional<msp_event> get_event(std::error_code& ec) { return events_->get_event(ec); }

  /// ITTerminalSupport of this address: PortAudio devices and the dynamic terminal classes.
  terminal_support& terminals() { return terminals_; }

  /// ITMediaSupport::get_MediaTypes: audio.
  [[nodiscard]] media_type media_types() const noexcept { return media_type::audio; }

  /// The settings this MSP runs with.
  [[nodiscard]] const config_type& config() const noexcept { return cfg_; }

 private:
  config_type cfg_;
  std::shared_ptr<msp_event_queue> events_ = std::make_shared<msp_event_queue>();
  terminal_support terminals_;
  std::shared_ptr<boost::asio::io_context> io_;  // shared with the calls' sockets, which may outlive shutdown
  std::vector<std::weak_ptr<call_type>> calls_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};

static_assert(media_service_provider<rtp_opus_msp>);

}  // namespace mspi
