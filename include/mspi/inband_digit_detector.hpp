// ptapi - portable TAPI
// mspi/inband_digit_detector.hpp: the hook through which an MSP runs in-band DTMF detection on a call's
// decoded received audio. The interface only; an implementation (spandsp's dtmf_rx) is the optional `dsp`
// component's, mspi/dsp/dtmf_detector.hpp, so that a program that does not include it needs no spandsp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

namespace mspi {

/// A detector of DTMF digits sent as audio (in-band, ITU-T Q.23/Q.24) in a call's received audio, for
/// peers (typically G.711 ones) that do not send RFC 4733 telephone-events. The RTP/Opus MSP feeds it
/// the decoded, played-out audio of the call (the render path, after the jitter buffer and
/// concealment), decimated to 8 kHz, one frame (ptime) per call; the digits it returns are reported as
/// `channel_message_type::inband_digit_detected` (TAPI: LINE_MONITORDIGITS / ITDigitDetectionEvent with
/// LINEDIGITMODE_DTMF). Created once per call, when the call's media engine is made (call setup), so
/// that whatever state it allocates is allocated then: `process` and `reset` run on the media thread on
/// every frame and must neither allocate nor throw.
///
/// Thread safety: one object per call, used by the call's media thread only.
class inband_digit_detector {
 public:
  virtual ~inband_digit_detector() = default;

  /// Analyses `pcm`: 8 kHz mono linear samples (any count; the MSP passes one frame: 80 samples per
  /// 10 ms of ptime). Writes each digit whose tone ended or was recognised during these samples to
  /// `digits` (characters `0-9 * # A-D`, one per key press, at most `digits.size()`; more are kept for
  /// the next call) and returns how many it wrote. Never throws, never allocates.
  virtual std::size_t process(std::span<const std::int16_t> pcm, std::span<char> digits) noexcept = 0;

  /// Forgets any tone in progress (the received stream restarted: a new codec or SSRC). Never throws.
  virtual void reset() noexcept = 0;
};

/// Makes one `inband_digit_detector` per call (called on the thread that creates the call's media, at
/// call setup). May throw (std::bad_alloc, or the detector's own construction errors: the call's
/// creation then fails with them). An empty function means no in-band detection (RFC 4733 only).
using inband_digit_detector_factory = std::function<std::unique_ptr<inband_digit_detector>()>;

}  // namespace mspi
