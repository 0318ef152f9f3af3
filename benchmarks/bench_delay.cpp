// File-to-file mouth-to-ear delay over the loopback provider, at 20 ms and 10 ms ptime: alice plays ~5.8 s of
// speech through a file playback terminal, bob records through a file recording terminal; the delay is
// mspi::mouth_to_ear_ms(playback first_sample_time, recording first_sample_time, estimate_delay lag).
//   ./build/bin/ptapi_bench_delay [runs=3]
#include <tspi/loopback/tsp.hpp>
#include <tspi/tapi.hpp>

#include <mspi/audio_file.hpp>
#include <ptapi_measure/delay_estimate.hpp>
#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

const std::vector<std::string> play_list = {"/usr/share/sounds/alsa/Front_Center.wav", "/usr/share/sounds/alsa/Front_Left.wav",
                                            "/usr/share/sounds/alsa/Front_Right.wav", "/usr/share/sounds/alsa/Rear_Center.wav"};

struct result {
  double ms = -1;
  long lag = 0;
  double correlation = 0;
  mspi::stream_statistics bob_rx;
};

result one_call(int ptime_ms, const std::vector<std::int16_t>& sent, const std::string& wav) {
  tspi::tapi tapi;
  mspi::rtp_opus_config cfg;
  cfg.ptime = std::chrono::milliseconds(ptime_ms);
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>({}, cfg);
  tapi.set_event_filter(tspi::tapi_event::all);
  tapi.initialize();
  auto alice = tapi.find_address("alice");
  auto bob = tapi.find_address("bob");
  tapi.register_call_notifications(bob);

  auto recorder = bob.terminals().create_file_recording_terminal(wav);
  std::mutex m;
  std::shared_ptr<mspi::stream_control> bob_streams;
  tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    auto c = e.call;
    c.select_terminal_on_call(recorder);
    {
      std::lock_guard lock(m);
      bob_streams = c.stream_control();
    }
    recorder->start();
    c.async_answer([](std::error_code) {});
  });
  auto player = alice.terminals().create_file_playback_terminal(play_list);
  auto call = alice.create_call("bob");
  call.select_terminal_on_call(player);
  player->start();
  call.connect();

  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (player->samples_played() < sent.size() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(300ms);  // the tail through the jitter buffer
  mspi::stream_statistics rx;
  {
    std::lock_guard lock(m);
    if (bob_streams)
      for (const auto& st : bob_streams->streams())
        if (st->direction() == mspi::terminal_direction::render) rx = st->statistics();
  }
  call.disconnect();
  recorder->stop();
  const auto t_sent = player->first_sample_time();
  const auto t_recv = recorder->first_sample_time();
  recorder->close();
  tapi.shutdown();
  if (!t_sent || !t_recv) return {};
  const auto received = mspi::read_audio_file(wav);
  const auto d = mspi::estimate_delay(sent, received, 24000);  // up to 0.5 s
  return {mspi::mouth_to_ear_ms(*t_sent, *t_recv, d.lag_samples), d.lag_samples, d.correlation, rx};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 3;
  std::vector<std::int16_t> sent;
  for (const auto& f : play_list) {
    auto v = mspi::read_audio_file(f);
    sent.insert(sent.end(), v.begin(), v.end());
  }
  std::printf("speech: %.2f s\n", sent.size() / 48000.0);
  std::string wav = "/tmp/ptapi_bench_delay_";
  wav.append(std::to_string(::getpid())).append(".wav");
  for (int ptime : {20, 10}) {
    std::vector<double> ms;
    for (int r = 0; r < runs; ++r) {
      const auto res = one_call(ptime, sent, wav);
      std::printf("ptime %d ms run %d: mouth-to-ear %.2f ms (lag %ld samples, correlation %.3f; bob rx %llu packets, "
                  "%llu concealed, %llu late, %lld lost, jitter buffer %d ms)\n",
                  ptime, r + 1, res.ms, res.lag, res.correlation, static_cast<unsigned long long>(res.bob_rx.packets),
                  static_cast<unsigned long long>(res.bob_rx.concealed), static_cast<unsigned long long>(res.bob_rx.late),
                  static_cast<long long>(res.bob_rx.packets_lost), res.bob_rx.jitter_buffer_ms);
      ms.push_back(res.ms);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("ptime %d ms: min %.2f / median %.2f / max %.2f ms over %d runs\n", ptime, ms.front(), ms[ms.size() / 2],
                ms.back(), runs);
  }
  std::remove(wav.c_str());
}
