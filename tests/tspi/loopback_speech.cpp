// Real speech from alice's file playback terminal to bob's file recording terminal over the loopback
// provider and the RTP/Opus MSP; the recording must be recognisably the input.
#include <tspi/loopback/tsp.hpp>

#include "loopback_fixture.hpp"
#include "support/speech_match.hpp"

#include <mspi/audio_file.hpp>
#include <ptapi_measure/delay_estimate.hpp>
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <thread>

using namespace ptapi_test;

namespace {
std::filesystem::path temp_path(const std::string& name) {
  std::random_device rd;
  return std::filesystem::temp_directory_path() / ("ptapi-" + std::to_string(rd()) + "-" + name);
}

// ~4.3 s of a real male voice from Debian's alsa-utils, written as one 48 kHz mono WAV.
std::vector<std::int16_t> speech_fixture(const std::filesystem::path& out) {
  std::vector<std::int16_t> all;
  for (const char* f : {"Front_Center", "Front_Left", "Front_Right"}) {
    auto part = mspi::read_audio_file(std::string("/usr/share/sounds/alsa/") + f + ".wav");
    all.insert(all.end(), part.begin(), part.end());
  }
  std::error_code ec;
  auto w = mspi::wav_writer::create(out.string(), 48000, 1, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(w.write(all, ec));
  w.close();
  return all;
}
}  // namespace

TEST_CASE("speech played by the caller is recorded recognisably by the callee", "[tspi][loopback][e2e][speech]") {
  const auto in_path = temp_path("in.wav"), out_path = temp_path("out.wav");
  const auto input = speech_fixture(in_path);

  std::shared_ptr<mspi::file_recording_terminal> recorder;
  {
    loopback_fixture f;
    f.tapi.register_call_notifications(f.bob);
    recorder = f.bob.terminals().create_file_recording_terminal(out_path.string());
    f.tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
      auto c = e.call;
      c.select_terminal_on_call(recorder);
      recorder->start();
      c.async_answer([](std::error_code) {});
    });
    auto player = f.alice.terminals().create_file_playback_terminal({in_path.string()});
    auto call = f.alice.create_call("bob");
    call.select_terminal_on_call(player);
    player->start();
    call.connect();
    // Wait for the end of the play list (bounded), plus time for the last packets to arrive.
    for (int i = 0; i < 100 && player->media_state() != mspi::terminal_media_state::idle; ++i)
      std::this_thread::sleep_for(100ms);
    std::this_thread::sleep_for(200ms);
    call.disconnect();
    CHECK(player->samples_played() == input.size());

    const auto sent = call.stream_control()->find_stream(mspi::media_type::audio, mspi::terminal_direction::capture)->statistics();
    CHECK(sent.packets >= input.size() / 960);
    REQUIRE(player->first_sample_time());
    REQUIRE(recorder->first_sample_time());
    const auto delay = mspi::estimate_delay(input, mspi::read_audio_file(out_path.string()), 24000);
    const double m2e = mspi::mouth_to_ear_ms(*player->first_sample_time(), *recorder->first_sample_time(), delay.lag_samples);
    // Reported, not asserted: timing belongs to benchmarks (benchmarks/bench_delay.cpp).
    WARN("mouth-to-ear " << m2e << " ms, lag " << delay.lag_samples << " samples, correlation " << delay.correlation);
  }
  recorder->close();
  const auto recorded = mspi::read_audio_file(out_path.string());
  // The recording holds the whole utterance (it starts with the first received packet).
  CHECK(recorded.size() >= input.size() * 95 / 100);
  // Judged per 250 ms voiced segment, each aligned on its own within 200 ms: a late packet on a loaded
  // machine makes the adaptive jitter buffer insert one frame, which shifts the rest of the recording.
  // Opus VOIP at 24 kbit/s alone keeps a normalized correlation of ~0.88 on this voice (see
  // tests/mspi/opus.cpp), while unrelated speech scores below 0.3 (tests/mspi/delay_estimate.cpp).
  // A median of 0.7 tolerates a few concealed frames yet fails for missing, garbled or misordered audio.
  const auto match = match_speech(input, recorded, 9600);
  CHECK(match.voiced_segments >= 8);
  CHECK(match.median_correlation > 0.7);
  // Control: the same voice played backwards has the same spectrum but is not the same speech.
  const std::vector<std::int16_t> reversed(recorded.rbegin(), recorded.rend());
  const auto control = match_speech(input, reversed, 9600);
  CHECK(control.median_correlation < 0.5);
  WARN("segment correlation " << match.median_correlation << " over " << match.voiced_segments
                              << " voiced segments; reversed control " << control.median_correlation);
  std::filesystem::remove(in_path);
  std::filesystem::remove(out_path);
}
