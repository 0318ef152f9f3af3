// ptapi - portable TAPI
// mspi/dsp/call_progress_tones.hpp: call-progress tones (dial, ringback, busy) of national plans and
// custom cadences, generated (spandsp tone_gen) and detected (spandsp super_tone_rx), at 8 kHz. The
// building blocks of ITLegacyCallMediaControl::GenerateTone / GenerateCustomTones / DetectTones (the
// optional `dsp` component: link ptapi::dsp, spandsp).
#pragma once

#include <spandsp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>

namespace mspi::dsp {

namespace detail {
// Deleters of spandsp's super_tone_rx objects, for the receivers of call_progress_detector and tone_media.
struct free_tone_descriptor {
  void operator()(super_tone_rx_descriptor_t* d) const noexcept { super_tone_rx_free_descriptor(d); }
};
struct free_tone_receiver {
  void operator()(super_tone_rx_state_t* s) const noexcept { super_tone_rx_free(s); }
};
}  // namespace detail

/// The call-progress tones ptapi knows by name (TAPI_TONEMODE's TTM_RINGBACK and TTM_BUSY, and dial tone).
enum class progress_tone : std::uint8_t {
  dial,      ///< Dial tone: the line is ready for digits (continuous).
  ringback,  ///< Ringing tone: the called party is being alerted (TTM_RINGBACK).
  busy,      ///< Busy tone: the called party is busy (TTM_BUSY).
};

/// National tone plans: which frequencies and cadences `progress_tone`s have.
enum class tone_plan : std::uint8_t {
  us,  ///< North America (ANSI T1.401 / Telcordia precise tones): dial 350+440 Hz, ringback 440+480 Hz
       ///< 2 s on 4 s off, busy 480+620 Hz 0.5 s on 0.5 s off.
  uk,  ///< United Kingdom (BT SIN 350): dial 350+440 Hz, ringback 400+450 Hz 0.4 on 0.2 off 0.4 on
       ///< 2.0 s off, busy 400 Hz 0.375 s on 0.375 s off.
  eu,  ///< Europe (CEPT / ETSI TR 101 041 recommendation): dial 425 Hz, ringback 425 Hz 1 s on 4 s off,
       ///< busy 425 Hz 0.5 s on 0.5 s off.
};

/// One tone with its cadence (TAPI's ITCustomTone: Frequency, CadenceOn, CadenceOff, Volume; here with
/// up to two frequencies and two on/off pairs, as spandsp's tone_gen). Units: Hz, dBm0, ms.
struct cadence_tone {
  int f1_hz = 0;          ///< First frequency, Hz (> 0).
  int f2_hz = 0;          ///< Second frequency, Hz (0: a single tone).
  int level_dbm0 = -13;   ///< Level of each frequency, dBm0 (-60..0).
  int on1_ms = 0;         ///< First burst, ms (0 with off1_ms 0: continuous).
  int off1_ms = 0;        ///< Silence after the first burst, ms.
  int on2_ms = 0;         ///< Second burst, ms (0: none).
  int off2_ms = 0;        ///< Silence after the second burst, ms.
  bool repeat = true;     ///< Repeat the cadence until stopped (false: once).
};

/// The `tone` of `plan` (see `tone_plan` for the figures); levels -13 dBm0 (dial), -19 (ringback), -24
/// (busy) as the US plan, the same for the others. Pure, never throws.
constexpr cadence_tone progress_tone_of(tone_plan plan, progress_tone tone) noexcept {
  switch (plan) {
    case tone_plan::us:
      if (tone == progress_tone::dial) return {350, 440, -13, 0, 0, 0, 0, true};
      if (tone == progress_tone::ringback) return {440, 480, -19, 2000, 4000, 0, 0, true};
      return {480, 620, -24, 500, 500, 0, 0, true};
    case tone_plan::uk:
      if (tone == progress_tone::dial) return {350, 440, -13, 0, 0, 0, 0, true};
      if (tone == progress_tone::ringback) return {400, 450, -19, 400, 200, 400, 2000, true};
      return {400, 0, -24, 375, 375, 0, 0, true};
    case tone_plan::eu: break;
  }
  if (tone == progress_tone::dial) return {425, 0, -13, 0, 0, 0, 0, true};
  if (tone == progress_tone::ringback) return {425, 0, -19, 1000, 4000, 0, 0, true};
  return {425, 0, -24, 500, 500, 0, 0, true};
}

/// Generates one `cadence_tone` as 8 kHz audio (spandsp tone_gen), to be mixed into a call's sent audio
/// (TAPI GenerateTone / GenerateCustomTones). State allocated by the constructor; `generate` allocates
/// nothing. Errors: the constructor throws std::bad_alloc. Thread safety: one thread at a time.
class tone_generator {
 public:
  /// Prepares `tone` from its start. Throws std::bad_alloc.
  explicit tone_generator(const cadence_tone& tone) : state_(make(tone)) {}

  /// Writes the next `pcm.size()` samples (8 kHz) of the tone; returns how many are tone (fewer than
  /// `pcm.size()` once a non-repeating cadence has ended; the rest is left as it was). Never throws.
  std::size_t generate(std::span<std::int16_t> pcm) noexcept {
    return static_cast<std::size_t>(tone_gen(state_.get(), pcm.data(), static_cast<int>(pcm.size())));
  }

 private:
  struct release {
    void operator()(tone_gen_state_t* s) const noexcept { tone_gen_free(s); }
  };
  static std::unique_ptr<tone_gen_state_t, release> make(const cadence_tone& t) {
    const bool continuous = t.on1_ms == 0 && t.off1_ms == 0;
    tone_gen_descriptor_t* d =
        tone_gen_descriptor_init(nullptr, t.f1_hz, t.level_dbm0, t.f2_hz, t.level_dbm0, continuous ? 1000 : t.on1_ms,
                                 continuous ? 0 : t.off1_ms, t.on2_ms, t.off2_ms, continuous || t.repeat ? 1 : 0);
    if (!d) throw std::bad_alloc();
    std::unique_ptr<tone_gen_state_t, release> s(tone_gen_init(nullptr, d));  // copies the descriptor
    tone_gen_descriptor_free(d);
    if (!s) throw std::bad_alloc();
    return s;
  }
  std::unique_ptr<tone_gen_state_t, release> state_;
};

/// Recognises the dial, ringback and busy tones of one `tone_plan` in 8 kHz audio (spandsp's
/// supervisory tone detector, super_tone_rx, one per tone: a plan's tones can lie closer than its
/// frequency resolution, as the UK's 350+440 Hz dial and 400+450 Hz ringback; TAPI DetectTones for the
/// call-progress tones). A tone is reported once its cadence has been seen: a full on/off cycle, so
/// after about 1 s for busy and 4 to 6 s for ringback (dial: after 3 s of tone, longer than any
/// cadence's burst); when it stops, `current` turns back to nullopt. Durations are accepted within
/// ±20 % (plus 50 ms). State allocated by the constructor; `process` allocates nothing. Errors: the
/// constructor throws std::bad_alloc. Thread safety: one thread at a time.
class call_progress_detector {
 public:
  /// Prepares the detector for `plan`'s three tones. Throws std::bad_alloc.
  explicit call_progress_detector(tone_plan plan) {
    for (std::size_t i = 0; i < rx_.size(); ++i) {
      auto& r = rx_[i];
      r.owner = this;
      r.tone = static_cast<progress_tone>(i);
      r.desc.reset(super_tone_rx_make_descriptor(nullptr));
      if (!r.desc) throw std::bad_alloc();
      const cadence_tone c = progress_tone_of(plan, r.tone);
      const int id = super_tone_rx_add_tone(r.desc.get());
      const int f1 = c.f1_hz, f2 = c.f2_hz > 0 ? c.f2_hz : 0;
      if (c.on1_ms == 0) {  // continuous: one element longer than any burst
        super_tone_rx_add_element(r.desc.get(), id, f1, f2, 3000, 0);
      } else {  // silence is frequency 0 (spandsp's header says -1, which it would take as a frequency)
        add(r, id, f1, f2, c.on1_ms);
        add(r, id, 0, 0, c.off1_ms);
        if (c.on2_ms > 0) {
          add(r, id, f1, f2, c.on2_ms);
          add(r, id, 0, 0, c.off2_ms);
        }
      }
      r.state.reset(super_tone_rx_init(nullptr, r.desc.get(), &on_tone, &r));
      if (!r.state) throw std::bad_alloc();
    }
  }
  call_progress_detector(const call_progress_detector&) = delete;             ///< spandsp holds pointers to it.
  call_progress_detector& operator=(const call_progress_detector&) = delete;  ///< See the copy constructor.

  /// Analyses `pcm` (8 kHz samples) and returns the tone recognised during it, if one started; the
  /// tone being heard stays in `current()`. Never throws or allocates.
  std::optional<progress_tone> process(std::span<const std::int16_t> pcm) noexcept {
    started_.reset();
    for (auto& r : rx_) super_tone_rx(r.state.get(), pcm.data(), static_cast<int>(pcm.size()));
    return started_;
  }

  /// The tone being heard now, if any (nullopt after it stopped). Never throws.
  [[nodiscard]] std::optional<progress_tone> current() const noexcept { return current_; }

 private:
  struct receiver {
    call_progress_detector* owner = nullptr;
    progress_tone tone = progress_tone::dial;
    std::unique_ptr<super_tone_rx_descriptor_t, detail::free_tone_descriptor> desc;  // before state: the state refers to it
    std::unique_ptr<super_tone_rx_state_t, detail::free_tone_receiver> state;
  };
  static void add(receiver& r, int id, int f1, int f2, int ms) {
    super_tone_rx_add_element(r.desc.get(), id, f1, f2, ms * 8 / 10 - 50 > 0 ? ms * 8 / 10 - 50 : 0, ms * 12 / 10 + 50);
  }
  // spandsp: `code` is the tone's id (0: each receiver has one tone) when recognised, -1 when it ended.
  static void on_tone(void* user, int code, int /*level*/, int /*delay*/) {
    auto& r = *static_cast<receiver*>(user);
    if (code >= 0) r.owner->started_ = r.owner->current_ = r.tone;
    else if (r.owner->current_ == r.tone) r.owner->current_.reset();
  }

  std::array<receiver, 3> rx_;  // dial, ringback, busy (progress_tone's order)
  std::optional<progress_tone> started_, current_;
};

}  // namespace mspi::dsp
