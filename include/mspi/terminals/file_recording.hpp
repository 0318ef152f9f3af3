// ptapi - portable TAPI
// mspi/terminals/file_recording.hpp: the file recording terminal (CLSID_FileRecordingTerminal): records
// what a stream receives into a WAV file.
#pragma once

#include <mspi/audio_file.hpp>
#include <mspi/terminals/media_control.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace mspi {

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
    lock.unlock();
    if (!ok) finish(file_terminal_cause::write_error, ec);
  }

 protected:
  /// Refuses to start (or resume) without an open file (`tapi_errc::operation_failed`). Called by
  /// `media_control` under its control lock.
  std::error_code before_transition(terminal_media_state from, terminal_media_state to) noexcept override {
    (void)from;
    if (to != terminal_media_state::active) return {};
    std::lock_guard lock(file_mutex_);
    return writer_.is_open() ? std::error_code{} : std::error_code(tapi_errc::operation_failed);
  }

 private:
  mutable std::mutex name_mutex_;
  std::string file_name_;

  std::mutex file_mutex_;  // guards writer_
  wav_writer writer_;

  std::atomic<std::uint64_t> recorded_{0};
  detail::atomic_time_point first_sample_;
};

}  // namespace mspi
