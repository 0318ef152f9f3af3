// Per-frame cost of the full media path (20 ms, Opus complexity 9, 24 kbit/s) against raw libopus
// encode+decode of the same frames, side by side in one run, and the ratios.
//   ./build/bin/ptapi_bench_media_path [--benchmark_repetitions=5]
// The ratio lines use the best (lowest) CPU time per frame of each variant over the repetitions.
#include "media_path.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <string>

namespace {

const std::vector<std::int16_t>& speech() {
  static const auto pcm = ptapi_bench::load_speech();
  return pcm;
}

void BM_raw_libopus(benchmark::State& state) {
  ptapi_bench::raw_opus raw(speech());
  for (auto _ : state) benchmark::DoNotOptimize(raw.frame());
  benchmark::DoNotOptimize(raw.sum_);
}

void BM_full_path(benchmark::State& state) {
  ptapi_bench::media_path path(speech(), state.range(0) != 0);
  for (auto _ : state) benchmark::DoNotOptimize(path.frame());
  benchmark::DoNotOptimize(path.checksum());
}

BENCHMARK(BM_raw_libopus)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_full_path)->ArgName("udp")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// Console output plus the lowest CPU time per frame of each benchmark.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
      auto& best = best_[r.run_name.str()];
      best = std::min(best == 0 ? std::numeric_limits<double>::max() : best, r.GetAdjustedCPUTime());
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> best_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::printf("speech: %zu frames (%.2f s)\n", speech().size() / ptapi_bench::frame_samples, speech().size() / 48000.0);
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double raw = reporter.best_["BM_raw_libopus"];
  for (const char* name : {"BM_full_path/udp:0", "BM_full_path/udp:1"}) {
    const double full = reporter.best_[name];
    if (raw > 0 && full > 0)
      std::printf("ratio %s / BM_raw_libopus (best CPU us/frame %.2f / %.2f) = %.3fx\n", name, full, raw, full / raw);
  }
  benchmark::Shutdown();
}
