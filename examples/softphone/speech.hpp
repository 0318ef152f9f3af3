// softphone: the audio the demo plays.
#pragma once

#include "temp_file.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace softphone {

/// A problem with the user's input (unreadable file, bad option value): exit code 2.
struct input_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// What the demo plays: a WAV path a file playback terminal can load, and the same audio in the
/// pipeline format (48 kHz mono s16) to compare the recordings with.
struct speech_input {
  std::string path;
  std::vector<std::int16_t> samples;
  std::unique_ptr<temp_file> temporary;  ///< Set when `path` is a temporary file (removed with this object).
};

/// `--play FILE`: reads it (any mono/stereo WAV at 8-48 kHz is resampled and downmixed).
/// Without it: alsa-utils' spoken channel names (/usr/share/sounds/alsa/*.wav, about 11 s),
/// concatenated into a temporary WAV. @throws input_error naming the file that cannot be read.
speech_input load_speech(const std::optional<std::string>& play);

/// Root mean square of `samples` (0 for none).
double rms(const std::vector<std::int16_t>& samples);

}  // namespace softphone
