// ptapi - portable TAPI
// mspi/dsp/tone_media.hpp: tones on calls with spandsp (the optional `dsp` component: link ptapi::dsp,
// which brings spandsp and defines PTAPI_WITH_DSP=1): GenerateTone / GenerateCustomTones (tone_gen),
// DetectTones (super_tone_rx) and in-band DTMF generation (dtmf_tx), as the `mspi::tone_factory` to put in
// `rtp_opus_config::tones`.
#pragma once

#include <mspi/dsp/call_progress_tones.hpp>
#include <mspi/tones.hpp>

#include <spandsp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mspi::dsp {

/// The tones of `mode` in `plan` (ringback and busy from `progress_tone_of`; beep 1000 Hz 250 ms once;
/// billing 941+1477 Hz 500 ms once, both -13 dBm0). `tone_mode::none` gives a silent 0 Hz entry (not
/// meant to be generated). Pure, never throws.
constexpr cadence_tone tone_of(tone_plan plan, tone_mode mode) noexcept {
  switch (mode) {
    case tone_mode::ringback: return progress_tone_of(plan, progress_tone::ringback);
    case tone_mode::busy: return progress_tone_of(plan, progress_tone::busy);
    case tone_mode::beep: return {1000, 0, -13, 250, 0, 0, 0, false};
    case tone_mode::billing: return {941, 1477, -13, 500, 0, 0, 0, false};
    case tone_mode::none: break;
  }
  return {};
}

/// Several `tone_generator`s summed (saturating): the source of one GenerateTone / GenerateCustomTones
/// request. Ends when every tone has ended (never, for repeating ones). State allocated by the
/// constructor; `generate` allocates nothing. Errors: the constructor throws std::bad_alloc. Thread
/// safety: one thread at a time.
class mixed_tone_source final : public tone_source {
 public:
  /// Prepares `tones` (1..`max_custom_tones`) from their start. Throws std::bad_alloc.
  explicit mixed_tone_source(std::span<const cadence_tone> tones) : scratch_(960) {
    generators_.reserve(tones.size());
    for (const auto& t : tones) generators_.emplace_back(t);
  }

  /// See `tone_source::generate`; `pcm.size()` at most 960. Never throws or allocates.
  std::size_t generate(std::span<std::int16_t> pcm) noexcept override {
    pcm = pcm.first(std::min(pcm.size(), scratch_.size()));
    std::fill(pcm.begin(), pcm.end(), std::int16_t{0});
    std::size_t longest = 0;
    for (auto& g : generators_) {
      auto s = std::span<std::int16_t>(scratch_).first(pcm.size());
      const std::size_t n = g.generate(s);
      for (std::size_t i = 0; i < n; ++i) pcm[i] = static_cast<std::int16_t>(std::clamp(pcm[i] + s[i], -32768, 32767));
      longest = std::max(longest, n);
    }
    return longest;
  }

 private:
  std::vector<tone_generator> generators_;
  std::vector<std::int16_t> scratch_;
};

/// In-band DTMF digits (spandsp dtmf_tx, -10 dBm0 low group, 80 ms on, 80 ms off per digit, as phones
/// send them; ITU-T Q.23/Q.24). Ends after the pause of the last digit. Errors: the constructor throws
/// std::bad_alloc. Thread safety: one thread at a time.
class dtmf_source final : public tone_source {
 public:
  /// Queues `digits` (`0-9 * # A-D`, at most 64). Throws std::bad_alloc.
  explicit dtmf_source(std::string_view digits, int on_ms = 80, int off_ms = 80) : tx_(dtmf_tx_init(nullptr)) {
    if (!tx_) throw std::bad_alloc();
    dtmf_tx_set_timing(tx_.get(), on_ms, off_ms);
    const std::string d(digits.substr(0, 64));
    dtmf_tx_put(tx_.get(), d.c_str(), -1);
  }
  /// See `tone_source::generate`. Never throws or allocates.
  std::size_t generate(std::span<std::int16_t> pcm) noexcept override {
    return static_cast<std::size_t>(std::max(0, dtmf_tx(tx_.get(), pcm.data(), static_cast<int>(pcm.size()))));
  }

 private:
  struct release {
    void operator()(dtmf_tx_state_t* s) const noexcept { dtmf_tx_free(s); }
  };
  std::unique_ptr<dtmf_tx_state_t, release> tx_;
};

/// Detects the tones of one DetectTones list: one spandsp super_tone_rx per tone (so that close tones do
/// not share a receiver's frequency resolution), each with one element of its frequencies lasting at
/// least the tone's duration. A tone is reported once when it has lasted its duration; again after it
/// stopped and came back. Each receiver's Goertzel bank also holds `guard_frequencies` guard frequencies
/// (none within `guard_spacing_hz` of the tone's): super_tone_rx takes the bank's two strongest bins as the
/// tone, so with the tone's own two bins alone broadband noise passed as any tone (alsa-utils' Noise.wav was
/// "busy" after 0.5 s); with guards, noise puts its energy in a guard bin as often as in the tone's.
/// State allocated by the constructor; `process` allocates nothing. Errors: the constructor throws
/// std::bad_alloc. Thread safety: one thread at a time.
class tone_list_detector final : public tone_detector {
 public:
  /// Prepares receivers for `tones` (validated: `mspi::validate`). Throws std::bad_alloc.
  explicit tone_list_detector(std::span<const detect_tone> tones) : rx_(tones.size()) {
    for (std::size_t i = 0; i < tones.size(); ++i) {
      auto& r = rx_[i];
      r.owner = this;
      r.app_specific = tones[i].app_specific;
      r.desc.reset(super_tone_rx_make_descriptor(nullptr));
      if (!r.desc) throw std::bad_alloc();
      const int id = super_tone_rx_add_tone(r.desc.get());  // 0: the only id `on_tone` reports
      super_tone_rx_add_element(r.desc.get(), id, tones[i].frequencies_hz[0], tones[i].frequencies_hz[1],
                                tones[i].duration_ms, 0);  // max 0: no upper bound
      // The guards: a second "tone" of guard-frequency pairs that `on_tone` never reports.
      const auto guards = guards_for(tones[i]);
      const int guard_id = super_tone_rx_add_tone(r.desc.get());
      for (std::size_t g = 0; g + 1 < guards.size(); g += 2)
        super_tone_rx_add_element(r.desc.get(), guard_id, guards[g], guards[g + 1], 60000, 0);
      r.state.reset(super_tone_rx_init(nullptr, r.desc.get(), &on_tone, &r));
      if (!r.state) throw std::bad_alloc();
    }
  }
  /// Guard frequencies added to each tone's receiver (see the class).
  static constexpr std::size_t guard_frequencies = 4;
  /// Least distance of a guard frequency from a frequency of the tone, Hz (two Goertzel bins of 62.5 Hz
  /// at spandsp's 128-sample blocks, and some).
  static constexpr int guard_spacing_hz = 150;

  /// The `guard_frequencies` frequencies of a ladder across the telephone band nearest to `tone`'s
  /// frequencies, none within `guard_spacing_hz` of them (Hz).
  static std::array<int, guard_frequencies> guards_for(const detect_tone& tone) noexcept {
    static constexpr int ladder[] = {300, 450, 600, 750, 900, 1050, 1250, 1500, 1800, 2100, 2500, 3000, 3500};
    auto distance = [&](int f) {
      int d = 1 << 20;
      for (int t : tone.frequencies_hz)
        if (t > 0) d = std::min(d, std::abs(f - t));
      return d;
    };
    std::array<int, guard_frequencies> out{};
    std::array<bool, std::size(ladder)> used{};
    for (auto& g : out) {
      int best = -1;
      for (std::size_t k = 0; k < std::size(ladder); ++k)
        if (!used[k] && distance(ladder[k]) >= guard_spacing_hz && (best < 0 || distance(ladder[k]) < distance(ladder[best])))
          best = static_cast<int>(k);
      used[static_cast<std::size_t>(best)] = true;  // 13 rungs, at most 6 near two tone frequencies: always one
      g = ladder[best];
    }
    return out;
  }

  tone_list_detector(const tone_list_detector&) = delete;             ///< spandsp holds pointers to it.
  tone_list_detector& operator=(const tone_list_detector&) = delete;  ///< See the copy constructor.

  /// See `tone_detector::process`. Never throws or allocates.
  std::size_t process(std::span<const std::int16_t> pcm, std::span<std::uint32_t> detected) noexcept override {
    out_ = detected;
    written_ = 0;
    for (auto& r : rx_) super_tone_rx(r.state.get(), pcm.data(), static_cast<int>(pcm.size()));
    return written_;
  }

 private:
  struct receiver {
    tone_list_detector* owner = nullptr;
    std::uint32_t app_specific = 0;
    std::unique_ptr<super_tone_rx_descriptor_t, detail::free_tone_descriptor> desc;  // before state: the state refers to it
    std::unique_ptr<super_tone_rx_state_t, detail::free_tone_receiver> state;
  };
  // spandsp: `code` >= 0 when the tone is recognised, -1 when it ended.
  static void on_tone(void* user, int code, int /*level*/, int /*delay*/) {
    auto& r = *static_cast<receiver*>(user);
    auto& self = *r.owner;
    if (code == 0 && self.written_ < self.out_.size()) self.out_[self.written_++] = r.app_specific;  // not a guard
  }

  std::vector<receiver> rx_;
  std::span<std::uint32_t> out_;
  std::size_t written_ = 0;
};

/// The factory to put in `rtp_opus_config::tones` for GenerateTone (tones of `plan`), GenerateCustomTones,
/// DetectTones and in-band GenerateDigits on every call of an address: `cfg.tones = mspi::dsp::tone_media();`.
/// Its makers throw std::bad_alloc only when called (per request).
inline tone_factory tone_media(tone_plan plan = tone_plan::us) {
  tone_factory f;
  f.generator = [plan](const tone_generation& g) -> std::unique_ptr<tone_source> {
    std::vector<cadence_tone> tones;
    if (g.mode != tone_mode::none) tones.push_back(tone_of(plan, g.mode));
    for (const auto& c : g.custom)
      tones.push_back(cadence_tone{c.frequency_hz, 0, c.volume_dbm0, c.cadence_on_ms, c.cadence_off_ms, 0, 0, true});
    return std::make_unique<mixed_tone_source>(tones);
  };
  f.detector = [](std::span<const detect_tone> tones) -> std::unique_ptr<tone_detector> {
    return std::make_unique<tone_list_detector>(tones);
  };
  f.digits = [](std::string_view digits, std::chrono::milliseconds duration) -> std::unique_ptr<tone_source> {
    if (duration.count() == 0) return std::make_unique<dtmf_source>(digits);
    const auto ms = static_cast<int>(duration.count());
    return std::make_unique<dtmf_source>(digits, ms, ms);
  };
  return f;
}

}  // namespace mspi::dsp
