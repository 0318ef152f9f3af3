// ptapi - portable TAPI
// mspi/delay_estimate.hpp: how late a recording is relative to what was played (cross-correlation),
// and the mouth-to-ear delay of a call derived from it. Used by the softphone example's report.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
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

/// Block averages of `x` over `factor` samples (the last partial block is dropped).
inline std::vector<float> decimate_by_average(std::span<const std::int16_t> x, std::size_t factor) {
  std::vector<float> out(x.size() / factor);
  for (std::size_t k = 0; k < out.size(); ++k) {
    float sum = 0.0F;
    for (std::size_t j = 0; j < factor; ++j) sum += static_cast<float>(x[k * factor + j]);
    out[k] = sum / static_cast<float>(factor);
  }
  return out;
}

/// Prefix sums of squares: `out[i]` = sum of x[0..i)^2 (size x.size() + 1).
template <class T>
std::vector<double> prefix_energy(std::span<const T> x) {
  std::vector<double> out(x.size() + 1, 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) out[i + 1] = out[i] + static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return out;
}

/// Normalized correlation of r[i] with s[i - lag] over their overlap, using the prefix energies `es`
/// and `er` of s and r. 0 when the overlap is empty or either side is silent there.
template <class T>
double correlation_at(std::span<const T> s, std::span<const T> r, const std::vector<double>& es,
                      const std::vector<double>& er, std::size_t lag) {
  if (lag >= r.size()) return 0.0;
  const std::size_t end = std::min(r.size(), s.size() + lag);  // i in [lag, end)
  if (end <= lag) return 0.0;
  const std::size_t n = end - lag;
  const T* a = r.data() + lag;
  const T* b = s.data();
  // Four independent accumulators: lets the compiler pipeline (and, for floats, not serialize) the sum.
  double acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    acc0 += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    acc1 += static_cast<double>(a[i + 1]) * static_cast<double>(b[i + 1]);
    acc2 += static_cast<double>(a[i + 2]) * static_cast<double>(b[i + 2]);
    acc3 += static_cast<double>(a[i + 3]) * static_cast<double>(b[i + 3]);
  }
  for (; i < n; ++i) acc0 += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  const double energy_r = er[end] - er[lag];
  const double energy_s = es[n] - es[0];
  const double denom = std::sqrt(energy_r * energy_s);
  return denom > 0.0 ? (acc0 + acc1 + acc2 + acc3) / denom : 0.0;
}

}  // namespace detail

/// Finds how many samples `received` lags behind `sent`: the lag L in [0, max_lag_samples] that
/// maximises the normalized cross-correlation
///   sum_i received[i] * sent[i - L] / sqrt(sum_i received[i]^2 * sum_i sent[i - L]^2)
/// over the overlap (i from L to min(received.size(), sent.size() + L) - 1). For `received` = `sent`
/// delayed by L samples (L leading samples of anything, then a copy of `sent`), the result is L.
///
/// Method (no FFT): a coarse search of every lag on both signals decimated by 8 (block averages,
/// which keeps speech below ~3 kHz), then an exact search at full rate within ±16 samples of the best
/// three coarse peaks. Cost is about (n/8) * (max_lag/8) + 100 * n multiply-adds for n samples:
/// 30 s of 48 kHz audio with a 0.5 s maximum lag takes a fraction of a second. A lag the coarse
/// search misses (a signal with nothing below 3 kHz) may be found only approximately.
///
/// @param sent the reference (what was played), any rate; samples as recorded, no scaling needed.
/// @param received the recording, same rate as `sent`; may be longer or shorter.
/// @param max_lag_samples the largest lag considered (also limited by `received.size() - 1`).
/// @return the best lag and its correlation (-1..1). No errors: empty or silent inputs give
///         {0, 0}. Never throws except `std::bad_alloc`.
/// @par Thread Safety
/// Reentrant (pure function; allocates working buffers of about 1.25 × the input sizes).
/// @par Source
/// The classic time-domain cross-correlation delay estimator (e.g. Knapp & Carter, "The generalized
/// correlation method for estimation of time delay", IEEE TASSP 1976, with a unit weighting), made
/// fast by a coarse-to-fine search.
inline delay_estimate estimate_delay(std::span<const std::int16_t> sent, std::span<const std::int16_t> received,
                                     std::size_t max_lag_samples) {
  delay_estimate best{};
  if (sent.empty() || received.empty()) return best;
  const std::size_t max_lag = std::min(max_lag_samples, received.size() - 1);
  constexpr std::size_t factor = 8;
  constexpr std::size_t refine = 16;
  constexpr std::size_t candidates = 3;

  // Coarse search on the decimated signals; keep the best few local maxima.
  std::vector<std::size_t> starts;
  const auto ds = detail::decimate_by_average(sent, factor);
  const auto dr = detail::decimate_by_average(received, factor);
  if (!ds.empty() && !dr.empty()) {
    const auto eds = detail::prefix_energy(std::span<const float>(ds));
    const auto edr = detail::prefix_energy(std::span<const float>(dr));
    const std::size_t coarse_max = std::min(max_lag / factor + 1, dr.size() - 1);
    std::vector<double> c(coarse_max + 1);
    for (std::size_t l = 0; l <= coarse_max; ++l)
      c[l] = detail::correlation_at(std::span<const float>(ds), std::span<const float>(dr), eds, edr, l);
    std::vector<std::pair<double, std::size_t>> peaks;
    for (std::size_t l = 0; l <= coarse_max; ++l) {
      const bool left = l == 0 || c[l] >= c[l - 1];
      const bool right = l == coarse_max || c[l] >= c[l + 1];
      if (left && right) peaks.emplace_back(c[l], l);
    }
    std::sort(peaks.begin(), peaks.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    for (std::size_t k = 0; k < peaks.size() && k < candidates; ++k) starts.push_back(peaks[k].second * factor);
  }
  if (starts.empty()) starts.push_back(0);

  // Exact search at full rate around each candidate.
  const auto es = detail::prefix_energy(sent);
  const auto er = detail::prefix_energy(received);
  bool found = false;
  for (const std::size_t centre : starts) {
    const std::size_t lo = centre > refine ? centre - refine : 0;
    const std::size_t hi = std::min(centre + refine, max_lag);
    for (std::size_t l = lo; l <= hi; ++l) {
      const double c = detail::correlation_at(sent, received, es, er, l);
      if (!found || c > best.correlation) {
        best = {static_cast<long>(l), c};
        found = true;
      }
    }
  }
  return best;
}

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
/// lower the window's score.
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
  long lag = estimate_delay(sent, received, max_lag_samples).lag_samples;
  bool first = true;
  for (std::size_t off = 0; off + window_samples <= sent.size(); off += window_samples) {
    const auto part = sent.subspan(off, window_samples);
    double energy = 0;
    for (const auto s : part) energy += static_cast<double>(s) * s;
    if (std::sqrt(energy / static_cast<double>(window_samples)) < min_rms) continue;
    const long from = std::max<long>(0, static_cast<long>(off) + lag - static_cast<long>(follow_samples));
    if (static_cast<std::size_t>(from) >= received.size()) break;
    const std::size_t span = std::min(window_samples + 2 * follow_samples, received.size() - static_cast<std::size_t>(from));
    const auto found = estimate_delay(part, received.subspan(static_cast<std::size_t>(from), span), 2 * follow_samples);
    lag = from + found.lag_samples - static_cast<long>(off);
    m.correlations.push_back(found.correlation);
    if (!m.lags.empty() && std::abs(lag - m.lags.back()) * 500 > static_cast<long>(window_samples)) ++m.lag_steps;
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
