// ptapi - portable TAPI
// ptapi_fuzz target `wav`: mspi::read_audio_file (libsndfile, then libsamplerate), the reader of every
// file a file playback terminal plays. The input is written to a memfd and read through /proc/self/fd,
// so nothing touches the disk; run it with -max_len (run-fuzzers.sh: 64 KiB) to bound each file.
// Properties (a failure traps): a file either fails with tapi_errc::file_read_error and no samples, or
// gives samples whose count follows the file's frames and rate (exactly `frames` at 48 kHz; at most
// frames * 48000 / rate + 64 otherwise, the resampler's output capacity).
#include "fuzz.hpp"

#include <mspi/audio_file.hpp>

#include <sndfile.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

namespace ptapi_fuzz {

void fuzz_wav(input in) {
  static const int fd = memfd_create("ptapi_fuzz_wav", MFD_CLOEXEC);
  PTAPI_FUZZ_CHECK(fd >= 0);
  PTAPI_FUZZ_CHECK(ftruncate(fd, 0) == 0);
  PTAPI_FUZZ_CHECK(pwrite(fd, in.data(), in.size(), 0) == static_cast<ssize_t>(in.size()));
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);

  std::error_code ec;
  const auto samples = mspi::read_audio_file(path, ec);
  if (ec) {
    PTAPI_FUZZ_CHECK(ec == mspi::tapi_errc::file_read_error && samples.empty());
    return;
  }
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  PTAPI_FUZZ_CHECK(f != nullptr);
  sf_close(f);
  if (info.samplerate == mspi::pipeline_rate_hz) {
    PTAPI_FUZZ_CHECK(samples.size() == static_cast<std::size_t>(info.frames));
  } else {
    const double expected = static_cast<double>(info.frames) * mspi::pipeline_rate_hz / info.samplerate;
    PTAPI_FUZZ_CHECK(static_cast<double>(samples.size()) <= expected + 64);
  }
}

}  // namespace ptapi_fuzz
