// mspi::estimate_delay and mspi::mouth_to_ear_ms (tools/measure/ptapi_measure) on real speech.
#include <mspi/audio_file.hpp>
#include <ptapi_measure/delay_estimate.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
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

// The definition itself: every lag in [0, max_lag], normalized correlation over the overlap in the time
// domain, the first of equal maxima. Slow (n * max_lag), for checking the FFT-based estimate.
mspi::delay_estimate brute_force_delay(const std::vector<std::int16_t>& s, const std::vector<std::int16_t>& r,
                                       std::size_t max_lag) {
  mspi::delay_estimate best{};
  bool found = false;
  for (std::size_t l = 0; l <= std::min(max_lag, r.size() - 1); ++l) {
    const std::size_t n = std::min(s.size(), r.size() - l);
    double dot = 0, es = 0, er = 0;
    for (std::size_t j = 0; j < n; ++j) {
      dot += double(s[j]) * r[j + l];
      es += double(s[j]) * s[j];
      er += double(r[j + l]) * r[j + l];
    }
    const double c = es > 0 && er > 0 ? dot / std::sqrt(es * er) : 0.0;
    if (!found || c > best.correlation) {
      best = {static_cast<long>(l), c};
      found = true;
    }
  }
  return best;
}

}  // namespace

TEST_CASE("estimate_delay (FFT) equals the brute-force search on speech with a known delay and noise", "[mspi][delay]") {
  const auto speech = mspi::read_audio_file(speech_wav);
  REQUIRE(speech.size() > 48000);
  struct scenario {
    std::size_t lag;
    double noise;
    std::size_t cut;       // samples dropped from the recording's end
    std::size_t max_lag;
  };
  for (const scenario sc : {scenario{0, 0, 0, 600}, scenario{1234, 300, 0, 2000}, scenario{517, 3000, 20000, 1500},
                            scenario{1999, 8000, 0, 2000}, scenario{40, 1000, 68000, 1500}}) {
    CAPTURE(sc.lag, sc.noise, sc.cut, sc.max_lag);
    auto rx = delayed(speech, sc.lag, 25);
    for (auto& v : rx) v = static_cast<std::int16_t>(v * 3 / 4);
    if (sc.noise > 0) rx = noisy(rx, sc.noise, static_cast<unsigned>(sc.lag) + 7);
    rx.resize(rx.size() - sc.cut);
    const auto fast = mspi::estimate_delay(speech, rx, sc.max_lag);
    const auto reference = brute_force_delay(speech, rx, sc.max_lag);
    CHECK(fast.lag_samples == reference.lag_samples);
    CHECK(std::abs(fast.correlation - reference.correlation) < 1e-6);
    if (sc.noise < 5000 && sc.cut < 60000) CHECK(fast.lag_samples == static_cast<long>(sc.lag));
  }
  // A window of the speech against a longer stretch of the noisy copy (one FFT block, as match_windows does).
  const std::vector<std::int16_t> window(speech.begin() + 20000, speech.begin() + 29600);
  const auto rx = noisy(delayed(speech, 700), 1000, 3);
  const std::vector<std::int16_t> stretch(rx.begin() + 19000, rx.begin() + 33000);
  const auto fast = mspi::estimate_delay(window, stretch, 4000);
  const auto reference = brute_force_delay(window, stretch, 4000);
  CHECK(fast.lag_samples == reference.lag_samples);
  CHECK(fast.lag_samples == 1700);  // 700 of delay plus the 1000 samples the stretch starts early
  CHECK(std::abs(fast.correlation - reference.correlation) < 1e-6);
}

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
  // A figure, not a timed assertion (speed is measured by benchmarks/: ptapi_bench_delay_estimate).
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

namespace {
// Real speech, 48 kHz mono: four ALSA test voices one after the other (about 6 s).
std::vector<std::int16_t> four_voices() {
  std::vector<std::int16_t> all;
  for (const char* n : {"Front_Center", "Front_Left", "Rear_Right", "Side_Left"}) {
    const auto part = mspi::read_audio_file(std::string("/usr/share/sounds/alsa/") + n + ".wav");
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}
}  // namespace

TEST_CASE("match_windows follows a delay step inside a window, and still scores garbled windows low", "[mspi][delay]") {
  const auto sent = four_voices();
  REQUIRE(sent.size() >= 5 * 48000);
  // The loudest whole 1 s window; the step lands 40 % into it (inside its second quarter), as a jitter buffer
  // that grows by 25 ms inserts 1200 samples of silence.
  std::size_t loudest = 0;
  double most = 0;
  for (std::size_t w = 0; (w + 1) * 48000 <= sent.size(); ++w) {
    double e = 0;
    for (std::size_t i = w * 48000; i < (w + 1) * 48000; ++i) e += double(sent[i]) * sent[i];
    if (e > most) most = e, loudest = w;
  }
  const std::size_t at = loudest * 48000 + 19200;
  std::vector<std::int16_t> received(1000, 0);
  received.insert(received.end(), sent.begin(), sent.begin() + static_cast<long>(at));
  received.insert(received.end(), 1200, 0);
  received.insert(received.end(), sent.begin() + static_cast<long>(at), sent.end());

  const auto m = mspi::match_windows(sent, received, 24000);
  REQUIRE(m.windows >= 4);
  INFO("loudest window " << loudest << "; lags " << m.min_lag_samples << ".." << m.max_lag_samples);
  CHECK(m.min_lag_samples == 1000);
  CHECK(m.max_lag_samples == 2200);
  CHECK(m.lag_steps == 1);
  for (std::size_t k = 0; k < m.windows; ++k) {
    CAPTURE(k, m.lags[k]);
    CHECK(m.correlations[k] >= 0.9);  // the stepped window too: its quarters follow the step
  }
  // The whole window against one lag could not: the step costs it (a check that the case tests something).
  const std::vector<std::int16_t> window(sent.begin() + static_cast<long>(loudest * 48000),
                                         sent.begin() + static_cast<long>((loudest + 1) * 48000));
  const std::vector<std::int16_t> around(received.begin() + static_cast<long>(loudest * 48000),
                                         received.begin() + static_cast<long>((loudest + 1) * 48000 + 4000));
  CHECK(mspi::estimate_delay(window, around, 4000).correlation < 0.85);

  // Garbling is not followed away: the loudest window replaced by other speech scores low, quarters or not.
  auto garbled = delayed(sent, 1000);
  const auto other = mspi::read_audio_file("/usr/share/sounds/alsa/Front_Right.wav");  // not among the four
  for (std::size_t i = 0; i < 48000 && i < other.size(); ++i) garbled[1000 + loudest * 48000 + i] = other[i];
  const auto g = mspi::match_windows(sent, garbled, 24000);
  double lowest = 1;
  for (const double c : g.correlations) lowest = std::min(lowest, c);
  CHECK(lowest < 0.5);
  CHECK(g.worst_tenth_correlation < 0.9);
}
