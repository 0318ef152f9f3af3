// ptapi - portable TAPI
// mspi/tones.hpp: tones on calls (ITLegacyCallMediaControl(2)::GenerateTone, GenerateCustomTones,
// DetectTones) and in-band DTMF generation: the requests, and the hooks through which an MSP makes and
// runs tone generators and detectors. The interfaces only; the implementations (spandsp's tone_gen,
// super_tone_rx and dtmf_tx) are the optional `dsp` component's, mspi/dsp/tone_media.hpp, so that a
// program that does not include it needs no spandsp.
#pragma once

#include <mspi/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

namespace mspi {

/// TAPI_TONEMODE (= LINETONEMODE_*): the standard tones `generate_tone` plays. Their frequencies and
/// cadences are the tone plan's of the `dsp` factory (mspi::dsp::tone_plan; the US plan by default).
enum class tone_mode : std::uint8_t {
  none = 0,         ///< Stops the tone being generated (TAPI: GenerateTone(0, ...) cancels).
  ringback = 0x2,   ///< TTM_RINGBACK: ringing tone (US: 440+480 Hz, 2 s on, 4 s off).
  busy = 0x4,       ///< TTM_BUSY: busy tone (US: 480+620 Hz, 0.5 s on, 0.5 s off).
  beep = 0x8,       ///< TTM_BEEP: one beep (ptapi: 1000 Hz, 250 ms, -13 dBm0), e.g. before a recording.
  billing = 0x10,   ///< TTM_BILLING: billing-information tone (ptapi: 941+1477 Hz, 500 ms, -13 dBm0, once).
};

/// TAPI_CUSTOMTONE (ITCustomTone): one frequency with its cadence. The tones of one request sound
/// together (summed), each with its own cadence. Units: Hz, ms, dBm0.
struct custom_tone {
  int frequency_hz = 0;     ///< dwFrequency: 50..3900 Hz (tones are made at 8 kHz).
  int cadence_on_ms = 0;    ///< dwCadenceOn: tone time of each cycle, 0..60000 ms (0 with off 0: continuous).
  int cadence_off_ms = 0;   ///< dwCadenceOff: silence of each cycle, 0..60000 ms.
  /// dwVolume's role, in dBm0 (-60..0; -13 is a typical signalling level). TAPI's linear 0..0xFFFF scale
  /// maps to 20·log10(volume / 65535) dBm0.
  int volume_dbm0 = -13;
};

/// TAPI_DETECTTONE (ITDetectTone): a tone to monitor. It is detected when its frequencies have all been
/// present for `duration_ms`; each detection raises one tone event with `app_specific`.
struct detect_tone {
  std::uint32_t app_specific = 0;  ///< dwAppSpecific: returned in the tone event (ITToneDetectionEvent::get_AppSpecific).
  int duration_ms = 0;             ///< dwDuration: least time the tone must last, 40..60000 ms.
  /// dwFrequency1..3, Hz (50..3900; 0: unused). The first is required; ptapi detects at most two
  /// frequencies per tone (LINEDEVCAPS::MonitorToneMaxNumFreq = 2): a third one is `invalid_argument`.
  int frequencies_hz[3] = {0, 0, 0};
};

/// Largest number of tones in one GenerateCustomTones request (LINEDEVCAPS::GenerateToneMaxNumFreq).
inline constexpr std::size_t max_custom_tones = 4;
/// Largest number of tones monitored at once (LINEDEVCAPS::MonitorToneMaxNumEntries).
inline constexpr std::size_t max_detect_tones = 8;

/// A tone generation request (TSPI_lineGenerateTone): a standard `mode`, or (mode none and `custom` not
/// empty) custom tones; mode none with no custom tones stops the tone being generated.
struct tone_generation {
  tone_mode mode = tone_mode::none;  ///< The standard tone, or none.
  std::vector<custom_tone> custom;   ///< Custom tones (only with mode none), at most `max_custom_tones`.
  /// How long the tone sounds, 0..3600000 ms (0: until stopped by another request, tone_mode none, or the
  /// call's media stopping; a beep or billing tone also ends after its single burst).
  std::chrono::milliseconds duration{0};
};

/// Checks `g` against the ranges above. Returns `tapi_errc::invalid_mode` for a mode outside
/// `tone_mode`, `tapi_errc::invalid_argument` for custom tones with a mode, too many tones, or a
/// frequency, cadence, volume or duration out of range; else success. Pure; never throws.
inline std::error_code validate(const tone_generation& g) noexcept {
  switch (g.mode) {
    case tone_mode::none: case tone_mode::ringback: case tone_mode::busy: case tone_mode::beep: case tone_mode::billing: break;
    default: return tapi_errc::invalid_mode;
  }
  if ((g.mode != tone_mode::none && !g.custom.empty()) || g.custom.size() > max_custom_tones ||
      g.duration.count() < 0 || g.duration.count() > 3600000)
    return tapi_errc::invalid_argument;
  for (const auto& t : g.custom)
    if (t.frequency_hz < 50 || t.frequency_hz > 3900 || t.cadence_on_ms < 0 || t.cadence_on_ms > 60000 ||
        t.cadence_off_ms < 0 || t.cadence_off_ms > 60000 || t.volume_dbm0 < -60 || t.volume_dbm0 > 0)
      return tapi_errc::invalid_argument;
  return {};
}

/// Checks a DetectTones list: at most `max_detect_tones` entries (an empty list stops detection), each
/// with a first frequency, at most two, each 50..3900 Hz, and a duration of 40..60000 ms. Returns
/// `tapi_errc::invalid_argument` otherwise. Pure; never throws.
inline std::error_code validate(std::span<const detect_tone> tones) noexcept {
  if (tones.size() > max_detect_tones) return tapi_errc::invalid_argument;
  for (const auto& t : tones) {
    const int f1 = t.frequencies_hz[0], f2 = t.frequencies_hz[1], f3 = t.frequencies_hz[2];
    if (f1 < 50 || f1 > 3900 || (f2 != 0 && (f2 < 50 || f2 > 3900)) || f3 != 0 || t.duration_ms < 40 ||
        t.duration_ms > 60000)
      return tapi_errc::invalid_argument;
  }
  return {};
}

/// A source of audio sent in place of a call's capture: a tone, or in-band DTMF digits. Made by a
/// `tone_factory` on the thread that asks for it (an application request); then run by the call's media
/// thread, which calls `generate` once per frame: it must neither allocate nor throw.
///
/// Thread safety: used by one thread at a time (the call's media thread once handed over).
class tone_source {
 public:
  virtual ~tone_source() = default;
  /// Writes the next `pcm.size()` samples (8 kHz mono linear) and returns how many it wrote; fewer than
  /// `pcm.size()` (0 included) once the source has ended (a non-repeating tone, the last digit). Never
  /// throws, never allocates; `pcm.size()` is at most 960 (120 ms).
  virtual std::size_t generate(std::span<std::int16_t> pcm) noexcept = 0;
};

/// A detector of the tones of one DetectTones list in a call's decoded received audio (TSPI_lineMonitorTones).
/// The MSP feeds it the played-out audio decimated to 8 kHz, one frame (ptime) per call, leaving out
/// frames that hold concealment. Made by a `tone_factory` when the list is set; `process` runs on the
/// media thread and must neither allocate nor throw.
///
/// Thread safety: used by one thread at a time (the call's media thread once handed over).
class tone_detector {
 public:
  virtual ~tone_detector() = default;
  /// Analyses `pcm` (8 kHz mono samples, at most 960) and writes the `detect_tone::app_specific` of each
  /// tone detected during it to `detected` (at most `detected.size()`); returns how many it wrote. A tone
  /// that keeps sounding is reported once; again after it stopped and came back. Never throws or allocates.
  virtual std::size_t process(std::span<const std::int16_t> pcm, std::span<std::uint32_t> detected) noexcept = 0;
};

/// The makers an MSP uses for tones on calls (`rtp_opus_config::tones`; from the optional `dsp`
/// component: `cfg.tones = mspi::dsp::tone_media();`). Each may throw std::bad_alloc (the request then
/// fails with it). An empty member means the feature is not available: the request fails with
/// `tapi_errc::not_supported` (generate/detect), or digits go as RFC 4733 only (`digits`).
struct tone_factory {
  /// Makes the source of a validated, non-stopping `tone_generation` (its `duration` is applied by the MSP).
  std::function<std::unique_ptr<tone_source>(const tone_generation&)> generator;
  /// Makes the detector of a validated, non-empty DetectTones list.
  std::function<std::unique_ptr<tone_detector>(std::span<const detect_tone>)> detector;
  /// Makes the source of in-band DTMF `digits` (`0-9 * # A-D`, checked), for GenerateDigits towards a peer
  /// that did not negotiate RFC 4733 telephone-event: each digit as audio for `duration` and as long a
  /// pause after it (`min/max_digit_duration_ms`, checked), or 80 ms on and 80 ms off when `duration` is 0.
  std::function<std::unique_ptr<tone_source>(std::string_view digits, std::chrono::milliseconds duration)> digits;
};

}  // namespace mspi
