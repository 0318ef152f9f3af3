// ptapi - portable TAPI
// mspi/terminals/media_streaming.hpp: the media streaming terminal (CLSID_MediaStreamTerminal), through
// which the application itself supplies or consumes a stream's PCM.
#pragma once

#include <mspi/detail/sample_ring.hpp>
#include <mspi/error.hpp>
#include <mspi/terminal.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

namespace mspi {

/// TAPI's Media Streaming Terminal (CLSID_MediaStreamTerminal, class `terminal_classes::media_streaming`):
/// a dynamic terminal through which the APPLICATION pushes PCM into a stream (capture direction) or
/// pulls the PCM a stream receives (render direction). All audio is 48 kHz mono signed 16-bit.
///
/// A lock-free ring of fixed capacity sits between the application and the MSP's media thread:
/// - capture: the application calls `write`; each `read_frame` takes one frame from the ring and pads
///   it with silence when the application has not supplied enough (`underrun_samples`). What does not
///   fit into a full ring is dropped and counted (`overflow_samples`).
/// - render: each `write_frame` puts the received frame into the ring; the application calls `read`.
///   When the application does not keep up, the NEWEST samples (those that do not fit) are dropped and
///   counted (`overflow_samples`): the ring is single-producer single-consumer, so only the reader may
///   discard old samples.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: SPSC rule: on the application side exactly ONE thread at a time calls `write` (capture) or `read`
/// (render); the media thread is the other side. Counters and identity getters may be read from any
/// thread. No member allocates after construction; none blocks.
class media_streaming_terminal : public terminal {
 public:
  /// Default ring capacity: one second of audio (48000 samples).
  static constexpr std::size_t default_capacity_samples = static_cast<std::size_t>(pipeline_rate_hz);

  /// Creates the terminal and allocates its ring (TAPI: ITTerminalSupport::CreateTerminal with
  /// CLSID_MediaStreamTerminal).
  /// @param direction `terminal_direction::capture` (application -> stream) or `render` (stream -> application).
  /// @param capacity_samples ring size in samples (48 kHz mono), > 0.
  /// @param name the terminal's name (ITTerminal::get_Name).
  /// @throws std::system_error with `tapi_errc::invalid_direction` for another direction, or
  ///         `tapi_errc::invalid_argument` for a zero capacity.
  explicit media_streaming_terminal(terminal_direction direction,
                                    std::size_t capacity_samples = default_capacity_samples,
                                    std::string name = "Media Streaming Terminal")
      : terminal(std::move(name), terminal_classes::media_streaming, terminal_type::dynamic_terminal,
                 media_type::audio, checked_direction(direction)),
        ring_(checked_capacity(capacity_samples)) {}

  /// Capture direction, application side: queues `samples` for the stream (TAPI: the application
  /// submitting filled samples on the MST's IMediaStream/IStreamSample).
  /// @return samples accepted; the rest did not fit and was dropped (counted in `overflow_samples`).
  ///         Always 0 on a render terminal.
  std::size_t write(std::span<const std::int16_t> samples) noexcept {
    return direction() == terminal_direction::capture ? ring_.push(samples) : 0;
  }

  /// Render direction, application side: takes up to `out.size()` received samples, oldest first
  /// (TAPI: the application receiving completed samples from the MST's IMediaStream/IStreamSample).
  /// @return samples written to the front of `out` (0 when none is queued). Always 0 on a capture terminal.
  std::size_t read(std::span<std::int16_t> out) noexcept {
    return direction() == terminal_direction::render ? ring_.pop(out) : 0;
  }

  /// Capture port: the next frame the application wrote (48 kHz mono s16), padded with silence on
  /// underrun; silence on a render terminal. Never blocks or throws.
  void read_frame(std::span<std::int16_t> frame) noexcept override {
    if (direction() == terminal_direction::capture) {
      ring_.pop_padded(frame);
    } else {
      terminal::read_frame(frame);
    }
  }

  /// Render port: queues a received frame (48 kHz mono s16) for the application (overflow drops the
  /// newest samples); ignored on a capture terminal. Never blocks or throws.
  void write_frame(std::span<const std::int16_t> frame) noexcept override {
    if (direction() == terminal_direction::render) ring_.push(frame);
  }

  /// Ring size in samples (48 kHz mono). Never throws.
  [[nodiscard]] std::size_t capacity() const noexcept { return ring_.capacity(); }
  /// Samples dropped because the ring was full (capture: by `write`; render: by `write_frame`).
  [[nodiscard]] std::uint64_t overflow_samples() const noexcept { return ring_.overflow_samples(); }
  /// Capture only: silent samples `read_frame` inserted because the application had supplied too little.
  [[nodiscard]] std::uint64_t underrun_samples() const noexcept { return ring_.underrun_samples(); }

 private:
  static terminal_direction checked_direction(terminal_direction d) {
    if (d != terminal_direction::capture && d != terminal_direction::render)
      throw_if(tapi_errc::invalid_direction, "media_streaming_terminal");
    return d;
  }
  static std::size_t checked_capacity(std::size_t n) {
    if (n == 0) throw_if(tapi_errc::invalid_argument, "media_streaming_terminal");
    return n;
  }

  detail::sample_ring ring_;
};

}  // namespace mspi
