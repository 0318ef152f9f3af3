// wav_match: does a recording contain what was played? A test tool of the softphone's SIP tests.
//
//   wav_match REFERENCE.wav RECORDING.wav [--min-correlation C] [--max-lag-ms MS] [--reference-seconds S]
//             [--windows] [--json]
//
// Both files are read as 48 kHz mono (any mono/stereo WAV at 8-48 kHz is converted). The reference is
// searched for in the recording by cross-correlation (mspi::estimate_delay) at lags -MS..+MS: a positive
// lag means the recording is late. --reference-seconds uses only the reference's first S seconds (for a
// looped source). Prints "correlation C lag L samples (X ms)"; exit 0 when C >= the minimum (default
// 0.5), 1 below it, 2 when a file cannot be read or the arguments are wrong.
// --windows judges 1-second windows that follow the lag (mspi::match_windows): prints the median and the
// worst tenth of the voiced windows' correlations and the lag range; the minimum then applies to the median.
#include <mspi/audio_file.hpp>
#include <ptapi_measure/delay_estimate.hpp>

#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string> files;
  double min_correlation = 0.5, max_lag_ms = 2000, reference_seconds = 0;
  bool json = false, windows = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> double {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "wav_match: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      char* end = nullptr;
      const double v = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || v < 0) {
        std::fprintf(stderr, "wav_match: bad value '%s'\n", argv[i]);
        std::exit(2);
      }
      return v;
    };
    if (a == "--min-correlation") min_correlation = value();
    else if (a == "--max-lag-ms") max_lag_ms = value();
    else if (a == "--reference-seconds") reference_seconds = value();
    else if (a == "--json") json = true;
    else if (a == "--windows") windows = true;
    else if (a.starts_with("--")) {
      std::fprintf(stderr, "wav_match: unknown option %s\n", argv[i]);
      return 2;
    } else files.emplace_back(a);
  }
  if (files.size() != 2) {
    std::fprintf(stderr,
                 "usage: wav_match REFERENCE.wav RECORDING.wav [--min-correlation C] [--max-lag-ms MS] "
                 "[--reference-seconds S] [--windows] [--json]\n");
    return 2;
  }
  std::vector<std::int16_t> audio[2];
  for (int k = 0; k < 2; ++k) {
    std::error_code ec;
    audio[k] = mspi::read_audio_file(files[k], ec);
    if (ec || audio[k].empty()) {
      std::fprintf(stderr, "wav_match: cannot read '%s': %s\n", files[k].c_str(), ec ? ec.message().c_str() : "empty");
      return 2;
    }
  }
  auto& ref = audio[0];
  const auto& rec = audio[1];
  if (reference_seconds > 0 && ref.size() > static_cast<std::size_t>(reference_seconds * mspi::pipeline_rate_hz))
    ref.resize(static_cast<std::size_t>(reference_seconds * mspi::pipeline_rate_hz));
  const auto max_lag = static_cast<std::size_t>(max_lag_ms * mspi::pipeline_rate_hz / 1000);
  if (windows) {
    const auto w = mspi::match_windows(ref, rec, max_lag);
    const auto ms = [](long samples) { return 1000.0 * static_cast<double>(samples) / mspi::pipeline_rate_hz; };
    const bool ok = w.windows > 0 && w.median_correlation >= min_correlation;
    if (json)
      std::printf("{\"windows\":%zu,\"median_correlation\":%.4f,\"worst_tenth_correlation\":%.4f,"
                  "\"min_lag_ms\":%.1f,\"max_lag_ms\":%.1f,\"match\":%s}\n",
                  w.windows, w.median_correlation, w.worst_tenth_correlation, ms(w.min_lag_samples),
                  ms(w.max_lag_samples), ok ? "true" : "false");
    else
      std::printf("%zu voiced 1 s windows: median correlation %.3f, worst tenth %.3f, lag %.1f..%.1f ms: %s\n",
                  w.windows, w.median_correlation, w.worst_tenth_correlation, ms(w.min_lag_samples),
                  ms(w.max_lag_samples), ok ? "match" : "NO MATCH");
    return ok ? 0 : 1;
  }
  // The recording late (lag >= 0), or early: the reference late relative to it (lag < 0).
  const auto late = mspi::estimate_delay(ref, rec, max_lag);
  const auto early = mspi::estimate_delay(rec, ref, max_lag);
  const bool use_early = early.correlation > late.correlation;
  const double correlation = use_early ? early.correlation : late.correlation;
  const long lag = use_early ? -early.lag_samples : late.lag_samples;
  const double lag_ms = 1000.0 * static_cast<double>(lag) / mspi::pipeline_rate_hz;
  const double ref_s = static_cast<double>(ref.size()) / mspi::pipeline_rate_hz;
  const double rec_s = static_cast<double>(rec.size()) / mspi::pipeline_rate_hz;
  if (json)
    std::printf("{\"correlation\":%.4f,\"lag_samples\":%ld,\"lag_ms\":%.1f,\"reference_seconds\":%.3f,"
                "\"recording_seconds\":%.3f,\"match\":%s}\n",
                correlation, lag, lag_ms, ref_s, rec_s, correlation >= min_correlation ? "true" : "false");
  else
    std::printf("correlation %.3f lag %ld samples (%.1f ms); reference %.2f s, recording %.2f s: %s\n", correlation, lag,
                lag_ms, ref_s, rec_s, correlation >= min_correlation ? "match" : "NO MATCH");
  return correlation >= min_correlation ? 0 : 1;
}
