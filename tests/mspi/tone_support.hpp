// Test helpers for tones: a capture terminal that generates a sine on the media thread, and a Goertzel
// measure of one tone's amplitude in received audio (48 kHz).
#pragma once

#include <mspi/terminals/media_streaming.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstddef>
#include <span>
#include <vector>

namespace ptapi_test {

/// A capture terminal that produces a sine of `hz` at `amplitude` (48 kHz, continuous phase), generated
/// on the media thread that reads it (no application pump).
class tone_terminal : public mspi::media_streaming_terminal {
 public:
  tone_terminal(double hz, double amplitude)
      : media_streaming_terminal(mspi::terminal_direction::capture), step_(2 * M_PI * hz / 48000.0), amplitude_(amplitude) {}
  void read_frame(std::span<std::int16_t> frame) noexcept override {
    for (auto& s : frame) {
      s = static_cast<std::int16_t>(amplitude_ * std::sin(phase_));
      phase_ = std::fmod(phase_ + step_, 2 * M_PI);
    }
  }

 private:
  double step_, amplitude_, phase_ = 0;
};

/// Power of the `hz` component of `pcm` (48 kHz), Goertzel over the whole span, normalised to an
/// amplitude: a full sine of amplitude A gives about A.
inline double tone_amplitude(std::span<const std::int16_t> pcm, double hz) {
  if (pcm.empty()) return 0;
  const double w = 2 * M_PI * hz / 48000.0, c = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (auto x : pcm) {
    const double s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return 2 * std::sqrt(std::max(power, 0.0)) / static_cast<double>(pcm.size());
}

/// The amplitude of `hz` in each consecutive `block`-sample (48 kHz; default 200 ms) Hann-windowed block of
/// `pcm` (Goertzel per block, normalised so that a full sine of amplitude A gives about A). Short blocks
/// follow a tone whose phase steps where a jitter buffer or a bridge drops or inserts a frame, which
/// cancels part of a whole-span measure; the Hann window keeps tones 200 Hz apart out of each other's
/// figure (sidelobes below -60 dB there).
inline std::vector<double> block_tone_amplitudes(std::span<const std::int16_t> pcm, double hz, std::size_t block = 9600) {
  std::vector<double> out;
  if (block < 2) return out;
  const double w = 2 * M_PI * hz / 48000.0, c = 2 * std::cos(w);
  for (std::size_t at = 0; at + block <= pcm.size(); at += block) {
    double s1 = 0, s2 = 0, gain = 0;
    for (std::size_t i = 0; i < block; ++i) {
      const double hann = 0.5 - 0.5 * std::cos(2 * M_PI * double(i) / double(block - 1));
      gain += hann;
      const double s0 = hann * pcm[at + i] + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const double power = s1 * s1 + s2 * s2 - c * s1 * s2;
    out.push_back(2 * std::sqrt(std::max(power, 0.0)) / gain);
  }
  return out;
}

/// The median of `block_tone_amplitudes(pcm, hz)`: how loud a steady tone is through a path that may step
/// its delay now and then (0 when `pcm` is shorter than one block).
inline double steady_tone_amplitude(std::span<const std::int16_t> pcm, double hz) {
  auto a = block_tone_amplitudes(pcm, hz);
  if (a.empty()) return 0;
  std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(a.size() / 2), a.end());
  return a[a.size() / 2];
}

/// `n` samples (48 kHz) of a sine of `hz` at `amplitude`, starting at phase 0.
inline std::vector<std::int16_t> sine_samples(std::size_t n, double hz, double amplitude = 8000) {
  std::vector<std::int16_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * double(i) / 48000)));
  return v;
}

/// The frequency (Hz, by zero crossings over 200 ms, 100 ms after its start) of the loud part (|x| >= 2000)
/// of `pcm` (48 kHz); 0 when there is none or it is shorter than 300 ms.
inline double heard_frequency(std::span<const std::int16_t> pcm) {
  std::size_t first = 0;
  while (first < pcm.size() && std::abs(pcm[first]) < 2000) ++first;
  if (first + 14400 > pcm.size()) return 0;
  int crossings = 0;
  for (std::size_t i = first + 4800; i < first + 14400; ++i) crossings += (pcm[i - 1] < 0) != (pcm[i] < 0);
  return crossings / 2.0 / 0.2;
}

/// 20·log10(a / b), with a floor so that silence gives a finite figure.
inline double decibels(double a, double b) { return 20 * std::log10(std::max(a, 1e-3) / std::max(b, 1e-3)); }

/// Checks that `heard` (at least 0.5 s, 48 kHz) holds each tone of `present` (steady amplitude above 500:
/// the tests send 3000) and that each tone of `absent` is at least 20 dB below the weakest present one.
/// Returns that margin in dB.
inline double check_tones(std::span<const std::int16_t> heard, const std::vector<double>& present,
                          const std::vector<double>& absent) {
  REQUIRE(heard.size() >= 24000);
  double weakest = 1e9, loudest_absent = 0;
  for (double f : present) {
    const double a = steady_tone_amplitude(heard, f);
    INFO("tone " << f << " Hz: amplitude " << a);
    CHECK(a > 500);
    weakest = std::min(weakest, a);
  }
  for (double f : absent) loudest_absent = std::max(loudest_absent, steady_tone_amplitude(heard, f));
  const double margin = decibels(weakest, loudest_absent);
  INFO("weakest present tone " << weakest << ", loudest absent tone " << loudest_absent << ": " << margin << " dB");
  CHECK(margin >= 20);
  return margin;
}

}  // namespace ptapi_test
