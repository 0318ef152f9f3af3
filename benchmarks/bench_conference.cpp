// CPU of the local conference bridge (mspi/conference_bridge.hpp) per 20 ms frame, for bridges of 3, 6 and 8
// parties: each party delivers its received frame (960 samples at 48 kHz, pushed to every other party's
// ring) and mixes the others' frames into the frame it sends (`mix_others`) and its render frame
// (`add_others`), as the RTP/Opus engine does once per ptime. Single thread here (the rings are the same
// lock-free SPSC queues as across media threads). Figures: ns of thread CPU time per party per frame, and
// per frame of the whole bridge, the minimum and the median of the repeats.
//   ./build/bin/ptapi_bench_conference [repeats=15]
#include <mspi/conference_bridge.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <vector>

namespace {

double thread_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  constexpr std::size_t frame = 960, frames = 500;
  for (std::size_t parties : {3u, 6u, 8u}) {
    auto bridge = std::make_shared<mspi::conference_bridge>(frame);
    std::vector<std::shared_ptr<mspi::conference_bridge::conference_port>> ports;
    std::vector<std::vector<std::int16_t>> received(parties, std::vector<std::int16_t>(frame)), out = received;
    for (std::size_t p = 0; p < parties; ++p) {
      ports.push_back(bridge->join());
      for (std::size_t i = 0; i < frame; ++i)
        received[p][i] = static_cast<std::int16_t>(3000 * std::sin(2 * M_PI * (300.0 + 200.0 * p) * i / 48000.0));
    }
    std::vector<double> per_frame;
    for (int r = 0; r < repeats; ++r) {
      const double t0 = thread_ns();
      for (std::size_t f = 0; f < frames; ++f) {
        for (std::size_t p = 0; p < parties; ++p) ports[p]->deliver(received[p]);
        for (std::size_t p = 0; p < parties; ++p) {
          ports[p]->mix_others(out[p]);
          ports[p]->add_others(received[p]);
        }
      }
      per_frame.push_back((thread_ns() - t0) / frames);
    }
    std::sort(per_frame.begin(), per_frame.end());
    const double min = per_frame.front(), median = per_frame[per_frame.size() / 2];
    std::printf("%zu parties: bridge %.0f ns per frame (median %.0f), %.0f ns per party per frame (median %.0f)\n",
                parties, min, median, min / static_cast<double>(parties), median / static_cast<double>(parties));
  }
  return 0;
}
