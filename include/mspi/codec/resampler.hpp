// ptapi - portable TAPI
// mspi/codec/resampler.hpp: 48 kHz <-> 8 kHz sample-rate conversion for narrowband codecs (G.711) in the
// 48 kHz pipeline: a 6:1 polyphase FIR decimator and a 1:6 polyphase FIR interpolator, fixed-point,
// allocation-free, with state kept across calls so that frame after frame is one continuous signal.
//
// Why our own and not a library: measured against libsamplerate (already a dependency of ptapi::files)
// and speexdsp's resampler (Debian libspeexdsp-dev) by benchmarks/bench_resampler.cpp, on 20 ms frames of
// speech, int16 in and out, thread CPU time, minimum of 15 runs, GCC 12 -O2 (RelWithDebInfo), on the
// project's 2-core development machine (`build/bin/ptapi_bench_resampler`):
//
//   48 -> 8 kHz                  ns/frame  1 kHz SNR  gain 3.4 kHz  worst alias (4.6..23 kHz)
//   ours                             2421    93.9 dB      -0.29 dB   -69.6 dB (at 22.8 kHz)
//   speexdsp quality 3 / 4 / 5   5102 / 6869 / 8849   106.4 dB   -1.05 / -0.02 / -0.00 dB   below -83 dB
//   libsamplerate SINC_FASTEST      47312   106.4 dB      -8.79 dB   below -83 dB
//   libsamplerate LINEAR             1936    85.2 dB       0.00 dB   +3.0 dB (no anti-alias filter)
//   8 -> 48 kHz                  ns/frame  1 kHz SNR  gain 3.4 kHz  worst SNR 0.3..3.4 kHz (images count)
//   ours                             3290    72.6 dB      -0.29 dB   67.6 dB
//   speexdsp quality 3 / 4 / 5   5364 / 6525 / 7769   89 dB   -0.28 / 0.00 / 0.00 dB   83.3 / 84.8 / 85.1 dB
//   libsamplerate SINC_FASTEST      61196    88.8 dB      -8.79 dB   78.2 dB
//   libsamplerate LINEAR             9749    31.2 dB      -5.36 dB    4.8 dB
//
// Ours costs 0.29 ms of CPU per full-duplex G.711 call-second (50 frames each way), speexdsp quality 4
// (the first with a passband as flat as ours) 0.67 ms: 2.3 times as much, against a budget of 1 ms per
// call-second for the 1000 PCMU calls per core ptapi aims at. libsamplerate is about 19 times slower per frame
// (and its fastest sinc converter already attenuates 3.4 kHz by 9 dB); linear interpolation aliases. The
// libraries' better stopband buys nothing audible here: G.711 itself has an SNR of about 38 dB, and our
// aliases and images stay 30 dB below that. So the media path keeps this 6:1 filter (48 <-> 8 kHz only);
// a wideband codec at 16 kHz (G.722) would take speexdsp's resampler instead (quality 4: 6141 ns per
// 48 -> 16 kHz frame, -0.41 dB at 7 kHz) rather than a second filter of our own.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mspi {

/// The conversion ratio between the pipeline rate (48 kHz) and the narrowband rate (8 kHz).
inline constexpr std::size_t narrowband_ratio = 6;

namespace detail {

/// Taps of the shared low-pass FIR (at 48 kHz): a multiple of the ratio, so that each of the
/// interpolator's 6 phases has `narrowband_fir_taps / 6` taps.
inline constexpr std::size_t narrowband_fir_taps = 192;
/// Taps per interpolator phase.
inline constexpr std::size_t narrowband_phase_taps = narrowband_fir_taps / narrowband_ratio;

// Modified Bessel function of the first kind, order 0 (power series), for the Kaiser window.
inline double bessel_i0(double x) noexcept {
  double sum = 1, term = 1;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/// The low-pass FIR in Q15 (windowed sinc, Kaiser window β = 8, cutoff 3.8 kHz at 48 kHz, unity DC gain):
/// aliases at -69.6 dB or lower from 4.6 kHz up (measured with 16-bit output; the Q15 taps limit the far
/// stopband), passband flat within 0.1 dB to 3 kHz, -0.3 dB at 3.4 kHz. Symmetric (linear phase, group
/// delay 95.5 samples at 48 kHz = 2 ms). Computed once, on first use (thread-safe static); no allocation.
inline const std::array<std::int16_t, narrowband_fir_taps>& narrowband_fir() noexcept {
  static const auto taps = [] {
    constexpr double cutoff = 3800.0 / 48000.0;  // cycles per sample
    constexpr double beta = 8.0;
    constexpr double pi = 3.14159265358979323846;
    constexpr auto n = narrowband_fir_taps;
    std::array<double, n> h{};
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) - (n - 1) / 2.0;
      const double sinc = 2 * cutoff * (t == 0 ? 1.0 : std::sin(2 * pi * cutoff * t) / (2 * pi * cutoff * t));
      const double r = 2.0 * static_cast<double>(i) / (n - 1) - 1.0;
      h[i] = sinc * bessel_i0(beta * std::sqrt(std::max(0.0, 1 - r * r))) / bessel_i0(beta);
      sum += h[i];
    }
    std::array<std::int16_t, n> q{};
    for (std::size_t i = 0; i < n; ++i) q[i] = static_cast<std::int16_t>(std::lround(h[i] / sum * 32768.0));
    return q;
  }();
  return taps;
}

/// The FIR split into the interpolator's phases, each scaled by the ratio (zero stuffing loses 1/6 of
/// the energy) and reversed for a forward dot product with the oldest-first history: phase p output is
/// sum_k phase[p][k] * x[n - (M-1) + k], M = taps per phase. Q15; computed once (thread-safe static).
inline const std::array<std::array<std::int16_t, narrowband_phase_taps>, narrowband_ratio>& narrowband_phases() noexcept {
  static const auto phases = [] {
    const auto& h = narrowband_fir();
    std::array<std::array<std::int16_t, narrowband_phase_taps>, narrowband_ratio> p{};
    for (std::size_t phase = 0; phase < narrowband_ratio; ++phase)
      for (std::size_t k = 0; k < narrowband_phase_taps; ++k) {
        const int v = h[phase + narrowband_ratio * k] * static_cast<int>(narrowband_ratio);
        p[phase][narrowband_phase_taps - 1 - k] = static_cast<std::int16_t>(std::clamp(v, -32768, 32767));
      }
    return p;
  }();
  return phases;
}

// Dot product of Q15 taps and samples, rounded and saturated to 16 bits. Integer arithmetic, so the
// compiler may vectorise it without reassociation concerns. |sum| stays below 2^31: the taps' absolute
// sum is below 1.2 in Q15 and samples are 16-bit.
template <std::size_t N>
inline std::int16_t fir_dot(const std::int16_t* taps, const std::int16_t* x) noexcept {
  std::int32_t acc = 0;
  for (std::size_t i = 0; i < N; ++i) acc += std::int32_t{taps[i]} * x[i];
  return static_cast<std::int16_t>(std::clamp((acc + (1 << 14)) >> 15, -32768, 32767));
}

}  // namespace detail

/// Converts 48 kHz mono s16 to 8 kHz: low-pass FIR (see `detail::narrowband_fir`) evaluated at every
/// sixth input sample (polyphase decimation). Output sample j is taken at input sample 6j + 5 of the
/// stream, i.e. the decimator keeps its phase across calls as long as every call passes a multiple of
/// 6 input samples. Delay: 2 ms (95.5 input samples).
///
/// Thread safety: Distinct objects: safe. Shared objects: unsafe (one thread at a time). No member
/// allocates or throws. Not an RFC algorithm; G.711 (RFC 3551 §4.5.14) only fixes the 8 kHz rate.
class decimator_48k_to_8k {
 public:
  /// Reads `in` (48 kHz) and writes `in.size() / 6` samples to `out` (8 kHz); at most `out.size()`
  /// outputs are produced (`6 * out.size()` inputs consumed). Returns the samples written. A remainder
  /// of `in.size() % 6` inputs is consumed into the history (the next output's phase then shifts).
  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out) noexcept {
    const auto& h = detail::narrowband_fir();
    const std::size_t inputs = std::min(in.size(), out.size() * narrowband_ratio);
    std::size_t produced = 0;
    for (std::size_t i = 0; i < inputs; ++i) {
      push(in[i]);
      if (++phase_ == narrowband_ratio) {
        phase_ = 0;
        out[produced++] = detail::fir_dot<detail::narrowband_fir_taps>(h.data(), window());
      }
    }
    return produced;
  }

  /// Forgets the history (silence before the next sample). Never throws.
  void reset() noexcept {
    history_.fill(0);
    pos_ = 0;
    phase_ = 0;
  }

 private:
  // Doubled ring: each sample is stored twice, so the last N samples are always contiguous.
  void push(std::int16_t x) noexcept {
    history_[pos_] = x;
    history_[pos_ + detail::narrowband_fir_taps] = x;
    pos_ = (pos_ + 1) % detail::narrowband_fir_taps;
  }
  // Oldest first (the FIR is symmetric, so the tap order does not matter here).
  [[nodiscard]] const std::int16_t* window() const noexcept { return history_.data() + pos_; }

  std::array<std::int16_t, 2 * detail::narrowband_fir_taps> history_{};
  std::size_t pos_ = 0;
  std::size_t phase_ = 0;
};

/// Converts 8 kHz mono s16 to 48 kHz: six output samples per input sample, each from one phase of the
/// low-pass FIR (polyphase interpolation, equivalent to zero stuffing and filtering at 48 kHz, gain 6).
/// Continuous across calls. Delay: 2 ms (95.5 output samples).
///
/// Thread safety: Distinct objects: safe. Shared objects: unsafe (one thread at a time). No member
/// allocates or throws.
class interpolator_8k_to_48k {
 public:
  /// Reads `in` (8 kHz) and writes `6 * in.size()` samples to `out` (48 kHz); at most `out.size() / 6`
  /// inputs are consumed. Returns the samples written (a multiple of 6).
  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out) noexcept {
    const auto& phases = detail::narrowband_phases();
    const std::size_t inputs = std::min(in.size(), out.size() / narrowband_ratio);
    std::size_t o = 0;
    for (std::size_t i = 0; i < inputs; ++i) {
      push(in[i]);
      const std::int16_t* x = history_.data() + pos_;
      for (std::size_t p = 0; p < narrowband_ratio; ++p)
        out[o++] = detail::fir_dot<detail::narrowband_phase_taps>(phases[p].data(), x);
    }
    return o;
  }

  /// Forgets the history (silence before the next sample). Never throws.
  void reset() noexcept {
    history_.fill(0);
    pos_ = 0;
  }

 private:
  void push(std::int16_t x) noexcept {
    history_[pos_] = x;
    history_[pos_ + detail::narrowband_phase_taps] = x;
    pos_ = (pos_ + 1) % detail::narrowband_phase_taps;
  }

  std::array<std::int16_t, 2 * detail::narrowband_phase_taps> history_{};
  std::size_t pos_ = 0;
};

}  // namespace mspi
