// CPU of the local conference bridge (mspi/conference_bridge.hpp) per 20 ms frame, for bridges of 3, 6 and 8
// parties: each party delivers its received frame (960 samples at 48 kHz, pushed to every other party's
// ring) and mixes the others' frames into the frame it sends (`mix_others`) and its render frame
// (`add_others`), as the RTP/Opus engine does once per ptime. Single thread here (the rings are the same
// lock-free SPSC queues as across media threads). Figures: ns of thread CPU time per party per frame, and
// per frame of the whole bridge, the minimum and the median of the repeats.
// Then the bridge across two media threads as the RTP/Opus engine runs it: 6 parties, 3 on each thread,
// each thread ticking every 20 ms (sleep_until) in its own phase for `seconds`; figures: frames each party
// missed from another (`conference_port::underrun_frames`, after the one frame of prefill) and the
// threads' worst wake-up lateness.
//   ./build/bin/ptapi_bench_conference [repeats=15] [seconds=10]
#include <mspi/conference_bridge.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <thread>
#include <vector>

namespace {

double thread_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// 6 parties on two threads ticking every 20 ms, the second 1 ms behind the first: nearly the same phase, so
// scheduling jitter flips the order in which they tick (the hard case).
void two_threads(int seconds) {
  constexpr std::size_t frame = 960, parties = 6;
  auto bridge = std::make_shared<mspi::conference_bridge>(frame);
  std::vector<std::shared_ptr<mspi::conference_bridge::conference_port>> ports;
  for (std::size_t p = 0; p < parties; ++p) ports.push_back(bridge->join());
  const auto start = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  const int frames = seconds * 50;
  std::chrono::microseconds late[2]{};
  auto run = [&](int t) {
    std::vector<std::int16_t> received(frame, static_cast<std::int16_t>(1000 + t)), out(frame);
    auto next = start + std::chrono::milliseconds(t);
    for (int f = 0; f < frames; ++f, next += std::chrono::milliseconds(20)) {
      std::this_thread::sleep_until(next);
      late[t] = std::max(late[t], std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - next));
      for (std::size_t p = 3 * static_cast<std::size_t>(t); p < 3 * static_cast<std::size_t>(t) + 3; ++p) {
        ports[p]->deliver(received);
        ports[p]->mix_others(out);
      }
    }
  };
  std::thread other(run, 1);
  run(0);
  other.join();
  std::uint64_t total = 0, worst = 0;
  for (const auto& p : ports) {
    total += p->underrun_frames();
    worst = std::max(worst, p->underrun_frames());
  }
  std::printf("6 parties on 2 threads, %d frames of 20 ms: %llu underrun frames in all (worst party %llu; each party mixes "
              "%d x 5 frames), worst wake-up lateness %lld / %lld us\n",
              frames, static_cast<unsigned long long>(total), static_cast<unsigned long long>(worst), frames,
              static_cast<long long>(late[0].count()), static_cast<long long>(late[1].count()));
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
  two_threads(argc > 2 ? std::max(1, std::atoi(argv[2])) : 10);
  return 0;
}
