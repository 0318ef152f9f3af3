// ptapi - portable TAPI
// mspi/terminal_support.hpp: terminal enumeration and creation (ITTerminalSupport), reused by every MSP.
#pragma once

#include <mspi/error.hpp>
#include <mspi/media_types.hpp>
#include <mspi/portaudio.hpp>
#include <mspi/terminal.hpp>
#include <mspi/terminals/device.hpp>
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>
#include <mspi/terminals/media_streaming.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mspi {

/// TAPI's ITTerminalSupport for audio: the static terminals (PortAudio devices) and the dynamic
/// terminal classes (file playback, file recording, media streaming) an MSP offers on its addresses.
///
/// Lazy: PortAudio is not touched until static terminals are asked for (`static_terminals` or
/// `default_static_terminal`); the device list is then enumerated once and cached for the object's
/// lifetime, and the cached terminals keep PortAudio initialized. Creating dynamic terminals never
/// touches PortAudio.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; every member may be called from any thread (the static
/// terminal cache is guarded by a mutex, held while PortAudio enumerates devices on the first call).
class terminal_support {
 public:
  terminal_support() = default;
  terminal_support(const terminal_support&) = delete;
  terminal_support& operator=(const terminal_support&) = delete;

  /// ITTerminalSupport::EnumerateStaticTerminals: one microphone (capture) terminal per PortAudio
  /// device with input channels and one speakers (render) terminal per device with output channels,
  /// in device order. Enumerated on the first call, then cached (the same objects every time).
  /// @param ec cleared on success; `tapi_errc::no_device` when PortAudio cannot initialize;
  ///        `tapi_errc::operation_failed` when it cannot list its devices. A failure is not cached.
  std::vector<terminal_ptr> static_terminals(std::error_code& ec) {
    ec.clear();
    std::lock_guard lock(mutex_);
    if (!enumerated_.load(std::memory_order_acquire)) enumerate_locked(ec);
    return statics_;
  }
  /// Throwing form of `static_terminals(ec)`. @throws std::system_error naming "static_terminals".
  std::vector<terminal_ptr> static_terminals() {
    std::error_code ec;
    auto t = static_terminals(ec);
    throw_if(ec, "static_terminals");
    return t;
  }

  /// ITTerminalSupport::GetDefaultStaticTerminal: the terminal of PortAudio's default input (capture)
  /// or output (render) device.
  /// @param ec cleared on success; `tapi_errc::invalid_media_type` unless `media` is audio;
  ///        `tapi_errc::invalid_direction` unless `direction` is capture or render; `tapi_errc::no_device`
  ///        when there is no such default device; errors of `static_terminals`.
  /// @return the terminal, or null on error.
  terminal_ptr default_static_terminal(media_type media, terminal_direction direction, std::error_code& ec) {
    ec.clear();
    if (media != media_type::audio) {
      ec = tapi_errc::invalid_media_type;
      return nullptr;
    }
    if (direction != terminal_direction::capture && direction != terminal_direction::render) {
      ec = tapi_errc::invalid_direction;
      return nullptr;
    }
    for (const auto& t : static_terminals(ec)) {
      const auto& info = static_cast<const audio_device_terminal&>(*t).device();
      if (t->direction() == direction &&
          (direction == terminal_direction::capture ? info.default_input : info.default_output))
        return t;
    }
    if (!ec) ec = tapi_errc::no_device;
    return nullptr;
  }
  /// Throwing form of `default_static_terminal(media, direction, ec)`.
  /// @throws std::system_error naming "default_static_terminal".
  terminal_ptr default_static_terminal(media_type media, terminal_direction direction) {
    std::error_code ec;
    auto t = default_static_terminal(media, direction, ec);
    throw_if(ec, "default_static_terminal");
    return t;
  }

  /// ITTerminalSupport::EnumerateDynamicTerminalClasses: file_playback, file_recording, media_streaming.
  /// No errors (throws only std::bad_alloc).
  [[nodiscard]] std::vector<std::string_view> dynamic_terminal_classes() const {
    return {terminal_classes::file_playback, terminal_classes::file_recording, terminal_classes::media_streaming};
  }

  /// ITTerminalSupport::CreateTerminal: a new, unselected dynamic terminal of `terminal_class`
  /// (file terminals with no play list / file yet; media streaming with a one-second ring, 48000 samples).
  /// @param ec cleared on success; `tapi_errc::invalid_media_type` unless `media` is audio;
  ///        `tapi_errc::invalid_terminal_class` for a class not in `dynamic_terminal_classes()`;
  ///        `tapi_errc::invalid_direction` when the direction does not fit the class (file_playback:
  ///        capture; file_recording: render; media_streaming: capture or render).
  /// @return a `file_playback_terminal`, `file_recording_terminal` or `media_streaming_terminal`; null on error.
  terminal_ptr create_terminal(std::string_view terminal_class, media_type media, terminal_direction direction,
                               std::error_code& ec) {
    ec.clear();
    if (media != media_type::audio) {
      ec = tapi_errc::invalid_media_type;
      return nullptr;
    }
    const bool capture = direction == terminal_direction::capture;
    const bool render = direction == terminal_direction::render;
    bool fits = false;
    if (terminal_class == terminal_classes::file_playback) {
      fits = capture;
    } else if (terminal_class == terminal_classes::file_recording) {
      fits = render;
    } else if (terminal_class == terminal_classes::media_streaming) {
      fits = capture || render;
    } else {
      ec = tapi_errc::invalid_terminal_class;
      return nullptr;
    }
    if (!fits) {
      ec = tapi_errc::invalid_direction;
      return nullptr;
    }
    if (terminal_class == terminal_classes::file_playback) return std::make_shared<file_playback_terminal>();
    if (terminal_class == terminal_classes::file_recording) return std::make_shared<file_recording_terminal>();
    return std::make_shared<media_streaming_terminal>(direction);
  }
  /// Throwing form of `create_terminal(terminal_class, media, direction, ec)`.
  /// @throws std::system_error naming "create_terminal".
  terminal_ptr create_terminal(std::string_view terminal_class, media_type media, terminal_direction direction) {
    std::error_code ec;
    auto t = create_terminal(terminal_class, media, direction, ec);
    throw_if(ec, "create_terminal");
    return t;
  }

  /// ITTerminalSupport::CreateTerminal(CLSID_FilePlaybackTerminal) followed by ITMediaPlayback::put_PlayList.
  /// @param ec cleared on success; errors of `file_playback_terminal::set_play_list` (null then).
  std::shared_ptr<file_playback_terminal> create_file_playback_terminal(std::vector<std::string> play_list,
                                                                         std::error_code& ec) {
    auto t = std::make_shared<file_playback_terminal>();
    t->set_play_list(std::move(play_list), ec);
    return ec ? nullptr : t;
  }
  /// Throwing form. @throws std::system_error naming "create_terminal".
  std::shared_ptr<file_playback_terminal> create_file_playback_terminal(std::vector<std::string> play_list) {
    std::error_code ec;
    auto t = create_file_playback_terminal(std::move(play_list), ec);
    throw_if(ec, "create_terminal");
    return t;
  }

  /// ITTerminalSupport::CreateTerminal(CLSID_FileRecordingTerminal) followed by ITMediaRecord::put_FileName.
  /// @param ec cleared on success; errors of `file_recording_terminal::set_file_name` (null then).
  std::shared_ptr<file_recording_terminal> create_file_recording_terminal(const std::string& path,
                                                                           std::error_code& ec) {
    auto t = std::make_shared<file_recording_terminal>();
    t->set_file_name(path, ec);
    return ec ? nullptr : t;
  }
  /// Throwing form. @throws std::system_error naming "create_terminal".
  std::shared_ptr<file_recording_terminal> create_file_recording_terminal(const std::string& path) {
    std::error_code ec;
    auto t = create_file_recording_terminal(path, ec);
    throw_if(ec, "create_terminal");
    return t;
  }

  /// ITTerminalSupport::CreateTerminal(CLSID_MediaStreamTerminal) in `direction`, with a one-second ring
  /// (48000 samples).
  /// @param ec cleared on success; `tapi_errc::invalid_direction` unless capture or render (null then).
  std::shared_ptr<media_streaming_terminal> create_media_streaming_terminal(terminal_direction direction,
                                                                             std::error_code& ec) {
    ec.clear();
    if (direction != terminal_direction::capture && direction != terminal_direction::render) {
      ec = tapi_errc::invalid_direction;
      return nullptr;
    }
    return std::make_shared<media_streaming_terminal>(direction);
  }
  /// Throwing form. @throws std::system_error naming "create_terminal".
  std::shared_ptr<media_streaming_terminal> create_media_streaming_terminal(terminal_direction direction) {
    std::error_code ec;
    auto t = create_media_streaming_terminal(direction, ec);
    throw_if(ec, "create_terminal");
    return t;
  }

  /// True once the static terminals have been enumerated (PortAudio was touched). For tests and
  /// diagnostics of the lazy behaviour (ptapi addition). Lock-free; never throws.
  [[nodiscard]] bool static_terminals_enumerated() const noexcept { return enumerated_.load(std::memory_order_acquire); }

 private:
  void enumerate_locked(std::error_code& ec) {
    auto pa = portaudio_system::acquire(ec);
    if (ec) return;
    const auto devices = enumerate_audio_devices(pa, ec);
    if (ec) return;
    std::vector<terminal_ptr> terminals;
    for (const auto& d : devices) {
      for (auto dir : {terminal_direction::capture, terminal_direction::render}) {
        const int channels = dir == terminal_direction::capture ? d.max_input_channels : d.max_output_channels;
        if (channels <= 0) continue;
        auto reference = portaudio_system::acquire(ec);  // cannot fail while `pa` is held
        if (ec) return;
        terminals.push_back(std::make_shared<audio_device_terminal>(std::move(reference), d, dir));
      }
    }
    statics_ = std::move(terminals);
    enumerated_.store(true, std::memory_order_release);
  }

  std::mutex mutex_;
  std::vector<terminal_ptr> statics_;
  std::atomic<bool> enumerated_{false};
};

}  // namespace mspi
