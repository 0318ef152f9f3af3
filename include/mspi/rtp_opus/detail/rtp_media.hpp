// ptapi - portable TAPI
// mspi/rtp_opus/detail/rtp_media.hpp: the media engine of one RTP/Opus call: sockets, media clocks,
// Opus, jitter buffer and RTCP. Runs on the MSP's media thread only.
#pragma once

#include <mspi/codec/opus.hpp>
#include <mspi/jitter_buffer.hpp>
#include <mspi/media_types.hpp>
#include <mspi/rtp/packet.hpp>
#include <mspi/rtp/rtcp.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/rtp_opus/detail/negotiation.hpp>
#include <mspi/stream.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <system_error>

namespace mspi::detail {

/// Counters one stream's `statistics()` reads from any thread while the media thread writes them.
struct rtp_counters {
  std::atomic<std::uint64_t> packets{0};
  std::atomic<std::uint64_t> octets{0};
  std::atomic<std::int64_t> lost{0};
  std::atomic<std::uint32_t> jitter_units{0};  // RTP timestamp units (1/48000 s)
  std::atomic<std::uint64_t> concealed{0};
  std::atomic<std::uint64_t> late{0};
  std::atomic<int> jitter_buffer_ms{0};

  [[nodiscard]] stream_statistics snapshot() const noexcept {
    stream_statistics s;
    s.packets = packets.load(std::memory_order_relaxed);
    s.octets = octets.load(std::memory_order_relaxed);
    s.packets_lost = lost.load(std::memory_order_relaxed);
    s.jitter_ms = jitter_units.load(std::memory_order_relaxed) / 48.0;
    s.concealed = concealed.load(std::memory_order_relaxed);
    s.late = late.load(std::memory_order_relaxed);
    s.jitter_buffer_ms = jitter_buffer_ms.load(std::memory_order_relaxed);
    return s;
  }
};

/// A stream whose statistics come from the engine's counters.
class rtp_stream final : public stream {
 public:
  rtp_stream(terminal_direction direction, std::string name, event_sink sink, terminal_event_sink terminal_sink,
             std::shared_ptr<const rtp_counters> counters)
      : stream(media_type::audio, direction, std::move(name), std::move(sink), std::move(terminal_sink)),
        counters_(std::move(counters)) {}
  [[nodiscard]] stream_statistics statistics() const override { return counters_->snapshot(); }

 private:
  std::shared_ptr<const rtp_counters> counters_;
};

/// The media engine of one call. Everything below `start()` runs on the media thread; `create` binds the
/// sockets on the caller's thread before any handler exists.
///
/// Steady state (after the first frame each way) allocates nothing: frame, packet and receive buffers
/// are members, the jitter buffer and codecs allocate in their constructors, and Asio recycles the
/// memory of the timer and socket handlers.
class rtp_media : public std::enable_shared_from_this<rtp_media> {
 public:
  using udp = boost::asio::ip::udp;
  using clock = std::chrono::steady_clock;

  /// Jitter-buffer slots: 320 ms at 20 ms ptime, above the largest target depth (config: 10 packets).
  static constexpr std::size_t jitter_capacity_packets = 16;
  /// Largest RTP payload kept, in bytes (an Ethernet MTU).
  static constexpr std::size_t max_payload_bytes = 1500;

  /// @param io the MSP's media context; shared so that it outlives these sockets and timers.
  rtp_media(std::shared_ptr<boost::asio::io_context> io, const rtp_opus_config& cfg, std::shared_ptr<rtp_stream> capture,
            std::shared_ptr<rtp_stream> render, std::shared_ptr<rtp_counters> tx, std::shared_ptr<rtp_counters> rx)
      : io_(std::move(io)), cfg_(cfg), capture_(std::move(capture)), render_(std::move(render)), tx_(std::move(tx)),
        rx_(std::move(rx)), rtp_socket_(*io_), rtcp_socket_(*io_), send_timer_(*io_), playout_timer_(*io_),
        rtcp_timer_(*io_), encoder_(cfg.opus),
        jitter_(jitter_buffer_config{cfg.ptime_ms, cfg.jitter_min_packets, cfg.jitter_max_packets,
                                     jitter_capacity_packets, max_payload_bytes}),
        frame_samples_(samples_per_frame(cfg.ptime_ms)) {
    std::random_device rd;
    ssrc_ = (static_cast<std::uint32_t>(rd()) << 1) | 1u;
    sequence_ = static_cast<std::uint16_t>(rd());
    timestamp_ = static_cast<std::uint32_t>(rd());
  }

  /// Binds RTP and RTCP sockets on `cfg.local_address`, ephemeral ports.
  void bind(std::error_code& ec) {
    boost::system::error_code bec;
    auto addr = boost::asio::ip::make_address(cfg_.local_address, bec);
    if (bec) {
      ec = std::make_error_code(std::errc::invalid_argument);
      return;
    }
    for (auto* s : {&rtp_socket_, &rtcp_socket_}) {
      s->open(addr.is_v4() ? udp::v4() : udp::v6(), bec);
      if (!bec) s->bind(udp::endpoint(addr, 0), bec);
      if (bec) {
        ec = std::error_code(bec.value(), std::system_category());
        return;
      }
    }
    ec.clear();
  }
  [[nodiscard]] std::uint16_t rtp_port() const { return rtp_socket_.local_endpoint().port(); }
  [[nodiscard]] std::uint16_t rtcp_port() const { return rtcp_socket_.local_endpoint().port(); }

  /// Starts media towards `n` (media thread). Idempotent: a second start only updates the remote.
  void start(const negotiated_media& n) {
    boost::system::error_code bec;
    auto addr = boost::asio::ip::make_address(n.remote_address, bec);
    if (bec) {
      capture_->raise(call_media_event::stream_fail, call_media_cause::connect_fail,
                      std::make_error_code(std::errc::invalid_argument));
      return;
    }
    remote_rtp_ = udp::endpoint(addr, n.remote_rtp_port);
    remote_rtcp_ = udp::endpoint(addr, n.remote_rtcp_port);
    payload_type_ = n.payload_type;
    send_enabled_ = n.send;
    if (running_) return;
    running_ = true;
    next_send_ = clock::now() + ptime();
    schedule_send();
    receive_rtp();
    receive_rtcp();
    rtcp_timer_.expires_after(std::chrono::milliseconds(cfg_.rtcp_interval_ms / 2));
    rtcp_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->on_rtcp_timer(ec); });
  }

  /// Stops clocks and closes the sockets (media thread). Sends a last RTCP report first.
  void stop() {
    if (running_) send_rtcp();
    running_ = false;
    boost::system::error_code ignored;
    send_timer_.cancel();
    playout_timer_.cancel();
    rtcp_timer_.cancel();
    rtp_socket_.close(ignored);
    rtcp_socket_.close(ignored);
  }

  /// Encoder lookahead in samples (the codec's share of the mouth-to-ear delay).
  [[nodiscard]] int lookahead_samples() const noexcept { return encoder_.lookahead_samples(); }

 private:
  [[nodiscard]] clock::duration ptime() const { return std::chrono::milliseconds(cfg_.ptime_ms); }
  [[nodiscard]] std::span<std::int16_t> frame() noexcept { return {pcm_.data(), frame_samples_}; }

  void schedule_send() {
    send_timer_.expires_at(next_send_);
    send_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->on_send_tick(ec); });
  }

  // Capture clock: one frame per ptime from the capture terminals, encoded and sent.
  void on_send_tick(const boost::system::error_code& ec) {
    if (ec || !running_) return;
    next_send_ += ptime();
    schedule_send();
    const std::uint32_t ts = timestamp_;
    timestamp_ += static_cast<std::uint32_t>(frame_samples_);
    auto pcm = frame();
    const bool active = capture_->with_active_terminals([&](std::span<const terminal_ptr> terminals) {
      terminals[0]->read_frame(pcm);
      if (terminals.size() == 1) return;
      auto extra = std::span<std::int16_t>(mix_.data(), frame_samples_);
      for (std::size_t t = 1; t < terminals.size(); ++t) {  // mix further capture terminals, saturating
        terminals[t]->read_frame(extra);
        for (std::size_t i = 0; i < frame_samples_; ++i)
          pcm[i] = static_cast<std::int16_t>(std::clamp(pcm[i] + extra[i], -32768, 32767));
      }
    });
    if (!active || !send_enabled_) {
      marker_ = true;  // the next packet starts a talkspurt (RFC 3551 §4.1)
      return;
    }
    std::error_code eec;
    // Leave room for the RTP header in packet_: libopus lowers its rate to fit, instead of write_rtp failing.
    const std::size_t n = encoder_.encode(
        pcm, std::span<std::byte>(encoded_).first(packet_.size() - rtp_fixed_header_bytes), eec);
    if (eec) return;
    const std::size_t size = write_rtp(std::span<std::byte>(packet_),
                                       rtp_header{marker_, static_cast<std::uint8_t>(payload_type_), sequence_++, ts, ssrc_},
                                       std::span<const std::byte>(encoded_.data(), n));
    marker_ = false;
    boost::system::error_code sec;
    rtp_socket_.send_to(boost::asio::buffer(packet_.data(), size), remote_rtp_, 0, sec);
    if (!sec) {
      tx_->packets.fetch_add(1, std::memory_order_relaxed);
      tx_->octets.fetch_add(n, std::memory_order_relaxed);
      last_rtp_timestamp_ = ts;
    }
  }

  void receive_rtp() {
    rtp_socket_.async_receive_from(boost::asio::buffer(rx_buffer_), rx_from_,
                                   [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                     self->on_rtp(ec, n);
                                   });
  }

  // RTP arrival: validated, counted (RFC 3550 A.1, A.8) and queued for playout. Malformed packets, other
  // payload types and other SSRCs than the first one are dropped.
  void on_rtp(const boost::system::error_code& ec, std::size_t n) {
    if (ec == boost::asio::error::operation_aborted || !running_) return;
    if (!ec) {
      auto view = parse_rtp(std::span<const std::byte>(rx_buffer_.data(), n));
      if (view && view->header.payload_type == payload_type_ &&
          (!have_remote_ssrc_ || view->header.ssrc == remote_ssrc_)) {
        const auto now = clock::now();
        if (!have_remote_ssrc_) {
          have_remote_ssrc_ = true;
          remote_ssrc_ = view->header.ssrc;
          start_playout(now);
        }
        const auto arrival = static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() * 48 / 1000);
        stats_.on_packet(view->header.sequence, view->header.timestamp, arrival);
        if (jitter_.push(view->header.sequence, view->header.timestamp, view->payload) == jitter_push_result::late)
          rx_->late.fetch_add(1, std::memory_order_relaxed);
        rx_->packets.fetch_add(1, std::memory_order_relaxed);
        rx_->octets.fetch_add(view->payload.size(), std::memory_order_relaxed);
        rx_->lost.store(stats_.cumulative_lost(), std::memory_order_relaxed);
        rx_->jitter_units.store(stats_.jitter(), std::memory_order_relaxed);
      }
    }
    receive_rtp();
  }

  // The playout clock starts a lead after the first packet, so packets are in the buffer when pulled.
  void start_playout(clock::time_point first_arrival) {
    const int lead = cfg_.playout_lead_ms >= 0 ? cfg_.playout_lead_ms : std::max(4, cfg_.ptime_ms / 2);
    next_playout_ = first_arrival + std::chrono::milliseconds(lead);
    schedule_playout();
  }
  void schedule_playout() {
    playout_timer_.expires_at(next_playout_);
    playout_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->on_playout_tick(ec); });
  }

  // Render clock: one frame per ptime from the jitter buffer, decoded (or concealed) to the render terminals.
  void on_playout_tick(const boost::system::error_code& ec) {
    if (ec || !running_) return;
    next_playout_ += ptime();
    schedule_playout();
    auto pcm = std::span<std::int16_t>(decoded_.data(), frame_samples_);
    const jitter_frame f = jitter_.pop();
    std::error_code dec;
    std::size_t got = 0;
    switch (f.what) {
      case jitter_frame::kind::packet:
        got = decoder_.decode(f.payload, std::span<std::int16_t>(decoded_), dec);
        played_any_ = true;
        break;
      case jitter_frame::kind::lost:
        got = (cfg_.opus.inband_fec && !f.next_payload.empty()) ? decoder_.decode_fec(f.next_payload, pcm, dec)
                                                                 : decoder_.conceal(pcm, dec);
        rx_->concealed.fetch_add(1, std::memory_order_relaxed);
        break;
      case jitter_frame::kind::empty:
        if (played_any_) {
          got = decoder_.conceal(pcm, dec);
          rx_->concealed.fetch_add(1, std::memory_order_relaxed);
        }
        break;
    }
    if (dec) got = 0;
    // A peer with another ptime gives frames of another size: pad or cut to this clock's frame.
    std::fill(decoded_.begin() + static_cast<std::ptrdiff_t>(std::min(got, frame_samples_)),
              decoded_.begin() + static_cast<std::ptrdiff_t>(frame_samples_), std::int16_t{0});
    const auto& js = jitter_.stats();
    rx_->jitter_buffer_ms.store(js.target_depth_packets * cfg_.ptime_ms, std::memory_order_relaxed);
    render_->with_active_terminals([&](std::span<const terminal_ptr> terminals) {
      for (const auto& t : terminals) t->write_frame(pcm);
    });
  }

  void receive_rtcp() {
    rtcp_socket_.async_receive_from(boost::asio::buffer(rtcp_buffer_), rtcp_from_,
                                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                      self->on_rtcp(ec, n);
                                    });
  }

  // RTCP from the peer: its report about our stream gives the capture stream's loss and jitter.
  void on_rtcp(const boost::system::error_code& ec, std::size_t n) {
    if (ec == boost::asio::error::operation_aborted || !running_) return;
    if (!ec) {
      if (auto report = parse_rtcp(std::span<const std::byte>(rtcp_buffer_.data(), n))) {
        if (report->sender) {
          last_sr_ = static_cast<std::uint32_t>(report->sender->ntp_timestamp >> 16);
          last_sr_arrival_ = clock::now();
        }
        if (report->block && report->block->ssrc == ssrc_) {
          tx_->lost.store(report->block->cumulative_lost, std::memory_order_relaxed);
          tx_->jitter_units.store(report->block->jitter, std::memory_order_relaxed);
        }
      }
    }
    receive_rtcp();
  }

  void on_rtcp_timer(const boost::system::error_code& ec) {
    if (ec || !running_) return;
    send_rtcp();
    rtcp_timer_.expires_after(std::chrono::milliseconds(cfg_.rtcp_interval_ms));
    rtcp_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& e) { self->on_rtcp_timer(e); });
  }

  // A compound SR (or RR when we have not sent) with one report block, then SDES CNAME (RFC 3550 §6.1).
  void send_rtcp() {
    std::span<std::byte> out(rtcp_out_);
    report_block block{};
    const report_block* bp = nullptr;
    if (have_remote_ssrc_) {
      std::uint32_t dlsr = 0;
      if (last_sr_ != 0) {
        auto d = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - last_sr_arrival_).count();
        dlsr = static_cast<std::uint32_t>(d * 65536 / 1000000);
      }
      block = stats_.make_report_block(remote_ssrc_, last_sr_, dlsr);
      bp = &block;
    }
    std::size_t n = 0;
    const auto sent = tx_->packets.load(std::memory_order_relaxed);
    if (sent > 0) {
      sender_info si{to_ntp(std::chrono::system_clock::now()), last_rtp_timestamp_, static_cast<std::uint32_t>(sent),
                     static_cast<std::uint32_t>(tx_->octets.load(std::memory_order_relaxed))};
      n = write_sender_report(out, ssrc_, si, bp);
    } else {
      n = write_receiver_report(out, ssrc_, bp);
    }
    if (n == 0) return;
    n += write_sdes_cname(out.subspan(n), ssrc_, cfg_.cname);
    boost::system::error_code sec;
    rtcp_socket_.send_to(boost::asio::buffer(rtcp_out_.data(), n), remote_rtcp_, 0, sec);
  }

  std::shared_ptr<boost::asio::io_context> io_;  // declared first: destroyed after the sockets
  const rtp_opus_config cfg_;
  std::shared_ptr<rtp_stream> capture_, render_;
  std::shared_ptr<rtp_counters> tx_, rx_;
  udp::socket rtp_socket_, rtcp_socket_;
  boost::asio::steady_timer send_timer_, playout_timer_, rtcp_timer_;
  opus_encoder encoder_;
  opus_decoder decoder_;
  jitter_buffer jitter_;
  receiver_statistics stats_;
  const std::size_t frame_samples_;

  udp::endpoint remote_rtp_, remote_rtcp_, rx_from_, rtcp_from_;
  int payload_type_ = 111;
  bool running_ = false, send_enabled_ = true, marker_ = true, have_remote_ssrc_ = false, played_any_ = false;
  std::uint32_t ssrc_ = 0, timestamp_ = 0, last_rtp_timestamp_ = 0, remote_ssrc_ = 0, last_sr_ = 0;
  std::uint16_t sequence_ = 0;
  clock::time_point next_send_{}, next_playout_{}, last_sr_arrival_{};

  std::array<std::int16_t, max_frame_samples> pcm_{}, mix_{};
  std::array<std::int16_t, 5760> decoded_{};  // up to 120 ms, the longest Opus packet (RFC 6716 §2.1.4)
  std::array<std::byte, 1500> encoded_{}, packet_{}, rx_buffer_{}, rtcp_buffer_{}, rtcp_out_{};
};

}  // namespace mspi::detail
