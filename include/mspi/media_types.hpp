// ptapi - portable TAPI
// mspi/media_types.hpp: TAPI media types, terminal directions and the canonical PCM frame format.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mspi {

/// TAPI media types (`TAPIMEDIATYPE_*`), a bit mask. Values are TAPI's.
enum class media_type : std::uint32_t {
  none = 0,               ///< No media type.
  audio = 0x8,            ///< TAPIMEDIATYPE_AUDIO
  data_modem = 0x10,      ///< TAPIMEDIATYPE_DATAMODEM (not supported by ptapi's MSPs)
  g3fax = 0x20,           ///< TAPIMEDIATYPE_G3FAX (not supported by ptapi's MSPs)
  video = 0x8000,         ///< TAPIMEDIATYPE_VIDEO (not supported by ptapi's MSPs)
  multitrack = 0x10000,   ///< TAPIMEDIATYPE_MULTITRACK (file terminals with several tracks)
};

/// Union of two media type masks. Never throws.
constexpr media_type operator|(media_type a, media_type b) noexcept {
  return static_cast<media_type>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
/// Intersection of two media type masks. Never throws.
constexpr media_type operator&(media_type a, media_type b) noexcept {
  return static_cast<media_type>(static_cast<std::uint32_t>(a) & static_cast<std::uint32_t>(b));
}
/// True when every bit of `wanted` is in `set` (and `wanted` is not empty): ITMediaSupport::QueryMediaType.
constexpr bool contains(media_type set, media_type wanted) noexcept {
  return wanted != media_type::none && (set & wanted) == wanted;
}

/// TAPI's `TERMINAL_DIRECTION`. Directions are stream-relative, as in TAPI: `capture` originates audio
/// sent to the remote party (microphone, file playback), `render` consumes audio received from it
/// (speaker, file recording).
enum class terminal_direction : std::uint8_t {
  capture,           ///< TD_CAPTURE
  render,            ///< TD_RENDER
  bidirectional,     ///< TD_BIDIRECTIONAL
  multitrack_mixed,  ///< TD_MULTITRACK_MIXED
  none,              ///< TD_NONE
};

/// "capture", "render", ...; for messages and logs.
constexpr std::string_view to_string(terminal_direction d) noexcept {
  switch (d) {
    case terminal_direction::capture: return "capture";
    case terminal_direction::render: return "render";
    case terminal_direction::bidirectional: return "bidirectional";
    case terminal_direction::multitrack_mixed: return "multitrack_mixed";
    case terminal_direction::none: return "none";
  }
  return "?";
}

/// The canonical PCM format inside every ptapi media pipeline: 48 kHz, mono, signed 16-bit.
/// Terminals convert at their boundary (files are resampled and downmixed when they are opened).
inline constexpr int pipeline_rate_hz = 48000;
/// Channels in the pipeline format.
inline constexpr int pipeline_channels = 1;

/// Samples in one frame of `ptime_ms` milliseconds at `rate_hz` Hz (mono): 960 for 20 ms at 48 kHz.
/// Computed as `rate_hz / 1000 * ptime_ms`, so exact only for rates that are multiples of 1000 Hz
/// (44100 Hz gives 880, not 882, for 20 ms). Both arguments must be >= 0. Never throws.
constexpr std::size_t samples_per_frame(int ptime_ms, int rate_hz = pipeline_rate_hz) noexcept {
  return static_cast<std::size_t>(rate_hz / 1000 * ptime_ms);
}

/// Largest frame any ptapi pipeline handles: 60 ms at 48 kHz (2880 samples).
inline constexpr std::size_t max_frame_samples = samples_per_frame(60);

/// True for the packet times the Opus pipeline supports: 10, 20, 40 and 60 ms. Never throws.
constexpr bool valid_ptime(std::chrono::milliseconds ptime) noexcept {
  const auto ms = ptime.count();
  return ms == 10 || ms == 20 || ms == 40 || ms == 60;
}

}  // namespace mspi
