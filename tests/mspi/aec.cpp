// Echo cancellation (mspi/audio_processing.hpp, mspi/device_echo_canceller.hpp): real speech through a
// simulated echo path (40 ms delay + a decaying FIR room response + noise), ERLE after convergence,
// near-end speech kept during double talk, and the device path with arbitrary callback sizes.
#include <mspi/audio_file.hpp>
#include <mspi/audio_processing.hpp>
#include <mspi/device_echo_canceller.hpp>

#include <support/counting_allocator.hpp>  // operator new counts (the allocator is defined by zero_alloc.cpp)

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t rate = 48000;

std::vector<std::int16_t> alsa_speech(std::initializer_list<const char*> names) {
  std::vector<std::int16_t> out;
  for (const char* n : names) {
    const auto s = mspi::read_audio_file(std::string("/usr/share/sounds/alsa/") + n + ".wav");
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

/// A loudspeaker-to-microphone path: `delay_ms` of pure delay, then a decaying random FIR room response
/// (`fir_ms` long, -6 dB overall gain), deterministic (fixed seed).
struct echo_path {
  std::size_t delay;
  std::vector<float> fir;
  echo_path(std::uint32_t delay_ms, std::uint32_t fir_ms, std::uint32_t rate_hz) : delay(rate_hz * delay_ms / 1000) {
    std::mt19937 rng(7);
    std::normal_distribution<float> g(0.0F, 1.0F);
    fir.resize(rate_hz * fir_ms / 1000);
    double energy = 0;
    for (std::size_t k = 0; k < fir.size(); ++k) {
      fir[k] = g(rng) * std::exp(-6.0F * static_cast<float>(k) / static_cast<float>(fir.size()));
      energy += double(fir[k]) * fir[k];
    }
    const auto scale = static_cast<float>(0.5 / std::sqrt(energy));  // -6 dB power gain for white input
    for (auto& h : fir) h *= scale;
  }
  /// The echo of `far` (same length).
  [[nodiscard]] std::vector<float> apply(const std::vector<std::int16_t>& far) const {
    std::vector<float> e(far.size(), 0.0F);
    for (std::size_t n = delay; n < far.size(); ++n) {
      float acc = 0;
      const std::size_t kmax = std::min(fir.size(), n - delay + 1);
      for (std::size_t k = 0; k < kmax; ++k) acc += fir[k] * static_cast<float>(far[n - delay - k]);
      e[n] = acc;
    }
    return e;
  }
};

double energy(std::span<const float> x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return s;
}
double energy(std::span<const std::int16_t> x) {
  double s = 0;
  for (auto v : x) s += double(v) * v;
  return s;
}

std::int16_t clamp16(float v) { return static_cast<std::int16_t>(std::clamp(std::lround(v), -32768L, 32767L)); }

/// Runs `capture = echo + near + noise` through the processor with `far` as the reference; returns the output.
std::vector<std::int16_t> run(mspi::audio_processor& ap, const std::vector<std::int16_t>& far, const std::vector<float>& echo,
                              const std::vector<float>& near, float noise_rms) {
  const std::size_t n = ap.frame_samples();
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.0F, noise_rms);
  std::vector<std::int16_t> mic(n), out(far.size(), 0);
  for (std::size_t at = 0; at + n <= far.size(); at += n) {
    for (std::size_t i = 0; i < n; ++i) mic[i] = clamp16(echo[at + i] + near[at + i] + noise(rng));
    ap.process(mic, std::span(far).subspan(at, n), std::span(out).subspan(at, n));
  }
  return out;
}

}  // namespace

TEST_CASE("audio_processing_settings: ranges", "[aec]") {
  mspi::audio_processing_settings s;
  CHECK(s.validate());
  s.frame_ms = 15;
  CHECK_FALSE(s.validate());
  s = {};
  s.tail_ms = 5;
  CHECK_FALSE(s.validate());
  s = {};
  s.noise_suppress_db = 3;
  CHECK_FALSE(s.validate());
  s = {};
  s.tail_ms = 0;
  CHECK_THROWS_AS(mspi::audio_processor(s, rate), std::system_error);
  CHECK_THROWS_AS(mspi::audio_processor(mspi::audio_processing_settings{}, 4000), std::system_error);
  const mspi::audio_processor ap({}, rate);
  CHECK(ap.frame_samples() == 480);
  mspi::audio_processing_settings twenty;
  twenty.frame_ms = 20;
  CHECK(mspi::audio_processor(twenty, 16000).frame_samples() == 320);
}

TEST_CASE("audio_processor: ERLE >= 20 dB on real speech after convergence, near end kept in double talk", "[aec]") {
  // Far end: 8 alsa-utils phrases (about 11 s). Near end: another voice phrase from 8.0 s on (double talk).
  const auto far = alsa_speech({"Front_Left", "Front_Right", "Rear_Center", "Rear_Left", "Rear_Right", "Side_Left",
                                "Side_Right", "Front_Left"});
  REQUIRE(far.size() > 10 * rate);
  const auto near_voice = alsa_speech({"Front_Center"});
  const std::size_t dt_begin = 8 * rate;
  const std::size_t dt_end = std::min(far.size(), dt_begin + near_voice.size());
  std::vector<float> near(far.size(), 0.0F);
  for (std::size_t i = dt_begin; i < dt_end; ++i) near[i] = 0.5F * near_voice[i - dt_begin];  // about -6 dB

  const echo_path path(40, 30, rate);
  const auto echo = path.apply(far);
  mspi::audio_processing_settings s;  // defaults: 10 ms frames, 200 ms tail, NS and residual echo suppression
  s.gain_control = false;             // AGC would scale the residual: ERLE is measured without it
  mspi::audio_processor ap(s, rate);
  const auto out = run(ap, far, echo, near, 3.0F);

  // ERLE per 0.5 s window where the echo is present (echo RMS > 100, about -50 dBFS), excluding double talk.
  const std::size_t win = rate / 2;
  double echo_after = 0;
  double out_after = 0;
  double worst = 1e9;
  std::printf("ERLE (48 kHz, 10 ms frames, 200 ms tail; delay 40 ms + 30 ms FIR):\n");
  for (std::size_t at = 0; at + win <= far.size(); at += win) {
    const double e = energy(std::span(echo).subspan(at, win));
    const double o = energy(std::span(out).subspan(at, win));
    const bool double_talk = at + win > dt_begin && at < dt_end;
    if (e / win < 100.0 * 100.0) continue;
    const double erle = 10 * std::log10(e / std::max(o, 1.0));
    std::printf("  %5.1f s  %6.1f dB%s\n", static_cast<double>(at) / rate, erle, double_talk ? "  (double talk)" : "");
    if (at >= 2 * rate && !double_talk) {
      echo_after += e;
      out_after += o;
      worst = std::min(worst, erle);
    }
  }
  const double erle_after = 10 * std::log10(echo_after / out_after);
  std::printf("  after 2 s: %.1f dB overall, worst window %.1f dB\n", erle_after, worst);
  CHECK(erle_after >= 20.0);

  // Double talk: the near-end voice is still in the output. Correlation of the output with the near-end
  // signal over the near-end phrase, and its power relative to the near end alone.
  // The processor may delay its output (speexdsp's preprocessor works on overlapping windows): the
  // correlation is taken at the best lag up to two frames.
  double correlation = -1;
  std::size_t best_lag = 0;
  double xx = 0;
  double yy = 0;
  for (std::size_t lag = 0; lag <= 2 * ap.frame_samples(); ++lag) {
    double xy = 0;
    double xl = 0;
    double yl = 0;
    for (std::size_t i = dt_begin; i + lag < dt_end; ++i) {
      xy += double(near[i]) * out[i + lag];
      xl += double(near[i]) * near[i];
      yl += double(out[i + lag]) * out[i + lag];
    }
    if (xy / std::sqrt(xl * yl) > correlation) {
      correlation = xy / std::sqrt(xl * yl);
      best_lag = lag;
      xx = xl;
      yy = yl;
    }
  }
  const double kept_db = 10 * std::log10(yy / xx);
  std::printf("  double talk: correlation %.2f at lag %zu samples, near-end power kept %.1f dB\n", correlation, best_lag, kept_db);
  CHECK(correlation >= 0.8);
  CHECK(kept_db >= -6.0);
}

TEST_CASE("device_echo_canceller: PortAudio-like callback bursts, render started first, ERLE >= 20 dB", "[aec]") {
  // Device time in samples: the render callback hands 441-sample bursts, the capture callback delivers
  // 300-sample bursts (neither a multiple of the 480-sample frame); render runs from 0, capture from
  // 0.25 s. The far end's echo reaches the microphone 40 ms (plus a 30 ms FIR) after it was handed to
  // the render callback (output + acoustic + input latency).
  const auto far = alsa_speech({"Front_Left", "Front_Right", "Rear_Center", "Rear_Left", "Rear_Right", "Side_Left",
                                "Side_Right", "Front_Left"});
  const echo_path path(40, 30, rate);
  const auto echo = path.apply(far);
  mspi::audio_processing_settings s;
  s.gain_control = false;
  s.frame_ms = 20;  // the other frame size (the processor test covers 10 ms); 960-sample frames
  mspi::device_echo_canceller aec(s);
  aec.set_playback_active(true);
  const std::size_t capture_start = rate / 4;
  std::vector<std::int16_t> out;
  out.reserve(far.size());
  std::vector<std::int16_t> mic;
  std::size_t played = 0;
  std::size_t captured = capture_start;
  bool capturing = false;
  std::uint64_t allocations = 0;  // operator new calls inside on_playback/on_capture
  for (std::size_t t = 0; t < far.size(); ++t) {
    if (t + 1 - played == 441) {
      const auto before = ptapi_test::all_allocations();
      aec.on_playback(std::span(far).subspan(played, 441));
      allocations += ptapi_test::all_allocations() - before;
      played = t + 1;
    }
    if (t + 1 == capture_start) {
      aec.start_capture();
      capturing = true;
    }
    if (capturing && t + 1 - captured == 300) {
      mic.clear();
      for (std::size_t i = captured; i <= t; ++i) mic.push_back(clamp16(echo[i]));
      const auto before = ptapi_test::all_allocations();
      aec.on_capture(mic, [&](std::span<const std::int16_t> clean) { out.insert(out.end(), clean.begin(), clean.end()); });
      allocations += ptapi_test::all_allocations() - before;  // `out` has its capacity reserved
      captured = t + 1;
    }
  }
  aec.stop_capture();
  CHECK(allocations == 0);
  CHECK(aec.frames_processed() == out.size() / aec.frame_samples());
  CHECK(aec.dropped_reference_samples() == 0);   // capture never fell behind by delay + slack
  // Output sample j is capture sample capture_start + j. ERLE after 2 s of capture, where echo is present.
  double e_sum = 0;
  double o_sum = 0;
  const std::size_t win = rate / 2;
  std::printf("device path ERLE (20 ms frames, 200 ms tail, 441/300-sample callbacks):\n");
  for (std::size_t j = 0; j + win <= out.size(); j += win) {
    const double e = energy(std::span(echo).subspan(capture_start + j, win));
    const double o = energy(std::span(out).subspan(j, win));
    if (e / win < 100.0 * 100.0) continue;
    std::printf("  %5.1f s  %6.1f dB\n", static_cast<double>(j) / rate, 10 * std::log10(e / std::max(o, 1.0)));
    if (j >= 2 * rate) {
      e_sum += e;
      o_sum += o;
    }
  }
  REQUIRE(e_sum > 0);
  const double erle = 10 * std::log10(e_sum / o_sum);
  std::printf("  after 2 s: %.1f dB (reference underrun %llu samples, dropped %llu)\n", erle,
              static_cast<unsigned long long>(aec.reference_underrun_samples()),
              static_cast<unsigned long long>(aec.dropped_reference_samples()));
  CHECK(erle >= 20.0);
}

TEST_CASE("device_echo_canceller: a FIFO running ahead is realigned, a short one padded", "[aec]") {
  mspi::audio_processing_settings s;
  s.reference_slack_ms = 10;  // 480 samples
  mspi::device_echo_canceller aec(s);
  const std::vector<std::int16_t> block(4800, 1000);
  aec.start_capture();
  aec.set_playback_active(true);
  aec.on_playback(block);  // 100 ms queued: 4800 > 480 (frame) + 480 (slack)
  std::size_t frames = 0;
  const std::vector<std::int16_t> mic(480, 0);
  aec.on_capture(mic, [&](std::span<const std::int16_t> f) { frames += f.size() == 480 ? 1 : 0; });
  CHECK(frames == 1);
  CHECK(aec.dropped_reference_samples() == 4800 - 480);
  CHECK(aec.reference_underrun_samples() == 0);
  aec.on_capture(mic, [](std::span<const std::int16_t>) {});  // FIFO empty, playback running: padded
  CHECK(aec.reference_underrun_samples() == 480);
  aec.set_playback_active(false);
  aec.on_capture(mic, [](std::span<const std::int16_t>) {});  // nothing plays: silence is no underrun
  CHECK(aec.reference_underrun_samples() == 480);
  CHECK(aec.frames_processed() == 3);
  aec.stop_capture();
  aec.on_playback(block);  // ignored while capture is stopped
  aec.start_capture();
  aec.on_capture(mic, [](std::span<const std::int16_t>) {});
  CHECK(aec.dropped_reference_samples() == 4800 - 480);
}
