// ptapi - portable TAPI
// mspi/terminals/file_playback.hpp: the file playback terminal (CLSID_FilePlaybackTerminal): plays a
// list of audio files into a stream.
#pragma once

#include <mspi/audio_file.hpp>
#include <mspi/detail/shared_audio.hpp>
#include <mspi/terminals/media_control.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mspi {

/// TAPI's file playback terminal: a dynamic capture terminal (class `terminal_classes::file_playback`)
/// that plays a list of audio files back to back into the stream it is selected on (ITMediaPlayback
/// plus ITMediaControl).
///
/// Every file is decoded and converted to 48 kHz mono s16 when the play list is set, so the media
/// thread only copies memory. Terminals playing the same files share one decoded copy (read-only; see
/// `detail::shared_audio_cache`): an announcement played into 100 calls is held once, not 100 times. When active, each `read_frame` delivers the next samples; at the end of
/// the list it pads the frame with silence, goes idle and fires {idle, end_of_file} once. When idle or
/// paused it delivers silence. Starting from idle plays the list from its beginning; starting from
/// paused resumes.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: control methods (`set_play_list`, `start`/`pause`/`stop`) and
/// getters may be called from any thread. `read_frame` runs on the MSP's media thread and never waits on
/// the sample buffer: it only try-locks it, delivering one frame of silence in the rare case that
/// `set_play_list` or a restart holds it at that moment. It allocates nothing itself; only the frame that
/// reaches the end of the list fires {idle, end_of_file} through the sink (see `media_control::finish`).
class file_playback_terminal : public media_control {
 public:
  /// An idle terminal with an empty play list (TAPI: ITTerminalSupport::CreateTerminal with
  /// CLSID_FilePlaybackTerminal). Set a play list before `start`.
  /// @param name the terminal's name (ITTerminal::get_Name).
  explicit file_playback_terminal(std::string name = "File Playback Terminal")
      : media_control(std::move(name), terminal_classes::file_playback, terminal_type::dynamic_terminal,
                      media_type::audio, terminal_direction::capture) {}

  /// ITMediaPlayback::put_PlayList: loads every file of `files` (in order, via `read_audio_file`, or
  /// shares the copy another terminal loaded) and makes their concatenation the audio to play. The position goes back to the start of the new
  /// list; the media state is unchanged (an active terminal goes on with the new list).
  /// @param files paths of audio files libsndfile can read (see `read_audio_file`).
  /// @param ec cleared on success; `tapi_errc::invalid_argument` for an empty list;
  ///        `tapi_errc::file_read_error` when any file cannot be read. On error nothing changes.
  /// @par Thread Safety
  /// Any thread. Decoding happens before any lock is taken.
  void set_play_list(std::vector<std::string> files, std::error_code& ec) {
    ec.clear();
    if (files.empty()) {
      ec = tapi_errc::invalid_argument;
      return;
    }
    auto all = detail::shared_audio_cache::instance().load(files, ec);
    if (ec) return;
    {
      std::lock_guard lock(samples_mutex_);
      samples_.swap(all);
      rewind_locked();
      total_.store(samples_->size(), std::memory_order_release);
    }
    std::lock_guard lock(list_mutex_);
    play_list_ = std::move(files);
  }
  /// Throwing form of `set_play_list(files, ec)`. @throws std::system_error naming "set_play_list".
  void set_play_list(std::vector<std::string> files) {
    std::error_code ec;
    set_play_list(std::move(files), ec);
    throw_if(ec, "set_play_list");
  }

  /// ITMediaPlayback::get_PlayList: the paths given to the last successful `set_play_list` (a copy).
  /// Throws only std::bad_alloc.
  [[nodiscard]] std::vector<std::string> play_list() const {
    std::lock_guard lock(list_mutex_);
    return play_list_;
  }

  /// Samples (48 kHz mono) of the whole play list after conversion (ptapi addition). Lock-free.
  [[nodiscard]] std::size_t total_samples() const noexcept { return total_.load(std::memory_order_acquire); }

  /// Samples (48 kHz mono) delivered since the list was (re)started from its beginning (ptapi addition).
  /// Lock-free.
  [[nodiscard]] std::uint64_t samples_played() const noexcept { return played_.load(std::memory_order_acquire); }

  /// The `steady_clock` time at which sample 0 of the play list was captured in the current run, or
  /// nullopt before it has been delivered. Defined as the time of the `read_frame` call that delivered
  /// sample 0 minus one frame duration (`frame.size() / 48000` s): a capture device hands a frame
  /// over once its last sample has been captured, so its first sample is one frame older than the
  /// call, and this terminal behaves like one. Lets an application line up what it played with what
  /// a remote party recorded (ptapi addition). Lock-free; never throws.
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> first_sample_time() const noexcept {
    return first_sample_.load();
  }

  /// Capture port (see `terminal::read_frame`): the next samples (48 kHz mono s16) when active, silence
  /// otherwise. Never throws.
  void read_frame(std::span<std::int16_t> frame) noexcept override {
    std::size_t copied = 0;
    bool at_end = false;
    if (media_state() == terminal_media_state::active) {
      std::unique_lock lock(samples_mutex_, std::try_to_lock);
      if (lock.owns_lock() && samples_) {
        const auto& samples = *samples_;
        copied = std::min(frame.size(), samples.size() - position_);
        if (position_ == 0 && copied > 0) {
          const auto frame_duration = std::chrono::nanoseconds(
              static_cast<std::int64_t>(frame.size()) * 1'000'000'000 / pipeline_rate_hz);
          first_sample_.store(std::chrono::steady_clock::now() -
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(frame_duration));
        }
        std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(position_), copied, frame.begin());
        position_ += copied;
        played_.store(position_, std::memory_order_release);
        at_end = position_ == samples.size();
      }
    }
    std::fill(frame.begin() + static_cast<std::ptrdiff_t>(copied), frame.end(), std::int16_t{0});
    if (at_end) finish(file_terminal_cause::end_of_file);
  }

 protected:
  /// Refuses to start without a play list (`tapi_errc::operation_failed`); rewinds when starting from idle.
  /// Called by `media_control` under its control lock.
  std::error_code before_transition(terminal_media_state from, terminal_media_state to) noexcept override {
    if (to != terminal_media_state::active || from != terminal_media_state::idle) return {};
    std::lock_guard lock(samples_mutex_);
    if (!samples_) return tapi_errc::operation_failed;
    rewind_locked();
    return {};
  }

 private:
  void rewind_locked() noexcept {
    position_ = 0;
    played_.store(0, std::memory_order_release);
    first_sample_.clear();
  }

  mutable std::mutex list_mutex_;
  std::vector<std::string> play_list_;

  std::mutex samples_mutex_;        // guards samples_ and position_
  detail::shared_samples samples_;  // the whole play list, 48 kHz mono (shared, read-only); null until set
  std::size_t position_ = 0;        // next sample to deliver

  std::atomic<std::size_t> total_{0};
  std::atomic<std::uint64_t> played_{0};
  detail::atomic_time_point first_sample_;
};

}  // namespace mspi
