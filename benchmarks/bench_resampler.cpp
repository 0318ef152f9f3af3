// Our narrowband resampler (mspi/codec/resampler.hpp) against libsamplerate (SRC_SINC_FASTEST, SRC_LINEAR)
// and speexdsp's resampler (quality 3, 4, 5), on the media path's job: mono 16-bit frames of 20 ms, state
// kept from frame to frame. For 48 -> 8 kHz, 8 -> 48 kHz and 48 -> 16 kHz (ours does only the first two):
//   CPU      ns of thread CPU time per 20 ms frame, converting the demo's speech (the 8 ALSA recordings,
//            11.4 s) frame by frame, int16 in and out (libsamplerate's float conversions included: the media
//            path is int16); the minimum and the median over the repeats (the minimum is the steadier on a
//            shared machine).
//   tone     SNR of a 1 kHz tone (0.3 of full scale): the tone is fitted by least squares at its known
//            frequency (any delay/phase) and everything else counts as error (noise, images, distortion).
//   band     gain at the band edge (3.4 kHz for 8 kHz, 7 kHz for 16 kHz), dB.
//   alias    48 -> 8/16: worst output level (dB relative to the input tone) of tones the output cannot
//            carry, 600 Hz past its Nyquist frequency and up (4.6..23 kHz for 8 kHz output);
//            8 -> 48: worst SNR of tones at 300 Hz .. 3.4 kHz (images at 8 kHz +- f count as error).
//   (an alias level of -240 dB means every output sample rounded to 0: below about -83 dB.)
//   ./build/bin/ptapi_bench_resampler [repeats=15]
#include <mspi/audio_file.hpp>
#include <mspi/codec/resampler.hpp>

#include <samplerate.h>
#include <speex/speex_resampler.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using samples = std::vector<std::int16_t>;

// One streaming resampler: converts one input frame, appends its output.
struct candidate {
  std::string name;
  std::function<std::function<void(const std::int16_t*, std::size_t, samples&)>(int in_hz, int out_hz)> make;
};

std::function<void(const std::int16_t*, std::size_t, samples&)> make_ours(int in_hz, int out_hz) {
  if (in_hz == 48000 && out_hz == 8000) {
    auto d = std::make_shared<mspi::decimator_48k_to_8k>();
    return [d](const std::int16_t* in, std::size_t n, samples& out) {
      std::int16_t buf[1024];
      const auto m = d->process(std::span(in, n), std::span(buf));
      out.insert(out.end(), buf, buf + m);
    };
  }
  if (in_hz == 8000 && out_hz == 48000) {
    auto ip = std::make_shared<mspi::interpolator_8k_to_48k>();
    return [ip](const std::int16_t* in, std::size_t n, samples& out) {
      std::int16_t buf[6 * 1024];
      const auto m = ip->process(std::span(in, n), std::span(buf));
      out.insert(out.end(), buf, buf + m);
    };
  }
  return {};
}

auto make_src(int converter) {
  return [converter](int in_hz, int out_hz) -> std::function<void(const std::int16_t*, std::size_t, samples&)> {
    int err = 0;
    std::shared_ptr<SRC_STATE> st(src_new(converter, 1, &err), src_delete);
    if (!st) return {};
    const double ratio = static_cast<double>(out_hz) / in_hz;
    return [st, ratio](const std::int16_t* in, std::size_t n, samples& out) {
      float fin[1024], fout[6 * 1024 + 64];
      std::int16_t s16[6 * 1024 + 64];
      src_short_to_float_array(in, fin, static_cast<int>(n));
      SRC_DATA d{};
      d.data_in = fin;
      d.input_frames = static_cast<long>(n);
      d.data_out = fout;
      d.output_frames = static_cast<long>(sizeof fout / sizeof fout[0]);
      d.src_ratio = ratio;
      src_process(st.get(), &d);
      src_float_to_short_array(fout, s16, static_cast<int>(d.output_frames_gen));
      out.insert(out.end(), s16, s16 + d.output_frames_gen);
    };
  };
}

auto make_speex(int quality) {
  return [quality](int in_hz, int out_hz) -> std::function<void(const std::int16_t*, std::size_t, samples&)> {
    int err = 0;
    std::shared_ptr<SpeexResamplerState> st(
        speex_resampler_init(1, static_cast<spx_uint32_t>(in_hz), static_cast<spx_uint32_t>(out_hz), quality, &err),
        speex_resampler_destroy);
    if (!st) return {};
    return [st](const std::int16_t* in, std::size_t n, samples& out) {
      std::int16_t buf[6 * 1024 + 64];
      spx_uint32_t in_len = static_cast<spx_uint32_t>(n), out_len = sizeof buf / sizeof buf[0];
      speex_resampler_process_int(st.get(), 0, in, &in_len, buf, &out_len);
      out.insert(out.end(), buf, buf + out_len);
    };
  };
}

samples run(const candidate& c, int in_hz, int out_hz, const samples& in) {
  auto f = c.make(in_hz, out_hz);
  samples out;
  out.reserve(in.size() * static_cast<std::size_t>(out_hz) / static_cast<std::size_t>(in_hz) + 64);
  const std::size_t frame = static_cast<std::size_t>(in_hz) / 50;  // 20 ms
  for (std::size_t o = 0; o + frame <= in.size(); o += frame) f(in.data() + o, frame, out);
  return out;
}

samples tone(double hz, int rate, double seconds, double amplitude = 10000) {
  samples v(static_cast<std::size_t>(seconds * rate));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * static_cast<double>(i) / rate)));
  return v;
}

double rms(const samples& v, std::size_t from) {
  double s = 0;
  for (std::size_t i = from; i < v.size(); ++i) s += double(v[i]) * v[i];
  return v.size() > from ? std::sqrt(s / static_cast<double>(v.size() - from)) : 0.0;
}

// Least-squares fit of a*sin + b*cos at `hz` over v[from..]: returns {tone rms, residual rms}.
std::pair<double, double> fit_tone(const samples& v, double hz, int rate, std::size_t from) {
  double ss = 0, cc = 0, sc = 0, sy = 0, cy = 0;
  for (std::size_t i = from; i < v.size(); ++i) {
    const double w = 2 * M_PI * hz * static_cast<double>(i) / rate, s = std::sin(w), c = std::cos(w);
    ss += s * s, cc += c * c, sc += s * c, sy += s * v[i], cy += c * v[i];
  }
  const double det = ss * cc - sc * sc;
  const double a = (sy * cc - cy * sc) / det, b = (cy * ss - sy * sc) / det;
  double e = 0, t = 0;
  for (std::size_t i = from; i < v.size(); ++i) {
    const double w = 2 * M_PI * hz * static_cast<double>(i) / rate, fit = a * std::sin(w) + b * std::cos(w);
    t += fit * fit;
    e += (v[i] - fit) * (v[i] - fit);
  }
  const double n = static_cast<double>(v.size() - from);
  return {std::sqrt(t / n), std::sqrt(e / n)};
}

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double db(double x) { return 20 * std::log10(std::max(x, 1e-12)); }

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  samples speech48;
  for (const char* name : {"Front_Center", "Front_Left", "Front_Right", "Rear_Center", "Rear_Left", "Rear_Right",
                           "Side_Left", "Side_Right"}) {
    const auto part = mspi::read_audio_file(std::string("/usr/share/sounds/alsa/") + name + ".wav");
    speech48.insert(speech48.end(), part.begin(), part.end());
  }
  samples speech8;
  for (std::size_t i = 0; i + 6 <= speech48.size(); i += 6) speech8.push_back(speech48[i]);  // CPU input only

  const std::vector<candidate> all = {
      {"ours (Q15 polyphase FIR)", make_ours},
      {"libsamplerate SINC_FASTEST", make_src(SRC_SINC_FASTEST)},
      {"libsamplerate LINEAR", make_src(SRC_LINEAR)},
      {"speexdsp quality 3", make_speex(3)},
      {"speexdsp quality 4", make_speex(4)},
      {"speexdsp quality 5", make_speex(5)},
  };
  struct conversion {
    int in_hz, out_hz;
  };
  for (const conversion cv : {conversion{48000, 8000}, conversion{8000, 48000}, conversion{48000, 16000}}) {
    const int narrow = std::min(cv.in_hz, cv.out_hz);
    const double edge = narrow == 8000 ? 3400 : 7000;
    std::printf("\n%d -> %d Hz, 20 ms frames\n", cv.in_hz, cv.out_hz);
    std::printf("%-28s %12s %12s %10s %10s %12s %9s\n", "resampler", "min ns/frame", "median", "tone SNR", "band dB",
                cv.in_hz > cv.out_hz ? "alias dB" : "worst SNR", "at Hz");
    for (const auto& c : all) {
      if (!c.make(cv.in_hz, cv.out_hz)) continue;
      const samples& input = cv.in_hz == 48000 ? speech48 : speech8;
      std::vector<double> ns;
      for (int r = 0; r < repeats; ++r) {
        const double t0 = thread_cpu_ns();
        const auto out = run(c, cv.in_hz, cv.out_hz, input);
        const double elapsed = thread_cpu_ns() - t0;
        ns.push_back(elapsed / static_cast<double>(input.size() / static_cast<std::size_t>(cv.in_hz / 50)));
        if (out.empty()) std::printf("(no output)\n");
      }
      std::sort(ns.begin(), ns.end());
      const std::size_t skip = static_cast<std::size_t>(cv.out_hz) / 10;  // 100 ms of start-up
      const auto [t1k, e1k] = fit_tone(run(c, cv.in_hz, cv.out_hz, tone(1000, cv.in_hz, 2, 10000)), 1000, cv.out_hz, skip);
      const double band = db(fit_tone(run(c, cv.in_hz, cv.out_hz, tone(edge, cv.in_hz, 2, 10000)), edge, cv.out_hz, skip).first /
                             (10000 / std::sqrt(2)));
      double worst = cv.in_hz > cv.out_hz ? -300 : 300, worst_hz = 0;
      if (cv.in_hz > cv.out_hz) {
        for (double hz = narrow / 2 + 600; hz < 24000; hz += 200) {
          const auto o = run(c, cv.in_hz, cv.out_hz, tone(hz, cv.in_hz, 0.5, 10000));
          const double level = db(rms(o, skip) / (10000 / std::sqrt(2)));
          if (level > worst) worst = level, worst_hz = hz;
        }
      } else {
        for (double hz = 300; hz <= 3400; hz += 100) {
          const auto [t, e] = fit_tone(run(c, cv.in_hz, cv.out_hz, tone(hz, cv.in_hz, 0.5, 10000)), hz, cv.out_hz, skip);
          if (db(t / e) < worst) worst = db(t / e), worst_hz = hz;
        }
      }
      std::printf("%-28s %12.0f %12.0f %10.1f %10.2f %12.1f %9.0f\n", c.name.c_str(), ns.front(), ns[ns.size() / 2],
                  db(t1k / e1k), band, worst, worst_hz);
    }
  }
}
