#include <mspi/terminals/device.hpp>

#include "mspi/audio_test_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

// These tests run headless: ctest points ALSA_CONFIG_PATH at tests/headless-alsa.conf, whose default
// device plays into the raw file $PA_TEST_OUT and captures from the raw file $PA_TEST_IN through ALSA's
// unpaced null device.

namespace {

bool headless_alsa() { return std::getenv("ALSA_CONFIG_PATH") != nullptr; }

/// The PortAudio device called "default" (the headless config's tap), which must exist.
mspi::audio_device_info default_device(const mspi::portaudio_system& pa) {
  std::error_code ec;
  for (const auto& d : mspi::enumerate_audio_devices(pa, ec))
    if (d.name == "default") return d;
  FAIL("no PortAudio device named default");
  return {};
}

}  // namespace

TEST_CASE("portaudio: lazy reference-counted initialization", "[mspi][portaudio]") {
  CHECK_FALSE(mspi::portaudio_system::initialized());  // nothing touched PortAudio yet in this process
  const auto calls = mspi::portaudio_system::initialize_count();
  {
    auto a = mspi::portaudio_system::acquire();
    auto b = mspi::portaudio_system::acquire();
    CHECK(a.valid());
    CHECK(mspi::portaudio_system::initialized());
    CHECK(mspi::portaudio_system::initialize_count() == calls + 1);  // one Pa_Initialize for both
    auto c = std::move(a);
    CHECK_FALSE(a.valid());
    c.reset();
    CHECK(mspi::portaudio_system::initialized());  // b still holds it
  }
  CHECK_FALSE(mspi::portaudio_system::initialized());
}

TEST_CASE("portaudio: enumerate finds the default input and output", "[mspi][portaudio]") {
  if (!headless_alsa()) return;
  std::error_code ec;
  const auto devices = mspi::enumerate_audio_devices(ec);
  REQUIRE_FALSE(ec);
  bool input = false;
  bool output = false;
  for (const auto& d : devices) {
    CHECK(d.index >= 0);
    CHECK_FALSE(d.host_api.empty());
    if (d.default_input) input = d.max_input_channels > 0;
    if (d.default_output) output = d.max_output_channels > 0;
  }
  CHECK(input);
  CHECK(output);
  CHECK(std::any_of(devices.begin(), devices.end(), [](const auto& d) { return d.name == "default"; }));
}

TEST_CASE("portaudio: render device terminal plays the frames written to it", "[mspi][portaudio][terminal]") {
  if (!headless_alsa()) return;
  ptapi_test::temp_dir dir;
  const auto out_path = dir.file("out.raw");
  ::setenv("PA_TEST_OUT", out_path.c_str(), 1);  // read by ALSA's file plugin when the device opens

  auto pa = mspi::portaudio_system::acquire();
  mspi::audio_device_terminal speakers(mspi::portaudio_system::acquire(), default_device(pa),
                                       mspi::terminal_direction::render, 48000);
  CHECK(speakers.terminal_class() == mspi::terminal_classes::speakers);
  CHECK(speakers.type() == mspi::terminal_type::static_terminal);
  CHECK(speakers.name() == "default (ALSA)");

  const auto signal = ptapi_test::ramp(20 * 960);  // no zero sample: tells data from padding
  REQUIRE_FALSE(speakers.on_stream_active(true));
  CHECK(speakers.is_open());
  for (int i = 0; i < 20; ++i) speakers.write_frame(std::span(signal).subspan(static_cast<std::size_t>(i) * 960, 960));
  CHECK(speakers.queued_samples() <= signal.size());
  // The unpaced device drains the ring as fast as its callback thread runs.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (speakers.queued_samples() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(speakers.queued_samples() == 0);
  REQUIRE_FALSE(speakers.on_stream_active(false));
  CHECK_FALSE(speakers.is_open());
  CHECK(speakers.overflow_samples() == 0);

  // The device played silence (callback priming, ring underruns) around and between our samples.
  const auto played = ptapi_test::read_raw(out_path);
  REQUIRE(played.size() >= signal.size());
  std::vector<std::int16_t> payload;
  for (auto s : played)
    if (s != 0) payload.push_back(s);
  CHECK(payload == signal);
  CHECK(played.front() == 0);  // PortAudio's callback mode primes the output with silence
  std::filesystem::remove(out_path);
}

TEST_CASE("portaudio: capture device terminal yields what the device captures", "[mspi][portaudio][terminal]") {
  if (!headless_alsa()) return;
  ptapi_test::temp_dir dir;
  const auto in_path = dir.file("in.raw");
  const auto signal = ptapi_test::ramp(96000, 123);  // longer than the capture (see test-environment notes)
  ptapi_test::write_raw(in_path, signal);
  ::setenv("PA_TEST_IN", in_path.c_str(), 1);

  auto pa = mspi::portaudio_system::acquire();
  mspi::audio_device_terminal mic(mspi::portaudio_system::acquire(), default_device(pa),
                                  mspi::terminal_direction::capture, 9600);
  CHECK(mic.terminal_class() == mspi::terminal_classes::microphone);

  std::vector<std::int16_t> frame(960, 1);
  mic.read_frame(frame);  // closed: silence
  CHECK(std::all_of(frame.begin(), frame.end(), [](auto s) { return s == 0; }));

  REQUIRE_FALSE(mic.on_stream_active(true));
  // The unpaced device fills the ring at once; what does not fit is dropped (newest), so the ring
  // holds the start of the file.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (mic.overflow_samples() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(mic.overflow_samples() > 0);
  std::vector<std::int16_t> got;
  for (int i = 0; i < 10; ++i) {  // 9600 samples: exactly the ring
    mic.read_frame(frame);
    got.insert(got.end(), frame.begin(), frame.end());
  }
  REQUIRE_FALSE(mic.on_stream_active(false));
  CHECK(std::equal(got.begin(), got.end(), signal.begin()));
}

TEST_CASE("portaudio: device terminal construction checks", "[mspi][portaudio][terminal]") {
  mspi::audio_device_info output_only{0, "x", "ALSA", 0, 2, 48000.0, false, true};
  auto pa = mspi::portaudio_system::acquire();
  try {
    mspi::audio_device_terminal t(mspi::portaudio_system::acquire(), output_only, mspi::terminal_direction::capture);
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == mspi::tapi_errc::invalid_direction);
  }
  try {
    mspi::audio_device_terminal t(mspi::portaudio_system{}, output_only, mspi::terminal_direction::render);
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == mspi::tapi_errc::invalid_argument);
  }
  // A device whose index now names another device is gone: no_device at open.
  mspi::audio_device_terminal stale(mspi::portaudio_system::acquire(), output_only, mspi::terminal_direction::render);
  CHECK(stale.on_stream_active(true) == mspi::tapi_errc::no_device);
  CHECK_FALSE(stale.is_open());
}

TEST_CASE("portaudio: once silenced, initialization, enumeration and devices print nothing to stderr",
          "[mspi][portaudio]") {
  mspi::silence_audio_library_messages();  // opt-in: without it ALSA reports the missing sound card
  ptapi_test::temp_dir dir;
  const auto err_path = dir.file("stderr.txt");
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  const int file = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(file >= 0);
  ::dup2(file, 2);
  ::close(file);
  std::error_code ec;
  {
    const auto devices = mspi::enumerate_audio_devices(ec);
    auto pa = mspi::portaudio_system::acquire(ec);
    for (const auto& d : devices) {
      if (d.name != "default") continue;
      mspi::audio_device_terminal mic(mspi::portaudio_system::acquire(), d, mspi::terminal_direction::capture);
      (void)mic.on_stream_active(true);
      (void)mic.on_stream_active(false);
    }
  }
  ::dup2(saved, 2);
  ::close(saved);
  CHECK_FALSE(ec);
  CHECK(std::filesystem::file_size(err_path) == 0);
}

TEST_CASE("portaudio: microphone and speakers with echo cancellation run headless", "[mspi][portaudio][terminal][aec]") {
  if (!headless_alsa()) return;
  ptapi_test::temp_dir dir;
  const auto in_path = dir.file("in.raw");
  ptapi_test::write_raw(in_path, ptapi_test::ramp(96000, 7));
  ::setenv("PA_TEST_IN", in_path.c_str(), 1);
  ::setenv("PA_TEST_OUT", dir.file("out.raw").c_str(), 1);
  auto pa = mspi::portaudio_system::acquire();
  mspi::audio_device_terminal mic(mspi::portaudio_system::acquire(), default_device(pa), mspi::terminal_direction::capture);
  mspi::audio_device_terminal speakers(mspi::portaudio_system::acquire(), default_device(pa), mspi::terminal_direction::render);
  std::error_code ec;
  CHECK_FALSE(mspi::enable_echo_cancellation(speakers, mic, {}, ec));
  CHECK(ec == mspi::tapi_errc::invalid_direction);
  mspi::audio_processing_settings bad;
  bad.frame_ms = 7;
  CHECK_FALSE(mspi::enable_echo_cancellation(mic, speakers, bad, ec));
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  const auto aec = mspi::enable_echo_cancellation(mic, speakers, {}, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(aec);
  CHECK(mic.echo_canceller() == aec);
  CHECK(speakers.echo_canceller() == aec);

  REQUIRE_FALSE(speakers.on_stream_active(true));
  REQUIRE_FALSE(mic.on_stream_active(true));
  CHECK(mic.attach_echo_canceller(nullptr) == mspi::tapi_errc::not_stopped);  // not while open
  const auto signal = ptapi_test::ramp(960, 5);
  std::vector<std::int16_t> frame(960);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (aec->frames_processed() < 20 && std::chrono::steady_clock::now() < deadline) {
    speakers.write_frame(signal);
    mic.read_frame(frame);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(aec->frames_processed() >= 20);  // the capture callback ran the canceller on 10 ms frames
  REQUIRE_FALSE(mic.on_stream_active(false));
  REQUIRE_FALSE(speakers.on_stream_active(false));
  CHECK(mic.attach_echo_canceller(nullptr) == std::error_code{});
  CHECK_FALSE(mic.echo_canceller());
}
