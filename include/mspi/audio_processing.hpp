// ptapi - portable TAPI
// mspi/audio_processing.hpp: acoustic echo cancellation, noise suppression and automatic gain control
// of captured speech, one frame at a time, on speexdsp (part of the `devices` component).
#pragma once

#include <mspi/detail/speex_handles.hpp>
#include <mspi/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

namespace mspi {

/// Settings of an `audio_processor` (and of the device terminals' echo canceller,
/// `device_echo_canceller`). A plain value; `validate` says whether a processor accepts it.
/// TAPI has no counterpart (its device terminals left echo control to the sound driver): a ptapi
/// extension, with speexdsp's parameters in units.
struct audio_processing_settings {
  /// Acoustic echo cancellation (speexdsp's MDF adaptive filter, speex_echo_cancellation) against the
  /// far-end reference; with `noise_suppression` also residual echo suppression (SPEEX_PREPROCESS_SET_ECHO_STATE).
  bool echo_cancellation = true;
  /// Processing frame in ms: 10 or 20 (480 or 960 samples at 48 kHz). Also the latency the device path adds.
  std::uint32_t frame_ms = 10;
  /// Echo tail in ms: the longest echo path (delay + room reverberation) the adaptive filter models,
  /// `frame_ms`..2000. Longer tails cost CPU (about linearly) and converge more slowly; 100-250 ms suits a room.
  std::uint32_t tail_ms = 200;
  /// Noise suppression (speexdsp's preprocessor: SPEEX_PREPROCESS_SET_DENOISE).
  bool noise_suppression = true;
  /// Largest attenuation of noise in dB, -90..0 (SPEEX_PREPROCESS_SET_NOISE_SUPPRESS; speexdsp's default -15).
  int noise_suppress_db = -15;
  /// Largest attenuation of residual echo in dB, -90..0, while the near end is silent
  /// (SPEEX_PREPROCESS_SET_ECHO_SUPPRESS; speexdsp's default -40). Needs `echo_cancellation` and `noise_suppression`.
  int echo_suppress_db = -40;
  /// Largest attenuation of residual echo in dB, -90..0, while the near end talks (double talk;
  /// SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE; speexdsp's default -15).
  int echo_suppress_active_db = -15;
  /// Automatic gain control (SPEEX_PREPROCESS_SET_AGC): brings speech to `agc_level`.
  bool gain_control = true;
  /// AGC target level in sample units (16-bit full scale is 32767), 1..32767 (SPEEX_PREPROCESS_SET_AGC_LEVEL;
  /// speexdsp's default 8000, about -12 dBFS).
  float agc_level = 8000.0F;
  /// Largest AGC gain in dB, 0..60 (SPEEX_PREPROCESS_SET_AGC_MAX_GAIN; speexdsp's default 30).
  int agc_max_gain_db = 30;
  /// Device path only (`device_echo_canceller`): far-end samples, in ms, kept back in the reference FIFO
  /// beyond what the capture side has consumed, i.e. the known part of the echo delay the filter need
  /// not model, 0..500. 0 (default) is always safe as long as the playback-to-capture delay is shorter than `tail_ms`.
  std::uint32_t reference_delay_ms = 0;
  /// Device path only: how far, in ms, the reference FIFO may run ahead of `reference_delay_ms` (PortAudio
  /// callback bursts, clock drift between two devices) before the excess is dropped to realign, 5..500.
  std::uint32_t reference_slack_ms = 40;

  /// True when an `audio_processor` accepts these settings (every field in its range). Never throws.
  [[nodiscard]] bool validate() const noexcept {
    const auto db_ok = [](int db) { return db >= -90 && db <= 0; };
    return (frame_ms == 10 || frame_ms == 20) && tail_ms >= frame_ms && tail_ms <= 2000 && db_ok(noise_suppress_db) &&
           db_ok(echo_suppress_db) && db_ok(echo_suppress_active_db) && agc_level >= 1.0F && agc_level <= 32767.0F &&
           agc_max_gain_db >= 0 && agc_max_gain_db <= 60 && reference_delay_ms <= 500 && reference_slack_ms >= 5 &&
           reference_slack_ms <= 500;
  }
};

/// Cleans captured speech one frame at a time: speexdsp's acoustic echo canceller (the far-end signal
/// being played is the reference), then its preprocessor (residual echo suppression, noise suppression,
/// AGC). All speexdsp state is allocated by the constructor; `process` allocates nothing.
/// A ptapi extension (TAPI has nothing for it); speexdsp API: speex_echo_state_init,
/// speex_echo_cancellation, speex_preprocess_state_init, speex_preprocess_ctl, speex_preprocess_run.
///
/// The caller aligns the two signals: the echo of a reference sample must appear in the capture no
/// earlier than that sample is passed and less than `tail_ms` later (`device_echo_canceller` does that
/// for the PortAudio device terminals).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe (`process` and `reset` mutate the filter; one thread
/// at a time). The getters are const and safe.
class audio_processor {
 public:
  /// Creates the speexdsp states for `settings` at `sample_rate_hz`.
  /// @param settings what to run, with its parameters (copied).
  /// @param sample_rate_hz 8000..48000 Hz (the device terminals use 48000).
  /// @throws std::system_error naming "audio_processor" with `tapi_errc::invalid_argument` when
  ///         `settings.validate()` is false or the rate is out of range, `tapi_errc::not_enough_memory`
  ///         when speexdsp cannot allocate its state.
  audio_processor(const audio_processing_settings& settings, std::uint32_t sample_rate_hz)
      : settings_(settings), rate_hz_(sample_rate_hz), frame_(static_cast<std::size_t>(sample_rate_hz) * settings.frame_ms / 1000) {
    if (!settings.validate() || sample_rate_hz < 8000 || sample_rate_hz > 48000)
      throw_if(tapi_errc::invalid_argument, "audio_processor");
    const int frame = static_cast<int>(frame_);
    if (settings.echo_cancellation) {
      const int tail = static_cast<int>(static_cast<std::size_t>(sample_rate_hz) * settings.tail_ms / 1000);
      echo_.reset(speex_echo_state_init(frame, tail));
      if (!echo_) throw_if(tapi_errc::not_enough_memory, "audio_processor");
      int rate = static_cast<int>(sample_rate_hz);
      speex_echo_ctl(echo_.get(), SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
    }
    if (settings.noise_suppression || settings.gain_control || settings.echo_cancellation) {
      preprocess_.reset(speex_preprocess_state_init(frame, static_cast<int>(sample_rate_hz)));
      if (!preprocess_) throw_if(tapi_errc::not_enough_memory, "audio_processor");
      configure_preprocessor();
    }
  }

  /// Samples per frame (`sample_rate_hz * frame_ms / 1000`): the size of each span `process` takes. Never throws.
  [[nodiscard]] std::size_t frame_samples() const noexcept { return frame_; }
  /// The sample rate in Hz. Never throws.
  [[nodiscard]] std::uint32_t sample_rate_hz() const noexcept { return rate_hz_; }
  /// The settings the processor was made with. Never throws.
  [[nodiscard]] const audio_processing_settings& settings() const noexcept { return settings_; }

  /// Processes one frame: `out` = `capture` with the echo of `reference` removed, then noise-suppressed
  /// and gain-controlled as configured. `reference` is the far-end signal played at the same time
  /// (mono s16); silence when nothing plays. `out` may alias `capture`.
  /// @pre `capture`, `reference` and `out` each hold exactly `frame_samples()` samples; otherwise
  ///      `out` (as far as it goes) is a copy of `capture` and nothing is processed.
  /// Never throws, never allocates.
  void process(std::span<const std::int16_t> capture, std::span<const std::int16_t> reference,
               std::span<std::int16_t> out) noexcept {
    if (capture.size() != frame_ || reference.size() != frame_ || out.size() != frame_) {
      std::copy_n(capture.begin(), std::min(capture.size(), out.size()), out.begin());
      return;
    }
    if (echo_) {
      speex_echo_cancellation(echo_.get(), capture.data(), reference.data(), out.data());
    } else if (out.data() != capture.data()) {
      std::copy(capture.begin(), capture.end(), out.begin());
    }
    if (preprocess_) speex_preprocess_run(preprocess_.get(), out.data());
  }

  /// Forgets the learnt echo path (speex_echo_state_reset), e.g. when the device changes. Never throws.
  void reset() noexcept {
    if (echo_) speex_echo_state_reset(echo_.get());
  }

 private:
  void configure_preprocessor() noexcept {
    auto* p = preprocess_.get();
    int on = settings_.noise_suppression ? 1 : 0;
    speex_preprocess_ctl(p, SPEEX_PREPROCESS_SET_DENOISE, &on);
    int noise = settings_.noise_suppress_db;
    speex_preprocess_ctl(p, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &noise);
    int agc = settings_.gain_control ? 1 : 0;
    speex_preprocess_ctl(p, SPEEX_PREPROCESS_SET_AGC, &agc);
    float level = settings_.agc_level;
    speex_preprocess_ctl(p, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
    int max_gain = settings_.agc_max_gain_db;
    speex_preprocess_ctl(p, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, &max_gain);
    if (echo_) {
      speex_preprocess_ctl(p, SPEEX_PREPROCESS_SET_ECHO_STATE, echo_.get());
      int suppress = settings_.echo_suppress_db;
      speex_preprocess_ctl(p, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, &suppress);
      int active = settings_.echo_suppress_active_db;
      speex_preprocess_ctl(p, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, &active);
    }
  }

  audio_processing_settings settings_;
  std::uint32_t rate_hz_;
  std::size_t frame_;
  detail::speex_echo_ptr echo_;              // declared before preprocess_: destroyed after it (it points here)
  detail::speex_preprocess_ptr preprocess_;
};

}  // namespace mspi
