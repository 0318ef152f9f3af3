#include <mspi/audio_file.hpp>

#include "mspi/audio_test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

using ptapi_test::speech_wav;
using ptapi_test::temp_dir;

TEST_CASE("read_audio_file: 48 kHz mono comes back sample for sample", "[mspi][audio_file]") {
  std::error_code ec;
  const auto samples = mspi::read_audio_file(speech_wav, ec);
  REQUIRE_FALSE(ec);
  const auto raw = ptapi_test::sndfile_read(speech_wav);
  REQUIRE(raw.info.samplerate == 48000);
  REQUIRE(raw.info.channels == 1);
  REQUIRE(samples.size() == 68545);
  CHECK(samples == raw.samples);
}

TEST_CASE("read_audio_file: other rates and stereo are converted to 48 kHz mono", "[mspi][audio_file]") {
  temp_dir dir;
  const auto original = mspi::read_audio_file(speech_wav);
  struct variant {
    const char* name;
    const char* sox_options;
    double min_correlation;
  };
  for (const auto& v : {variant{"8k_stereo.wav", "-r 8000 -c 2", 0.90}, variant{"44k1_mono.wav", "-r 44100", 0.99},
                        variant{"16k_stereo.wav", "-r 16000 -c 2", 0.95}}) {
    INFO(v.name);
    const auto path = dir.file(v.name);
    REQUIRE(ptapi_test::sox_convert(speech_wav, path, v.sox_options));
    std::error_code ec;
    const auto converted = mspi::read_audio_file(path, ec);
    REQUIRE_FALSE(ec);
    // Same duration (+-1%) at 48 kHz, same waveform.
    CHECK(std::abs(double(converted.size()) - double(original.size())) <= 0.01 * double(original.size()));
    const double r = ptapi_test::correlation(converted, original);
    INFO("correlation " << r);
    CHECK(r > v.min_correlation);
  }
}

TEST_CASE("read_audio_file: missing or non-audio files are file_read_error", "[mspi][audio_file]") {
  temp_dir dir;
  const auto garbage = dir.file("garbage.wav");
  std::ofstream(garbage) << "this is not a RIFF file, just text pretending to be one\n";
  for (const auto& path : {dir.file("missing.wav"), garbage, dir.file("")}) {
    INFO(path);
    std::error_code ec;
    const auto samples = mspi::read_audio_file(path, ec);
    CHECK(ec == mspi::tapi_errc::file_read_error);
    CHECK(samples.empty());
  }
  try {
    (void)mspi::read_audio_file(garbage);
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == mspi::tapi_errc::file_read_error);
    CHECK(std::string(e.what()).find("read_audio_file") != std::string::npos);
  }
}

TEST_CASE("read_audio_file: rates outside 8..192 kHz are refused", "[mspi][audio_file]") {
  temp_dir dir;
  const auto path = dir.file("4k.wav");
  std::error_code ec;
  auto w = mspi::wav_writer::create(path, 4000, 1, ec);
  REQUIRE_FALSE(ec);
  const auto tone = ptapi_test::ramp(400);
  REQUIRE(w.write(tone, ec));
  w.close();
  CHECK(mspi::read_audio_file(path, ec).empty());
  CHECK(ec == mspi::tapi_errc::file_read_error);
}

TEST_CASE("wav_writer round trip", "[mspi][audio_file]") {
  temp_dir dir;
  const auto path = dir.file("out.wav");
  const auto samples = ptapi_test::ramp(3 * 960);
  {
    std::error_code ec;
    auto w = mspi::wav_writer::create(path, 48000, 1, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(w.is_open());
    for (int i = 0; i < 3; ++i) {
      REQUIRE(w.write(std::span(samples).subspan(static_cast<std::size_t>(i) * 960, 960), ec));
      CHECK_FALSE(ec);
    }
    CHECK(w.frames_written() == 3 * 960);
    auto moved = std::move(w);
    CHECK_FALSE(w.is_open());
    CHECK(moved.frames_written() == 3 * 960);
    moved.close();
    CHECK_FALSE(moved.is_open());
    CHECK_FALSE(moved.write(samples, ec));
    CHECK(ec == mspi::tapi_errc::file_write_error);
  }
  const auto raw = ptapi_test::sndfile_read(path);
  CHECK(raw.info.samplerate == 48000);
  CHECK(raw.info.channels == 1);
  CHECK((raw.info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV);
  CHECK((raw.info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16);
  CHECK(raw.samples == samples);
  CHECK(mspi::read_audio_file(path) == samples);

  // Stereo: a partial frame is refused, whole frames are counted per channel.
  std::error_code ec;
  auto stereo = mspi::wav_writer::create(dir.file("stereo.wav"), 8000, 2, ec);
  REQUIRE_FALSE(ec);
  CHECK_FALSE(stereo.write(std::span(samples).first(3), ec));
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  CHECK(stereo.write(std::span(samples).first(4), ec));
  CHECK(stereo.frames_written() == 2);
}

TEST_CASE("wav_writer: a recording killed mid-way stays a valid WAV", "[mspi][audio_file]") {
  temp_dir dir;
  const auto path = dir.file("killed.wav");
  const auto samples = ptapi_test::ramp(5 * 960);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::error_code ec;
    auto w = mspi::wav_writer::create(path, 48000, 1, ec);
    if (ec) _exit(2);
    for (int i = 0; i < 5; ++i)
      if (!w.write(std::span(samples).subspan(static_cast<std::size_t>(i) * 960, 960), ec)) _exit(3);
    std::raise(SIGKILL);  // no close, no destructor
    _exit(4);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  const auto raw = ptapi_test::sndfile_read(path);
  CHECK(raw.info.frames == 5 * 960);
  CHECK(raw.info.samplerate == 48000);
  CHECK(raw.samples == samples);
}

TEST_CASE("wav_writer: bad path or arguments fail without creating a file", "[mspi][audio_file]") {
  temp_dir dir;
  std::error_code ec;
  const auto no_dir = dir.file("no/such/dir/out.wav");
  auto w = mspi::wav_writer::create(no_dir, 48000, 1, ec);
  CHECK(ec == mspi::tapi_errc::file_write_error);
  CHECK_FALSE(w.is_open());
  CHECK_FALSE(std::filesystem::exists(no_dir));

  const auto bad_rate = dir.file("rate.wav");
  w = mspi::wav_writer::create(bad_rate, 0, 1, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  w = mspi::wav_writer::create(bad_rate, 48000, 0, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(bad_rate));

  CHECK_THROWS_AS(mspi::wav_writer::create(no_dir, 48000, 1), std::system_error);
}

TEST_CASE("read_audio_file_info: the header's frames, rate and channels, and errors for what is not audio", "[mspi][audio_file]") {
  temp_dir dir;
  std::error_code ec;
  {
    auto w = mspi::wav_writer::create(dir.file("stereo.wav"), 8000, 2, ec);
    REQUIRE_FALSE(ec);
    const auto samples = ptapi_test::ramp(2 * 12000);  // 12000 stereo frames: 1.5 s at 8 kHz
    REQUIRE(w.write(samples, ec));
  }
  const auto info = mspi::read_audio_file_info(dir.file("stereo.wav"), ec);
  REQUIRE_FALSE(ec);
  CHECK(info.frames == 12000);
  CHECK(info.rate_hz == 8000);
  CHECK(info.channels == 2);
  CHECK(info.seconds() == Approx(1.5));

  const auto garbage = dir.file("garbage.wav");
  std::ofstream(garbage) << "not audio\n";
  for (const auto& path : {dir.file("missing.wav"), garbage}) {
    INFO(path);
    const auto bad = mspi::read_audio_file_info(path, ec);
    CHECK(ec == mspi::tapi_errc::file_read_error);
    CHECK(bad.frames == 0);
    CHECK(bad.seconds() == 0.0);
  }
  CHECK_THROWS_AS(mspi::read_audio_file_info(garbage), std::system_error);
}
