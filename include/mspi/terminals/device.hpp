// ptapi - portable TAPI
// mspi/terminals/device.hpp: static audio device terminals (microphone, speakers) over PortAudio.
#pragma once

#include <mspi/detail/sample_ring.hpp>
#include <mspi/error.hpp>
#include <mspi/portaudio.hpp>
#include <mspi/terminal.hpp>

#include <portaudio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
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
    if (self->direction() == terminal_direction::capture) {
      if (input != nullptr) self->ring_.push({static_cast<const std::int16_t*>(input), frames});
    } else if (output != nullptr) {
      self->ring_.pop_padded({static_cast<std::int16_t*>(output), frames});
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
    PaStream* stream = nullptr;
    PaError e = Pa_OpenStream(&stream, capture ? &params : nullptr, capture ? nullptr : &params, pipeline_rate_hz,
                              paFramesPerBufferUnspecified, paNoFlag, &on_audio, this);
    if (e != paNoError) return to_error(e);
    if ((e = Pa_StartStream(stream)) != paNoError) {
      Pa_CloseStream(stream);
      return to_error(e);
    }
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
  }

  portaudio_system pa_;  // first member: destroyed last
  audio_device_info device_;
  detail::sample_ring ring_;
  PaStream* stream_ = nullptr;  // on_stream_active / destructor only
  std::atomic<bool> open_{false};
};

}  // namespace mspi
