#include <mspi/portaudio.hpp>
#include <mspi/terminal_support.hpp>
#include <mspi/terminals/device.hpp>
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>
#include <mspi/terminals/media_streaming.hpp>

#include "mspi/audio_test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using mspi::media_type;
using mspi::tapi_errc;
using mspi::terminal_direction;
namespace classes = mspi::terminal_classes;

TEST_CASE("terminal_support: dynamic classes and create_terminal types", "[mspi][terminal_support]") {
  const auto calls = mspi::portaudio_system::initialize_count();
  mspi::terminal_support support;
  CHECK(support.dynamic_terminal_classes() ==
        std::vector<std::string_view>{classes::file_playback, classes::file_recording, classes::media_streaming});

  auto playback = support.create_terminal(classes::file_playback, media_type::audio, terminal_direction::capture);
  CHECK(dynamic_cast<mspi::file_playback_terminal*>(playback.get()) != nullptr);
  auto recording = support.create_terminal(classes::file_recording, media_type::audio, terminal_direction::render);
  CHECK(dynamic_cast<mspi::file_recording_terminal*>(recording.get()) != nullptr);
  for (auto dir : {terminal_direction::capture, terminal_direction::render}) {
    auto streaming = support.create_terminal(classes::media_streaming, media_type::audio, dir);
    REQUIRE(dynamic_cast<mspi::media_streaming_terminal*>(streaming.get()) != nullptr);
    CHECK(streaming->direction() == dir);
    CHECK(streaming->type() == mspi::terminal_type::dynamic_terminal);
  }
  // Dynamic terminals never touch PortAudio.
  CHECK_FALSE(support.static_terminals_enumerated());
  CHECK(mspi::portaudio_system::initialize_count() == calls);
}

TEST_CASE("terminal_support: create_terminal validates media, class and direction", "[mspi][terminal_support]") {
  mspi::terminal_support support;
  struct bad {
    std::string_view cls;
    media_type media;
    terminal_direction dir;
    tapi_errc expected;
  };
  for (const auto& b : {
           bad{classes::file_playback, media_type::video, terminal_direction::capture, tapi_errc::invalid_media_type},
           bad{classes::media_streaming, media_type::audio | media_type::video, terminal_direction::capture,
               tapi_errc::invalid_media_type},
           bad{"no_such_class", media_type::audio, terminal_direction::capture, tapi_errc::invalid_terminal_class},
           bad{classes::microphone, media_type::audio, terminal_direction::capture, tapi_errc::invalid_terminal_class},
           bad{classes::file_playback, media_type::audio, terminal_direction::render, tapi_errc::invalid_direction},
           bad{classes::file_recording, media_type::audio, terminal_direction::capture, tapi_errc::invalid_direction},
           bad{classes::media_streaming, media_type::audio, terminal_direction::bidirectional,
               tapi_errc::invalid_direction},
       }) {
    INFO(b.cls);
    std::error_code ec;
    CHECK(support.create_terminal(b.cls, b.media, b.dir, ec) == nullptr);
    CHECK(ec == b.expected);
  }
  try {
    (void)support.create_terminal("nope", media_type::audio, terminal_direction::capture);
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == tapi_errc::invalid_terminal_class);
    CHECK(std::string(e.what()).find("create_terminal") != std::string::npos);
  }
  std::error_code ec;
  CHECK(support.create_media_streaming_terminal(terminal_direction::none, ec) == nullptr);
  CHECK(ec == tapi_errc::invalid_direction);
  CHECK(support.default_static_terminal(media_type::video, terminal_direction::capture, ec) == nullptr);
  CHECK(ec == tapi_errc::invalid_media_type);
  CHECK(support.default_static_terminal(media_type::audio, terminal_direction::bidirectional, ec) == nullptr);
  CHECK(ec == tapi_errc::invalid_direction);
  CHECK_FALSE(support.static_terminals_enumerated());
}

TEST_CASE("terminal_support: typed helpers", "[mspi][terminal_support]") {
  ptapi_test::temp_dir dir;
  mspi::terminal_support support;
  auto playback = support.create_file_playback_terminal({ptapi_test::speech_wav});
  CHECK(playback->total_samples() == 68545);
  std::error_code ec;
  CHECK(support.create_file_playback_terminal({dir.file("missing.wav")}, ec) == nullptr);
  CHECK(ec == tapi_errc::file_read_error);
  CHECK_THROWS_AS(support.create_file_playback_terminal({dir.file("missing.wav")}), std::system_error);

  auto recording = support.create_file_recording_terminal(dir.file("rec.wav"));
  CHECK(recording->file_name() == dir.file("rec.wav"));
  CHECK(support.create_file_recording_terminal(dir.file("no/dir.wav"), ec) == nullptr);
  CHECK(ec == tapi_errc::file_write_error);

  auto streaming = support.create_media_streaming_terminal(terminal_direction::render);
  CHECK(streaming->direction() == terminal_direction::render);
  CHECK(streaming->capacity() == mspi::media_streaming_terminal::default_capacity_samples);
}

TEST_CASE("terminal_support: static terminals are enumerated lazily and cached", "[mspi][terminal_support][portaudio]") {
  if (std::getenv("ALSA_CONFIG_PATH") == nullptr) return;  // needs the headless ALSA config (ctest sets it)
  mspi::terminal_support support;
  CHECK_FALSE(support.static_terminals_enumerated());
  CHECK_FALSE(mspi::portaudio_system::initialized());

  const auto first = support.static_terminals();
  CHECK(support.static_terminals_enumerated());
  REQUIRE_FALSE(first.empty());
  for (const auto& t : first) {
    CHECK(t->type() == mspi::terminal_type::static_terminal);
    CHECK(t->media() == media_type::audio);
    CHECK(t->terminal_class() ==
          (t->direction() == terminal_direction::capture ? classes::microphone : classes::speakers));
  }
  const auto calls = mspi::portaudio_system::initialize_count();
  CHECK(support.static_terminals() == first);  // cached: same objects, no new scan
  CHECK(mspi::portaudio_system::initialize_count() == calls);

  auto mic = support.default_static_terminal(media_type::audio, terminal_direction::capture);
  auto speakers = support.default_static_terminal(media_type::audio, terminal_direction::render);
  REQUIRE(mic);
  REQUIRE(speakers);
  CHECK(mic->direction() == terminal_direction::capture);
  CHECK(speakers->direction() == terminal_direction::render);
  CHECK(static_cast<mspi::audio_device_terminal&>(*mic).device().default_input);
  CHECK(static_cast<mspi::audio_device_terminal&>(*speakers).device().default_output);
  CHECK(std::find(first.begin(), first.end(), mic) != first.end());
}
