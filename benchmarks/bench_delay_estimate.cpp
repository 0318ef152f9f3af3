// The cost of the delay estimate (ptapi_measure/delay_estimate.hpp) at the sizes the demo and the tests use:
// the demo's default speech (the 8 ALSA recordings, ~11.4 s at 48 kHz) against a recording 1 s longer,
// delayed by 0.1 s, maximum lag 0.5 s (as `softphone demo` calls it, twice per call); 30 s against 30 s;
// and the 1-second window judge (`match_windows`) on the demo's speech. Prints the median and minimum
// thread CPU time of each over the runs (steadier than wall time on a shared machine; the work is
// single-threaded), and the lag found (a check that the work was done). The first run of each size also
// pays for FFTW's planning (FFTW_ESTIMATE, kept for the process): the maximum shows it.
//   ./build/bin/ptapi_bench_delay_estimate [runs=7]
#include <mspi/audio_file.hpp>
#include <ptapi_measure/delay_estimate.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

std::vector<std::int16_t> demo_speech() {
  std::vector<std::int16_t> out;
  for (const char* name : {"Front_Center", "Front_Left", "Front_Right", "Rear_Center", "Rear_Left", "Rear_Right",
                           "Side_Left", "Side_Right"}) {
    const auto part = mspi::read_audio_file(std::string("/usr/share/sounds/alsa/") + name + ".wav");
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// `x` late by `lag` samples, with light noise, `tail` samples of noise after it.
std::vector<std::int16_t> recording_of(const std::vector<std::int16_t>& x, std::size_t lag, std::size_t tail) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 100.0);
  std::vector<std::int16_t> out(lag + x.size() + tail, 0);
  for (std::size_t i = 0; i < x.size(); ++i) out[lag + i] = x[i];
  for (auto& v : out) v = static_cast<std::int16_t>(std::clamp(v + noise(rng), -32768.0, 32767.0));
  return out;
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void time_it(const char* what, int runs, const std::function<long()>& f) {
  std::vector<double> ms;
  long result = 0;
  for (int r = 0; r < runs; ++r) {
    const double t0 = thread_cpu_ms();
    result = f();
    ms.push_back(thread_cpu_ms() - t0);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-54s min %8.2f  median %8.2f  max %8.2f ms CPU (result %ld, %d runs)\n", what, ms.front(),
              ms[ms.size() / 2], ms.back(), result, runs);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const auto speech = demo_speech();
  const auto heard = recording_of(speech, 4800, 48000 - 4800);
  std::printf("demo speech %.2f s, recording %.2f s\n", speech.size() / 48000.0, heard.size() / 48000.0);
  time_it("estimate_delay demo (11.4 s vs 12.4 s, max lag 0.5 s)", runs,
          [&] { return mspi::estimate_delay(speech, heard, 24000).lag_samples; });

  std::vector<std::int16_t> long_sent;
  while (long_sent.size() < 30 * 48000) long_sent.insert(long_sent.end(), speech.begin(), speech.end());
  long_sent.resize(30 * 48000);
  const auto long_heard = recording_of(long_sent, 12345, 0);
  time_it("estimate_delay 30 s vs 30.3 s, max lag 0.5 s", runs,
          [&] { return mspi::estimate_delay(long_sent, long_heard, 24000).lag_samples; });

  time_it("match_windows demo (1 s windows, follow 0.2 s)", runs,
          [&] { return static_cast<long>(mspi::match_windows(speech, heard, 24000).windows); });
}
