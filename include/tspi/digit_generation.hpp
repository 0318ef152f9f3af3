// ptapi - portable TAPI
// tspi/digit_generation.hpp: how a GenerateDigits, GenerateTone or GenerateCustomTones request ended
// (TAPI's LINEGENERATETERM_* constants, reported by LINE_GENERATE and ITDigitGenerationEvent).
#pragma once

#include <cstdint>

namespace tspi {

/// How a digit or tone generation ended: TAPI's `LINEGENERATETERM_*` (tapi.h; same values), the
/// `LINE_GENERATE` message's first parameter and ITDigitGenerationEvent::get_GenerationTermination.
enum class generate_termination : std::uint32_t {
  /// LINEGENERATETERM_DONE: every digit of the request was sent, or the tone ended by itself (its
  /// duration elapsed, or a beep's or billing tone's burst is over).
  done = 0x1,
  /// LINEGENERATETERM_CANCEL: the request was cut short or could not be carried out: a newer tone or
  /// in-band digit request replaced it, `tone_mode::none` stopped it, the call's media stopped or was
  /// renegotiated without telephone-event, or the MSP refused it (e.g. the call does not send media).
  cancel = 0x2,
};

/// What a generation request generated (ptapi's addition to ITDigitGenerationEvent, which TAPI raises
/// for both kinds without saying which).
enum class generation_kind : std::uint8_t {
  digits,  ///< `call::generate_digits` (GenerateDigits).
  tone,    ///< `call::generate_tone` or `call::generate_custom_tones` (GenerateTone, GenerateCustomTones).
};

}  // namespace tspi
