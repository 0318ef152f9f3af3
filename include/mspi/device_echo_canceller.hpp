// ptapi - portable TAPI
// mspi/device_echo_canceller.hpp: the echo canceller shared by a microphone and a speakers device
// terminal: a far-end reference FIFO fed by the render callback, and an `audio_processor` run on
// fixed frames in the capture callback (part of the `devices` component).
#pragma once

#include <mspi/audio_processing.hpp>
#include <mspi/detail/sample_ring.hpp>
#include <mspi/media_types.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mspi {

/// Echo cancellation between one render device (the far end being played: the reference) and one
/// capture device (the microphone), run in PortAudio's callbacks at 48 kHz mono s16. A ptapi extension
/// (TAPI left echo control to the sound driver); `enable_echo_cancellation` in
/// `<mspi/terminals/device.hpp>` attaches one to a microphone and a speakers terminal.
///
/// Why in the device callbacks and not on the MSP's media thread: the media thread paces frames by its
/// own clock and the terminals' rings absorb the difference to the device clock, so the delay between a
/// frame written for playback and its echo read from the microphone wanders with the rings' fill.
/// At the device callbacks the reference is exactly what went to the DAC (silence on underrun
/// included) and the capture is exactly what came from the ADC; with both directions on one sound card
/// (one clock) the pairing of reference and capture samples stays fixed, which the adaptive filter needs.
///
/// Alignment (explicit `speex_echo_cancellation` with our own FIFO rather than speexdsp's
/// speex_echo_playback/speex_echo_capture, whose two-frame internal buffer assumes equal, regular
/// callback sizes and is not safe across two threads): the render callback appends what it played to
/// a lock-free SPSC FIFO (1 s); the capture callback cuts its input into `frame_ms` frames and, per
/// frame, takes one frame of reference. The reference taken is the oldest in the FIFO, so its sample n
/// pairs with capture sample n for as long as neither side starves or runs ahead; the echo then arrives
/// (output + acoustic + input latency) later, which the filter models if shorter than `tail_ms`.
/// `reference_delay_ms` keeps that many samples back (the known part of the delay). When the FIFO holds
/// more than `reference_delay_ms + reference_slack_ms` beyond the frame (a playback stream started
/// early, clock drift between two devices), the excess oldest samples are dropped (`dropped_reference_samples`);
/// when it holds less than a frame while playback runs, the frame is completed with silence
/// (`reference_underrun_samples`). Either shifts the pairing and the filter re-adapts. The captured
/// audio is delayed by up to one frame (accumulation) plus the processor's own frame.
///
/// @par Thread Safety
/// `on_playback` is called by one thread at a time (the render callback), `on_capture` by one thread at
/// a time (the capture callback); the two may run concurrently. `start_capture`/`stop_capture` only
/// while the capture callback does not run (before its stream starts, after it stopped);
/// `set_playback_active` from any thread. Counters: any thread. No member allocates after construction.
class device_echo_canceller {
 public:
  /// Reference FIFO capacity in samples: 1 s at 48 kHz.
  static constexpr std::size_t reference_capacity = pipeline_rate_hz;

  /// Creates the processor (48 kHz) and all buffers.
  /// @throws std::system_error as `audio_processor`'s constructor (`tapi_errc::invalid_argument` for
  ///         settings that do not validate); std::bad_alloc.
  explicit device_echo_canceller(const audio_processing_settings& settings)
      : processor_(settings, pipeline_rate_hz),
        reference_(reference_capacity),
        capture_frame_(processor_.frame_samples()),
        reference_frame_(processor_.frame_samples()),
        out_frame_(processor_.frame_samples()),
        delay_(static_cast<std::size_t>(pipeline_rate_hz) * settings.reference_delay_ms / 1000),
        slack_(static_cast<std::size_t>(pipeline_rate_hz) * settings.reference_slack_ms / 1000) {}

  /// The settings in use. Never throws.
  [[nodiscard]] const audio_processing_settings& settings() const noexcept { return processor_.settings(); }
  /// Samples per processing frame (480 for 10 ms). Never throws.
  [[nodiscard]] std::size_t frame_samples() const noexcept { return processor_.frame_samples(); }

  /// Render side: `played` (48 kHz mono s16) has just been handed to the output device. Kept as
  /// reference only while capture runs. Render callback thread; never blocks, allocates or throws.
  void on_playback(std::span<const std::int16_t> played) noexcept {
    if (capture_active_.load(std::memory_order_acquire)) reference_.push(played);
  }

  /// Capture side: cleans `captured` (48 kHz mono s16, any length) and hands each finished frame
  /// (`frame_samples()` samples) to `sink(std::span<const std::int16_t>)`; a partial frame waits for
  /// the next call. Capture callback thread; never blocks, allocates or throws (`sink` must not either).
  template <class Sink>
  void on_capture(std::span<const std::int16_t> captured, Sink&& sink) noexcept {
    const std::size_t n = capture_frame_.size();
    while (!captured.empty()) {
      const std::size_t take = std::min(n - filled_, captured.size());
      std::copy_n(captured.begin(), take, capture_frame_.begin() + static_cast<std::ptrdiff_t>(filled_));
      filled_ += take;
      captured = captured.subspan(take);
      if (filled_ < n) break;
      filled_ = 0;
      take_reference();
      processor_.process(capture_frame_, reference_frame_, out_frame_);
      frames_.fetch_add(1, std::memory_order_relaxed);
      sink(std::span<const std::int16_t>(out_frame_));
    }
  }

  /// Before the capture stream starts: forgets a partial frame and stale reference, then lets
  /// `on_playback` queue reference. The learnt echo path is kept. Never throws.
  void start_capture() noexcept {
    filled_ = 0;
    while (reference_.pop(reference_frame_) > 0) {
    }
    capture_active_.store(true, std::memory_order_release);
  }
  /// After the capture stream stopped: `on_playback` stops queueing. Never throws.
  void stop_capture() noexcept { capture_active_.store(false, std::memory_order_release); }
  /// Whether the render stream runs: while it does not, a short reference is silence (nothing plays,
  /// nothing echoes) and not counted as underrun. Any thread; never throws.
  void set_playback_active(bool active) noexcept { playback_active_.store(active, std::memory_order_release); }

  /// Frames processed so far. Any thread.
  [[nodiscard]] std::uint64_t frames_processed() const noexcept { return frames_.load(std::memory_order_relaxed); }
  /// Reference samples dropped to realign (the FIFO ran more than delay + slack ahead). Any thread.
  [[nodiscard]] std::uint64_t dropped_reference_samples() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  /// Silent reference samples inserted while playback ran (the FIFO was short). Any thread.
  [[nodiscard]] std::uint64_t reference_underrun_samples() const noexcept { return underrun_.load(std::memory_order_relaxed); }

 private:
  // Capture thread: fills reference_frame_ with the next frame of reference (see the class comment).
  void take_reference() noexcept {
    const std::size_t n = reference_frame_.size();
    std::size_t queued = reference_.queued_from_consumer();
    if (queued > delay_ + n + slack_) {
      std::size_t excess = queued - delay_ - n;
      dropped_.fetch_add(excess, std::memory_order_relaxed);
      while (excess > 0) {
        const std::size_t got = reference_.pop(std::span(reference_frame_).first(std::min(excess, n)));
        if (got == 0) break;
        excess -= got;
      }
      queued = reference_.queued_from_consumer();
    }
    const std::size_t usable = std::min(n, queued > delay_ ? queued - delay_ : 0);
    const std::size_t missing = n - usable;  // silence first, so the samples stay in time order
    std::fill_n(reference_frame_.begin(), missing, std::int16_t{0});
    reference_.pop(std::span(reference_frame_).subspan(missing, usable));
    if (missing > 0 && playback_active_.load(std::memory_order_acquire))
      underrun_.fetch_add(missing, std::memory_order_relaxed);
  }

  audio_processor processor_;
  detail::sample_ring reference_;
  std::vector<std::int16_t> capture_frame_;    // capture thread
  std::vector<std::int16_t> reference_frame_;  // capture thread
  std::vector<std::int16_t> out_frame_;        // capture thread
  std::size_t filled_ = 0;                     // capture thread: samples in capture_frame_
  std::size_t delay_;
  std::size_t slack_;
  std::atomic<bool> capture_active_{false};
  std::atomic<bool> playback_active_{false};
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> underrun_{0};
};

}  // namespace mspi
