// ptapi - portable TAPI
// mspi/dsp/fax_tone_detector.hpp: fax calling and answer tones (ITU-T T.30 CNG, CED) in 8 kHz audio,
// with spandsp's modem_connect_tones_rx (the optional `dsp` component: link ptapi::dsp, spandsp). A
// building block of DetectTones / MonitorMedia (LINEMEDIAMODE_G3FAX) for a call's received audio.
#pragma once

#include <spandsp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>

namespace mspi::dsp {

/// The fax tones `fax_tone_detector` reports.
enum class fax_tone : std::uint8_t {
  cng,       ///< CNG (T.30 §5.2.1): the calling fax, 1100 Hz in 0.5 s bursts every 3.5 s.
  ced,       ///< CED (T.30 §5.2.1, the ANS of V.25): the answering fax, 2100 Hz continuous for ~3 s.
  preamble,  ///< V.21 HDLC flags (T.30 §5.3): a fax's preamble, sent by answering faxes that omit CED.
};

/// Recognises CNG, CED and the V.21 fax preamble in 8 kHz audio (two spandsp modem_connect_tones_rx
/// receivers). A tone is reported when it is recognised, once per burst (CNG: about 0.4 s into each
/// burst; CED: after about 0.7 s of tone). State allocated by the constructor; `process`
/// allocates nothing. Errors: the constructor throws std::bad_alloc. Thread safety: one thread at a time.
class fax_tone_detector {
 public:
  /// Prepares both receivers. Throws std::bad_alloc.
  fax_tone_detector()
      : cng_(make(MODEM_CONNECT_TONES_FAX_CNG, this)), ced_(make(MODEM_CONNECT_TONES_FAX_CED_OR_PREAMBLE, this)) {}
  fax_tone_detector(const fax_tone_detector&) = delete;             ///< spandsp holds a pointer to it.
  fax_tone_detector& operator=(const fax_tone_detector&) = delete;  ///< See the copy constructor.

  /// Analyses `pcm` (8 kHz samples); returns the tone recognised during it, if one was. Never throws
  /// or allocates.
  std::optional<fax_tone> process(std::span<const std::int16_t> pcm) noexcept {
    found_.reset();
    modem_connect_tones_rx(cng_.get(), pcm.data(), static_cast<int>(pcm.size()));
    modem_connect_tones_rx(ced_.get(), pcm.data(), static_cast<int>(pcm.size()));
    return found_;
  }

 private:
  struct release {
    void operator()(modem_connect_tones_rx_state_t* s) const noexcept { modem_connect_tones_rx_free(s); }
  };
  static std::unique_ptr<modem_connect_tones_rx_state_t, release> make(int type, fax_tone_detector* self) {
    std::unique_ptr<modem_connect_tones_rx_state_t, release> s(modem_connect_tones_rx_init(nullptr, type, &on_tone, self));
    if (!s) throw std::bad_alloc();
    return s;
  }
  // spandsp: `code` is the MODEM_CONNECT_TONES_* recognised, or MODEM_CONNECT_TONES_NONE when it stopped.
  static void on_tone(void* user, int code, int /*level*/, int /*delay*/) {
    auto* self = static_cast<fax_tone_detector*>(user);
    if (code == MODEM_CONNECT_TONES_FAX_CNG) self->found_ = fax_tone::cng;
    else if (code == MODEM_CONNECT_TONES_FAX_CED) self->found_ = fax_tone::ced;
    else if (code == MODEM_CONNECT_TONES_FAX_PREAMBLE) self->found_ = fax_tone::preamble;
  }

  std::unique_ptr<modem_connect_tones_rx_state_t, release> cng_, ced_;
  std::optional<fax_tone> found_;
};

}  // namespace mspi::dsp
