// ptapi - portable TAPI
// tspi/legacy_call_media_control.hpp: a call's ITLegacyCallMediaControl(2) methods (digits and tones),
// part of every `tspi::call` handle.
#pragma once

#include <tspi/detail/call_ops.hpp>
#include <tspi/digit_gathering.hpp>

#include <mspi/error.hpp>
#include <mspi/tones.hpp>

#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace tspi {

/// TAPI 3's `ITLegacyCallMediaControl` and `ITLegacyCallMediaControl2` on a call: DTMF detection,
/// generation and gathering, and call-progress tones. A base of `tspi::call` (CRTP: `Call` is `call`),
/// so every call handle has these members; see `call` for the three forms, the lifetime of handles and
/// thread safety (the same here: any thread, every operation `const`).
template <class Call>
class legacy_call_media_control {
 public:
  /// ITLegacyCallMediaControl::DetectDigits(lDigitMode) (lineMonitorDigits): `line_digit_mode::dtmf` (0x2)
  /// reports the far end's DTMF digits as `digit_event`s (TE_DIGITEVENT), 0 stops them. A call starts with
  /// DTMF detection on (a ptapi default: TAPI starts with none), so that an application that never calls
  /// this sees every digit. `gather_digits` collects digits either way. Any call state; a monitor may call
  /// it too. Errors: `invalid_mode` for any other bit (pulse digits, LINEDIGITMODE_DTMFEND: ptapi reports no
  /// digit ends); `invalid_handle`; `not_initialized`. Any thread.
  void detect_digits(std::uint32_t digit_modes, std::error_code& ec) const {
    ec = run(detail::ops::digit_modes_op(digit_modes));
  }
  /// DetectDigits, throwing `std::system_error` on the errors above.
  void detect_digits(std::uint32_t digit_modes) const {
    mspi::throw_if(run(detail::ops::digit_modes_op(digit_modes)), "detect_digits");
  }
  /// DetectDigits, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_detect_digits(std::uint32_t digit_modes, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend(), detail::ops::digit_modes_op(digit_modes));
  }

  /// ITLegacyCallMediaControl::GenerateDigits(digits, LINEDIGITMODE_DTMF): sends DTMF on a connected call
  /// (RTP/Opus MSP: RFC 4733 telephone-events, about 100 ms per digit and 60 ms between digits; towards a
  /// peer that did not negotiate telephone-event, in-band audio when `rtp_opus_config::tones` is set,
  /// 80 ms of tone and 80 ms of pause per digit, replacing the capture like a tone, and cutting a tone
  /// in progress short; without it the MSP refuses them, after this completes).
  /// `digits`: `0-9 * # A-D`. Completes when the provider has queued them; when the last digit has been sent
  /// (or the request was cut short or refused by the MSP) the TAPI object raises one `digit_generation_event`
  /// (TE_GENERATEEVENT, `tapi::on_digit_generation`). Errors: `invalid_digits`
  /// (empty or another character); `invalid_call_state` unless connected; `not_supported`; `not_owner`;
  /// `invalid_handle`.
  void generate_digits(std::string_view digits, std::error_code& ec) const { ec = run(detail::ops::digits_op(digits)); }
  /// GenerateDigits, throwing `std::system_error` on the errors above.
  void generate_digits(std::string_view digits) const {
    mspi::throw_if(run(detail::ops::digits_op(digits)), "generate_digits");
  }
  /// GenerateDigits, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_generate_digits(std::string_view digits, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend(), detail::ops::digits_op(digits));
  }

  /// ITLegacyCallMediaControl2::GenerateDigits2(digits, LINEDIGITMODE_DTMF, lDuration) (TSPI_lineGenerateDigits'
  /// dwDuration): as `generate_digits`, each digit sounding for `duration` with as long a pause after it
  /// (RFC 4733 events of that duration, or in-band tones), `mspi::min_digit_duration_ms` (40) to
  /// `mspi::max_digit_duration_ms` (1000) ms; 0 ms is `generate_digits`' default timing (100 ms events and
  /// 60 ms pauses, 80/80 ms in-band). Errors: those of `generate_digits`; `invalid_argument` for a duration
  /// outside the range; `not_supported` when the TSP takes no duration. Any thread.
  void generate_digits(std::string_view digits, std::chrono::milliseconds duration, std::error_code& ec) const {
    ec = run(detail::ops::digits_op(digits, duration));
  }
  /// GenerateDigits2, throwing `std::system_error` on the errors above.
  void generate_digits(std::string_view digits, std::chrono::milliseconds duration) const {
    mspi::throw_if(run(detail::ops::digits_op(digits, duration)), "generate_digits");
  }
  /// GenerateDigits2, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_generate_digits(std::string_view digits, std::chrono::milliseconds duration, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend(), detail::ops::digits_op(digits, duration));
  }

  /// ITLegacyCallMediaControl::GenerateTone(TAPI_TONEMODE, lDuration) (TSPI_lineGenerateTone): from the
  /// next frame the call sends `mode`'s tone (the tone plan of `rtp_opus_config::tones`, e.g.
  /// `mspi::dsp::tone_media(tone_plan::eu)`; see `mspi::tone_mode`) in place of what its capture
  /// terminals send, for `duration` (0: until another tone request, `tone_mode::none`, or the end of the
  /// call's media; beep and billing end after their burst). A new GenerateTone, GenerateCustomTones or
  /// in-band GenerateDigits replaces the tone playing; `tone_mode::none` stops it (TAPI's cancel). Works
  /// on Opus and G.711 calls (made at 8 kHz, resampled to the call's 48 kHz). Completes when the MSP has
  /// taken the request (the tone starts within a frame); its end raises one `digit_generation_event`
  /// (`done` when its duration or burst is over, `cancel` when replaced, stopped or the call's media
  /// ends; `tone_mode::none` itself raises none). Errors: `invalid_mode` (a value outside
  /// `tone_mode`); `invalid_argument` (duration out of 0..3600000 ms); `invalid_call_state` unless
  /// connected; `not_supported` when the MSP has no tone generator (`rtp_opus_config::tones` empty: the
  /// `dsp` component was not set up); `not_owner`; `invalid_handle`. Thread safety: any thread.
  void generate_tone(mspi::tone_mode mode, std::chrono::milliseconds duration, std::error_code& ec) const {
    ec = run(detail::ops::tone_op{mspi::tone_generation{mode, {}, duration}});
  }
  /// GenerateTone, throwing `std::system_error` on the errors above.
  void generate_tone(mspi::tone_mode mode, std::chrono::milliseconds duration = {}) const {
    mspi::throw_if(run(detail::ops::tone_op{mspi::tone_generation{mode, {}, duration}}), "generate_tone");
  }
  /// GenerateTone, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_generate_tone(mspi::tone_mode mode, std::chrono::milliseconds duration, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend(),
                            detail::ops::tone_op{mspi::tone_generation{mode, {}, duration}});
  }

  /// ITLegacyCallMediaControl2::GenerateCustomTones(TAPI_CUSTOMTONE*, n, lDuration) (TSPI_lineGenerateTone,
  /// LINETONEMODE_CUSTOM): as `generate_tone`, with `tones` (1..`mspi::max_custom_tones`, each a
  /// frequency with its own cadence and level, sounding together). Errors: `invalid_argument` (no tones,
  /// too many, or a frequency, cadence, volume or duration out of the ranges of `mspi::custom_tone`); the
  /// others as `generate_tone`. Thread safety: any thread.
  void generate_custom_tones(std::span<const mspi::custom_tone> tones, std::chrono::milliseconds duration,
                             std::error_code& ec) const {
    ec = run(detail::ops::custom_op(tones, duration));
  }
  /// GenerateCustomTones, throwing `std::system_error` on the errors above.
  void generate_custom_tones(std::span<const mspi::custom_tone> tones, std::chrono::milliseconds duration = {}) const {
    mspi::throw_if(run(detail::ops::custom_op(tones, duration)), "generate_custom_tones");
  }
  /// GenerateCustomTones, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_generate_custom_tones(std::span<const mspi::custom_tone> tones, std::chrono::milliseconds duration,
                                   Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend(), detail::ops::custom_op(tones, duration));
  }

  /// ITLegacyCallMediaControl::DetectTones(TAPI_DETECTTONE*, n) (TSPI_lineMonitorTones): from now on the
  /// call's received audio is monitored for `tones` (replacing the previous list; an empty list stops
  /// monitoring); each time one of them has sounded for its duration, the TAPI object raises a
  /// `tone_detection_event` (TE_TONEEVENT) with its `app_specific` (`tapi::on_tone_detection`). Frames
  /// concealing a lost or late packet are not analysed. Monitoring ends with the call's media.
  /// Errors: `invalid_argument` (more than `mspi::max_detect_tones` tones, or a frequency or duration out
  /// of the ranges of `mspi::detect_tone`, a third frequency included); `invalid_call_state` unless
  /// connected; `not_supported` when the MSP has no tone detector (`rtp_opus_config::tones` empty);
  /// `not_owner`; `invalid_handle`. Thread safety: any thread.
  void detect_tones(std::span<const mspi::detect_tone> tones, std::error_code& ec) const {
    ec = run(detail::ops::detect_op(tones));
  }
  /// DetectTones, throwing `std::system_error` on the errors above.
  void detect_tones(std::span<const mspi::detect_tone> tones) const {
    mspi::throw_if(run(detail::ops::detect_op(tones)), "detect_tones");
  }
  /// DetectTones, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_detect_tones(std::span<const mspi::detect_tone> tones, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend(), detail::ops::detect_op(tones));
  }

  /// ITLegacyCallMediaControl2::GatherDigits (TSPI_lineGatherDigits): collects the far end's DTMF digits
  /// (the ones also reported as `digit_event`s) on a connected or held call until `options.max_digits`
  /// have arrived, a terminator arrives, or a timeout passes; then completes with the digits and why it
  /// ended, and raises TE_GATHERDIGITS (`digits_gathered_event`). One gathering per call at a time: a new
  /// one ends the previous with `cancel`. A gathering also ends with `cancel` when its call disconnects
  /// or is released, when the TAPI object shuts down, or (async form) when the handler's cancellation
  /// slot is emitted; a cancelled gathering completes with `std::errc::operation_canceled` and the
  /// digits collected so far. Errors: `invalid_argument` or `invalid_digits` (see
  /// `gather_digits_options`); `invalid_call_state` unless connected or on hold; `not_owner`;
  /// `invalid_handle`; `not_initialized`. This form blocks until the gathering ends: give it a timeout
  /// or a terminator. Thread safety: any thread, like every call operation.
  gathered_digits gather_digits(const gather_digits_options& options, std::error_code& ec) const {
    gathered_digits out;
    if (!backend()) {
      ec = mspi::tapi_errc::invalid_handle;
      return out;
    }
    ec = detail::wait_for_result(out, [&](detail::gather_completion done) {
      backend()->gather_digits(options, std::move(done));
    });
    return out;
  }
  /// GatherDigits, throwing `std::system_error` on the errors above (also when cancelled).
  gathered_digits gather_digits(const gather_digits_options& options) const {
    std::error_code ec;
    auto out = gather_digits(options, ec);
    mspi::throw_if(ec, "gather_digits");
    return out;
  }
  /// GatherDigits, asynchronously: completion signature `void(std::error_code, gathered_digits)`.
  /// Cancellable through the handler's associated cancellation slot (any cancellation type).
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code, gathered_digits)) Token = detail::default_token>
  auto async_gather_digits(gather_digits_options options, Token&& token = {}) const {
    return detail::initiate<gathered_digits>(std::forward<Token>(token), backend(),
                                             detail::ops::gather_op{std::move(options)},
                                             detail::on_cancel::end_gathering);
  }

 protected:
  legacy_call_media_control() = default;

 private:
  [[nodiscard]] const std::shared_ptr<detail::call_backend>& backend() const noexcept {
    return static_cast<const Call&>(*this).backend_;
  }
  template <class Op>
  std::error_code run(Op op) const {
    return detail::ops::run(backend(), std::move(op));
  }
};

}  // namespace tspi
