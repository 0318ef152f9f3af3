// mspi::estimate_delay and mspi::mouth_to_ear_ms on real speech.
#include <mspi/audio_file.hpp>
#include <mspi/delay_estimate.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace {

const std::string speech_wav = "/usr/share/sounds/alsa/Front_Center.wav";
const std::string other_speech_wav = "/usr/share/sounds/alsa/Rear_Right.wav";

// `x` delayed by `lag` samples: `lag` samples of `lead` first, then x (same length as x + lag).
std::vector<std::int16_t> delayed(const std::vector<std::int16_t>& x, std::size_t lag, std::int16_t lead = 0) {
  std::vector<std::int16_t> out(lag, lead);
  out.insert(out.end(), x.begin(), x.end());
  return out;
}

// Adds white noise of standard deviation `sigma`.
std::vector<std::int16_t> noisy(std::vector<std::int16_t> x, double sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, sigma);
  for (auto& v : x) v = static_cast<std::int16_t>(std::clamp(v + n(rng), -32768.0, 32767.0));
  return x;
}

}  // namespace

TEST_CASE("estimate_delay finds a known shift of real speech exactly", "[mspi][delay]") {
  const auto speech = mspi::read_audio_file(speech_wav);
  REQUIRE(speech.size() > 48000);
  for (std::size_t lag : {0U, 1U, 7U, 317U, 4800U, 23999U}) {
    CAPTURE(lag);
    const auto rx = delayed(speech, lag);
    const auto est = mspi::estimate_delay(speech, rx, 24000);
    CHECK(est.lag_samples == static_cast<long>(lag));
    CHECK(est.correlation > 0.999);
  }
}

TEST_CASE("estimate_delay finds a truncated, noisy, attenuated copy", "[mspi][delay]") {
  const auto speech = mspi::read_audio_file(speech_wav);
  for (std::size_t lag : {0U, 1U, 317U, 4800U}) {
    CAPTURE(lag);
    auto rx = delayed(speech, lag);
    for (auto& v : rx) v = static_cast<std::int16_t>(v / 2);
    rx = noisy(rx, 300.0, static_cast<unsigned>(lag) + 1);
    rx.resize(rx.size() - 10000);  // the recording stopped early
    const auto est = mspi::estimate_delay(speech, rx, 24000);
    CHECK(est.lag_samples >= static_cast<long>(lag) - 2);
    CHECK(est.lag_samples <= static_cast<long>(lag) + 2);
    CHECK(est.correlation > 0.9);
  }
}

TEST_CASE("estimate_delay reports low correlation for unrelated signals", "[mspi][delay]") {
  const auto a = mspi::read_audio_file(speech_wav);
  const auto b = mspi::read_audio_file(other_speech_wav);
  CHECK(std::abs(mspi::estimate_delay(a, b, 24000).correlation) < 0.3);
  const auto noise = noisy(std::vector<std::int16_t>(a.size(), 0), 3000.0, 42);
  CHECK(std::abs(mspi::estimate_delay(a, noise, 24000).correlation) < 0.3);
}

TEST_CASE("estimate_delay handles empty, silent and tiny inputs", "[mspi][delay]") {
  const std::vector<std::int16_t> empty, silence(1000, 0), one{100};
  CHECK(mspi::estimate_delay(empty, silence, 10).lag_samples == 0);
  CHECK(mspi::estimate_delay(silence, empty, 10).correlation == 0.0);
  CHECK(mspi::estimate_delay(silence, silence, 100).correlation == 0.0);
  const auto est = mspi::estimate_delay(one, one, 100);
  CHECK(est.lag_samples == 0);
  CHECK(est.correlation == Approx(1.0));
}

TEST_CASE("estimate_delay finds the lag in 30 s of 48 kHz audio with a 0.5 s maximum lag, and prints its time", "[mspi][delay]") {
  const auto speech = mspi::read_audio_file(speech_wav);
  std::vector<std::int16_t> sent;
  while (sent.size() < 30 * 48000) sent.insert(sent.end(), speech.begin(), speech.end());
  sent.resize(30 * 48000);
  const auto rx = delayed(sent, 12345);
  const auto t0 = std::chrono::steady_clock::now();
  const auto est = mspi::estimate_delay(sent, rx, 24000);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(est.lag_samples == 12345);
  // A figure, not a timed assertion (speed is measured by benchmarks/: ptapi_bench_delay): ~0.2 s
  // optimized, 11 s under ThreadSanitizer.
  WARN("estimate_delay over 30 s with a 0.5 s maximum lag: "
       << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms");
}

TEST_CASE("mouth_to_ear_ms adds the start offset and the lag", "[mspi][delay]") {
  using namespace std::chrono_literals;
  const std::chrono::steady_clock::time_point t0{};
  CHECK(mspi::mouth_to_ear_ms(t0, t0, 0) == Approx(0.0));
  CHECK(mspi::mouth_to_ear_ms(t0, t0 + 30ms, 4800) == Approx(130.0));
  CHECK(mspi::mouth_to_ear_ms(t0, t0 + 1500us, 480, 8000) == Approx(61.5));
  CHECK(mspi::mouth_to_ear_ms(t0 + 10ms, t0, 960) == Approx(10.0));
}
