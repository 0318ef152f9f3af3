// softphone: `softphone devices`.
#pragma once

#include <mspi/terminal.hpp>

#include <string>

namespace softphone {

/// --aec and --aec-tail: echo cancellation on the device terminals (speexdsp, mspi::enable_echo_cancellation).
struct aec_options {
  std::string mode = "on";  ///< "on" or "off".
  unsigned tail_ms = 200;   ///< Echo tail the canceller models, in ms (audio_processing_settings::tail_ms).
};

/// With `o.mode` "on", attaches a new echo canceller (noise suppression and AGC included) to the device
/// terminals `mic` (capture) and `speakers` (render); with "off", detaches any. Call while neither is open.
/// Returns an empty string, or why it failed (the call goes on without echo cancellation).
std::string apply_aec(const mspi::terminal_ptr& mic, const mspi::terminal_ptr& speakers, const aec_options& o);

/// Prints PortAudio's devices (index, name, host API, channels, default rate, default markers).
/// Returns the exit code: 0, or 1 (with a message on stderr) when PortAudio cannot list them.
int list_devices();

}  // namespace softphone
