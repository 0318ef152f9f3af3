// ptapi - portable TAPI
// mspi/dsp/dtmf_detector.hpp: in-band DTMF detection with spandsp's dtmf_rx (the optional `dsp`
// component: link ptapi::dsp, which brings spandsp and defines PTAPI_WITH_DSP=1).
#pragma once

#include <mspi/inband_digit_detector.hpp>

#include <spandsp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>

namespace mspi::dsp {

/// Settings of spandsp's DTMF receiver (`dtmf_rx_parms`). nullopt keeps spandsp's own value (its
/// defaults follow ITU-T Q.24's acceptance limits for 8 kHz telephone audio).
struct dtmf_detector_options {
  /// Lowest accepted level of the tones, in dBm0 (-98..0).
  std::optional<int> threshold_dbm0;
  /// Largest accepted twist (high-group tone louder than the low-group one), in dB (0..20; Q.24: 8 dB
  /// in most countries).
  std::optional<int> twist_db;
  /// Largest accepted reverse twist (low-group tone louder than the high-group one), in dB (0..20;
  /// Q.24: 4 to 8 dB).
  std::optional<int> reverse_twist_db;
  /// Filters the 350/440 Hz North American dial tone out before detection (spandsp's dial-tone notch),
  /// for digits dialled over a dial tone. Off by default.
  bool filter_dial_tone = false;
};

/// In-band DTMF detector of one call on spandsp's `dtmf_rx` (Goertzel filters, ITU-T Q.23/Q.24
/// acceptance: two tones of 697..941 / 1209..1633 Hz of at least ~40 ms). A digit is reported once
/// per key press, when it has been recognised (about 40 ms into its tone), so a long press is one
/// digit (TAPI's LINEDIGITMODE_DTMF). The receiver state (about 1 kB) is allocated by the constructor
/// (call setup); `process` allocates nothing.
///
/// Errors: the constructor throws std::bad_alloc when spandsp cannot allocate its state.
/// Thread safety: one object per call, one thread at a time (the call's media thread).
class dtmf_detector final : public inband_digit_detector {
 public:
  /// Creates the receiver with `options` (see `dtmf_detector_options`). Throws std::bad_alloc.
  explicit dtmf_detector(const dtmf_detector_options& options = {}) : options_(options), rx_(make(options)) {}

  /// Feeds `pcm` (8 kHz mono samples) to `dtmf_rx` and returns the digits it recognised, at most
  /// `digits.size()` (more stay queued in spandsp, up to 128). Never throws or allocates.
  std::size_t process(std::span<const std::int16_t> pcm, std::span<char> digits) noexcept override {
    if (!pcm.empty()) dtmf_rx(rx_.get(), pcm.data(), static_cast<int>(pcm.size()));
    std::array<char, 33> got{};  // dtmf_rx_get may write a terminating NUL behind the digits
    const auto max = static_cast<int>(std::min<std::size_t>(digits.size(), got.size() - 1));
    const std::size_t n = max > 0 ? dtmf_rx_get(rx_.get(), got.data(), max) : 0;
    std::copy_n(got.data(), n, digits.data());
    return n;
  }

  /// Restarts the receiver (a tone in progress is forgotten; undelivered digits too). Never throws.
  void reset() noexcept override {
    dtmf_rx_init(rx_.get(), nullptr, nullptr);  // re-initialises the state in place (no allocation)
    apply(rx_.get(), options_);
  }

 private:
  struct release {
    void operator()(dtmf_rx_state_t* s) const noexcept { dtmf_rx_free(s); }
  };
  static void apply(dtmf_rx_state_t* s, const dtmf_detector_options& o) noexcept {
    dtmf_rx_parms(s, o.filter_dial_tone ? 1 : 0, o.twist_db.value_or(-1), o.reverse_twist_db.value_or(-1),
                  o.threshold_dbm0.value_or(-99));
  }
  static std::unique_ptr<dtmf_rx_state_t, release> make(const dtmf_detector_options& o) {
    std::unique_ptr<dtmf_rx_state_t, release> s(dtmf_rx_init(nullptr, nullptr, nullptr));
    if (!s) throw std::bad_alloc();
    apply(s.get(), o);
    return s;
  }

  dtmf_detector_options options_;
  std::unique_ptr<dtmf_rx_state_t, release> rx_;
};

/// The factory to put in `rtp_opus_config::inband_digits` to detect in-band DTMF on every call of an
/// address (one `dtmf_detector` with `options` per call, made at call setup):
/// `cfg.inband_digits = mspi::dsp::dtmf_detection();`. Throws std::bad_alloc only when called (per call).
inline inband_digit_detector_factory dtmf_detection(dtmf_detector_options options = {}) {
  return [options]() -> std::unique_ptr<inband_digit_detector> { return std::make_unique<dtmf_detector>(options); };
}

}  // namespace mspi::dsp
