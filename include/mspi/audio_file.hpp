// ptapi - portable TAPI
// mspi/audio_file.hpp: audio files in and out of the pipeline format (48 kHz mono s16), with
// libsndfile (decoding, WAV writing) and libsamplerate (rate conversion). Used by the file terminals.
#pragma once

#include <mspi/error.hpp>
#include <mspi/media_types.hpp>

#include <samplerate.h>
#include <sndfile.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mspi {

namespace detail {

static_assert(sizeof(short) == sizeof(std::int16_t), "libsndfile's short must be 16-bit");

/// Closes a libsndfile handle.
struct sndfile_closer {
  void operator()(SNDFILE* f) const noexcept {
    if (f != nullptr) sf_close(f);
  }
};
/// Owning libsndfile handle.
using sndfile_ptr = std::unique_ptr<SNDFILE, sndfile_closer>;

/// Lowest and highest source rates `read_audio_file` accepts, in Hz.
inline constexpr int min_file_rate_hz = 8000;
inline constexpr int max_file_rate_hz = 192000;

/// Reads all `frames` interleaved frames of `f` as 16-bit and downmixes them to mono by averaging.
inline bool read_mono_s16(SNDFILE* f, sf_count_t frames, int channels, std::vector<std::int16_t>& out) {
  std::vector<short> interleaved(static_cast<std::size_t>(frames) * static_cast<std::size_t>(channels));
  if (sf_readf_short(f, interleaved.data(), frames) != frames) return false;
  out.resize(static_cast<std::size_t>(frames));
  for (std::size_t i = 0; i < out.size(); ++i) {
    int sum = 0;
    for (int c = 0; c < channels; ++c) sum += interleaved[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)];
    out[i] = static_cast<std::int16_t>(sum / channels);
  }
  return true;
}

/// Reads all frames of `f` as float, downmixes to mono and resamples from `rate_hz` to the pipeline rate
/// with libsamplerate's SRC_SINC_MEDIUM_QUALITY converter.
inline bool read_mono_resampled(SNDFILE* f, sf_count_t frames, int channels, int rate_hz,
                                std::vector<std::int16_t>& out) {
  std::vector<float> interleaved(static_cast<std::size_t>(frames) * static_cast<std::size_t>(channels));
  if (sf_readf_float(f, interleaved.data(), frames) != frames) return false;
  std::vector<float> mono(static_cast<std::size_t>(frames));
  for (std::size_t i = 0; i < mono.size(); ++i) {
    float sum = 0.0F;
    for (int c = 0; c < channels; ++c) sum += interleaved[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)];
    mono[i] = sum / static_cast<float>(channels);
  }
  interleaved = {};
  const double ratio = static_cast<double>(pipeline_rate_hz) / rate_hz;
  const auto capacity = static_cast<long>(static_cast<double>(frames) * ratio) + 64;
  if (capacity > std::numeric_limits<int>::max()) return false;
  std::vector<float> resampled(static_cast<std::size_t>(capacity));
  SRC_DATA data{};
  data.data_in = mono.data();
  data.input_frames = static_cast<long>(frames);
  data.data_out = resampled.data();
  data.output_frames = capacity;
  data.src_ratio = ratio;
  data.end_of_input = 1;
  if (src_simple(&data, SRC_SINC_MEDIUM_QUALITY, 1) != 0) return false;
  out.resize(static_cast<std::size_t>(data.output_frames_gen));
  src_float_to_short_array(resampled.data(), reinterpret_cast<short*>(out.data()), static_cast<int>(out.size()));
  return true;
}

}  // namespace detail

/// Reads a whole audio file and converts it to the pipeline format: 48 kHz, mono, signed 16-bit.
///
/// Any format libsndfile decodes (WAV PCM 8/16/24/32-bit and float, AIFF, FLAC, ...) at 8000..192000 Hz
/// with any number of channels. Channels are downmixed by averaging; a rate other than 48000 Hz is
/// converted with libsamplerate (SRC_SINC_MEDIUM_QUALITY), so the result lasts as long as the file
/// (`frames * 48000 / rate` samples, rounded). A 48 kHz 16-bit mono file comes back sample for sample.
/// Used by `file_playback_terminal::set_play_list` (TAPI: the file playback terminal opening each file
/// of ITMediaPlayback::put_PlayList).
///
/// @param path the file to read.
/// @param ec cleared on success; `tapi_errc::file_read_error` when the file is missing or unreadable,
///        is not audio libsndfile understands, has zero channels, a rate outside 8000..192000 Hz, is
///        truncated (fewer frames than its header says), or is too long (more than 2^28 frames,
///        about 93 minutes at 48 kHz).
/// @return the samples (48 kHz mono s16; empty for an empty file or on error).
/// @par Thread Safety
/// Reentrant: concurrent calls on different (or the same) files are safe. Allocates (throws
/// std::bad_alloc when out of memory); blocking file I/O.
inline std::vector<std::int16_t> read_audio_file(const std::string& path, std::error_code& ec) {
  ec.clear();
  std::vector<std::int16_t> out;
  SF_INFO info{};
  detail::sndfile_ptr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file || info.channels <= 0 || info.samplerate < detail::min_file_rate_hz ||
      info.samplerate > detail::max_file_rate_hz || info.frames < 0 ||
      info.frames > std::numeric_limits<int>::max() / 8) {
    ec = tapi_errc::file_read_error;
    return out;
  }
  if (info.frames == 0) return out;
  // Float files read as 16-bit must be scaled, not truncated to -1..1.
  sf_command(file.get(), SFC_SET_SCALE_FLOAT_INT_READ, nullptr, SF_TRUE);
  const bool ok = info.samplerate == pipeline_rate_hz
                      ? detail::read_mono_s16(file.get(), info.frames, info.channels, out)
                      : detail::read_mono_resampled(file.get(), info.frames, info.channels, info.samplerate, out);
  if (!ok) {
    ec = tapi_errc::file_read_error;
    out.clear();
  }
  return out;
}

/// Throwing form of `read_audio_file(path, ec)`.
/// @throws std::system_error with `tapi_errc::file_read_error` and "read_audio_file" in `what()`.
inline std::vector<std::int16_t> read_audio_file(const std::string& path) {
  std::error_code ec;
  auto samples = read_audio_file(path, ec);
  throw_if(ec, "read_audio_file");
  return samples;
}

/// What an audio file's header says (libsndfile's SF_INFO): enough to list or check a file without
/// decoding it.
struct audio_file_info {
  std::uint64_t frames = 0;  ///< Sample frames (one sample per channel each).
  int rate_hz = 0;           ///< Sample rate, Hz.
  int channels = 0;          ///< Channels.
  /// Length in seconds (`frames / rate_hz`).
  [[nodiscard]] double seconds() const noexcept { return rate_hz > 0 ? static_cast<double>(frames) / rate_hz : 0.0; }
};

/// Reads the header of the audio file `path` (any format libsndfile opens, as `read_audio_file`), for
/// instance the length of a recorded message or a greeting (TAPI has no such call; an ITMediaPlayback
/// application read the file's header itself). The samples are not read. Errors (in `ec`; the result is
/// then all zeros): `tapi_errc::file_read_error` when the file is missing, unreadable or not audio
/// libsndfile understands, or has no channels or a rate of 0. Thread safety: reentrant; blocking file I/O.
inline audio_file_info read_audio_file_info(const std::string& path, std::error_code& ec) {
  SF_INFO info{};
  detail::sndfile_ptr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file || info.channels <= 0 || info.samplerate <= 0 || info.frames < 0) {
    ec = tapi_errc::file_read_error;
    return {};
  }
  ec.clear();
  return {static_cast<std::uint64_t>(info.frames), info.samplerate, info.channels};
}

/// Throwing form of `read_audio_file_info(path, ec)`.
/// @throws std::system_error with `tapi_errc::file_read_error` and "read_audio_file_info" in `what()`.
inline audio_file_info read_audio_file_info(const std::string& path) {
  std::error_code ec;
  auto info = read_audio_file_info(path, ec);
  throw_if(ec, "read_audio_file_info");
  return info;
}

/// A 16-bit PCM WAV file being written (move-only RAII; the destructor closes it).
///
/// libsndfile's `SFC_SET_UPDATE_HEADER_AUTO` is on, so the RIFF header is rewritten after every `write`:
/// the file is a valid WAV holding every sample written so far at every moment, even if the process
/// dies without closing it. Used by `file_recording_terminal` (TAPI: the file recording terminal
/// writing the file named by ITMediaRecord::put_FileName).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe (one thread at a time; `file_recording_terminal`
/// serialises its writer with a mutex).
class wav_writer {
 public:
  /// An empty writer (`is_open()` false); `write` on it reports `tapi_errc::file_write_error`.
  wav_writer() noexcept = default;
  /// Takes over `other`'s file (`other` becomes empty). Never throws.
  wav_writer(wav_writer&& other) noexcept
      : file_(std::move(other.file_)), channels_(other.channels_), frames_(std::exchange(other.frames_, 0)) {}
  /// Closes this writer's file (as `close`), then takes over `other`'s. Never throws.
  wav_writer& operator=(wav_writer&& other) noexcept {
    if (this != &other) {
      file_ = std::move(other.file_);
      channels_ = other.channels_;
      frames_ = std::exchange(other.frames_, 0);
    }
    return *this;
  }
  /// Finalizes and closes the file, as `close`.
  ~wav_writer() = default;

  /// Creates (or truncates) `path` as a 16-bit PCM WAV of `rate_hz` Hz and `channels` channels, and
  /// writes its (empty) header at once.
  /// @param path the file to create.
  /// @param rate_hz sample rate in Hz, 1..384000.
  /// @param channels 1..8.
  /// @param ec cleared on success; `tapi_errc::invalid_argument` for a rate or channel count out of
  ///        range (nothing touched); `tapi_errc::file_write_error` when the file cannot be created (no
  ///        such directory, no permission, ...). On error no file is left behind (an existing file
  ///        that cannot be opened for writing is left untouched).
  /// @return the open writer, or an empty one on error.
  static wav_writer create(const std::string& path, int rate_hz, int channels, std::error_code& ec) {
    ec.clear();
    wav_writer w;
    if (rate_hz < 1 || rate_hz > 384000 || channels < 1 || channels > 8) {
      ec = tapi_errc::invalid_argument;
      return w;
    }
    SF_INFO info{};
    info.samplerate = rate_hz;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    if (sf_format_check(&info) == SF_FALSE) {
      ec = tapi_errc::invalid_argument;
      return w;
    }
    w.file_.reset(sf_open(path.c_str(), SFM_WRITE, &info));
    if (!w.file_) {
      ec = tapi_errc::file_write_error;
      return w;
    }
    if (sf_command(w.file_.get(), SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE) != SF_TRUE) {
      w.file_.reset();
      std::remove(path.c_str());
      ec = tapi_errc::file_write_error;
      return w;
    }
    w.channels_ = channels;
    return w;
  }

  /// Throwing form of `create(path, rate_hz, channels, ec)`.
  /// @throws std::system_error with the code above and "wav_writer::create" in `what()`.
  static wav_writer create(const std::string& path, int rate_hz, int channels) {
    std::error_code ec;
    auto w = create(path, rate_hz, channels, ec);
    throw_if(ec, "wav_writer::create");
    return w;
  }

  /// Appends interleaved samples (`samples.size()` must be a multiple of the channel count) and
  /// updates the header. Does not allocate.
  /// @param samples 16-bit PCM, interleaved when there are several channels.
  /// @param ec cleared on success; `tapi_errc::invalid_argument` for a partial frame (nothing written);
  ///        `tapi_errc::file_write_error` when the writer is not open or the disk write fails (disk full,
  ///        I/O error): then only the frames that made it are counted.
  /// @return true on success.
  bool write(std::span<const std::int16_t> samples, std::error_code& ec) noexcept {
    ec.clear();
    if (!file_) {
      ec = tapi_errc::file_write_error;
      return false;
    }
    if (samples.size() % static_cast<std::size_t>(channels_) != 0) {
      ec = tapi_errc::invalid_argument;
      return false;
    }
    if (samples.empty()) return true;
    const auto count = static_cast<sf_count_t>(samples.size());
    const sf_count_t written = sf_write_short(file_.get(), reinterpret_cast<const short*>(samples.data()), count);
    if (written > 0) frames_ += static_cast<std::uint64_t>(written) / static_cast<std::uint64_t>(channels_);
    if (written != count) {
      ec = tapi_errc::file_write_error;
      return false;
    }
    return true;
  }

  /// Finalizes and closes the file; afterwards `is_open()` is false. No effect on an empty writer.
  /// Never throws; errors while finalizing are not reported.
  void close() noexcept { file_.reset(); }

  /// True between a successful `create` and `close`. Never throws.
  [[nodiscard]] bool is_open() const noexcept { return static_cast<bool>(file_); }

  /// Frames (samples per channel) written since `create`. Never throws.
  [[nodiscard]] std::uint64_t frames_written() const noexcept { return frames_; }

 private:
  detail::sndfile_ptr file_;
  int channels_ = 1;
  std::uint64_t frames_ = 0;
};

}  // namespace mspi
