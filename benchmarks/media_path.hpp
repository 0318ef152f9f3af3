// ptapi benchmarks: the per-frame media path of `mspi::detail::rtp_media`, rebuilt from the library's own
// components in the engine's order, next to raw libopus on the same frames with the same settings.
// Shared by bench_media_path.cpp (Google Benchmark, wall/CPU time) and callgrind_media_path.cpp
// (instruction counts).
#pragma once

#include <mspi/audio_file.hpp>
#include <mspi/codec/opus.hpp>
#include <mspi/jitter_buffer.hpp>
#include <mspi/rtp/packet.hpp>
#include <mspi/rtp/rtcp.hpp>
#include <mspi/stream.hpp>
#include <mspi/terminal.hpp>

#include <opus/opus.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ptapi_bench {

inline constexpr std::size_t frame_samples = 960;  // 20 ms at 48 kHz

/// The encoder settings of the issue: 48 kHz mono, VOIP, voice, 24 kbit/s, complexity 9, no FEC/DTX.
inline mspi::opus_config bench_opus_config() {
  mspi::opus_config c;
  c.bitrate_bps = 24000;
  c.complexity = 9;
  return c;
}

/// The alsa-utils speech (every /usr/share/sounds/alsa/*.wav except Noise.wav: 11.38 s), 48 kHz mono,
/// cut to whole 20 ms frames.
inline std::vector<std::int16_t> load_speech() {
  std::vector<std::int16_t> all;
  for (const char* name : {"Front_Center", "Front_Left", "Front_Right", "Rear_Center", "Rear_Left", "Rear_Right",
                           "Side_Left", "Side_Right"}) {
    std::string path = "/usr/share/sounds/alsa/";
    path.append(name).append(".wav");
    auto v = mspi::read_audio_file(path);
    all.insert(all.end(), v.begin(), v.end());
  }
  all.resize(all.size() / frame_samples * frame_samples);
  return all;
}

/// Capture terminal: plays the speech in a loop, one frame per `read_frame`.
class speech_source final : public mspi::terminal {
 public:
  explicit speech_source(const std::vector<std::int16_t>& pcm)
      : terminal("speech", mspi::terminal_classes::media_streaming, mspi::terminal_type::dynamic_terminal,
                 mspi::media_type::audio, mspi::terminal_direction::capture),
        pcm_(pcm) {}
  void read_frame(std::span<std::int16_t> frame) noexcept override {
    if (pos_ + frame.size() > pcm_.size()) pos_ = 0;
    std::copy_n(pcm_.begin() + static_cast<std::ptrdiff_t>(pos_), frame.size(), frame.begin());
    pos_ += frame.size();
  }

 private:
  const std::vector<std::int16_t>& pcm_;
  std::size_t pos_ = 0;
};

/// Render terminal: folds every frame into a checksum (so nothing is optimised away).
class checksum_sink final : public mspi::terminal {
 public:
  checksum_sink()
      : terminal("sink", mspi::terminal_classes::media_streaming, mspi::terminal_type::dynamic_terminal,
                 mspi::media_type::audio, mspi::terminal_direction::render) {}
  void write_frame(std::span<const std::int16_t> frame) noexcept override {
    for (auto s : frame) sum_ = sum_ * 31 + static_cast<std::uint16_t>(s);
  }
  std::uint64_t sum_ = 0;
};

/// Raw libopus: opus_encode + opus_decode of the next speech frame, nothing else.
class raw_opus {
 public:
  explicit raw_opus(const std::vector<std::int16_t>& pcm) : pcm_(pcm) {
    int err = OPUS_OK;
    enc_ = ::opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    dec_ = ::opus_decoder_create(48000, 1, &err);
    if (!enc_ || !dec_) throw std::runtime_error("opus create");
    const auto c = bench_opus_config();
    ::opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    ::opus_encoder_ctl(enc_, OPUS_SET_BITRATE(c.bitrate_bps));
    ::opus_encoder_ctl(enc_, OPUS_SET_COMPLEXITY(c.complexity));
    ::opus_encoder_ctl(enc_, OPUS_SET_INBAND_FEC(0));
    ::opus_encoder_ctl(enc_, OPUS_SET_DTX(0));
    ::opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(0));
  }
  raw_opus(const raw_opus&) = delete;
  raw_opus& operator=(const raw_opus&) = delete;
  ~raw_opus() {
    ::opus_encoder_destroy(enc_);
    ::opus_decoder_destroy(dec_);
  }
  /// One frame; returns decoded samples.
  int frame() {
    if (pos_ + frame_samples > pcm_.size()) pos_ = 0;
    const int n = ::opus_encode(enc_, pcm_.data() + pos_, frame_samples, bytes_.data(), int(bytes_.size()));
    pos_ += frame_samples;
    const int got = ::opus_decode(dec_, bytes_.data(), n, out_.data(), int(out_.size()), 0);
    for (int i = 0; i < got; ++i) sum_ = sum_ * 31 + static_cast<std::uint16_t>(out_[std::size_t(i)]);
    return got;
  }
  std::uint64_t sum_ = 0;

 private:
  const std::vector<std::int16_t>& pcm_;
  std::size_t pos_ = 0;
  OpusEncoder* enc_ = nullptr;
  OpusDecoder* dec_ = nullptr;
  std::array<unsigned char, 1500> bytes_{};
  std::array<std::int16_t, 5760> out_{};
};

/// The engine's per-frame path (rtp_media::on_send_tick, on_rtp, on_playout_tick) with the library's
/// components: capture stream → terminal read_frame → opus_encoder → write_rtp → [UDP] → parse_rtp →
/// receiver_statistics::on_packet → jitter_buffer push/pop → opus_decoder::decode → render stream →
/// terminal write_frame. With `udp`, the packet goes through a connected 127.0.0.1 socket pair with
/// blocking send/receive; otherwise the written buffer is parsed directly.
class media_path {
 public:
  using udp = boost::asio::ip::udp;
  using clock = std::chrono::steady_clock;

  media_path(const std::vector<std::int16_t>& pcm, bool use_udp)
      : source_(std::make_shared<speech_source>(pcm)), sink_(std::make_shared<checksum_sink>()),
        capture_(mspi::media_type::audio, mspi::terminal_direction::capture, "capture", {}),
        render_(mspi::media_type::audio, mspi::terminal_direction::render, "render", {}),
        encoder_(bench_opus_config()), jitter_(mspi::jitter_buffer_config{std::chrono::milliseconds(20), 1, 10, 32, 1500}) {
    capture_.select_terminal(source_);
    render_.select_terminal(sink_);
    capture_.set_transport_ready(true, mspi::call_media_cause::remote_request);
    render_.set_transport_ready(true, mspi::call_media_cause::remote_request);
    if (use_udp) {
      tx_.emplace(io_, udp::endpoint(boost::asio::ip::make_address_v4("127.0.0.1"), 0));
      rx_.emplace(io_, udp::endpoint(boost::asio::ip::make_address_v4("127.0.0.1"), 0));
      remote_ = rx_->local_endpoint();
      tx_->connect(remote_);
      rx_->connect(tx_->local_endpoint());
    }
  }

  /// One 20 ms frame each way through the whole path; returns the samples rendered (960).
  std::size_t frame() {
    // send tick
    auto pcm = std::span<std::int16_t>(pcm_.data(), frame_samples);
    capture_.with_active_terminals([&](std::span<const mspi::terminal_ptr> t) { t[0]->read_frame(pcm); });
    std::error_code ec;
    const std::size_t n = encoder_.encode(pcm, std::span<std::byte>(encoded_), ec);
    const std::size_t size = mspi::write_rtp(std::span<std::byte>(packet_), mspi::rtp_header{false, 111, seq_++, ts_, 0x1234567u},
                                             std::span<const std::byte>(encoded_.data(), n));
    ts_ += frame_samples;
    // transport
    std::span<const std::byte> datagram(packet_.data(), size);
    if (tx_) {
      boost::system::error_code sec;
      tx_->send_to(boost::asio::buffer(packet_.data(), size), remote_, 0, sec);
      const std::size_t got = rx_->receive_from(boost::asio::buffer(rx_buffer_), from_, 0, sec);
      datagram = std::span<const std::byte>(rx_buffer_.data(), sec ? 0 : got);
    }
    // receive
    auto view = mspi::parse_rtp(datagram);
    if (!view) return 0;
    const auto arrival = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now().time_since_epoch()).count() * 48 / 1000);
    stats_.on_packet(view->header.sequence, view->header.timestamp, arrival);
    (void)jitter_.push(view->header.sequence, view->header.timestamp, view->payload);
    // playout tick
    const mspi::jitter_frame f = jitter_.pop();
    std::size_t got = 0;
    if (f.what == mspi::jitter_frame::kind::packet) got = decoder_.decode(f.payload, std::span<std::int16_t>(decoded_), ec);
    auto out = std::span<const std::int16_t>(decoded_.data(), frame_samples);
    render_.with_active_terminals([&](std::span<const mspi::terminal_ptr> t) {
      for (const auto& x : t) x->write_frame(out);
    });
    return got;
  }
  [[nodiscard]] std::uint64_t checksum() const noexcept { return sink_->sum_; }

 private:
  std::shared_ptr<speech_source> source_;
  std::shared_ptr<checksum_sink> sink_;
  mspi::stream capture_, render_;
  mspi::opus_encoder encoder_;
  mspi::opus_decoder decoder_;
  mspi::jitter_buffer jitter_;
  mspi::receiver_statistics stats_;
  boost::asio::io_context io_;
  std::optional<udp::socket> tx_, rx_;
  udp::endpoint remote_, from_;
  std::uint16_t seq_ = 1000;
  std::uint32_t ts_ = 123456;
  std::array<std::int16_t, frame_samples> pcm_{};
  std::array<std::int16_t, 5760> decoded_{};
  std::array<std::byte, 1500> encoded_{}, packet_{}, rx_buffer_{};
};

}  // namespace ptapi_bench
