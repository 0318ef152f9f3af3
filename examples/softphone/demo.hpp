// softphone: `softphone demo`, a call between two loopback addresses in one process.
#pragma once

#include "devices.hpp"

#include <optional>
#include <string>

namespace softphone {

struct demo_options {
  std::optional<std::string> play;    ///< What alice says (default: alsa-utils speech).
  std::optional<std::string> record;  ///< Where bob's recording goes (default: a temporary WAV, kept).
  std::optional<double> seconds;      ///< How long the call stays up (default: the input + 1 s, at most 120 s).
  int ptime_ms = 20;                  ///< RTP packet time: 10, 20, 40 or 60 ms.
  bool json = false;                  ///< Print the report as JSON on the last line of stdout too.
  bool device = false;                ///< Alice uses the default microphone and speakers (needs a sound card).
  aec_options aec;                    ///< Echo cancellation on alice's devices (with --device).
};

/// Runs the demo call and prints events and the report. Returns the exit code: 0 when the call
/// connected, carried audio both ways and ended normally; 1 otherwise (reason on stderr).
/// @throws input_error (exit code 2) for a bad --play/--record/--ptime, before anything is written.
int run_demo(const demo_options& options);

}  // namespace softphone
