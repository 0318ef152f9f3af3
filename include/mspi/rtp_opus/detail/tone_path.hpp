// ptapi - portable TAPI
// mspi/rtp_opus/detail/tone_path.hpp: the tone half of one call's media engine (rtp_media): the tone or
// in-band digits sent in place of the capture, and the tone detector on the played-out audio, both at
// 8 kHz around the engine's 48 kHz frames.
#pragma once

#include <mspi/codec/resampler.hpp>
#include <mspi/media_types.hpp>
#include <mspi/tones.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace mspi::detail {

/// Tones of one call, on its media thread (see `rtp_media`). One source plays at a time: a new one
/// replaces the one playing (TAPI: a new GenerateTone or GenerateDigits cancels the tone in progress).
/// While it plays, its audio (made at 8 kHz, interpolated to 48 kHz) replaces the capture frame, on Opus
/// and G.711 calls alike. Per frame nothing is allocated (the resamplers are fixed arrays; the sources
/// and detectors allocate when made, on the requesting thread). Thread safety: media thread only.
class tone_path {
 public:
  /// What ended when a source was replaced or finished.
  enum class ended : std::uint8_t { nothing, tone, digits };

  /// Plays `source` from the next frame for `duration` (0: until it ends by itself or is replaced);
  /// `digits`: it sends in-band DTMF (its end is reported as such). Null stops what plays. Returns what
  /// was playing and is now cut short.
  ended play(std::unique_ptr<tone_source> source, std::chrono::milliseconds duration, bool digits) noexcept {
    const ended previous = playing();
    source_ = std::move(source);
    digits_ = digits;
    remaining_ = duration.count() > 0 ? static_cast<std::uint64_t>(duration.count()) * 8 : 0;
    up_.reset();
    return previous;
  }

  /// What plays now.
  [[nodiscard]] ended playing() const noexcept { return !source_ ? ended::nothing : digits_ ? ended::digits : ended::tone; }

  /// Replaces `pcm` (48 kHz, a multiple of 6 samples, at most `max_frame_samples`) by the source's audio
  /// when one plays; returns whether it did, and in `finished` what ended during this frame (the rest of
  /// a frame after the end is silence).
  bool replace(std::span<std::int16_t> pcm, ended& finished) noexcept {
    finished = ended::nothing;
    if (!source_) return false;
    std::array<std::int16_t, max_frame_samples / narrowband_ratio> narrow{};
    std::size_t want = pcm.size() / narrowband_ratio;
    bool over = false;
    if (remaining_ > 0 && remaining_ <= want) {
      want = static_cast<std::size_t>(remaining_);
      over = true;
    }
    const std::size_t got = source_->generate(std::span<std::int16_t>(narrow.data(), want));
    if (remaining_ > 0) remaining_ -= got;
    if (got < want) over = true;
    for (std::size_t i = got; i < narrow.size(); ++i) narrow[i] = 0;
    up_.process(std::span<const std::int16_t>(narrow.data(), pcm.size() / narrowband_ratio), pcm);
    if (over) finished = play(nullptr, {}, false);
    return true;
  }

  /// Monitors the tones `detector` recognises from the next played frame (null: none).
  void detect(std::unique_ptr<tone_detector> detector) noexcept {
    detector_ = std::move(detector);
    down_.reset();
  }
  [[nodiscard]] bool detecting() const noexcept { return detector_ != nullptr; }

  /// Feeds one played-out frame (48 kHz) to the detector; `on_detected(app_specific)` for each tone found.
  template <class F>
  void analyse(std::span<const std::int16_t> pcm, F&& on_detected) {
    if (!detector_) return;
    std::array<std::int16_t, max_frame_samples / narrowband_ratio> narrow;
    const std::size_t m = down_.process(pcm, narrow);
    std::array<std::uint32_t, max_detect_tones> found{};
    const std::size_t n = detector_->process(std::span<const std::int16_t>(narrow.data(), m), found);
    for (std::size_t i = 0; i < n; ++i) on_detected(found[i]);
  }

  /// The received stream restarted: the detector's decimator forgets its history.
  void restart_receive() noexcept { down_.reset(); }

 private:
  std::unique_ptr<tone_source> source_;
  bool digits_ = false;
  std::uint64_t remaining_ = 0;  // 8 kHz samples left of a timed source; 0: untimed
  interpolator_8k_to_48k up_;
  std::unique_ptr<tone_detector> detector_;
  decimator_48k_to_8k down_;
};

}  // namespace mspi::detail
