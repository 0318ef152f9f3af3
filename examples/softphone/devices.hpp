// softphone: `softphone devices`.
#pragma once

namespace softphone {

/// Prints PortAudio's devices (index, name, host API, channels, default rate, default markers).
/// Returns the exit code: 0, or 1 (with a message on stderr) when PortAudio cannot list them.
int list_devices();

}  // namespace softphone
