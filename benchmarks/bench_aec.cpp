// ptapi_bench_aec: the CPU cost of the device terminals' audio processing (mspi/audio_processing.hpp,
// speexdsp) per frame: echo cancellation + residual echo and noise suppression + AGC, at 48 kHz (what the
// PortAudio terminals run) and 16 kHz, 10 and 20 ms frames, 200 ms tail. The input is real speech (alsa-utils)
// as far end and its echo (40 ms delay, -6 dB) as capture, so the adaptive filter does real work.
// Compare with the frame period (10 or 20 ms): the fraction of one core the capture callback spends on it.
#include <mspi/audio_file.hpp>
#include <mspi/audio_processing.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

// Far end: alsa-utils speech at `rate_hz` (48 kHz file; 16 kHz by keeping every third sample: the aliasing
// does not matter for CPU). Capture: the far end delayed 40 ms at half amplitude.
struct signals {
  std::vector<std::int16_t> far, mic;
  explicit signals(std::uint32_t rate_hz) {
    std::vector<std::int16_t> speech;
    for (const char* n : {"Front_Left", "Front_Right", "Rear_Center", "Rear_Left"}) {
      const auto s = mspi::read_audio_file(std::string("/usr/share/sounds/alsa/") + n + ".wav");
      speech.insert(speech.end(), s.begin(), s.end());
    }
    const std::size_t step = 48000 / rate_hz;
    for (std::size_t i = 0; i < speech.size(); i += step) far.push_back(speech[i]);
    const std::size_t delay = rate_hz * 40 / 1000;
    mic.assign(far.size(), 0);
    for (std::size_t i = delay; i < far.size(); ++i) mic[i] = static_cast<std::int16_t>(far[i - delay] / 2);
  }
};

// One frame through audio_processor::process. range(0): rate in Hz; range(1): frame in ms; range(2): 1 =
// echo cancellation on (else only noise suppression + AGC).
void BM_audio_processing(benchmark::State& state) {
  const auto rate = static_cast<std::uint32_t>(state.range(0));
  mspi::audio_processing_settings s;
  s.frame_ms = static_cast<std::uint32_t>(state.range(1));
  s.echo_cancellation = state.range(2) != 0;
  mspi::audio_processor ap(s, rate);
  const signals in(rate);
  const std::size_t n = ap.frame_samples();
  std::vector<std::int16_t> out(n);
  std::size_t at = 0;
  for (auto _ : state) {
    if (at + n > in.far.size()) at = 0;
    ap.process(std::span(in.mic).subspan(at, n), std::span(in.far).subspan(at, n), out);
    benchmark::DoNotOptimize(out.data());
    at += n;
  }
  state.SetLabel(std::to_string(rate / 1000) + " kHz " + std::to_string(s.frame_ms) + " ms" +
                 (s.echo_cancellation ? " AEC+NS+AGC" : " NS+AGC"));
}

}  // namespace

BENCHMARK(BM_audio_processing)
    ->ArgNames({"rate", "frame_ms", "aec"})
    ->ArgsProduct({{16000, 48000}, {10, 20}, {1, 0}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
