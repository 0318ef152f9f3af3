// How well a recording reproduces speech when the path's delay may step during the call (an adaptive
// jitter buffer that grows by one packet shifts everything after that point): each voiced 250 ms
// segment of the input is aligned on its own, within `max_lag` samples, against the recording.
// `match_speech_windows` judges by 1-second windows the same way and reports the median, the worst tenth
// and how the lag moved (the delay steps of the jitter buffer).
#pragma once

#include <mspi/delay_estimate.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace ptapi_test {

struct speech_match {
  std::size_t voiced_segments = 0;  // segments of the input loud enough to compare
  double median_correlation = 0;    // median over voiced segments of their best normalized correlation
};

inline speech_match match_speech(std::span<const std::int16_t> sent, std::span<const std::int16_t> received,
                                 std::size_t max_lag, std::size_t segment = 12000) {
  std::vector<double> scores;
  for (std::size_t off = 0; off + segment <= sent.size(); off += segment) {
    auto part = sent.subspan(off, segment);
    double energy = 0;
    for (auto s : part) energy += double(s) * s;
    if (std::sqrt(energy / segment) < 500) continue;  // silence between words says nothing
    if (off >= received.size()) break;
    auto window = received.subspan(off, std::min(segment + max_lag, received.size() - off));
    scores.push_back(mspi::estimate_delay(part, window, max_lag).correlation);
  }
  speech_match m;
  m.voiced_segments = scores.size();
  if (!scores.empty()) {
    std::nth_element(scores.begin(), scores.begin() + scores.size() / 2, scores.end());
    m.median_correlation = scores[scores.size() / 2];
  }
  return m;
}

/// Speech judged by windows (default 1 s at 48 kHz), each aligned on its own so the judge follows the lag.
struct window_match {
  std::vector<double> correlations;  // per voiced window, in time order
  std::vector<long> lags;            // per voiced window: received lags sent by this many samples (may be < 0)
  double median = 0;                 // median correlation
  double worst_tenth = 0;            // the 10th-percentile correlation (the window at rank n/10, ascending)
  long min_lag = 0, max_lag = 0;     // range of the lags, samples
  int lag_steps = 0;                 // consecutive windows whose lags differ by more than 2 ms
};

/// Compares each voiced `window`-sample window of `sent` (RMS >= 500) with `received`, searching lags in
/// [-lead, max_lag - lead] samples; windows past the end of `received` are left out.
inline window_match match_speech_windows(std::span<const std::int16_t> sent, std::span<const std::int16_t> received,
                                         std::size_t max_lag = 24000, std::size_t lead = 4800,
                                         std::size_t window = 48000) {
  window_match m;
  for (std::size_t off = 0; off + window <= sent.size(); off += window) {
    auto part = sent.subspan(off, window);
    double energy = 0;
    for (auto s : part) energy += double(s) * s;
    if (std::sqrt(energy / static_cast<double>(window)) < 500) continue;
    const std::size_t from = off > lead ? off - lead : 0;
    if (from + window + max_lag > received.size()) break;
    const auto est = mspi::estimate_delay(part, received.subspan(from, window + max_lag), max_lag);
    m.correlations.push_back(est.correlation);
    m.lags.push_back(est.lag_samples - static_cast<long>(off - from));
  }
  if (m.correlations.empty()) return m;
  std::vector<double> sorted = m.correlations;
  std::sort(sorted.begin(), sorted.end());
  m.median = sorted[sorted.size() / 2];
  m.worst_tenth = sorted[sorted.size() / 10];
  m.min_lag = *std::min_element(m.lags.begin(), m.lags.end());
  m.max_lag = *std::max_element(m.lags.begin(), m.lags.end());
  for (std::size_t k = 1; k < m.lags.size(); ++k) m.lag_steps += std::abs(m.lags[k] - m.lags[k - 1]) > 96;
  return m;
}

}  // namespace ptapi_test
