// ptapi - portable TAPI
// mspi/terminals/device.hpp: static audio device terminals (microphone, speakers) over PortAudio.
#pragma once

#include <mspi/detail/sample_ring.hpp>
#include <mspi/device_echo_canceller.hpp>
#include <mspi/error.hpp>
#include <mspi/portaudio.hpp>
#include <mspi/terminal.hpp>

#include <portaudio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace mspi {

/// A static terminal wrapping one PortAudio device: a microphone (capture, class
/// `terminal_classes::microphone`) or speakers (render, class `terminal_classes::speakers`). TAPI: the
/// audio terminals ITTerminalSupport::EnumerateStaticTerminals and GetDefaultStaticTerminal return.
///
/// The device is opened in callback mode at 48 kHz, mono, paInt16, with a suggested latency of 10 ms,
/// when media starts flowing (`on_stream_active(true)`) and closed when it stops. A lock-free SPSC ring
/// (see `detail::sample_ring`) sits between PortAudio's callback thread and the MSP's media thread:
/// - capture: the callback pushes what the device captured (a full ring drops the newest samples,
///   `overflow_samples`); `read_frame` pops one frame and pads it with silence when the ring is short
///   (`underrun_samples`).
/// - render: `write_frame` pushes (a full ring drops the newest samples, `overflow_samples`); the
///   callback pops, playing silence when the ring is short (`underrun_samples`).
/// The device never sets the media pace: the MSP's clock does, and the ring absorbs the difference.
/// While the device is closed, `read_frame` gives silence and `write_frame` discards.
/// With an echo canceller attached (`attach_echo_canceller`, `enable_echo_cancellation`), the render
/// callback also hands what it played to the canceller as reference, and the capture callback pushes
/// cleaned 10/20 ms frames instead of the raw input (see `device_echo_canceller`).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: `read_frame`, `write_frame` and `on_stream_active` follow
/// `terminal`'s rules (one call at a time,
/// serialised by the selecting stream); none allocates, read_frame/write_frame never block, and
/// on_stream_active blocks only while PortAudio opens or stops the device. `queued_samples` belongs
/// to the same serialised caller; the other getters may be called from any thread.
class audio_device_terminal : public terminal {
 public:
  /// Default ring capacity in samples: four 60 ms frames (240 ms at 48 kHz).
  static constexpr std::size_t default_ring_samples = 4 * max_frame_samples;
  /// Suggested device latency in seconds (PortAudio's suggestedLatency): 10 ms.
  static constexpr double suggested_latency_s = 0.010;

  /// Wraps `device` (from `enumerate_audio_devices` under `pa`) in `direction`.
  /// @param pa the PortAudio reference this terminal keeps for its lifetime (so device indices stay valid).
  /// @param device the device; its name is kept and checked again when the device is opened.
  /// @param direction capture (needs input channels) or render (needs output channels).
  /// @param ring_samples ring capacity in samples (48 kHz mono), >= one 60 ms frame.
  /// @throws std::system_error with `tapi_errc::invalid_argument` for an empty `pa` or a ring smaller
  ///         than `max_frame_samples`; `tapi_errc::invalid_direction` when the device has no channel in
  ///         that direction (or the direction is neither capture nor render).
  audio_device_terminal(portaudio_system pa, audio_device_info device, terminal_direction direction,
                        std::size_t ring_samples = default_ring_samples)
      : terminal(device.name + " (" + device.host_api + ")", class_for(device, direction),
                 terminal_type::static_terminal, media_type::audio, direction),
        pa_(std::move(pa)),
        device_(std::move(device)),
        ring_(ring_samples) {
    if (!pa_.valid() || ring_samples < max_frame_samples)
      throw_if(tapi_errc::invalid_argument, "audio_device_terminal");
  }
  ~audio_device_terminal() override { close_stream(); }

  /// The wrapped device (ptapi addition). Never throws.
  [[nodiscard]] const audio_device_info& device() const noexcept { return device_; }
  /// True while the device is open (media is flowing). Lock-free; never throws.
  [[nodiscard]] bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }
  /// Samples waiting in the ring (48 kHz mono): the latency the ring adds. Only from the caller of
  /// the frame calls (the ring's producer for render, its consumer for capture).
  [[nodiscard]] std::size_t queued_samples() const noexcept {
    return direction() == terminal_direction::capture ? ring_.queued_from_consumer() : ring_.queued_from_producer();
  }
  /// Samples dropped because the ring was full (capture: by the device callback; render: by `write_frame`).
  /// Lock-free; any thread.
  [[nodiscard]] std::uint64_t overflow_samples() const noexcept { return ring_.overflow_samples(); }
  /// Silent samples inserted because the ring was short (capture: by `read_frame`; render: by the callback).
  /// Lock-free; any thread.
  [[nodiscard]] std::uint64_t underrun_samples() const noexcept { return ring_.underrun_samples(); }

  /// Attaches `canceller` (shared with the terminal of the other direction), or detaches with null.
  /// A ptapi extension: TAPI has no echo control on its terminals.
  /// @return `tapi_errc::not_stopped` while the device is open (media flowing): attach before the call's
  ///         streams start or after they stopped.
  /// @par Thread Safety
  /// As `on_stream_active` (the callbacks use the canceller only while the device is open).
  std::error_code attach_echo_canceller(std::shared_ptr<device_echo_canceller> canceller) noexcept {
    if (is_open() || stream_ != nullptr) return tapi_errc::not_stopped;
    canceller_ = std::move(canceller);
    return {};
  }
  /// The attached echo canceller, or null. Same thread rules as `attach_echo_canceller`.
  [[nodiscard]] const std::shared_ptr<device_echo_canceller>& echo_canceller() const noexcept { return canceller_; }

  /// Capture port: one frame of captured audio (48 kHz mono s16), silence-padded when short or closed.
  /// Never blocks or throws.
  void read_frame(std::span<std::int16_t> frame) noexcept override {
    if (direction() == terminal_direction::capture && is_open()) {
      ring_.pop_padded(frame);
    } else {
      terminal::read_frame(frame);
    }
  }

  /// Render port: queues a frame (48 kHz mono s16) for the device (discarded while closed, or on a
  /// capture terminal). Never blocks or throws.
  void write_frame(std::span<const std::int16_t> frame) noexcept override {
    if (direction() == terminal_direction::render && is_open()) ring_.push(frame);
  }

  /// Opens and starts (`true`) or stops and closes (`false`) the device. Idempotent. Holds PortAudio's
  /// API lock (`portaudio_system::lock_api`) while it does.
  /// @return `tapi_errc::no_device` when the device is gone (its index now names another device) or
  ///         PortAudio reports it invalid or unavailable; `tapi_errc::operation_failed` when PortAudio
  ///         cannot open or start it for another reason (e.g. 48 kHz mono s16 unsupported).
  std::error_code on_stream_active(bool active) noexcept override {
    if (!active) {
      close_stream();
      return {};
    }
    return is_open() ? std::error_code{} : open_stream();
  }

 private:
  static std::string_view class_for(const audio_device_info& d, terminal_direction dir) {
    if (dir == terminal_direction::capture && d.max_input_channels > 0) return terminal_classes::microphone;
    if (dir == terminal_direction::render && d.max_output_channels > 0) return terminal_classes::speakers;
    throw_if(tapi_errc::invalid_direction, "audio_device_terminal");
    return {};
  }

  static std::error_code to_error(PaError e) noexcept {
    return (e == paInvalidDevice || e == paDeviceUnavailable) ? std::error_code(tapi_errc::no_device)
                                                              : std::error_code(tapi_errc::operation_failed);
  }

  static int on_audio(const void* input, void* output, unsigned long frames, const PaStreamCallbackTimeInfo* time,
                      PaStreamCallbackFlags flags, void* user) noexcept {
    (void)time;
    (void)flags;
    auto* self = static_cast<audio_device_terminal*>(user);
    device_echo_canceller* aec = self->active_canceller_;
    if (self->direction() == terminal_direction::capture) {
      if (input == nullptr) return paContinue;
      const std::span<const std::int16_t> in(static_cast<const std::int16_t*>(input), frames);
      if (aec != nullptr) {
        aec->on_capture(in, [self](std::span<const std::int16_t> clean) { self->ring_.push(clean); });
      } else {
        self->ring_.push(in);
      }
    } else if (output != nullptr) {
      const std::span<std::int16_t> out(static_cast<std::int16_t*>(output), frames);
      self->ring_.pop_padded(out);
      if (aec != nullptr) aec->on_playback(out);
    }
    return paContinue;
  }

  std::error_code open_stream() noexcept {
    const auto lock = pa_.lock_api();
    const PaDeviceInfo* info = Pa_GetDeviceInfo(device_.index);
    if (info == nullptr || info->name == nullptr || device_.name != info->name) return tapi_errc::no_device;
    ring_.reset();
    PaStreamParameters params{};
    params.device = device_.index;
    params.channelCount = 1;
    params.sampleFormat = paInt16;
    params.suggestedLatency = suggested_latency_s;
    const bool capture = direction() == terminal_direction::capture;
    active_canceller_ = canceller_.get();  // read by the callback only while the stream runs
    if (active_canceller_ != nullptr && capture) active_canceller_->start_capture();
    PaStream* stream = nullptr;
    PaError e = Pa_OpenStream(&stream, capture ? &params : nullptr, capture ? nullptr : &params, pipeline_rate_hz,
                              paFramesPerBufferUnspecified, paNoFlag, &on_audio, this);
    if (e != paNoError) return stream_failed(e);
    if ((e = Pa_StartStream(stream)) != paNoError) {
      Pa_CloseStream(stream);
      return stream_failed(e);
    }
    if (active_canceller_ != nullptr && !capture) active_canceller_->set_playback_active(true);
    stream_ = stream;
    open_.store(true, std::memory_order_release);
    return {};
  }

  void close_stream() noexcept {
    if (stream_ == nullptr) return;
    open_.store(false, std::memory_order_release);
    const auto lock = pa_.lock_api();
    Pa_StopStream(stream_);
    Pa_CloseStream(stream_);
    stream_ = nullptr;
    ring_.reset();
    stop_canceller();
  }

  // After a failed open or a close (callback not running): the canceller side of this direction stops.
  void stop_canceller() noexcept {
    if (active_canceller_ == nullptr) return;
    if (direction() == terminal_direction::capture) {
      active_canceller_->stop_capture();
    } else {
      active_canceller_->set_playback_active(false);
    }
    active_canceller_ = nullptr;
  }

  std::error_code stream_failed(PaError e) noexcept {
    stop_canceller();
    return to_error(e);
  }

  portaudio_system pa_;  // first member: destroyed last
  audio_device_info device_;
  detail::sample_ring ring_;
  PaStream* stream_ = nullptr;  // on_stream_active / destructor only
  std::shared_ptr<device_echo_canceller> canceller_;     // attach_echo_canceller (while closed)
  device_echo_canceller* active_canceller_ = nullptr;    // set before the stream starts, cleared after it stopped
  std::atomic<bool> open_{false};
};

/// Cancels the echo of `speakers` in `mic` (and suppresses noise, controls gain as `settings` say):
/// attaches one new `device_echo_canceller` to both terminals. A ptapi extension (TAPI left echo control
/// to the sound driver). Call while both are closed, e.g. before selecting them on a call.
/// @param mic a capture `audio_device_terminal`; @param speakers a render one (usually the same sound card:
///        two cards have two clocks, which the canceller follows only by realigning now and then).
/// @param ec cleared on success; `tapi_errc::invalid_direction` when `mic` is not capture or `speakers`
///        not render; `tapi_errc::invalid_argument` when `settings.validate()` is false;
///        `tapi_errc::not_stopped` when either device is open; `tapi_errc::not_enough_memory`.
/// @return the canceller (for its counters), or null on error.
/// @par Thread Safety
/// As `audio_device_terminal::attach_echo_canceller` on both terminals.
inline std::shared_ptr<device_echo_canceller> enable_echo_cancellation(audio_device_terminal& mic,
                                                                        audio_device_terminal& speakers,
                                                                        const audio_processing_settings& settings,
                                                                        std::error_code& ec) noexcept {
  ec.clear();
  if (mic.direction() != terminal_direction::capture || speakers.direction() != terminal_direction::render) {
    ec = tapi_errc::invalid_direction;
    return nullptr;
  }
  if (!settings.validate()) {
    ec = tapi_errc::invalid_argument;
    return nullptr;
  }
  if (mic.is_open() || speakers.is_open()) {
    ec = tapi_errc::not_stopped;
    return nullptr;
  }
  std::shared_ptr<device_echo_canceller> canceller;
  try {
    canceller = std::make_shared<device_echo_canceller>(settings);
  } catch (...) {
    ec = tapi_errc::not_enough_memory;
    return nullptr;
  }
  if ((ec = mic.attach_echo_canceller(canceller))) return nullptr;
  if ((ec = speakers.attach_echo_canceller(canceller))) {
    mic.attach_echo_canceller(nullptr);
    return nullptr;
  }
  return canceller;
}

}  // namespace mspi
