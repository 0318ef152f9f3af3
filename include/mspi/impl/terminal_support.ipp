// ptapi - portable TAPI
// mspi/impl/terminal_support.ipp: definitions of mspi/terminal_support.hpp (header-only: included by it;
// separate compilation: by ptapi/src.hpp). The optional components decide which terminals exist.
#pragma once

#include <mspi/terminal_support.hpp>
#include <mspi/terminals/media_streaming.hpp>

#if PTAPI_WITH_DEVICES
#include <mspi/portaudio.hpp>
#include <mspi/terminals/device.hpp>
#endif
#if PTAPI_WITH_FILES
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>
#endif

namespace mspi {

PTAPI_DECL std::vector<terminal_ptr> terminal_support::static_terminals(std::error_code& ec) {
  ec.clear();
  std::lock_guard lock(mutex_);
  if (!enumerated_.load(std::memory_order_acquire)) enumerate_locked(ec);
  return statics_;
}

PTAPI_DECL std::vector<terminal_ptr> terminal_support::static_terminals() {
  std::error_code ec;
  auto t = static_terminals(ec);
  throw_if(ec, "static_terminals");
  return t;
}

PTAPI_DECL terminal_ptr terminal_support::default_static_terminal(media_type media, terminal_direction direction,
                                                                  std::error_code& ec) {
  ec.clear();
  if (media != media_type::audio) {
    ec = tapi_errc::invalid_media_type;
    return nullptr;
  }
  if (direction != terminal_direction::capture && direction != terminal_direction::render) {
    ec = tapi_errc::invalid_direction;
    return nullptr;
  }
#if PTAPI_WITH_DEVICES
  for (const auto& t : static_terminals(ec)) {
    const auto& info = static_cast<const audio_device_terminal&>(*t).device();
    if (t->direction() == direction && (direction == terminal_direction::capture ? info.default_input : info.default_output))
      return t;
  }
#endif
  if (!ec) ec = tapi_errc::no_device;
  return nullptr;
}

PTAPI_DECL terminal_ptr terminal_support::default_static_terminal(media_type media, terminal_direction direction) {
  std::error_code ec;
  auto t = default_static_terminal(media, direction, ec);
  throw_if(ec, "default_static_terminal");
  return t;
}

PTAPI_DECL std::vector<std::string_view> terminal_support::dynamic_terminal_classes() const {
#if PTAPI_WITH_FILES
  return {terminal_classes::file_playback, terminal_classes::file_recording, terminal_classes::media_streaming};
#else
  return {terminal_classes::media_streaming};
#endif
}

PTAPI_DECL terminal_ptr terminal_support::create_terminal(std::string_view terminal_class, media_type media,
                                                          terminal_direction direction, std::error_code& ec) {
  ec.clear();
  if (media != media_type::audio) {
    ec = tapi_errc::invalid_media_type;
    return nullptr;
  }
  const bool capture = direction == terminal_direction::capture;
  const bool render = direction == terminal_direction::render;
  bool fits = false;
  if (PTAPI_WITH_FILES && terminal_class == terminal_classes::file_playback) {
    fits = capture;
  } else if (PTAPI_WITH_FILES && terminal_class == terminal_classes::file_recording) {
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
#if PTAPI_WITH_FILES
  if (terminal_class == terminal_classes::file_playback) return std::make_shared<file_playback_terminal>();
  if (terminal_class == terminal_classes::file_recording) return std::make_shared<file_recording_terminal>();
#endif
  return std::make_shared<media_streaming_terminal>(direction);
}

PTAPI_DECL terminal_ptr terminal_support::create_terminal(std::string_view terminal_class, media_type media,
                                                          terminal_direction direction) {
  std::error_code ec;
  auto t = create_terminal(terminal_class, media, direction, ec);
  throw_if(ec, "create_terminal");
  return t;
}

PTAPI_DECL std::shared_ptr<file_playback_terminal> terminal_support::create_file_playback_terminal(
    std::vector<std::string> play_list, std::error_code& ec) {
#if PTAPI_WITH_FILES
  auto t = std::make_shared<file_playback_terminal>();
  t->set_play_list(std::move(play_list), ec);
  return ec ? nullptr : t;
#else
  (void)play_list;
  ec = tapi_errc::not_supported;
  return nullptr;
#endif
}

PTAPI_DECL std::shared_ptr<file_playback_terminal> terminal_support::create_file_playback_terminal(
    std::vector<std::string> play_list) {
  std::error_code ec;
  auto t = create_file_playback_terminal(std::move(play_list), ec);
  throw_if(ec, "create_terminal");
  return t;
}

PTAPI_DECL std::shared_ptr<file_recording_terminal> terminal_support::create_file_recording_terminal(
    const std::string& path, std::error_code& ec) {
#if PTAPI_WITH_FILES
  auto t = std::make_shared<file_recording_terminal>();
  t->set_file_name(path, ec);
  return ec ? nullptr : t;
#else
  (void)path;
  ec = tapi_errc::not_supported;
  return nullptr;
#endif
}

PTAPI_DECL std::shared_ptr<file_recording_terminal> terminal_support::create_file_recording_terminal(
    const std::string& path) {
  std::error_code ec;
  auto t = create_file_recording_terminal(path, ec);
  throw_if(ec, "create_terminal");
  return t;
}

PTAPI_DECL std::shared_ptr<media_streaming_terminal> terminal_support::create_media_streaming_terminal(
    terminal_direction direction, std::error_code& ec) {
  ec.clear();
  if (direction != terminal_direction::capture && direction != terminal_direction::render) {
    ec = tapi_errc::invalid_direction;
    return nullptr;
  }
  return std::make_shared<media_streaming_terminal>(direction);
}

PTAPI_DECL std::shared_ptr<media_streaming_terminal> terminal_support::create_media_streaming_terminal(
    terminal_direction direction) {
  std::error_code ec;
  auto t = create_media_streaming_terminal(direction, ec);
  throw_if(ec, "create_terminal");
  return t;
}

PTAPI_DECL void terminal_support::enumerate_locked(std::error_code& ec) {
#if PTAPI_WITH_DEVICES
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
#else
  ec.clear();  // no devices component: no static terminals, and nothing that could fail
#endif
  enumerated_.store(true, std::memory_order_release);
}

}  // namespace mspi
