// One RTP/Opus call through the impairment relay with real speech one way, judged by 1-second windows:
// shared by the [impairment] tests and the impairment table benchmark.
#pragma once

#include "mspi/rtp_call_support.hpp"
#include "support/speech_match.hpp"
#include "support/udp_impairment.hpp"

#include <mspi/audio_file.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace ptapi_test {

/// Real speech, 48 kHz mono: the ALSA test voices ("Front Center", ...) one after the other, repeated
/// until at least `seconds` long.
inline std::vector<std::int16_t> alsa_speech(double seconds) {
  static const char* const names[] = {"Front_Center", "Front_Left", "Front_Right", "Rear_Center",
                                      "Rear_Left",    "Rear_Right", "Side_Left",   "Side_Right"};
  std::vector<std::int16_t> all;
  while (static_cast<double>(all.size()) < seconds * 48000)
    for (const char* n : names) {
      if (static_cast<double>(all.size()) >= seconds * 48000) break;
      const auto part = mspi::read_audio_file(std::string("/usr/share/sounds/alsa/") + n + ".wav");
      all.insert(all.end(), part.begin(), part.end());
    }
  return all;
}

/// What one impaired call showed at the receiving side B (A speaks).
struct impaired_call_result {
  mspi::window_match judge;              // B's recording against A's speech, 1 s windows
  mspi::stream_statistics rx;      // B's render stream at the end
  impairment_counters a_to_b;      // what the relay did to A's packets
  int max_jitter_buffer_ms = 0;    // largest jitter-buffer target B reported during the call
};

/// A calls B through a relay applying `imp` both ways (seeded by `seed`), A plays `speech`, B records it.
inline impaired_call_result run_impaired_call(const impairment& imp, std::uint64_t seed,
                                              std::span<const std::int16_t> speech,
                                              const mspi::rtp_opus_config& cfg = {}) {
  msp_side a(cfg), b(cfg);
  udp_impairment_relay relay(imp, imp, seed);
  a.send(mspi::channel_message_type::request_offer);
  auto offer = a.take(mspi::channel_message_type::local_offer);
  REQUIRE(offer);
  b.send(mspi::channel_message_type::remote_offer, relay.rewrite_sdp_from_a(offer->body));
  auto answer = b.take(mspi::channel_message_type::local_answer);
  REQUIRE(answer);
  a.send(mspi::channel_message_type::remote_answer, relay.rewrite_sdp_from_b(answer->body));
  relay.start();

  impaired_call_result r;
  std::size_t written = a.out->write(speech);
  a.send(mspi::channel_message_type::start_media);
  b.send(mspi::channel_message_type::start_media);
  std::vector<std::int16_t> heard;
  auto collect = [&] {
    const auto got = b.read_all();
    heard.insert(heard.end(), got.begin(), got.end());
    r.max_jitter_buffer_ms = std::max(r.max_jitter_buffer_ms, b.call->render_stream()->statistics().jitter_buffer_ms);
  };
  while (written < speech.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    written += a.out->write(speech.subspan(written));
    collect();
  }
  for (int k = 0; k < 50; ++k) {  // 1 s for the rest to drain through the relay and the jitter buffer
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    collect();
  }
  r.rx = b.call->render_stream()->statistics();
  relay.stop();
  r.a_to_b = relay.counters(udp_impairment_relay::a_to_b);
  r.judge = mspi::match_windows(speech, heard, 24000);
  return r;
}

/// One line of figures for a log or a table.
inline std::string describe(const impaired_call_result& r) {
  const auto& j = r.judge;
  const double loss = r.a_to_b.rtp_received ? 100.0 * static_cast<double>(r.a_to_b.rtp_dropped) /
                                                  static_cast<double>(r.a_to_b.rtp_received)
                                            : 0.0;
  char line[400];
  std::snprintf(line, sizeof line,
                "windows %zu median %.3f worst-tenth %.3f | relay loss %.1f%% (%llu/%llu) | rx lost %lld concealed %llu "
                "fec %llu late %llu | jb now %d ms max %d ms | lag %.1f..%.1f ms, %d steps",
                j.correlations.size(), j.median_correlation, j.worst_tenth_correlation, loss,
                static_cast<unsigned long long>(r.a_to_b.rtp_dropped),
                static_cast<unsigned long long>(r.a_to_b.rtp_received), static_cast<long long>(r.rx.packets_lost),
                static_cast<unsigned long long>(r.rx.concealed), static_cast<unsigned long long>(r.rx.fec_recovered),
                static_cast<unsigned long long>(r.rx.late), r.rx.jitter_buffer_ms, r.max_jitter_buffer_ms,
                static_cast<double>(j.min_lag_samples) / 48.0, static_cast<double>(j.max_lag_samples) / 48.0, j.lag_steps);
  std::string out = line;
  out += " | windows (corr@lag ms):";
  for (std::size_t k = 0; k < j.correlations.size(); ++k) {
    std::snprintf(line, sizeof line, " %.2f@%.0f", j.correlations[k], static_cast<double>(j.lags[k]) / 48.0);
    out += line;
  }
  return out;
}

}  // namespace ptapi_test
