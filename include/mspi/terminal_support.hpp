// ptapi - portable TAPI
// mspi/terminal_support.hpp: terminal enumeration and creation (ITTerminalSupport), reused by every MSP.
// Declarations only; the definitions are in mspi/impl/terminal_support.ipp.
#pragma once

#include <ptapi/config.hpp>

#include <mspi/error.hpp>
#include <mspi/media_types.hpp>
#include <mspi/terminal.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mspi {

class file_playback_terminal;    // <mspi/terminals/file_playback.hpp>  (component `files`)
class file_recording_terminal;   // <mspi/terminals/file_recording.hpp> (component `files`)
class media_streaming_terminal;  // <mspi/terminals/media_streaming.hpp>

/// TAPI's ITTerminalSupport for audio: the static terminals (PortAudio devices) and the dynamic
/// terminal classes (file playback, file recording, media streaming) an MSP offers on its addresses.
///
/// Optional components (see `<ptapi/config.hpp>`): static terminals exist only with
/// `PTAPI_WITH_DEVICES` (CMake `ptapi::devices`), the file terminal classes only with `PTAPI_WITH_FILES`
/// (`ptapi::files`). Without them the lists are shorter and the file factories report `not_supported`.
/// The media streaming terminal is always there. To use a returned terminal's own members, include its
/// header (`<mspi/terminals/file_playback.hpp>`...); header-only builds include them already.
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
  /// in device order. Enumerated on the first call, then cached (the same objects every time). Empty
  /// without the `devices` component.
  /// @param ec cleared on success; `tapi_errc::no_device` when PortAudio cannot initialize;
  ///        `tapi_errc::operation_failed` when it cannot list its devices. A failure is not cached.
  PTAPI_DECL std::vector<terminal_ptr> static_terminals(std::error_code& ec);
  /// Throwing form of `static_terminals(ec)`. @throws std::system_error naming "static_terminals".
  PTAPI_DECL std::vector<terminal_ptr> static_terminals();

  /// ITTerminalSupport::GetDefaultStaticTerminal: the terminal of PortAudio's default input (capture)
  /// or output (render) device.
  /// @param media the media type (audio only).
  /// @param direction capture (microphone) or render (speakers).
  /// @param ec cleared on success; `tapi_errc::invalid_media_type` unless `media` is audio;
  ///        `tapi_errc::invalid_direction` unless `direction` is capture or render; `tapi_errc::no_device`
  ///        when there is no such default device (always, without the `devices` component); errors of
  ///        `static_terminals`.
  /// @return the terminal, or null on error.
  PTAPI_DECL terminal_ptr default_static_terminal(media_type media, terminal_direction direction, std::error_code& ec);
  /// Throwing form of `default_static_terminal(media, direction, ec)`.
  /// @throws std::system_error naming "default_static_terminal".
  PTAPI_DECL terminal_ptr default_static_terminal(media_type media, terminal_direction direction);

  /// ITTerminalSupport::EnumerateDynamicTerminalClasses: file_playback and file_recording (with the
  /// `files` component), media_streaming. No errors (throws only std::bad_alloc).
  [[nodiscard]] PTAPI_DECL std::vector<std::string_view> dynamic_terminal_classes() const;

  /// ITTerminalSupport::CreateTerminal: a new, unselected dynamic terminal of `terminal_class`
  /// (file terminals with no play list / file yet; media streaming with a one-second ring, 48000 samples).
  /// @param terminal_class one of `terminal_classes`: file_playback, file_recording, media_streaming.
  /// @param media the media type (audio only).
  /// @param direction capture or render, as the class allows.
  /// @param ec cleared on success; `tapi_errc::invalid_media_type` unless `media` is audio;
  ///        `tapi_errc::invalid_terminal_class` for a class not in `dynamic_terminal_classes()`;
  ///        `tapi_errc::invalid_direction` when the direction does not fit the class (file_playback:
  ///        capture; file_recording: render; media_streaming: capture or render).
  /// @return a `file_playback_terminal`, `file_recording_terminal` or `media_streaming_terminal`; null on error.
  PTAPI_DECL terminal_ptr create_terminal(std::string_view terminal_class, media_type media,
                                          terminal_direction direction, std::error_code& ec);
  /// Throwing form of `create_terminal(terminal_class, media, direction, ec)`.
  /// @throws std::system_error naming "create_terminal".
  PTAPI_DECL terminal_ptr create_terminal(std::string_view terminal_class, media_type media,
                                          terminal_direction direction);

  /// ITTerminalSupport::CreateTerminal(CLSID_FilePlaybackTerminal) followed by ITMediaPlayback::put_PlayList.
  /// @param play_list WAV file paths, played in order (see `file_playback_terminal::set_play_list`).
  /// @param ec cleared on success; errors of `file_playback_terminal::set_play_list` (null then);
  ///        `tapi_errc::not_supported` without the `files` component.
  PTAPI_DECL std::shared_ptr<file_playback_terminal> create_file_playback_terminal(std::vector<std::string> play_list,
                                                                                   std::error_code& ec);
  /// Throwing form. @throws std::system_error naming "create_terminal".
  PTAPI_DECL std::shared_ptr<file_playback_terminal> create_file_playback_terminal(std::vector<std::string> play_list);

  /// ITTerminalSupport::CreateTerminal(CLSID_FileRecordingTerminal) followed by ITMediaRecord::put_FileName.
  /// @param path the WAV file to record into (created or truncated).
  /// @param ec cleared on success; errors of `file_recording_terminal::set_file_name` (null then);
  ///        `tapi_errc::not_supported` without the `files` component.
  PTAPI_DECL std::shared_ptr<file_recording_terminal> create_file_recording_terminal(const std::string& path,
                                                                                     std::error_code& ec);
  /// Throwing form. @throws std::system_error naming "create_terminal".
  PTAPI_DECL std::shared_ptr<file_recording_terminal> create_file_recording_terminal(const std::string& path);

  /// ITTerminalSupport::CreateTerminal(CLSID_MediaStreamTerminal) in `direction`, with a one-second ring
  /// (48000 samples).
  /// @param direction capture (the application writes PCM) or render (the application reads PCM).
  /// @param ec cleared on success; `tapi_errc::invalid_direction` unless capture or render (null then).
  PTAPI_DECL std::shared_ptr<media_streaming_terminal> create_media_streaming_terminal(terminal_direction direction,
                                                                                       std::error_code& ec);
  /// Throwing form. @throws std::system_error naming "create_terminal".
  PTAPI_DECL std::shared_ptr<media_streaming_terminal> create_media_streaming_terminal(terminal_direction direction);

  /// True once the static terminals have been enumerated (PortAudio was touched). For tests and
  /// diagnostics of the lazy behaviour (ptapi addition). Lock-free; never throws.
  [[nodiscard]] bool static_terminals_enumerated() const noexcept { return enumerated_.load(std::memory_order_acquire); }

 private:
  PTAPI_DECL void enumerate_locked(std::error_code& ec);

  std::mutex mutex_;
  std::vector<terminal_ptr> statics_;
  std::atomic<bool> enumerated_{false};
};

}  // namespace mspi

#if PTAPI_HEADER_ONLY
#include <mspi/impl/terminal_support.ipp>
#endif
