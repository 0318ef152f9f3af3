// CPU of in-band DTMF detection (the dsp component: mspi/dsp/dtmf_detector.hpp, spandsp's dtmf_rx) per
// 20 ms frame of a call's received audio, next to the cost of decoding that frame from Opus:
//   detect      the MSP's whole in-band job per frame: 960 samples at 48 kHz decimated to 8 kHz
//               (mspi::decimator_48k_to_8k) and fed to dtmf_rx (160 samples)
//   decimate    the decimation alone
//   dtmf_rx     the detector alone on the 8 kHz frame
//   opus decode one 20 ms Opus packet (the benchmarks' Opus settings, media_path.hpp) to 48 kHz
// Inputs: the demo's speech (the 8 ALSA recordings, 11.4 s) and DTMF ("1234567890*#ABCD" from
// spandsp's dtmf_tx, repeated), frame by frame. Figures: ns of thread CPU time per frame, the minimum
// and the median of the repeats (the minimum is the steadier on a shared machine); the digits found
// in each pass are printed as a check (speech must give none).
//   ./build/bin/ptapi_bench_inband_dtmf [repeats=15]
#include <mspi/codec/opus.hpp>
#include <mspi/codec/resampler.hpp>
#include <mspi/dsp/dtmf_detector.hpp>

#include "media_path.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

namespace {

using samples = std::vector<std::int16_t>;

double thread_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e9 + double(t.tv_nsec);
}

// `pass` runs over every frame once; returns ns per frame (min, median) over `repeats` passes.
std::pair<double, double> per_frame(int repeats, std::size_t frames, const std::function<void()>& pass) {
  std::vector<double> v;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = thread_ns();
    pass();
    v.push_back((thread_ns() - t0) / double(frames));
  }
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2]};
}

samples dtmf_48k(int copies) {
  dtmf_tx_state_t* tx = dtmf_tx_init(nullptr);
  samples narrow;
  std::array<std::int16_t, 160> buf{};
  for (int c = 0; c < copies; ++c) {
    dtmf_tx_put(tx, "1234567890*#ABCD", -1);
    for (int n = 0; (n = dtmf_tx(tx, buf.data(), 160)) > 0;) narrow.insert(narrow.end(), buf.begin(), buf.begin() + n);
    narrow.resize(narrow.size() + 1600, 0);  // 200 ms apart
  }
  dtmf_tx_free(tx);
  mspi::interpolator_8k_to_48k up;
  samples wide(narrow.size() * 6);
  wide.resize(up.process(narrow, wide));
  return wide;
}

void report(const char* what, const char* input, std::pair<double, double> f) {
  std::printf("%-12s %-7s %9.0f ns/frame min %9.0f median  (%.3f %% of a core per call)\n", what, input, f.first,
              f.second, f.first / 20e6 * 100);
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  constexpr std::size_t n48 = ptapi_bench::frame_samples, n8 = n48 / 6;
  for (const auto& [input, pcm] : {std::pair<const char*, samples>{"speech", ptapi_bench::load_speech()},
                                   std::pair<const char*, samples>{"dtmf", dtmf_48k(8)}}) {
    const std::size_t frames = pcm.size() / n48;
    std::string found;
    mspi::dsp::dtmf_detector detector;
    mspi::decimator_48k_to_8k decimator;
    std::array<std::int16_t, n8> narrow{};
    std::array<char, 8> digits{};
    const auto detect = per_frame(repeats, frames, [&] {
      found.clear();
      for (std::size_t f = 0; f < frames; ++f) {
        const auto m = decimator.process(std::span(pcm).subspan(f * n48, n48), narrow);
        found.append(digits.data(), detector.process(std::span(narrow.data(), m), digits));
      }
    });
    report("detect", input, detect);
    std::printf("             digits found per pass: %zu \"%s\"\n", found.size(),
                found.substr(0, 48).c_str());
    report("decimate", input, per_frame(repeats, frames, [&] {
             for (std::size_t f = 0; f < frames; ++f) decimator.process(std::span(pcm).subspan(f * n48, n48), narrow);
           }));
    samples pcm8(frames * n8);
    mspi::decimator_48k_to_8k d8;
    d8.process(std::span(pcm).first(frames * n48), pcm8);
    report("dtmf_rx", input, per_frame(repeats, frames, [&] {
             for (std::size_t f = 0; f < frames; ++f)
               detector.process(std::span<const std::int16_t>(pcm8).subspan(f * n8, n8), digits);
           }));
    // Opus: the frames encoded once, then decoded in each pass.
    mspi::opus_encoder enc(ptapi_bench::bench_opus_config());
    std::vector<std::vector<std::byte>> packets;
    std::array<std::byte, 1500> out{};
    for (std::size_t f = 0; f < frames; ++f) {
      std::error_code ec;
      const auto n = enc.encode(std::span(pcm).subspan(f * n48, n48), out, ec);
      if (!ec && n > 0) packets.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    }
    mspi::opus_decoder dec;
    std::array<std::int16_t, 5760> decoded{};
    report("opus decode", input, per_frame(repeats, packets.size(), [&] {
             for (const auto& p : packets) {
               std::error_code ec;
               dec.decode(p, decoded, ec);
             }
           }));
  }
}
