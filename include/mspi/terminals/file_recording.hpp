// ptapi - portable TAPI
// mspi/terminals/file_recording.hpp: the file recording terminal (CLSID_FileRecordingTerminal): records
// what a stream receives into a WAV file.
#pragma once

#include <mspi/audio_file.hpp>
#include <mspi/terminals/media_control.hpp>

#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace mspi {

/// When a recording ends by itself (ptapi addition: TAPI's answering-machine and voice-mail samples measured
/// silence and length in the application). Applied per frame by `file_recording_terminal::write_frame`;
/// a recording that ends so goes idle with {idle, max_duration} or {idle, silence}, and its file stays open
/// (start again to append, or `close`).
struct recording_limits {
  /// Longest recording: the terminal stops once the file holds this much audio. 0 = unlimited.
  std::chrono::milliseconds max_duration{0};
  /// The terminal stops after this much continuous silence recorded (frames whose RMS level is below
  /// `silence_dbfs`), counted from the last `start`. 0 = never.
  std::chrono::milliseconds silence_timeout{0};
  /// The level below which a frame is silence: RMS of the frame in dBFS (0 dBFS = full scale, a sine of
  /// amplitude 32767 is -3 dBFS). Typical: -45 for a line with comfort noise, -55 for a clean one.
  double silence_dbfs = -45;
};

/// TAPI's file recording terminal: a dynamic render terminal (class `terminal_classes::file_recording`)
/// that writes the audio of the stream it is selected on into a 48 kHz mono 16-bit PCM WAV file
/// (ITMediaRecord plus ITMediaControl).
///
/// The file is created by `set_file_name`, and its header is rewritten after every frame (see
/// `wav_writer`), so it is a valid WAV with everything recorded so far at every moment, even if the
/// process dies mid-call. When active, each `write_frame` appends the frame; when idle or paused frames
/// are discarded. A failed disk write makes the terminal idle and fires {idle, write_error, error}.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: control methods (`set_file_name`, `close`, `start`/`pause`/
/// `stop`) and getters may be called from any thread. `write_frame` runs on the MSP's media thread,
/// allocates nothing itself and never waits on a lock (it does blocking file I/O, as a recorder must):
/// while `set_file_name` or `close` holds the file, the frame is discarded. A write error fires
/// {idle, write_error} through the sink (see `media_control::finish`).
class file_recording_terminal : public media_control {
 public:
  /// An idle terminal with no file (TAPI: ITTerminalSupport::CreateTerminal with
  /// CLSID_FileRecordingTerminal). Set a file name before `start`.
  /// @param name the terminal's name (ITTerminal::get_Name).
  explicit file_recording_terminal(std::string name = "File Recording Terminal")
      : media_control(std::move(name), terminal_classes::file_recording, terminal_type::dynamic_terminal,
                      media_type::audio, terminal_direction::render) {}

  /// ITMediaRecord::put_FileName: creates (or truncates) `path` as an empty 48 kHz mono s16 WAV at
  /// once, so a bad path fails here and not in the middle of a call. The previous file, if any, is
  /// closed; the counters restart; the media state is unchanged (an active terminal goes on recording
  /// into the new file).
  /// @param path the WAV file to record into.
  /// @param ec cleared on success; `tapi_errc::file_write_error` when the file cannot be created (no
  ///        such directory, no permission): then no file is created and nothing changes.
  /// @par Thread Safety
  /// Any thread. The file is created before any lock is taken.
  void set_file_name(const std::string& path, std::error_code& ec) {
    auto writer = wav_writer::create(path, pipeline_rate_hz, pipeline_channels, ec);
    if (ec) return;
    {
      std::lock_guard lock(file_mutex_);
      std::swap(writer_, writer);
      recorded_.store(0, std::memory_order_release);
      first_sample_.clear();
    }
    writer.close();  // the previous file, outside the lock
    std::lock_guard lock(name_mutex_);
    file_name_ = path;
  }
  /// Throwing form of `set_file_name(path, ec)`. @throws std::system_error naming "set_file_name".
  void set_file_name(const std::string& path) {
    std::error_code ec;
    set_file_name(path, ec);
    throw_if(ec, "set_file_name");
  }

  /// ITMediaRecord::get_FileName: the path given to the last successful `set_file_name` (empty before).
  /// Throws only std::bad_alloc.
  [[nodiscard]] std::string file_name() const {
    std::lock_guard lock(name_mutex_);
    return file_name_;
  }

  /// Stops recording (firing {idle, normal} if it was active or paused) and closes the file. A later
  /// `start` fails until `set_file_name` is called again. The destructor closes the file too (without
  /// firing events). ptapi addition (TAPI closes the file on ITMediaControl::Stop). No errors.
  void close() {
    stop();
    std::lock_guard lock(file_mutex_);
    writer_.close();
  }

  /// Sets when the recording ends by itself (see `recording_limits`); applies from the next frame, to the
  /// current file and the next ones. ptapi addition. Any thread; lock-free.
  void set_limits(const recording_limits& limits) noexcept {
    const auto samples = [](std::chrono::milliseconds d) {
      return d.count() <= 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(d.count()) * pipeline_rate_hz / 1000;
    };
    max_samples_.store(samples(limits.max_duration), std::memory_order_relaxed);
    silence_samples_.store(samples(limits.silence_timeout), std::memory_order_relaxed);
    // Compared with the sum of squares of a frame: silence when sum < n * (32768 * 10^(dBFS/20))^2.
    const double full = 32768.0 * std::pow(10.0, limits.silence_dbfs / 20.0);
    silence_power_.store(full * full, std::memory_order_relaxed);
  }

  /// Samples (48 kHz mono) written to the current file (ptapi addition). Lock-free.
  [[nodiscard]] std::uint64_t samples_recorded() const noexcept { return recorded_.load(std::memory_order_acquire); }

  /// The `steady_clock` time of the `write_frame` call that wrote sample 0 of the current file, or
  /// nullopt before. A render device starts playing a frame when it receives it, so that call is when
  /// the first recorded sample "sounded" (ptapi addition). Lock-free; never throws.
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> first_sample_time() const noexcept {
    return first_sample_.load();
  }

  /// Render port (see `terminal::write_frame`): appends the frame (48 kHz mono s16) to the file when
  /// active. Never throws; a failed write goes idle with {idle, write_error, file_write_error}.
  void write_frame(std::span<const std::int16_t> frame) noexcept override {
    if (frame.empty() || media_state() != terminal_media_state::active) return;
    std::unique_lock lock(file_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    const auto now = std::chrono::steady_clock::now();
    std::error_code ec;
    const bool ok = writer_.write(frame, ec);
    if (writer_.frames_written() > 0 && !first_sample_.load()) first_sample_.store(now);
    recorded_.store(writer_.frames_written(), std::memory_order_release);
    const auto ended = ok ? limit_reached(frame) : std::optional(file_terminal_cause::write_error);
    lock.unlock();
    if (ended) finish(*ended, ec);
  }

 protected:
  /// Refuses to start (or resume) without an open file (`tapi_errc::operation_failed`). Called by
  /// `media_control` under its control lock.
  std::error_code before_transition(terminal_media_state from, terminal_media_state to) noexcept override {
    (void)from;
    if (to != terminal_media_state::active) return {};
    std::lock_guard lock(file_mutex_);
    silent_run_ = 0;  // silence counts from this start (write_frame, its other user, holds file_mutex_ or skips)
    return writer_.is_open() ? std::error_code{} : std::error_code(tapi_errc::operation_failed);
  }

 private:
  // Whether the frame just recorded ends the recording by `recording_limits`. Under file_mutex_.
  std::optional<file_terminal_cause> limit_reached(std::span<const std::int16_t> frame) noexcept {
    if (const auto limit = max_samples_.load(std::memory_order_relaxed); limit && writer_.frames_written() >= limit)
      return file_terminal_cause::max_duration;
    const auto limit = silence_samples_.load(std::memory_order_relaxed);
    if (!limit) return std::nullopt;
    double power = 0;
    for (const std::int16_t v : frame) power += double(v) * v;
    const bool silent = power < silence_power_.load(std::memory_order_relaxed) * double(frame.size());
    silent_run_ = silent ? silent_run_ + frame.size() : 0;
    return silent_run_ >= limit ? std::optional(file_terminal_cause::silence) : std::nullopt;
  }

  mutable std::mutex name_mutex_;
  std::string file_name_;

  std::mutex file_mutex_;  // guards writer_
  wav_writer writer_;

  std::atomic<std::uint64_t> recorded_{0};
  detail::atomic_time_point first_sample_;

  std::atomic<std::uint64_t> max_samples_{0}, silence_samples_{0};  // recording_limits, in samples; 0 = none
  std::atomic<double> silence_power_{0};                             // per sample, see set_limits
  std::uint64_t silent_run_ = 0;  // silent samples recorded since the last loud frame or start; file_mutex_
};

}  // namespace mspi
