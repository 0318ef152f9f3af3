// Test helpers shared by the terminal and audio-file tests: a temporary directory, fixture audio
// generated at test time (never committed), libsndfile raw reads and signal comparison.
#pragma once

#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

namespace ptapi_test {

/// The alsa-utils speech sample: 48 kHz mono s16, 68545 samples.
inline const std::string speech_wav = "/usr/share/sounds/alsa/Front_Center.wav";

/// A fresh directory under the system temp dir, removed with its contents on destruction.
class temp_dir {
 public:
  temp_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("ptapi-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  /// `name` inside the directory, as a string.
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// What libsndfile itself reads from a file, as 16-bit samples.
struct raw_audio {
  SF_INFO info{};
  std::vector<std::int16_t> samples;  // interleaved
};
inline raw_audio sndfile_read(const std::string& path) {
  raw_audio r;
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &r.info);
  if (f == nullptr) return r;
  r.samples.resize(static_cast<std::size_t>(r.info.frames * r.info.channels));
  r.samples.resize(static_cast<std::size_t>(sf_read_short(f, r.samples.data(), static_cast<sf_count_t>(r.samples.size()))));
  sf_close(f);
  return r;
}

/// Converts `in` to `out` with sox (e.g. "-r 8000 -c 2"); true on success.
inline bool sox_convert(const std::string& in, const std::string& out, const std::string& options) {
  const std::string cmd = "sox '" + in + "' " + options + " '" + out + "' 2>/dev/null";
  return std::system(cmd.c_str()) == 0;
}

/// Writes `samples` as raw native-endian s16 to `path`.
inline void write_raw(const std::string& path, const std::vector<std::int16_t>& samples) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(samples.data()), static_cast<std::streamsize>(samples.size() * 2));
}
/// Reads a raw native-endian s16 file.
inline std::vector<std::int16_t> read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::int16_t> out(bytes.size() / 2);
  std::memcpy(out.data(), bytes.data(), out.size() * 2);
  return out;
}

/// Normalized cross-correlation of `a` and `b` over their common length (1.0 = same shape).
inline double correlation(const std::vector<std::int16_t>& a, const std::vector<std::int16_t>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return (aa > 0 && bb > 0) ? ab / std::sqrt(aa * bb) : 0.0;
}

/// A test signal with no zero sample (so it can be told apart from padding silence): 1..n mod 30000.
inline std::vector<std::int16_t> ramp(std::size_t n, int offset = 0) {
  std::vector<std::int16_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int16_t>(1 + (static_cast<int>(i) + offset) % 30000);
  return v;
}

}  // namespace ptapi_test
