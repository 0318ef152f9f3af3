// How well a recording reproduces speech when the path's delay may step during the call (an adaptive
// jitter buffer that grows by one packet shifts everything after that point): each voiced 250 ms
// segment of the input is aligned on its own, within `max_lag` samples, against the recording.
// (1-second windows that follow the lag: `mspi::match_windows` in ptapi_measure/delay_estimate.hpp.)
#pragma once

#include <ptapi_measure/delay_estimate.hpp>

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

}  // namespace ptapi_test
