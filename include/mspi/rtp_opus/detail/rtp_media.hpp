// ptapi - portable TAPI
// mspi/rtp_opus/detail/rtp_media.hpp: the media engine of one RTP call: sockets, media clocks, Opus or
// G.711 (resampled to the 48 kHz pipeline), jitter buffer, playout FIFO, RFC 4733 DTMF and RTCP. Runs
// on the MSP's media thread only.
#pragma once

#include <mspi/channel.hpp>
#include <mspi/codec/g711.hpp>
#include <mspi/codec/opus.hpp>
#include <mspi/codec/resampler.hpp>
#include <mspi/conference_bridge.hpp>
#include <mspi/detail/random.hpp>
#include <mspi/detail/pcm_fifo.hpp>
#include <mspi/detail/traffic_class_option.hpp>
#include <mspi/inband_digit_detector.hpp>
#include <mspi/ice/agent.hpp>
#include <mspi/ice/gathering.hpp>
#include <mspi/ice/ice.hpp>
#include <mspi/jitter_buffer.hpp>
#include <mspi/media_types.hpp>
#include <mspi/rtp/dtls_transport.hpp>
#include <mspi/rtp/packet.hpp>
#include <mspi/rtp/rtcp.hpp>
#include <mspi/rtp/srtp.hpp>
#include <mspi/rtp/telephone_event.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/rtp_opus/detail/dtmf_sender.hpp>
#include <mspi/rtp_opus/detail/negotiation.hpp>
#include <mspi/rtp_opus/detail/rtcp_dtls.hpp>
#include <mspi/rtp_opus/detail/relay_link.hpp>
#include <mspi/rtp_opus/detail/tone_path.hpp>
#include <mspi/stream.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mspi::detail {

/// Counters one stream's `statistics()` reads from any thread while the media thread writes them.
struct rtp_counters {
  std::atomic<std::uint64_t> packets{0};
  std::atomic<std::uint64_t> octets{0};
  std::atomic<std::int64_t> lost{0};
  std::atomic<std::uint32_t> jitter_units{0};  // RTP timestamp units (1 / clock_rate s)
  std::atomic<std::uint32_t> clock_rate{48000};  // the negotiated codec's RTP clock, Hz
  std::atomic<std::uint64_t> concealed{0};
  std::atomic<std::uint64_t> fec_recovered{0};
  std::atomic<std::uint64_t> late{0};
  std::atomic<int> jitter_buffer_ms{0};
  std::atomic<std::uint64_t> rejected_source{0};  // see stream_statistics for these four
  std::atomic<std::uint64_t> rejected_ssrc{0};
  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> ssrc_changes{0};
  std::atomic<std::uint64_t> srtp_rejected{0};
  std::atomic<std::uint64_t> stun_dropped{0};
  std::atomic<std::uint64_t> dtls_dropped{0};
  std::atomic<std::uint64_t> ice_checks_answered{0};
  std::atomic<std::uint64_t> relayed_datagrams{0};  // through the TURN relay (tx: sent, rx: received)
  std::atomic<std::uint64_t> relayed_channel_data{0};  // tx: of those, sent as ChannelData
  std::atomic<std::int64_t> round_trip_us{-1};  // RFC 3550 §6.4.1, -1 unknown
  std::atomic<std::uint64_t> rtcp_packets{0};  // tx: RTCP compound packets sent; rx: accepted from the peer

  /// What was negotiated, and where the peer is (written on the media thread at start and on latching).
  struct link_state {
    bool started = false;
    audio_codec codec = audio_codec::opus;
    int payload_type = -1, ptime_ms = 0, remote_ptime_ms = 0;
    boost::asio::ip::udp::endpoint remote;
    std::optional<srtp_suite> srtp;  // the SRTP suite protecting the media, nullopt: plain RTP
    bool dtls = false;               // its keys come from DTLS-SRTP (else SDES)
    double dtls_handshake_ms = -1;
    bool rtcp_mux = false;           // RTCP on the RTP port (RFC 5761)
    double rtcp_dtls_handshake_ms = -1;  // the RTCP component's own association (no rtcp-mux)
    bool ice = false;                // ICE runs on this stream
    ice::agent_state ice_state = ice::agent_state::idle;
    double ice_connect_ms = -1;
    bool ice_relayed = false;        // the selected pair's local candidate is the relayed one
  };
  /// Where our side of the stream is advertised (SDP c=/m=), and how it was found (any thread; allocates).
  struct local_state {
    std::string address;
    std::uint16_t port = 0;
    bool server_reflexive = false;
    std::string stun_error;
    double gathering_ms = -1;
    std::string relayed_address;     // TURN (RFC 8656 §7.3): the relayed candidate's address, or empty
    std::uint16_t relayed_port = 0;
    std::string turn_error;
  };
  /// Replaces the local state (the call's thread, at each offer or answer).
  void set_local(local_state l) {
    std::lock_guard lock(link_mutex_);
    local_ = std::move(l);
  }

  /// Replaces the link state (media thread; no allocation).
  void set_link(const link_state& l) noexcept {
    std::lock_guard lock(link_mutex_);
    link_ = l;
  }

  /// The figures now (any thread; allocates the strings).
  [[nodiscard]] stream_statistics snapshot() const {
    link_state l;
    stream_statistics s;
    {
      std::lock_guard lock(link_mutex_);
      l = link_;
      s.local_address = local_.address;
      s.local_port = local_.port;
      s.server_reflexive = local_.server_reflexive;
      s.stun_error = local_.stun_error;
      s.gathering_ms = local_.gathering_ms;
      s.relayed_address = local_.relayed_address;
      s.relayed_port = local_.relayed_port;
      s.turn_error = local_.turn_error;
    }
    if (l.started) {
      s.codec = std::string(encoding_name(l.codec));
      s.payload_type = l.payload_type;
      s.clock_rate_hz = rtp_clock_rate(l.codec);
      s.ptime_ms = l.ptime_ms;
      s.remote_ptime_ms = l.remote_ptime_ms;
      s.remote_address = l.remote.address().to_string();
      s.remote_port = l.remote.port();
      s.secured = l.srtp.has_value();
      if (l.srtp) s.srtp_suite = std::string(srtp_suite_name(*l.srtp));
      if (l.srtp) s.srtp_keying = l.dtls ? "dtls" : "sdes";
      s.dtls_handshake_ms = l.dtls_handshake_ms;
      s.rtcp_mux = l.rtcp_mux;
      s.rtcp_dtls_handshake_ms = l.rtcp_dtls_handshake_ms;
      if (l.ice) s.ice_state = std::string(ice::state_name(l.ice_state));
      s.ice_connect_ms = l.ice_connect_ms;
      s.ice_relayed = l.ice_relayed;
    }
    if (const auto rtt = round_trip_us.load(std::memory_order_relaxed); rtt >= 0) s.round_trip_ms = rtt / 1000.0;
    s.packets = packets.load(std::memory_order_relaxed);
    s.octets = octets.load(std::memory_order_relaxed);
    s.rtcp_packets = rtcp_packets.load(std::memory_order_relaxed);
    s.packets_lost = lost.load(std::memory_order_relaxed);
    s.jitter_ms = jitter_units.load(std::memory_order_relaxed) * 1000.0 / clock_rate.load(std::memory_order_relaxed);
    s.concealed = concealed.load(std::memory_order_relaxed);
    s.fec_recovered = fec_recovered.load(std::memory_order_relaxed);
    s.late = late.load(std::memory_order_relaxed);
    s.jitter_buffer_ms = jitter_buffer_ms.load(std::memory_order_relaxed);
    s.rejected_source = rejected_source.load(std::memory_order_relaxed);
    s.rejected_ssrc = rejected_ssrc.load(std::memory_order_relaxed);
    s.malformed = malformed.load(std::memory_order_relaxed);
    s.ssrc_changes = ssrc_changes.load(std::memory_order_relaxed);
    s.srtp_rejected = srtp_rejected.load(std::memory_order_relaxed);
    s.stun_dropped = stun_dropped.load(std::memory_order_relaxed);
    s.dtls_dropped = dtls_dropped.load(std::memory_order_relaxed);
    s.ice_checks_answered = ice_checks_answered.load(std::memory_order_relaxed);
    s.relayed_datagrams = relayed_datagrams.load(std::memory_order_relaxed);
    s.relayed_channel_data = relayed_channel_data.load(std::memory_order_relaxed);
    return s;
  }

 private:
  mutable std::mutex link_mutex_;
  link_state link_;  // under link_mutex_
  local_state local_;  // under link_mutex_
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

/// The media engine of one call. Everything below `start()` runs on the media thread; `bind` binds the
/// sockets on the caller's thread before any handler exists.
///
/// One codec at a time (the negotiated one; `start` may switch it mid-call). Terminals always see 48 kHz
/// mono: G.711 is decimated to 8 kHz before encoding and interpolated back after decoding, and its RTP
/// timestamps and RTCP jitter run at 8 kHz. Received packets of any duration (a peer with another ptime)
/// are decoded into a PCM FIFO, from which the playout clock takes one frame of its own ptime per tick.
/// RFC 4733 events are sent in place of audio packets (see `dtmf_sender`) and received ones are reported
/// once each through the notify function; in the jitter buffer an event packet stands for one packet of
/// silence, so the audio that follows keeps its timing. With `rtp_opus_config::inband_digits`, the played-out
/// frames are also decimated to 8 kHz and fed to the call's in-band DTMF detector (made in the constructor),
/// whose digits are reported as inband_digit_detected until the peer sends its first RFC 4733 event; frames
/// that hold concealment (a lost or late packet) are not fed to it. Tones (`rtp_opus_config::tones`):
/// see `tone_path`; a tone or in-band digits replace the capture frame, and the played-out frames go to
/// the DetectTones detector (concealment left out), whose tones are reported as tone_detected.
///
/// Steady state (after the first frame each way) allocates nothing: frame, packet, FIFO and receive
/// buffers are allocated in the constructor, the jitter buffer and codecs allocate in their
/// constructors, the resamplers and the DTMF queue are fixed arrays, and Asio recycles the memory of the
/// timer and socket handlers. (Reporting a DTMF digit or a generate result allocates its message.)
///
/// Receive guard (everything dropped here is counted in the render stream's statistics and touches
/// neither the jitter buffer, the statistics nor the DTMF detector): RTP is taken only from the peer's
/// transport address, RTCP only from its RTCP address (`rtp_opus_config::symmetric_rtp` for the latching
/// policy); the first SSRC from the peer is taken at once (its address is the check), a later SSRC after
/// RFC 3550 A.1 probation, which restarts the receive path for the new stream. The previous SSRC's
/// packets are then dropped, until the new one has been silent for `retired_ssrc_quiet`. Our SSRC,
/// first sequence number and first timestamp come from the CSPRNG (RFC 3550 §5.1).
///
/// SRTP (when `negotiated_media::srtp` holds keys): every RTP and RTCP packet is protected in place after
/// it is written and before it is sent (RFC 3711 §3.3, §3.4), and every datagram from the peer's address is
/// authenticated, replay-checked (128-packet window) and decrypted in place before anything reads it; a
/// datagram that fails is dropped and counted (`srtp_rejected`), never parsed or played. A start with
/// other keys (a renegotiation) re-keys both sessions; a failure to create them stops the media
/// (stream_fail on the capture stream), never falls back to plain RTP.
///
/// DTLS-SRTP (`negotiated_media::dtls`): a `dtls_transport` runs on the RTP socket (datagrams of first
/// byte 20..63 from the peer's address, or the ICE-selected one; others are counted in `dtls_dropped`);
/// until it exports keys nothing is sent and received RTP/RTCP is dropped (`srtp_rejected`). Its keys then
/// protect RTP, and RTCP when it is multiplexed (`negotiated_media::rtcp_mux`). Without rtcp-mux the RTCP
/// socket runs a second association (`rtcp_dtls`, RFC 5764 §4.1) whose keys alone protect SRTCP; until it
/// has them no RTCP is sent or read, and if it fails RTCP stays silent (a fingerprint mismatch there fails
/// the call like one on RTP). A failed RTP handshake leaves media silent, raises stream_fail (connect_fail,
/// the `dtls_errc`) on both streams and sends `media_error` to the TSP. A renegotiation with the same role
/// and peer fingerprints keeps the association(s).
class rtp_media : public std::enable_shared_from_this<rtp_media> {
 public:
  using udp = boost::asio::ip::udp;
  using clock = std::chrono::steady_clock;
  /// Receives the MSP -> TSP messages the engine originates (digit_detected, digits_generated,
  /// generate_failed, tone_generated, tone_cancelled, tone_detected), on the media thread.
  using notify_function = std::function<void(channel_message_type, std::string_view)>;

  /// Jitter-buffer slots: 320 ms at 20 ms ptime, above the largest target depth (config: 10 packets).
  static constexpr std::size_t jitter_capacity_packets = 16;
  /// Largest RTP payload kept, in bytes (an Ethernet MTU).
  static constexpr std::size_t max_payload_bytes = 1500;
  /// Longest packet decoded, in 48 kHz samples: 120 ms, the longest Opus packet (RFC 6716 §2.1.4). A
  /// longer G.711 packet is cut to this.
  static constexpr std::size_t max_packet_samples = 5760;
  /// How long the current SSRC must be silent before the SSRC it replaced may come back (probation).
  static constexpr std::chrono::milliseconds retired_ssrc_quiet{500};
  /// How far the send clock may fall behind and still catch up, in frames (ptimes): a media thread stalled
  /// longer than this (a slow handler, a descheduled process) skips the frames it missed instead of sending
  /// them all at once (see `on_send_tick`).
  static constexpr int max_send_lag_frames = 3;

  /// @param io the MSP's media context; shared so that it outlives these sockets and timers.
  /// @param notify where engine-originated channel messages go (called on the media thread).
  rtp_media(std::shared_ptr<boost::asio::io_context> io, const rtp_opus_config& cfg, std::shared_ptr<rtp_stream> capture,
            std::shared_ptr<rtp_stream> render, std::shared_ptr<rtp_counters> tx, std::shared_ptr<rtp_counters> rx,
            notify_function notify = {})
      : io_(std::move(io)), cfg_(cfg), capture_(std::move(capture)), render_(std::move(render)), tx_(std::move(tx)),
        rx_(std::move(rx)), notify_(std::move(notify)), rtp_socket_(*io_), rtcp_socket_(*io_), send_timer_(*io_),
        playout_timer_(*io_), rtcp_timer_(*io_), encoder_(cfg.opus),
        jitter_(jitter_buffer_config{cfg.ptime, cfg.jitter_min_packets, cfg.jitter_max_packets,
                                     jitter_capacity_packets, max_payload_bytes}),
        frame_samples_(samples_per_frame(static_cast<int>(cfg.ptime.count()))), frames_(3 * frame_samples_),
        fifo_(frame_samples_ + max_packet_samples), last_packet_samples_(frame_samples_),
        inband_(cfg.inband_digits ? cfg.inband_digits() : nullptr) {
    ssrc_ = random_value<std::uint32_t>();  // RFC 3550 §5.1: random SSRC, sequence and timestamp
    sequence_ = random_value<std::uint16_t>();
    timestamp_ = random_value<std::uint32_t>();
    (void)narrowband_phases();  // computes the resampler's filter now, not on the media thread's first frame
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

  /// Learns the server-reflexive addresses of the RTP and RTCP sockets from the STUN server `server` within
  /// `timeout` (`ice::async_gather_server_reflexive`); `done` runs once on the media thread. Call it after
  /// `bind` and before `start` (media thread, or before the media thread runs handlers of this engine).
  void gather_server_reflexive(const udp::endpoint& server, std::chrono::milliseconds timeout,
                               std::function<void(const ice::reflexive_gathering&)> done) {
    ice::async_gather_server_reflexive({&rtp_socket_, &rtcp_socket_}, 2, server, timeout,
                                       [self = shared_from_this(), d = std::move(done)](const ice::reflexive_gathering& r) {
                                         d(r);
                                       });
  }
  [[nodiscard]] std::uint16_t rtcp_port() const { return rtcp_socket_.local_endpoint().port(); }

  /// Marks every packet the RTP and RTCP sockets send from now on (media, RTCP, DTLS, STUN) with the DiffServ
  /// code point `dscp` (0..63, RFC 2474 §3: the upper 6 bits of the IPv4 TOS byte or the IPv6 traffic class;
  /// the ECN bits stay 0). Returns the first socket's error (e.g. `bad_file_descriptor` once stopped, or a
  /// system that refuses the option); 0 bits are a valid mark (default forwarding). Media thread.
  std::error_code set_dscp(std::uint8_t dscp) {
    const bool v6 = rtp_socket_.is_open() && rtp_socket_.local_endpoint().address().is_v6();
    const detail::traffic_class_option option(v6, static_cast<int>(dscp & 0x3f) << 2);
    for (auto* s : {&rtp_socket_, &rtcp_socket_}) {
      boost::system::error_code bec;
      s->set_option(option, bec);
      if (bec) return {bec.value(), std::system_category()};
    }
    return {};
  }

  /// Allocates a relayed transport address on the TURN server `server` from the RTP socket (`relay_link`,
  /// RFC 8656 §7, bounded by `timeout`) and from then on reads that socket, handing the server's datagrams
  /// to the allocation; `done(error, result)` runs once on the media thread. Call it after `bind` and
  /// before `start` (media thread), at most once. The allocation is deleted by `stop`.
  void gather_relayed(const udp::endpoint& server, turn::credentials creds, std::chrono::milliseconds timeout,
                      relay_link::allocated_function done) {
    relay_ = std::make_shared<relay_link>(rtp_socket_, server, std::move(creds), timeout);
    relay_->allocate(std::move(done));
    if (!rtp_receiving_) receive_rtp();
  }

  /// Starts media towards `n` (media thread). A second start applies a renegotiation to running media:
  /// remote address, codec (a change flushes the receive path), telephone-event payload type, and the
  /// direction (`n.send`: audio and events are sent; `n.receive`: received packets are played out and
  /// digits reported). Digits still queued fail (generate_failed) when events can no longer be sent.
  /// Each start re-arms symmetric-RTP latching: media goes to the SDP's address until a source latches.
  void start(const negotiated_media& n) {
    boost::system::error_code bec;
    auto addr = boost::asio::ip::make_address(n.remote_address, bec);
    if (bec) {
      capture_->raise(call_media_kind::stream_fail, call_media_cause::connect_fail,
                      std::make_error_code(std::errc::invalid_argument));
      return;
    }
    remote_rtp_ = udp::endpoint(addr, n.remote_rtp_port);
    remote_rtcp_ = udp::endpoint(addr, n.remote_rtcp_port);
    start_ice(n);
    latched_ = false;  // latching is once per offer/answer
    rtcp_latched_ = false;
    latch_probation_.reset();
    if (!rekey(n.dtls ? start_dtls(*n.dtls) : (stop_dtls(), n.srtp))) return;
    if (n.dtls && !rtcp_mux_) start_rtcp_dtls(*n.dtls);
    else rtcp_dtls_.stop();
    const bool codec_changed = !running_ || n.codec != codec_ || n.payload_type != payload_type_;
    const bool events_changed = n.telephone_event_payload_type != telephone_event_pt_ ||
                                n.telephone_event_rate != telephone_event_rate_ || codec_changed;
    if (dtmf_.busy() && (!n.send || n.telephone_event_payload_type < 0 || events_changed))
      fail_pending_digits("media was renegotiated before the digits were sent");
    if (codec_changed) set_codec(n.codec, n.payload_type);
    telephone_event_pt_ = n.telephone_event_payload_type;
    telephone_event_rate_ = n.telephone_event_rate;
    dtmf_.configure(ptime_ms(), telephone_event_rate_);
    remote_ptime_ms_ = n.remote_ptime_ms;
    publish_link();
    if (n.receive && !receive_enabled_) restart_receive();
    receive_enabled_ = n.receive;
    send_enabled_ = n.send;
    if (running_) return;
    running_ = true;
    next_send_ = clock::now() + ptime();
    schedule_send();
    if (!rtp_receiving_) receive_rtp();
    receive_rtcp();
    rtcp_timer_.expires_after(cfg_.rtcp_interval / 2);
    rtcp_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->on_rtcp_timer(ec); });
  }

  /// Stops clocks and closes the sockets (media thread). Sends a last RTCP report first; digits still
  /// queued fail (generate_failed).
  void stop() {
    if (ice_) ice_->stop();
    if (dtls_) dtls_->stop();
    if (dtmf_.busy()) fail_pending_digits("media stopped before the digits were sent");
    cut_tone(tones_.play(nullptr, {}, false), "media stopped");
    set_conference(nullptr);
    if (running_) send_rtcp();
    rtcp_dtls_.stop();  // after the last report, which its keys protect
    running_ = false;
    boost::system::error_code ignored;
    send_timer_.cancel();
    playout_timer_.cancel();
    rtcp_timer_.cancel();
    if (relay_) relay_->close();  // RFC 8656 §8: deleted now rather than at the end of its lifetime
    rtp_socket_.close(ignored);
    rtcp_socket_.close(ignored);
  }

  /// Queues DTMF `digits` (already checked to be `0-9 * # A-D`, non-empty) for RFC 4733 sending, each
  /// lasting `duration_ms` with as long a pause after it (0: `dtmf_sender`'s default timing; media
  /// thread), or, when telephone-event was not negotiated, plays `inband` (their audio, made with that
  /// timing; see `tone_path`). Answers generate_failed when media is not running, neither way is
  /// available, the call does not send, or the queue is full; digits_generated once all are sent.
  void generate_digits(std::string_view digits, std::uint32_t duration_ms = 0, std::unique_ptr<tone_source> inband = nullptr) {
    if (!running_) return notify(channel_message_type::generate_failed, "media is not running");
    if (telephone_event_pt_ < 0 && inband && send_enabled_)
      return cut_tone(tones_.play(std::move(inband), {}, true), "cancelled by a newer digit request");
    if (telephone_event_pt_ < 0)
      return notify(channel_message_type::generate_failed, "telephone-event (RFC 4733) was not negotiated");
    if (!send_enabled_) return notify(channel_message_type::generate_failed, "the call does not send media now");
    if (!dtmf_.enqueue(digits, duration_ms)) notify(channel_message_type::generate_failed, "too many digits queued");
  }

  /// Sends `tone` in place of the capture from the next frame, for `duration` (0: until replaced or it
  /// ends); null stops the tone or in-band digits playing (digits cut short answer generate_failed, a tone
  /// cut short tone_cancelled; a tone that ends by itself answers tone_generated).
  /// Media thread.
  void generate_tone(std::unique_ptr<tone_source> tone, std::chrono::milliseconds duration) {
    cut_tone(tones_.play(std::move(tone), duration, false), "cancelled by a tone request");
  }
  /// Monitors the played-out audio with `detector` from now on (null: stops); media thread.
  void detect_tones(std::unique_ptr<tone_detector> detector) { tones_.detect(std::move(detector)); }

  /// Encoder lookahead in samples (the Opus codec's share of the mouth-to-ear delay).
  [[nodiscard]] int lookahead_samples() const noexcept { return encoder_.lookahead_samples(); }

  /// Mixes this call into a conference from now on (media thread; `port` of a bridge whose frames are
  /// this call's ptime): sends its capture plus the others, plays its party plus the others (see
  /// `conference_bridge`). Null, or `stop`, leaves the conference the call was in.
  void set_conference(std::shared_ptr<conference_bridge::conference_port> port) noexcept {
    if (conference_) conference_->leave();
    conference_ = std::move(port);
  }

 private:
  [[nodiscard]] clock::duration ptime() const { return cfg_.ptime; }
  [[nodiscard]] int ptime_ms() const { return static_cast<int>(cfg_.ptime.count()); }
  [[nodiscard]] std::span<std::int16_t> capture_frame() noexcept { return {frames_.data(), frame_samples_}; }
  [[nodiscard]] std::span<std::int16_t> mix_frame() noexcept { return {frames_.data() + frame_samples_, frame_samples_}; }
  [[nodiscard]] std::span<std::int16_t> play_frame() noexcept { return {frames_.data() + 2 * frame_samples_, frame_samples_}; }
  [[nodiscard]] bool narrowband() const noexcept { return codec_ != audio_codec::opus; }

  void notify(channel_message_type type, std::string_view body) {
    if (notify_) notify_(type, body);
  }
  // Reports what a new source, a stop or the end of media cut short: one reply per request.
  void cut_tone(tone_path::ended cut, std::string_view reason) {
    if (cut == tone_path::ended::digits) notify(channel_message_type::generate_failed, reason);
    if (cut == tone_path::ended::tone) notify(channel_message_type::tone_cancelled, reason);
  }
  void fail_pending_digits(std::string_view reason) {
    for (std::size_t n = dtmf_.cancel(); n > 0; --n) notify(channel_message_type::generate_failed, reason);
  }

  // The codec in use: its RTP clock drives timestamps and jitter; the receive path starts afresh.
  void set_codec(audio_codec c, int payload_type) {
    const auto old_rate = clock_rate_;
    codec_ = c;
    payload_type_ = payload_type;
    clock_rate_ = static_cast<std::uint32_t>(rtp_clock_rate(c));
    timestamp_step_ = static_cast<std::uint32_t>(frame_samples_ * clock_rate_ / pipeline_rate_hz);
    tx_->clock_rate.store(clock_rate_, std::memory_order_relaxed);
    rx_->clock_rate.store(clock_rate_, std::memory_order_relaxed);
    if (old_rate != clock_rate_) {
      lost_before_ += stats_.cumulative_lost();  // the render stream's loss counter carries on
      stats_ = receiver_statistics{};
    }
    decimator_.reset();
    marker_ = true;
    restart_receive();
  }

  // The receive path forgets what it held: the next packet restarts playout (a new codec, or media
  // that was not received for a while).
  void restart_receive() {
    jitter_.reset();
    fifo_.clear();
    interpolator_.reset();
    if (inband_) {
      inband_decimator_.reset();
      inband_->reset();
    }
    tones_.restart_receive();
    played_any_ = false;
    playout_started_ = false;
    last_packet_samples_ = frame_samples_;
  }

  void schedule_send() {
    send_timer_.expires_at(next_send_);
    send_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->on_send_tick(ec); });
  }

  // Capture clock: one frame per ptime from the capture terminals, encoded and sent, or a DTMF event
  // packet in its place. A tick that comes late sends its frame at once, so the clock catches up on a
  // short delay; after a longer stall it skips ahead (`skip_stalled_frames`).
  void on_send_tick(const boost::system::error_code& ec) {
    if (ec || !running_) return;
    skip_stalled_frames();
    next_send_ += ptime();
    schedule_send();
    const std::uint32_t ts = timestamp_;
    timestamp_ += timestamp_step_;
    auto pcm = capture_frame();
    const bool active = capture_->with_active_terminals([&](std::span<const terminal_ptr> terminals) {
      terminals[0]->read_frame(pcm);
      if (terminals.size() == 1) return;
      auto extra = mix_frame();
      for (std::size_t t = 1; t < terminals.size(); ++t) {  // mix further capture terminals, saturating
        terminals[t]->read_frame(extra);
        for (std::size_t i = 0; i < frame_samples_; ++i)
          pcm[i] = static_cast<std::int16_t>(std::clamp(pcm[i] + extra[i], -32768, 32767));
      }
    });
    if (dtmf_.busy()) {
      const dtmf_action a = dtmf_.tick(ts);
      if (a.send) send_event(a, ts);
      if (a.request_done) notify(channel_message_type::digits_generated, {});
      if (a.send) {
        marker_ = true;  // audio resumes with a new talkspurt
        return;
      }
    }
    tone_path::ended finished{};
    const bool toned = tones_.replace(pcm, finished);
    if (finished == tone_path::ended::digits) notify(channel_message_type::digits_generated, {});
    if (finished == tone_path::ended::tone) notify(channel_message_type::tone_generated, {});
    if (!mix_conference(pcm, active || toned) || !send_enabled_) {
      marker_ = true;  // the next packet starts a talkspurt (RFC 3551 §4.1)
      return;
    }
    // Leave room for the RTP header in packet_: libopus lowers its rate to fit, instead of write_rtp failing.
    auto out = std::span<std::byte>(encoded_).first(max_payload_bytes - rtp_fixed_header_bytes);
    std::size_t n = 0;
    if (codec_ == audio_codec::opus) {
      std::error_code eec;
      n = encoder_.encode(pcm, out, eec);
      if (eec) return;
    } else {
      std::array<std::int16_t, max_frame_samples / narrowband_ratio> narrow;
      const std::size_t m = decimator_.process(pcm, narrow);
      const auto samples = std::span<const std::int16_t>(narrow.data(), m);
      n = codec_ == audio_codec::pcmu ? encode_pcmu(samples, out) : encode_pcma(samples, out);
    }
    send_rtp(rtp_header{marker_, static_cast<std::uint8_t>(payload_type_), sequence_++, ts, ssrc_},
             std::span<const std::byte>(encoded_.data(), n), ts);
    marker_ = false;
  }

  // A tick more than max_send_lag_frames ptimes late (the media thread stalled): sending every frame it
  // missed at once would be a burst the peer's jitter buffer cannot place (it resyncs and drops audio).
  // Instead the clock skips to the latest instant due: the frames in between are not sent, the RTP
  // timestamp advances by them (RFC 3550 §5.1: it tells the sampling instant, so the peer sees a gap, as
  // after silence) and the next packet carries the marker bit (a new talkspurt, RFC 3551 §4.1). The capture
  // terminals are not read for the skipped time: a file or stream goes on where it was (nothing of it is
  // lost; dropping it made the peer's recording run early, which a speech judge following the lag could not
  // place), and a device keeps at most its ring's capacity queued (sample_ring drops what does not fit).
  // The clock keeps its phase: next_send_ stays on the ptime grid.
  void skip_stalled_frames() {
    const auto lag = clock::now() - next_send_;
    if (lag <= max_send_lag_frames * ptime()) return;
    const std::int64_t frames = lag / ptime();  // whole frames missed; this tick sends the one after them
    next_send_ += frames * ptime();
    timestamp_ += static_cast<std::uint32_t>(frames) * timestamp_step_;
    marker_ = true;
  }

  void send_event(const dtmf_action& a, std::uint32_t tick_timestamp) {
    std::array<std::byte, telephone_event_bytes> payload{};
    const std::size_t n = write_telephone_event(payload, a.event);
    send_rtp(rtp_header{a.marker, static_cast<std::uint8_t>(telephone_event_pt_), sequence_++, a.timestamp, ssrc_},
             std::span<const std::byte>(payload.data(), n), tick_timestamp);
  }

  // `clock_timestamp`: the send clock's timestamp now (RTCP SR pairs it with the wall clock).
  void send_rtp(const rtp_header& h, std::span<const std::byte> payload, std::uint32_t clock_timestamp) {
    if ((ice_ && ice_->consent_lost()) || awaiting_dtls_keys()) return;
    std::size_t size = write_rtp(std::span<std::byte>(packet_).first(max_payload_bytes), h, payload);
    if (size == 0) return;
    if (srtp_tx_.active()) {
      std::error_code pec;
      size = srtp_tx_.protect_rtp(packet_, size, pec);
      if (size == 0) return;
    }
    if (send_datagram(std::span<const std::byte>(packet_.data(), size), remote_rtp_)) {
      tx_->packets.fetch_add(1, std::memory_order_relaxed);
      tx_->octets.fetch_add(payload.size(), std::memory_order_relaxed);
      last_rtp_timestamp_ = clock_timestamp;
    }
  }

  // Sends from the local candidate of the selected pair: through the TURN relay when it is the relayed one
  // (RFC 8656 §11-§12), or always with `ice_relay_only` (media before selection must not reveal the host
  // address either), else from the RTP socket. True when it left.
  bool send_datagram(std::span<const std::byte> bytes, const udp::endpoint& to) {
    if (relay_ && ice_ && (ice_->selected_relayed() || cfg_.ice_relay_only)) {
      if (relay_->send(to, bytes)) return false;
      count(tx_->relayed_datagrams);
      if (relay_->channel_of(to) != 0) count(tx_->relayed_channel_data);
      return true;
    }
    boost::system::error_code sec;
    rtp_socket_.send_to(boost::asio::buffer(bytes.data(), bytes.size()), to, 0, sec);
    return !sec;
  }

  void receive_rtp() {
    rtp_receiving_ = true;
    rtp_socket_.async_receive_from(boost::asio::buffer(rx_buffer_), rx_from_,
                                   [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                     self->on_rtp(ec, n);
                                   });
  }

  // The receive loop lives while the media runs: an operation_aborted from a cancel() by someone else
  // (not `stop`, which clears running_ and closes the socket) re-arms it instead of ending reception.
  // Before media starts it runs only for the TURN allocation (its responses).
  void on_rtp(const boost::system::error_code& ec, std::size_t n) {
    if (!(running_ || relay_) || !rtp_socket_.is_open()) {
      rtp_receiving_ = false;
      return;
    }
    if (!ec && n > 0) {
      const auto datagram = std::span<std::byte>(rx_buffer_.data(), n);
      if (relay_ && rx_from_ == relay_->server()) on_relayed(datagram);
      else if (running_) demultiplex(datagram, true);
    }
    receive_rtp();
  }

  // A datagram from the TURN server: the allocation's own (consumed there), or data a peer sent to our
  // relayed address, demultiplexed as if it had come from that peer to the relayed candidate.
  void on_relayed(std::span<std::byte> datagram) {
    const auto r = relay_->handle(rx_from_, datagram);
    if (r.what != turn::received::kind::data || !running_ || r.payload.empty()) return;
    count(rx_->relayed_datagrams);
    rx_from_ = r.peer;
    relayed_rx_ = true;
    demultiplex(datagram.subspan(static_cast<std::size_t>(r.payload.data() - datagram.data()), r.payload.size()), true);
    relayed_rx_ = false;
  }

  // RTCP shares the RTP socket when rtcp-mux was negotiated (RFC 5761; always with ICE). ICE (negotiated by
  // both sides, `n.ice`): the agent runs its checks there and, once a pair is selected, media goes to it. A
  // renegotiation with the same credentials keeps the selected pair; one without ICE stops the agent (plain
  // RTP to the SDP's address).
  void start_ice(const negotiated_media& n) {
    rtcp_mux_ = n.rtcp_mux || n.ice;
    if (rtcp_mux_) remote_rtcp_ = remote_rtp_;
    if (!n.ice) {
      if (ice_) ice_->stop();
      ice_.reset();
      return;
    }
    if (!ice_) {
      const std::weak_ptr<rtp_media> weak = shared_from_this();
      ice::agent_timing timing;
      timing.ta = cfg_.ice_ta;
      timing.rto = cfg_.ice_rto;
      ice_ = std::make_shared<ice::agent>(
          io_->get_executor(), n.ice->local, n.ice->tie_breaker, ice::candidate_priority(ice::candidate_type::host, 65535, 1),
          timing,
          [weak](std::span<const std::byte> bytes, const udp::endpoint& to) {
            if (auto self = weak.lock()) {
              boost::system::error_code ignored;
              self->rtp_socket_.send_to(boost::asio::buffer(bytes.data(), bytes.size()), to, 0, ignored);
            }
          },
          [weak] {
            if (auto self = weak.lock()) self->on_ice_changed();
          });
      ice::agent::send_function relay_send;
      if (relay_ && relay_->allocated())
        relay_send = [weak](std::span<const std::byte> bytes, const udp::endpoint& to) {
          if (auto self = weak.lock(); self && !self->relay_->send(to, bytes)) count(self->tx_->relayed_datagrams);
        };
      if (relay_send || cfg_.ice_relay_only)
        ice_->set_relay(ice::candidate_priority(ice::candidate_type::relayed, 65535, 1), std::move(relay_send),
                        cfg_.ice_relay_only);
    }
    // RFC 8656 §9: the peer's candidates may reach the relayed address (one permission per IP address).
    if (relay_ && relay_->allocated())
      for (const auto& c : n.ice->candidates) relay_->permit(c.address.address());
    boost::system::error_code bec;
    const auto local = rtp_socket_.local_endpoint(bec);
    ice_->start(n.ice->remote, n.ice->candidates, n.ice->controlling, bec || local.address().is_v4());
    if (auto selected = ice_->selected()) remote_rtp_ = remote_rtcp_ = *selected;
  }

  // The agent selected (or changed) the pair: RTP and RTCP go there, and are accepted from there only. Or
  // it failed: media stays on the SDP's address, or, when consent on the selected pair was lost (RFC 7675
  // §5.1), nothing more is sent (send_rtp and send_rtcp check the agent).
  void on_ice_changed() {
    if (auto remote = ice_->selected(); remote && *remote != remote_rtp_) {
      remote_rtp_ = remote_rtcp_ = *remote;
      latched_ = rtcp_latched_ = false;
      latch_probation_.reset();
    }
    // A relayed pair: ChannelData from now on (4 bytes of overhead instead of 36, RFC 8656 §12).
    if (auto remote = ice_->selected(); remote && relay_ && ice_->selected_relayed()) relay_->bind(*remote);
    publish_link();
  }

  // RFC 7983 §7 (RFC 9443 §3): one socket may carry STUN (a late answer of gathering; ICE's checks) and
  // DTLS besides RTP/RTCP; only datagrams whose first byte is 128..191 are read as RTP or RTCP. STUN is left
  // to `on_stun`, DTLS to the `dtls_transport`; anything else (ZRTP, TURN channels, garbage) goes
  // through the RTP/RTCP checks, which refuse it (rejected_source or malformed).
  void demultiplex(std::span<std::byte> datagram, bool rtp_socket) {
    switch (ice::classify(std::to_integer<std::uint8_t>(datagram[0]))) {
      case ice::datagram_kind::rtp_rtcp:
        if (!rtp_socket) return handle_rtcp(datagram);
        // RFC 5761 §4: with rtcp-mux, RTCP (packet types 192..223) arrives on the RTP socket.
        if (rtcp_mux_ && datagram.size() > 1 && std::to_integer<unsigned>(datagram[1]) >= 192 &&
            std::to_integer<unsigned>(datagram[1]) <= 223) {
          rtcp_from_ = rx_from_;
          return handle_rtcp(datagram);
        }
        return handle_rtp(datagram);
      case ice::datagram_kind::stun: return on_stun(datagram, rtp_socket ? rx_from_ : rtcp_from_, rtp_socket);
      case ice::datagram_kind::dtls:  // DTLS-SRTP: from the peer's address only (RTCP socket: RFC 5764 §4.1)
        if (!rtp_socket)
          return rtcp_dtls_.engaged() && rtcp_from_peer() ? rtcp_dtls_.handle(datagram) : count(rx_->dtls_dropped);
        if (!dtls_ || rx_from_ != remote_rtp_) return count(rx_->dtls_dropped);
        return dtls_->handle(datagram);
      default: return rtp_socket ? handle_rtp(datagram) : handle_rtcp(datagram);  // refused there, as before
    }
  }

  // A STUN message on a media socket: ICE's (checks and their responses, RTP socket only) goes to the
  // agent; anything else -- late answers of the server-reflexive gathering, messages the agent refuses
  // (bad credentials, malformed) -- is counted and dropped, never parsed as RTP.
  void on_stun(std::span<std::byte> datagram, const udp::endpoint& from, bool rtp_socket) {
    if (!ice_ || !rtp_socket) return count(rx_->stun_dropped);
    const auto before = ice_->checks_answered();
    if (!ice_->handle(datagram, from, relayed_rx_)) return count(rx_->stun_dropped);
    if (ice_->checks_answered() != before) count(rx_->ice_checks_answered);
  }

  static void count(std::atomic<std::uint64_t>& counter) noexcept { counter.fetch_add(1, std::memory_order_relaxed); }

  // DTLS-SRTP negotiated and its keys not yet exported: nothing may be sent or read (no clear fallback).
  [[nodiscard]] bool awaiting_dtls_keys() const noexcept { return dtls_ && !srtp_tx_.active(); }

  // The keys of the association for `p`: those of the current one when it is kept (same role and peer
  // fingerprints), else nullopt after starting a new one, whose keys arrive in on_dtls_done.
  std::optional<srtp_keys> start_dtls(const dtls_parameters& p) {
    if (dtls_ && dtls_->role() == p.role && dtls_->remote_fingerprints() == p.remote &&
        dtls_->current_state() != dtls_transport::state::failed)
      return srtp_keys_;
    stop_dtls();
    const std::weak_ptr<rtp_media> weak = shared_from_this();
    dtls_ = std::make_shared<dtls_transport>(
        io_->get_executor(), p.certificate, p.role, p.remote, cfg_.srtp_suites,
        [weak](std::span<const std::byte> bytes) {
          if (auto self = weak.lock()) (void)self->send_datagram(bytes, self->remote_rtp_);
        },
        [weak](std::error_code ec, const std::optional<dtls_srtp_keys>& keys) {
          if (auto self = weak.lock()) self->on_dtls_done(ec, keys);
        });
    dtls_->start();
    return std::nullopt;
  }
  void stop_dtls() {
    if (dtls_) dtls_->stop();
    dtls_.reset();
  }
  // RTCP's own association, on the RTCP socket (no rtcp-mux): its keys protect SRTCP; its fingerprint
  // mismatch fails the media as one on RTP does, another failure leaves RTCP silent.
  void start_rtcp_dtls(const dtls_parameters& p) {
    const std::weak_ptr<rtp_media> weak = shared_from_this();
    rtcp_dtls_.start(
        io_->get_executor(), p, cfg_.srtp_suites,
        [weak](std::span<const std::byte> bytes) {
          boost::system::error_code ignored;
          if (auto self = weak.lock())
            self->rtcp_socket_.send_to(boost::asio::buffer(bytes.data(), bytes.size()), self->remote_rtcp_, 0, ignored);
        },
        [weak](std::error_code ec) {
          auto self = weak.lock();
          if (!self || !self->running_) return;
          if (ec == dtls_errc::fingerprint_mismatch) return self->on_dtls_done(ec, std::nullopt);
          self->publish_link();
        });
  }

  // The handshake's outcome: the keys protect both ways from now on, or the media stays silent and fails.
  void on_dtls_done(std::error_code ec, const std::optional<dtls_srtp_keys>& k) {
    if (!running_) return;
    if (!ec && k) {
      auto crypto = [&k](const std::array<std::byte, srtp_max_key_salt_bytes>& key) { return sdp_crypto{0, k->suite, key}; };
      if (rekey(srtp_keys{crypto(k->local), crypto(k->remote)})) publish_link();
      return;
    }
    capture_->raise(call_media_kind::stream_fail, call_media_cause::connect_fail, ec);
    render_->raise(call_media_kind::stream_fail, call_media_cause::connect_fail, ec);
    notify(channel_message_type::media_error, ec.message());
  }

  // RTP arrival (from `rx_from_`): checked, counted (RFC 3550 A.1, A.8) and queued for playout. Dropped
  // and counted: other sources than the peer (rejected_source), malformed packets and other payload
  // types (malformed), SSRCs on probation and the replaced SSRC (rejected_ssrc). Dropped silently while
  // we do not receive. An RFC 4733 event packet is reported (once per event) and queued as an empty
  // placeholder.
  // With SRTP, a datagram that fails authentication or the replay check is dropped first (srtp_rejected).
  void handle_rtp(std::span<std::byte> datagram) {
    const bool from_peer = rx_from_ == remote_rtp_;
    const bool candidate = !from_peer && cfg_.symmetric_rtp && !latched_;  // may latch after probation
    if (!from_peer && !candidate) return count(rx_->rejected_source);
    auto& invalid = candidate ? rx_->rejected_source : rx_->malformed;
    if (awaiting_dtls_keys()) return count(rx_->srtp_rejected);
    if (srtp_rx_.active()) {
      std::error_code uec;
      const std::size_t plain = srtp_rx_.unprotect_rtp(datagram, datagram.size(), uec);
      if (plain == 0) return count(rx_->srtp_rejected);
      datagram = datagram.first(plain);
    }
    auto view = parse_rtp(datagram);
    if (!view) return count(invalid);
    if (!receive_enabled_) return;
    const bool audio = view->header.payload_type == payload_type_;
    const bool event = telephone_event_pt_ >= 0 && view->header.payload_type == telephone_event_pt_;
    if (!audio && !event) return count(invalid);
    const std::uint32_t ssrc = view->header.ssrc;
    const auto now = clock::now();
    bool validated = false;  // this packet completed a probation of its SSRC
    if (candidate) {
      if (rx_from_ != latch_candidate_) {
        latch_candidate_ = rx_from_;
        latch_probation_.reset();
      }
      if (!latch_probation_.on_packet(ssrc, view->header.sequence)) return count(rx_->rejected_source);
      remote_rtp_ = rx_from_;  // latched: media goes there now, RTCP is taken from its IP
      latched_ = validated = true;
      publish_link();
    } else if (cfg_.symmetric_rtp) {
      latched_ = true;  // the SDP's own address was the first valid source
    }
    if (!have_remote_ssrc_) {
      have_remote_ssrc_ = true;
      remote_ssrc_ = ssrc;
    } else if (ssrc != remote_ssrc_) {
      const bool retired = have_retired_ssrc_ && ssrc == retired_ssrc_ && now - last_arrival_ < retired_ssrc_quiet;
      if (!validated && (retired || !ssrc_probation_.on_packet(ssrc, view->header.sequence)))
        return count(rx_->rejected_ssrc);
      switch_source(ssrc);
    }
    last_arrival_ = now;
    if (!playout_started_) start_playout(now);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    const auto arrival = static_cast<std::uint32_t>(us * (clock_rate_ / 1000) / 1000);
    stats_.on_packet(view->header.sequence, view->header.timestamp, arrival, audio);
    const auto payload = audio ? view->payload : std::span<const std::byte>{};
    if (jitter_.push(view->header.sequence, view->header.timestamp, payload) == jitter_push_result::late)
      rx_->late.fetch_add(1, std::memory_order_relaxed);
    rx_->packets.fetch_add(1, std::memory_order_relaxed);
    rx_->octets.fetch_add(view->payload.size(), std::memory_order_relaxed);
    rx_->lost.store(lost_before_ + stats_.cumulative_lost(), std::memory_order_relaxed);
    rx_->jitter_units.store(stats_.jitter(), std::memory_order_relaxed);
    if (event) on_telephone_event(view->header.timestamp, view->payload);
  }

  // The peer's stream continues under a new SSRC (validated): the receive path restarts for it, with
  // statistics of its own; the loss counted so far is kept. The old SSRC is retired.
  void switch_source(std::uint32_t ssrc) {
    have_retired_ssrc_ = true;
    retired_ssrc_ = remote_ssrc_;
    remote_ssrc_ = ssrc;
    ssrc_probation_.reset();
    lost_before_ += stats_.cumulative_lost();
    stats_ = receiver_statistics{};
    last_sr_ = 0;  // LSR/DLSR refer to the new source's sender reports
    recent_event_count_ = 0;
    restart_receive();
    count(rx_->ssrc_changes);
  }

  // Reports a DTMF event once: on the first of its packets that arrives (any of them, end packets
  // included), recognised by its RTP timestamp (RFC 4733 §2.5.2.1). The last few events' timestamps are
  // kept, so a late retransmission of an earlier event is not reported again.
  void on_telephone_event(std::uint32_t timestamp, std::span<const std::byte> payload) {
    auto e = parse_telephone_event(payload);
    if (!e) return;
    peer_sent_events_ = true;  // RFC 4733 wins: in-band detection stops for the rest of the call
    if (std::find(recent_events_.begin(), recent_events_.begin() + static_cast<std::ptrdiff_t>(recent_event_count_),
                  timestamp) != recent_events_.begin() + static_cast<std::ptrdiff_t>(recent_event_count_))
      return;
    recent_events_[recent_event_next_] = timestamp;
    recent_event_next_ = (recent_event_next_ + 1) % recent_events_.size();
    recent_event_count_ = std::min(recent_event_count_ + 1, recent_events_.size());
    if (auto digit = dtmf_digit(e->event)) notify(channel_message_type::digit_detected, std::string_view(&*digit, 1));
  }

  // The playout clock starts a lead after the first packet, so packets are in the buffer when pulled.
  // With a peer whose packets are longer or shorter than ours, a frame may need a packet that arrives
  // up to (ptime - gcd of both ptimes) after the tick's nominal time: the lead grows by that much.
  void start_playout(clock::time_point first_arrival) {
    int lead = cfg_.playout_lead ? static_cast<int>(cfg_.playout_lead->count()) : -1;
    if (lead < 0) {
      lead = std::max(4, ptime_ms() / 2);
      if (remote_ptime_ms_ > 0 && remote_ptime_ms_ != ptime_ms())
        lead += ptime_ms() - std::gcd(ptime_ms(), remote_ptime_ms_);
    }
    playout_started_ = true;
    ++playout_generation_;  // a tick chain already running stops at its next tick
    next_playout_ = first_arrival + std::chrono::milliseconds(lead);
    schedule_playout();
  }
  void schedule_playout() {
    playout_timer_.expires_at(next_playout_);
    playout_timer_.async_wait([self = shared_from_this(), g = playout_generation_](const boost::system::error_code& ec) {
      self->on_playout_tick(ec, g);
    });
  }

  // Render clock: one frame per ptime to the render terminals, from the FIFO, which is refilled from
  // the jitter buffer (decoded, concealed or FEC-recovered) while it holds less than a frame.
  void on_playout_tick(const boost::system::error_code& ec, std::uint64_t generation) {
    if (ec || !running_ || generation != playout_generation_) return;
    next_playout_ += ptime();
    schedule_playout();
    if (!receive_enabled_) return;
    bool concealed = false;  // this frame holds audio the receiver made up (G.711 silence, Opus PLC or FEC)
    while (fifo_.size() < frame_samples_) {
      const jitter_frame f = jitter_.pop();
      if (f.what == jitter_frame::kind::empty) break;
      if (f.what == jitter_frame::kind::packet) {
        decode_into_fifo(f.payload);
        played_any_ = true;
      } else {
        conceal_into_fifo(last_packet_samples_, f.next_payload);
        concealed = true;
      }
    }
    if (fifo_.size() < frame_samples_ && played_any_) {
      conceal_into_fifo(frame_samples_ - fifo_.size(), {});
      concealed = true;
    }
    auto pcm = play_frame();
    const std::size_t got = fifo_.pop(pcm);
    std::fill(pcm.begin() + static_cast<std::ptrdiff_t>(got), pcm.end(), std::int16_t{0});
    const auto& js = jitter_.stats();
    rx_->jitter_buffer_ms.store(js.target_depth_packets * static_cast<int>(last_packet_samples_ / 48),
                                std::memory_order_relaxed);
    // In-band digits are detected on what the peer sent: a frame with concealment is left out, so a late or
    // lost packet in the middle of a tone neither splits its digit in two nor makes one up.
    if (inband_ && !peer_sent_events_ && !concealed) detect_inband(pcm);
    if (tones_.detecting() && !concealed) tones_.analyse(pcm, [this](std::uint32_t app) { notify_tone(app); });
    if (conference_) {  // the others hear our party; we hear everyone
      conference_->deliver(pcm);
      conference_->add_others(pcm);
    }
    render_->with_active_terminals([&](std::span<const terminal_ptr> terminals) {
      for (const auto& t : terminals) t->write_frame(pcm);
    });
  }

  // In a conference, the frame to send is the capture (silence without a terminal) plus the other parties'
  // audio, and is sent even without a capture terminal. Returns whether there is a frame to send.
  bool mix_conference(std::span<std::int16_t> pcm, bool captured) noexcept {
    if (!conference_) return captured;
    if (!captured) std::fill(pcm.begin(), pcm.end(), std::int16_t{0});
    conference_->mix_others(pcm);
    return true;
  }

  void notify_tone(std::uint32_t app_specific) {
    std::array<char, 12> text{};
    const auto r = std::to_chars(text.data(), text.data() + text.size(), app_specific);
    notify(channel_message_type::tone_detected, std::string_view(text.data(), static_cast<std::size_t>(r.ptr - text.data())));
  }

  // In-band DTMF on the frame being played (48 kHz), decimated to the detector's 8 kHz.
  void detect_inband(std::span<const std::int16_t> pcm) {
    std::array<std::int16_t, max_frame_samples / narrowband_ratio> narrow;
    const std::size_t m = inband_decimator_.process(pcm, narrow);
    std::array<char, 8> digits{};
    const std::size_t n = inband_->process(std::span<const std::int16_t>(narrow.data(), m), digits);
    for (std::size_t i = 0; i < n; ++i)
      notify(channel_message_type::inband_digit_detected, std::string_view(&digits[i], 1));
  }

  // Decodes one packet onto the FIFO. An empty payload (an RFC 4733 event's placeholder) is one packet
  // of silence, as long as the last audio packet.
  void decode_into_fifo(std::span<const std::byte> payload) {
    if (payload.empty()) {
      fifo_.push_silence(last_packet_samples_);
      return;
    }
    auto w = fifo_.writable();
    std::size_t got = 0;
    if (codec_ == audio_codec::opus) {
      std::error_code dec;
      got = decoder_.decode(payload, w.first(std::min(w.size(), max_packet_samples)), dec);
      if (dec) got = 0;
    } else {
      const std::size_t inputs = std::min(payload.size(), std::min(w.size(), max_packet_samples) / narrowband_ratio);
      std::array<std::int16_t, 160> narrow;
      for (std::size_t done = 0; done < inputs;) {
        const std::size_t chunk = std::min(narrow.size(), inputs - done);
        const auto bytes = payload.subspan(done, chunk);
        if (codec_ == audio_codec::pcmu) decode_pcmu(bytes, narrow);
        else decode_pcma(bytes, narrow);
        got += interpolator_.process(std::span<const std::int16_t>(narrow.data(), chunk), w.subspan(got));
        done += chunk;
      }
    }
    fifo_.commit(got);
    if (got > 0) last_packet_samples_ = got;
  }

  // Fills `samples` for a missing packet: Opus FEC from `next_payload` when it carries some (whatever our
  // own encoder does), else Opus PLC (rounded up to whole 2.5 ms, as libopus needs); silence for G.711.
  void conceal_into_fifo(std::size_t samples, std::span<const std::byte> next_payload) {
    rx_->concealed.fetch_add(1, std::memory_order_relaxed);
    if (narrowband()) {
      fifo_.push_silence(samples);
      return;
    }
    samples = std::min(max_packet_samples, (samples + 119) / 120 * 120);
    auto w = fifo_.writable().first(std::min(samples, fifo_.capacity() - fifo_.size()));
    std::error_code dec;
    const bool fec = opus_packet_has_fec(next_payload);  // else libopus would only conceal
    std::size_t got = fec ? decoder_.decode_fec(next_payload, w, dec) : decoder_.conceal(w, dec);
    if (dec) got = 0;
    if (fec && got > 0) rx_->fec_recovered.fetch_add(1, std::memory_order_relaxed);
    fifo_.commit(got);
  }

  void receive_rtcp() {
    rtcp_socket_.async_receive_from(boost::asio::buffer(rtcp_buffer_), rtcp_from_,
                                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                      self->on_rtcp(ec, n);
                                    });
  }

  // Whether an RTCP datagram from `rtcp_from_` may be read: from the peer's RTCP address, or once
  // symmetric RTP has latched, from the latched IP (whose first RTCP port then receives our reports).
  bool rtcp_from_peer() {
    if (!latched_) return rtcp_from_ == remote_rtcp_;
    if (rtcp_from_.address() != remote_rtp_.address()) return false;
    if (!rtcp_latched_) {
      rtcp_latched_ = true;
      remote_rtcp_ = rtcp_from_;
    }
    return true;
  }

  void on_rtcp(const boost::system::error_code& ec, std::size_t n) {
    if (!running_ || !rtcp_socket_.is_open()) return;
    if (!ec && n > 0) demultiplex(std::span<std::byte>(rtcp_buffer_.data(), n), false);
    receive_rtcp();
  }

  // RTCP from the peer: its report about our stream gives the capture stream's loss and jitter. Other
  // sources, malformed datagrams and impossible report blocks are dropped and counted (render stream).
  // With SRTP, SRTCP that fails authentication or the replay check is dropped first (srtp_rejected).
  void handle_rtcp(std::span<std::byte> datagram) {
    if (!rtcp_from_peer()) return count(rx_->rejected_source);
    if (awaiting_dtls_keys() || rtcp_dtls_.awaiting_keys()) return count(rx_->srtp_rejected);
    if (auto& srtcp = rtcp_dtls_.engaged() ? rtcp_dtls_.rx() : srtp_rx_; srtcp.active()) {
      std::error_code uec;
      const std::size_t plain = srtcp.unprotect_rtcp(datagram, datagram.size(), uec);
      if (plain == 0) return count(rx_->srtp_rejected);
      datagram = datagram.first(plain);
    }
    auto report = parse_rtcp(datagram);
    if (!report) return count(rx_->malformed);
    count(rx_->rtcp_packets);
    if (report->sender && (!have_remote_ssrc_ || report->sender_ssrc == remote_ssrc_)) {
      last_sr_ = static_cast<std::uint32_t>(report->sender->ntp_timestamp >> 16);
      last_sr_arrival_ = clock::now();
    }
    if (report->block && report->block->ssrc == ssrc_) {
      if (!plausible_report_block(*report->block, tx_->packets.load(std::memory_order_relaxed), sequence_, clock_rate_))
        return count(rx_->malformed);
      tx_->lost.store(report->block->cumulative_lost, std::memory_order_relaxed);
      tx_->jitter_units.store(report->block->jitter, std::memory_order_relaxed);
      on_reported_loss(report->block->fraction_lost);
      measure_round_trip(*report->block);
    }
  }

  // RFC 3550 §6.4.1: round trip = arrival time - LSR - DLSR, all in NTP middle-32 units (1/65536 s), when
  // the block refers to one of our sender reports. Up to 1 ms below zero (the truncations of LSR and
  // DLSR on a near-zero path) counts as 0; below that, or over 60 s (a wrong clock or a forged block), the
  // result is not kept.
  void measure_round_trip(const report_block& b) {
    if (b.last_sr == 0) return;
    const std::uint32_t arrival = ntp_middle32(to_ntp(std::chrono::system_clock::now()));
    std::uint32_t units = arrival - b.last_sr - b.delay_since_last_sr;  // modulo 2^32
    if (static_cast<std::int32_t>(units) < 0) {
      if (static_cast<std::int32_t>(units) < -66) return;
      units = 0;
    }
    if (units > 60u * 65536u) return;
    const auto us = static_cast<std::int64_t>(units) * 1000000 / 65536;
    tx_->round_trip_us.store(us, std::memory_order_relaxed);
    rx_->round_trip_us.store(us, std::memory_order_relaxed);
  }

  // Sets up SRTP for `keys` (nullopt: plain RTP) unless they are the ones in use: an outbound session with
  // our key, an inbound one with the peer's (fresh replay state). False, media stopped, when libsrtp fails.
  bool rekey(const std::optional<srtp_keys>& keys) {
    if (keys == srtp_keys_ && running_) return true;
    srtp_keys_ = keys;
    if (!keys) {
      srtp_tx_.reset();
      srtp_rx_.reset();
      return true;
    }
    std::error_code ec;
    srtp_tx_.start(keys->local.suite, keys->local.key(), srtp_direction::outbound, ec);
    if (!ec) srtp_rx_.start(keys->remote.suite, keys->remote.key(), srtp_direction::inbound, ec);
    if (!ec) return true;
    srtp_tx_.reset();
    srtp_rx_.reset();
    srtp_keys_.reset();
    stop();
    capture_->raise(call_media_kind::stream_fail, call_media_cause::connect_fail, ec);
    return false;
  }

  // Tells both streams' statistics what is negotiated and where the peer is now.
  void publish_link() noexcept {
    rtp_counters::link_state l;
    l.started = true;
    l.codec = codec_;
    l.payload_type = payload_type_;
    l.ptime_ms = ptime_ms();
    l.remote_ptime_ms = remote_ptime_ms_;
    l.remote = remote_rtp_;
    l.srtp = srtp_tx_.suite();
    l.dtls = dtls_ != nullptr;
    if (dtls_) l.dtls_handshake_ms = dtls_->handshake_ms();
    l.rtcp_mux = rtcp_mux_;
    l.rtcp_dtls_handshake_ms = rtcp_dtls_.handshake_ms();
    l.ice = ice_ != nullptr;
    if (ice_) {
      l.ice_state = ice_->state();
      l.ice_connect_ms = ice_->connect_ms();
      l.ice_relayed = ice_->selected_relayed();
    }
    tx_->set_link(l);
    rx_->set_link(l);
  }

  // The peer's loss of our packets (RFC 3550 §6.4.1 fraction lost, ×256) sizes the Opus encoder's
  // robustness and in-band FEC: the expected loss moves halfway to each report (rounded up, so a steady
  // loss is reached), within 0..cfg.max_expected_loss_percent. Until the first report it is
  // cfg.opus.expected_loss_percent.
  void on_reported_loss(std::uint8_t fraction_lost) {
    const int reported = (fraction_lost * 100 + 255) / 256;
    const int next = std::min(cfg_.max_expected_loss_percent, (encoder_.config().expected_loss_percent + reported + 1) / 2);
    if (next == encoder_.config().expected_loss_percent) return;
    std::error_code ignored;  // only a moved-from encoder fails, and ours is never moved from
    encoder_.set_expected_loss_percent(next, ignored);
  }

  void on_rtcp_timer(const boost::system::error_code& ec) {
    if (ec || !running_) return;
    send_rtcp();
    rtcp_timer_.expires_after(cfg_.rtcp_interval);
    rtcp_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& e) { self->on_rtcp_timer(e); });
  }

  // A compound SR (or RR when we have not sent) with one report block, then SDES CNAME (RFC 3550 §6.1).
  void send_rtcp() {
    if ((ice_ && ice_->consent_lost()) || awaiting_dtls_keys() || rtcp_dtls_.awaiting_keys()) return;
    const auto out = std::span<std::byte>(rtcp_out_).first(rtcp_out_.size() - srtp_session::max_rtcp_overhead);
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
    if (auto& srtcp = rtcp_dtls_.engaged() ? rtcp_dtls_.tx() : srtp_tx_; srtcp.active()) {
      std::error_code pec;
      n = srtcp.protect_rtcp(rtcp_out_, n, pec);
      if (n == 0) return;
    }
    if (rtcp_mux_) {
      if (send_datagram(std::span<const std::byte>(rtcp_out_.data(), n), remote_rtcp_)) count(tx_->rtcp_packets);
      return;
    }
    boost::system::error_code sec;
    rtcp_socket_.send_to(boost::asio::buffer(rtcp_out_.data(), n), remote_rtcp_, 0, sec);
    if (!sec) count(tx_->rtcp_packets);
  }

  std::shared_ptr<boost::asio::io_context> io_;  // declared first: destroyed after the sockets
  const rtp_opus_config cfg_;
  std::shared_ptr<rtp_stream> capture_, render_;
  std::shared_ptr<rtp_counters> tx_, rx_;
  notify_function notify_;
  udp::socket rtp_socket_, rtcp_socket_;
  boost::asio::steady_timer send_timer_, playout_timer_, rtcp_timer_;
  opus_encoder encoder_;
  opus_decoder decoder_;
  decimator_48k_to_8k decimator_;
  interpolator_8k_to_48k interpolator_;
  jitter_buffer jitter_;
  receiver_statistics stats_;
  dtmf_sender dtmf_;
  const std::size_t frame_samples_;
  std::vector<std::int16_t> frames_;  // capture, mix and playout frames, frame_samples_ each
  pcm_fifo fifo_;                     // decoded audio waiting for the playout clock
  std::size_t last_packet_samples_;   // duration of the last decoded packet, 48 kHz samples
  std::unique_ptr<inband_digit_detector> inband_;  // in-band DTMF (cfg_.inband_digits), or none
  decimator_48k_to_8k inband_decimator_;           // played-out audio to the detector's 8 kHz
  tone_path tones_;                                // tone / in-band digit generation, DetectTones
  bool peer_sent_events_ = false;                  // an RFC 4733 event arrived: in-band reports stop

  udp::endpoint remote_rtp_, remote_rtcp_, rx_from_, rtcp_from_;  // remote_*: negotiated, or latched
  udp::endpoint latch_candidate_;            // symmetric RTP: the foreign source on probation
  source_probation latch_probation_, ssrc_probation_;
  bool latched_ = false, rtcp_latched_ = false, have_retired_ssrc_ = false;
  std::uint32_t retired_ssrc_ = 0;           // the SSRC the current one replaced
  std::int64_t lost_before_ = 0;             // loss of the sources received before the current one
  clock::time_point last_arrival_{};         // of the current SSRC's last packet
  audio_codec codec_ = audio_codec::opus;
  int payload_type_ = 111;
  int telephone_event_pt_ = -1, telephone_event_rate_ = 8000, remote_ptime_ms_ = 0;
  std::uint32_t clock_rate_ = 48000, timestamp_step_ = 960;
  bool running_ = false, send_enabled_ = true, receive_enabled_ = true, marker_ = true, have_remote_ssrc_ = false;
  bool played_any_ = false, playout_started_ = false;
  std::uint64_t playout_generation_ = 0;
  std::uint32_t ssrc_ = 0, timestamp_ = 0, last_rtp_timestamp_ = 0, remote_ssrc_ = 0, last_sr_ = 0;
  std::uint16_t sequence_ = 0;
  clock::time_point next_send_{}, next_playout_{}, last_sr_arrival_{};
  std::array<std::uint32_t, 4> recent_events_{};  // RTP timestamps of the last events reported
  std::size_t recent_event_next_ = 0, recent_event_count_ = 0;

  std::shared_ptr<conference_bridge::conference_port> conference_;  // while in a conference
  std::shared_ptr<ice::agent> ice_;         // while ICE is negotiated
  std::shared_ptr<relay_link> relay_;       // with a TURN server: the allocation on the RTP socket
  bool rtp_receiving_ = false;              // an async_receive_from is pending on the RTP socket
  bool relayed_rx_ = false;                 // the datagram being demultiplexed came through the relay
  bool rtcp_mux_ = false;                   // RTCP on the RTP socket (RFC 5761): negotiated, or ICE
  srtp_session srtp_tx_, srtp_rx_;          // active while SRTP keys are negotiated
  std::shared_ptr<dtls_transport> dtls_;    // with DTLS-SRTP: the association on the RTP socket
  rtcp_dtls rtcp_dtls_;                     // with DTLS-SRTP and no rtcp-mux: RTCP's own association
  std::optional<srtp_keys> srtp_keys_;      // the keys they hold

  std::array<std::byte, 1500> encoded_{};
  // Room for the SRTP/SRTCP trailer behind an MTU-sized packet; aligned as libsrtp reads 32-bit words.
  alignas(8) std::array<std::byte, max_payload_bytes + srtp_session::max_rtp_overhead> packet_{};
  alignas(8) std::array<std::byte, max_payload_bytes> rx_buffer_{}, rtcp_buffer_{};
  alignas(8) std::array<std::byte, max_payload_bytes + srtp_session::max_rtcp_overhead> rtcp_out_{};
};

}  // namespace mspi::detail
