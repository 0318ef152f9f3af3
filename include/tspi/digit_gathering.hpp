// ptapi - portable TAPI
// tspi/digit_gathering.hpp: what `call::gather_digits` takes and gives (ITLegacyCallMediaControl2::
// GatherDigits, TSPI_lineGatherDigits): buffered collection of the far end's DTMF digits for IVRs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tspi {

/// Why a digit gathering ended (TAPI_GATHERTERM, LINEGATHERTERM_*; same values).
enum class gather_termination : std::uint8_t {
  buffer_full = 0x1,    ///< TGT_BUFFERFULL: `max_digits` digits were collected.
  term_digit = 0x2,     ///< TGT_TERMDIGIT: a terminating digit arrived; it is the last of `digits`.
  first_timeout = 0x4,  ///< TGT_FIRSTTIMEOUT: no digit within `first_timeout` of the start.
  inter_timeout = 0x8,  ///< TGT_INTERTIMEOUT: no digit within `inter_timeout` of the previous one.
  cancel = 0x10,        ///< TGT_CANCEL: cancelled (a new gathering on the call, a cancellation slot,
                        ///< the call disconnected or released, the TAPI object shut down).
};

/// The parameters of GatherDigits (lNumDigits, bstrTerminationDigits, lFirstDigitTimeout,
/// lInterDigitTimeout). Checked by `call::gather_digits`: `max_digits` 1..256 and both timeouts
/// 0..1 hour, else `tapi_errc::invalid_argument`; `terminators` only `0-9 * # A-D` (lower case
/// accepted), else `tapi_errc::invalid_digits`.
struct gather_digits_options {
  std::size_t max_digits = 1;                  ///< Digits to collect at most (buffer size), 1..256.
  std::string terminators;                     ///< Digits that end the gathering; empty = none.
  std::chrono::milliseconds first_timeout{0};  ///< Time allowed for the first digit; 0 = unlimited.
  std::chrono::milliseconds inter_timeout{0};  ///< Time allowed between digits; 0 = unlimited.
};

/// The outcome of a gathering (ITDigitsGatheredEvent's digits and termination).
struct gathered_digits {
  std::string digits;  ///< The digits collected, in order (`0-9 * # A-D`), with the terminating one.
  gather_termination termination = gather_termination::cancel;  ///< Why it ended.
};

}  // namespace tspi
