// ptapi - portable TAPI (project-internal measuring tool; not installed, not part of the library)
// ptapi_measure/delay_estimate.hpp: how late a recording is relative to what was played (cross-correlation
// by FFT, FFTW), the windowed judge of a received copy of speech, and the mouth-to-ear delay of a call
// derived from the lag. Used by the softphone example's report, wav_match, the benchmarks and the tests
// (CMake target `ptapi_measure`, which links FFTW; the library proper does not depend on FFTW).
// The names stay in namespace mspi, where the examples already look for them.
#pragma once

#include <ptapi_measure/detail/fft_correlation.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace mspi {

/// The result of `estimate_delay`.
struct delay_estimate {
  long lag_samples = 0;     ///< L: `received[i]` best matches `sent[i - L]`; 0 <= L <= max lag.
  double correlation = 0;   ///< Normalized cross-correlation at L over the overlap, -1..1 (0: no overlap or silence).
};

namespace detail {

/// Sum of x[i]^2 over i in [from, to) (clamped to x's size), in double (exact below 2^23 samples).
inline double energy(std::span<const std::int16_t> x, std::size_t from, std::size_t to) noexcept {
  double sum = 0;
  for (std::size_t i = from; i < std::min(to, x.size()); ++i) sum += std::int32_t{x[i]} * x[i];
  return sum;
}

/// Prefix energies of x at the indices [from, from + count]: `at(i)` = sum of x[0, i)^2 for those i,
/// and the total energy for i past the end. Memory O(count), not O(x.size()): the lags, not the signals.
class prefix_energy_window {
 public:
  prefix_energy_window(std::span<const std::int16_t> x, std::size_t from, std::size_t count)
      : from_(std::min(from, x.size())), sums_(count + 1) {
    double sum = energy(x, 0, from_);
    for (std::size_t k = 0; k <= count; ++k) {
      sums_[k] = sum;
      if (from_ + k < x.size()) sum += std::int32_t{x[from_ + k]} * x[from_ + k];
    }
    total_ = sum + energy(x, from_ + count + 1, x.size());
    size_ = x.size();
  }
  /// Sum of x[0, i)^2; `i` must be in [from, from + count] or at least the size.
  [[nodiscard]] double at(std::size_t i) const noexcept { return i >= size_ ? total_ : sums_[i - from_]; }
  [[nodiscard]] double total() const noexcept { return total_; }

 private:
  std::size_t from_;
  std::vector<double> sums_;
  double total_ = 0;
  std::size_t size_ = 0;
};

/// The norms of the overlaps at lags 0..max_lag: sqrt(energy of received[lag, end) * energy of
/// sent[0, end - lag)), end = min(received size, sent size + lag); 0 when the overlap is empty or silent.
class overlap_norms {
 public:
  overlap_norms(std::span<const std::int16_t> sent, std::span<const std::int16_t> received, std::size_t max_lag)
      : ns_(sent.size()),
        nr_(received.size()),
        r_head_(received, 0, max_lag),
        r_tail_(received, sent.size(), max_lag),
        s_tail_(sent, received.size() > max_lag ? received.size() - max_lag : 0, max_lag) {}

  [[nodiscard]] double at(std::size_t lag) const noexcept {
    if (lag >= nr_) return 0.0;
    const std::size_t end = std::min(nr_, ns_ + lag);
    const double er = (end == nr_ ? r_head_.total() : r_tail_.at(end)) - r_head_.at(lag);
    const double es = end - lag >= ns_ ? s_tail_.total() : s_tail_.at(end - lag);
    return std::sqrt(std::max(0.0, er) * es);
  }
  /// sqrt(total energy of sent * total energy of received).
  [[nodiscard]] double total() const noexcept { return std::sqrt(r_head_.total() * s_tail_.total()); }

 private:
  std::size_t ns_, nr_;
  prefix_energy_window r_head_, r_tail_, s_tail_;
};

/// The raw correlation sum_j sent[j] * received[j + lag] over the overlap, in the time domain. Exact for
/// overlaps below 2^23 samples (products below 2^30, sums below 2^53), whatever the order of the sum.
inline double dot_at(std::span<const std::int16_t> sent, std::span<const std::int16_t> received, std::size_t lag) noexcept {
  if (lag >= received.size()) return 0.0;
  const std::size_t n = std::min(sent.size(), received.size() - lag);
  const std::int16_t* a = received.data() + lag;
  const std::int16_t* b = sent.data();
  // Four independent accumulators of exact 32-bit products: the sum pipelines and vectorises.
  double acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    acc0 += std::int32_t{a[i]} * b[i];
    acc1 += std::int32_t{a[i + 1]} * b[i + 1];
    acc2 += std::int32_t{a[i + 2]} * b[i + 2];
    acc3 += std::int32_t{a[i + 3]} * b[i + 3];
  }
  for (; i < n; ++i) acc0 += std::int32_t{a[i]} * b[i];
  return (acc0 + acc1) + (acc2 + acc3);
}

}  // namespace detail

/// Finds how many samples `received` lags behind `sent`: the lag L in [0, max_lag_samples] that
/// maximises the normalized cross-correlation
///   sum_i received[i] * sent[i - L] / sqrt(sum_i received[i]^2 * sum_i sent[i - L]^2)
/// over the overlap (i from L to min(received.size(), sent.size() + L) - 1). For `received` = `sent`
/// delayed by L samples (L leading samples of anything, then a copy of `sent`), the result is L.
///
/// Method: every lag is evaluated, as an exhaustive search would, with the numerators of all lags from
/// one FFT cross-correlation (`detail::cross_correlation`, FFTW in double precision, by blocks of about
/// 3 * max lag). The lags within 1e-6 of the best (at most 16, normally 1-3 neighbours of the peak) and
/// any lag whose overlap is so quiet that the FFT's rounding could matter are evaluated again exactly in
/// the time domain, so the result equals the exhaustive time-domain search's (same lag; the first of equal
/// maxima). Cost about 3 * (n / B) FFTs of size 4 * max lag, B = 3 * max lag: 11 s of 48 kHz speech
/// against a 0.5 s maximum lag takes a few milliseconds (benchmarks/bench_delay_estimate.cpp).
///
/// @param sent the reference (what was played), any rate; samples as recorded, no scaling needed.
/// @param received the recording, same rate as `sent`; may be longer or shorter.
/// @param max_lag_samples the largest lag considered (also limited by `received.size() - 1`).
/// @return the best lag and its correlation (-1..1). No errors: empty or silent inputs give
///         {0, 0}. Never throws except `std::bad_alloc`.
/// @par Thread Safety
/// Reentrant (pure function; FFTW plans are made under a process-wide mutex, FFTW_ESTIMATE, no wisdom).
/// Allocates working buffers of about 8 bytes per input sample and 50 bytes per lag.
/// @par Source
/// The classic cross-correlation delay estimator (Knapp & Carter, "The generalized correlation method
/// for estimation of time delay", IEEE TASSP 1976, with a unit weighting), computed by FFT.
inline delay_estimate estimate_delay(std::span<const std::int16_t> sent, std::span<const std::int16_t> received,
                                     std::size_t max_lag_samples) {
  delay_estimate best{};
  if (sent.empty() || received.empty()) return best;
  const std::size_t max_lag = std::min(max_lag_samples, received.size() - 1);
  const detail::overlap_norms norms(sent, received, max_lag);
  const auto raw = detail::cross_correlation(sent, received, max_lag);
  // FFT rounding stays below about 1e-14 of sqrt(total energies); where that exceeds 1e-8 of a lag's own
  // norm, the lag is computed exactly instead (only lags with a tiny or near-silent overlap).
  const double fft_error = 1e-14 * norms.total();
  std::vector<double> c(max_lag + 1, 0.0);
  bool audible = false;
  for (std::size_t l = 0; l <= max_lag; ++l) {
    const double norm = norms.at(l);
    if (norm <= 0.0) continue;  // a silent overlap scores 0
    const double dot = fft_error > 1e-8 * norm ? detail::dot_at(sent, received, l) : raw[l];
    c[l] = dot / norm;
    audible = true;
  }
  if (!audible) return best;
  const double top = *std::max_element(c.begin(), c.end());
  // Re-evaluate the near-best lags exactly and keep the first of the best.
  constexpr double tie = 1e-6;
  constexpr std::size_t max_candidates = 16;
  std::vector<std::pair<double, std::size_t>> near;
  for (std::size_t l = 0; l <= max_lag; ++l)
    if (c[l] >= top - tie) near.emplace_back(c[l], l);
  if (near.size() > max_candidates) {
    std::partial_sort(near.begin(), near.begin() + max_candidates, near.end(),
                      [](const auto& x, const auto& y) { return x.first > y.first; });
    near.resize(max_candidates);
  }
  std::sort(near.begin(), near.end(), [](const auto& x, const auto& y) { return x.second < y.second; });
  bool found = false;
  for (const auto& candidate : near) {
    const std::size_t l = candidate.second;
    const double norm = norms.at(l);
    const double exact = norm > 0.0 ? detail::dot_at(sent, received, l) / norm : 0.0;
    if (!found || exact > best.correlation) {
      best = {static_cast<long>(l), exact};
      found = true;
    }
  }
  return best;
}

namespace detail {

/// `sent[off, off + count)` searched for in `received` within ±`follow` samples of `lag` (`received` late by
/// `lag`): the segment's own lag and correlation, or nothing when the search would start past `received`'s end.
inline std::optional<delay_estimate> follow_lag(std::span<const std::int16_t> sent, std::span<const std::int16_t> received,
                                                std::size_t off, std::size_t count, long lag, std::size_t follow) {
  const long from = std::max<long>(0, static_cast<long>(off) + lag - static_cast<long>(follow));
  if (static_cast<std::size_t>(from) >= received.size()) return std::nullopt;
  const std::size_t span = std::min(count + 2 * follow, received.size() - static_cast<std::size_t>(from));
  auto found = estimate_delay(sent.subspan(off, count), received.subspan(static_cast<std::size_t>(from), span), 2 * follow);
  found.lag_samples = from + found.lag_samples - static_cast<long>(off);
  return found;
}

}  // namespace detail

/// The result of `match_windows`: how well each voiced window of what was sent is reproduced.
struct window_match {
  std::size_t windows = 0;              ///< Voiced windows judged (silent ones say nothing and are skipped).
  double median_correlation = 0;        ///< Median of the windows' best normalized correlations, -1..1.
  double worst_tenth_correlation = 0;   ///< 10th percentile of them: 90 % of the windows did at least this well.
  long min_lag_samples = 0;             ///< Smallest lag found (samples): the path's delay range shows delay steps.
  long max_lag_samples = 0;             ///< Largest lag found (samples).
  int lag_steps = 0;                    ///< Consecutive windows whose lags differ by more than window/500 (2 ms for 1 s windows).
  std::vector<double> correlations;     ///< Each voiced window's correlation, in the order of `sent`.
  std::vector<long> lags;               ///< Each voiced window's lag, samples (`received` late by this much).
};

/// Judges a received copy of speech window by window, following the lag: the whole-signal lag is found
/// first (`estimate_delay`, up to `max_lag_samples`), then each voiced window of `sent` (`window_samples`
/// long, RMS >= `min_rms`) is searched for within ±`follow_samples` of the previous window's lag. An
/// adaptive jitter buffer legitimately steps the delay mid-call; one whole-signal correlation would
/// punish that, a window that follows the lag does not, while loss, concealment and garbling still
/// lower the window's score. A step inside a window is followed too: each window is also searched as
/// four quarters, each within ±`follow_samples` of the previous lag; when the lags of its voiced quarters
/// step once (consecutive ones differ by more than window/500 exactly once: garbled audio gives scattered
/// lags, not one step), the window scores the energy-weighted mean of its quarters' correlations if that is
/// higher than the whole window's, and its lag is its last voiced quarter's.
///
/// Shapes and units: both signals at the same rate (48 kHz in ptapi); windows and lags in samples.
/// `worst_tenth_correlation` is the 10th percentile of the window scores. With no voiced window the
/// result has `windows == 0` and zero scores. No errors; never throws except std::bad_alloc.
/// @par Thread Safety
/// Reentrant (pure function).
inline window_match match_windows(std::span<const std::int16_t> sent, std::span<const std::int16_t> received,
                                  std::size_t max_lag_samples, std::size_t window_samples = 48000,
                                  std::size_t follow_samples = 9600, double min_rms = 500) {
  window_match m;
  if (sent.empty() || received.empty() || window_samples == 0) return m;
  const auto step = [&](long a, long b) { return std::abs(a - b) * 500 > static_cast<long>(window_samples); };
  long lag = estimate_delay(sent, received, max_lag_samples).lag_samples;
  bool first = true;
  for (std::size_t off = 0; off + window_samples <= sent.size(); off += window_samples) {
    if (std::sqrt(detail::energy(sent, off, off + window_samples) / static_cast<double>(window_samples)) < min_rms) continue;
    const auto whole = detail::follow_lag(sent, received, off, window_samples, lag, follow_samples);
    if (!whole) break;
    double score = whole->correlation;
    long next = whole->lag_samples;
    // The same window as four quarters, each following the lag on its own: a delay step inside the window.
    const std::size_t quarter = window_samples / 4;
    double weighted = 0, weights = 0;
    long last_lag = 0;
    int steps = 0;
    bool voiced = false;
    for (std::size_t q = 0; quarter > 0 && q < 4; ++q) {
      const double e = detail::energy(sent, off + q * quarter, off + (q + 1) * quarter);
      if (std::sqrt(e / static_cast<double>(quarter)) < min_rms) continue;
      const auto part = detail::follow_lag(sent, received, off + q * quarter, quarter, lag, follow_samples);
      if (!part) break;
      steps += voiced && step(part->lag_samples, last_lag);
      voiced = true;
      last_lag = part->lag_samples;
      weighted += e * part->correlation;
      weights += e;
    }
    if (steps == 1 && weighted / weights > score) {
      score = weighted / weights;
      next = last_lag;
    }
    lag = next;
    m.correlations.push_back(score);
    if (!m.lags.empty() && step(lag, m.lags.back())) ++m.lag_steps;
    m.lags.push_back(lag);
    m.min_lag_samples = first ? lag : std::min(m.min_lag_samples, lag);
    m.max_lag_samples = first ? lag : std::max(m.max_lag_samples, lag);
    first = false;
  }
  m.windows = m.correlations.size();
  if (m.windows == 0) return m;
  auto sorted = m.correlations;
  std::sort(sorted.begin(), sorted.end());
  m.median_correlation = sorted[sorted.size() / 2];
  m.worst_tenth_correlation = sorted[sorted.size() / 10];
  return m;
}

/// The mouth-to-ear delay of one direction of a call, in milliseconds:
/// (first_received_sample - first_sent_sample) + lag_samples / rate_hz.
///
/// Model: sample j of what was played (the sender's playback) was captured at
/// `first_sent_sample + j / rate_hz`; sample i of the receiver's recording was rendered at
/// `first_received_sample + i / rate_hz`; the received copy of sent sample j is recording sample
/// j + `lag_samples` (the lag `estimate_delay(sent, recorded, ...)` finds). The delay of sample j is
/// therefore the same for every j: the value returned. With ptapi's file terminals, pass
/// `file_playback_terminal::first_sample_time()` and `file_recording_terminal::first_sample_time()`.
///
/// @param rate_hz the sample rate of both signals, Hz (> 0; the pipeline's 48000 by default).
/// @return milliseconds; negative only if the inputs are inconsistent. No errors; never throws.
/// @par Thread Safety
/// Pure function.
inline double mouth_to_ear_ms(std::chrono::steady_clock::time_point first_sent_sample,
                              std::chrono::steady_clock::time_point first_received_sample, long lag_samples,
                              int rate_hz = 48000) {
  const std::chrono::duration<double, std::milli> offset = first_received_sample - first_sent_sample;
  return offset.count() + 1000.0 * static_cast<double>(lag_samples) / static_cast<double>(rate_hz);
}

}  // namespace mspi
