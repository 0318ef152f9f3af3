#include "speech.hpp"

#include <mspi/audio_file.hpp>

#include <cmath>
#include <filesystem>

namespace softphone {

namespace {

// Debian's alsa-utils ships these 48 kHz mono recordings of a voice naming each speaker.
const char* const alsa_speech[] = {"Front_Center", "Front_Left", "Front_Right", "Rear_Center",
                                   "Rear_Left",    "Rear_Right", "Side_Left",   "Side_Right"};

std::vector<std::int16_t> read_or_throw(const std::string& path) {
  std::error_code ec;
  auto samples = mspi::read_audio_file(path, ec);
  if (ec) throw input_error("cannot read audio file '" + path + "': " + ec.message());
  if (samples.empty()) throw input_error("audio file '" + path + "' is empty");
  return samples;
}

}  // namespace

speech_input load_speech(const std::optional<std::string>& play) {
  speech_input in;
  if (play) {
    in.path = *play;
    in.samples = read_or_throw(*play);
    return in;
  }
  for (const char* name : alsa_speech) {
    const std::string path = std::string("/usr/share/sounds/alsa/") + name + ".wav";
    if (!std::filesystem::exists(path)) continue;
    auto part = read_or_throw(path);
    in.samples.insert(in.samples.end(), part.begin(), part.end());
  }
  if (in.samples.empty())
    throw input_error("no default speech in /usr/share/sounds/alsa (install alsa-utils or pass --play FILE)");
  in.temporary = std::make_unique<temp_file>("speech");
  in.path = in.temporary->path();
  std::error_code ec;
  auto writer = mspi::wav_writer::create(in.path, mspi::pipeline_rate_hz, 1, ec);
  if (!ec) writer.write(in.samples, ec);
  if (ec) throw std::runtime_error("cannot write '" + in.path + "': " + ec.message());
  return in;
}

double rms(const std::vector<std::int16_t>& samples) {
  double sum = 0;
  for (auto s : samples) sum += double(s) * s;
  return samples.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(samples.size()));
}

}  // namespace softphone
