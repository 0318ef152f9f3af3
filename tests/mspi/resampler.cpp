#include <mspi/codec/resampler.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace {

std::vector<std::int16_t> sine(std::size_t n, double hz, double rate, double amplitude = 10000, double delay = 0) {
  std::vector<std::int16_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * (static_cast<double>(i) - delay) / rate)));
  return v;
}

double rms(const std::vector<std::int16_t>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += double(v[i]) * v[i];
  return std::sqrt(s / static_cast<double>(to - from));
}

// Decimates in 20 ms frames, as the media engine does.
std::vector<std::int16_t> decimate(const std::vector<std::int16_t>& in, std::size_t frame = 960) {
  mspi::decimator_48k_to_8k d;
  std::vector<std::int16_t> out(in.size() / 6);
  std::size_t n = 0;
  for (std::size_t o = 0; o + frame <= in.size(); o += frame)
    n += d.process(std::span(in).subspan(o, frame), std::span(out).subspan(n));
  out.resize(n);
  return out;
}

std::vector<std::int16_t> interpolate(const std::vector<std::int16_t>& in, std::size_t frame = 160) {
  mspi::interpolator_8k_to_48k ip;
  std::vector<std::int16_t> out(in.size() * 6);
  std::size_t n = 0;
  for (std::size_t o = 0; o < in.size(); o += frame)
    n += ip.process(std::span(in).subspan(o, std::min(frame, in.size() - o)), std::span(out).subspan(n));
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("the narrowband FIR has unity DC gain in every interpolator phase", "[mspi][resampler]") {
  const auto& h = mspi::detail::narrowband_fir();
  const int dc = std::accumulate(h.begin(), h.end(), 0);
  CHECK(std::abs(dc - 32768) < 16);
  for (std::size_t i = 0; i < h.size(); ++i) CHECK(h[i] == h[h.size() - 1 - i]);  // linear phase
  for (const auto& phase : mspi::detail::narrowband_phases()) {
    const int sum = std::accumulate(phase.begin(), phase.end(), 0);
    CHECK(std::abs(sum - 32768) < 64);
  }
}

TEST_CASE("48 kHz -> 8 kHz keeps the telephone band and rejects what would alias", "[mspi][resampler]") {
  // A 1 kHz tone comes out as the same tone, 2 ms (95.5 input samples) later: output j is input 6j + 5.
  const auto in = sine(48000, 1000, 48000);
  const auto out = decimate(in);
  REQUIRE(out.size() == 8000);
  const auto expected = sine(8000, 1000, 8000, 10000, (95.5 - 5) / 6);
  double err = 0;
  for (std::size_t i = 400; i < out.size(); ++i) err += std::pow(out[i] - expected[i], 2);
  err = std::sqrt(err / (out.size() - 400));
  CHECK(err < 0.01 * 10000 / std::sqrt(2));  // under -40 dB
  CHECK(rms(out, 400, out.size()) == Approx(10000 / std::sqrt(2)).epsilon(0.01));
  // 300 Hz .. 3 kHz pass flat; 3.4 kHz within 0.5 dB.
  for (double hz : {300.0, 2000.0, 3000.0, 3400.0}) {
    const auto o = decimate(sine(24000, hz, 48000));
    CHECK(rms(o, 400, o.size()) == Approx(10000 / std::sqrt(2)).epsilon(0.06));
  }
  // Above 4.6 kHz nothing folds back: at least 60 dB down.
  for (double hz : {4600.0, 6000.0, 9000.0, 15000.0, 23000.0}) {
    const auto o = decimate(sine(24000, hz, 48000));
    INFO(hz << " Hz");
    CHECK(rms(o, 400, o.size()) < 10000 / std::sqrt(2) * 1e-3);
  }
}

TEST_CASE("8 kHz -> 48 kHz reproduces the band-limited signal without images", "[mspi][resampler]") {
  for (double hz : {440.0, 1000.0, 3000.0}) {
    const auto in = sine(8000, hz, 8000);
    const auto out = interpolate(in);
    REQUIRE(out.size() == 48000);
    // Output o is the continuous tone at time (o - 95.5) / 48000: images at 8 kHz ± f would show as error.
    const auto expected = sine(48000, hz, 48000, 10000, 95.5);
    double err = 0;
    for (std::size_t i = 2400; i < out.size(); ++i) err += std::pow(out[i] - expected[i], 2);
    err = std::sqrt(err / (out.size() - 2400));
    INFO(hz << " Hz: error rms " << err);
    CHECK(err < 0.01 * 10000 / std::sqrt(2));
  }
}

TEST_CASE("resampling in frames equals resampling at once, and reset forgets the history", "[mspi][resampler]") {
  const auto in = sine(9600, 700, 48000, 12000);
  const auto whole = decimate(in, 9600);
  const auto framed = decimate(in, 480);  // 10 ms frames
  CHECK(whole == framed);
  const auto narrow = sine(1600, 700, 8000, 12000);
  CHECK(interpolate(narrow, 1600) == interpolate(narrow, 80));

  mspi::decimator_48k_to_8k d;
  std::vector<std::int16_t> out(160), first(160);
  d.process(std::span(in).first(960), first);
  d.process(std::span(in).subspan(960, 960), out);
  d.reset();
  d.process(std::span(in).first(960), out);
  CHECK(out == first);

  // Saturation instead of wrap-around for a full-scale square wave (overshoot of the FIR).
  std::vector<std::int16_t> square(1600);
  for (std::size_t i = 0; i < square.size(); ++i) square[i] = (i / 20) % 2 ? 32767 : -32768;
  const auto up = interpolate(square);
  for (std::size_t i = 1; i < up.size(); ++i) REQUIRE(std::abs(up[i] - up[i - 1]) < 40000);
}
