// ptapi - portable TAPI
// mspi/stream.hpp: the stream object (ITStream) with TAPI 3's terminal-selection and desired-state rules,
// implemented once here for every MSP (the role of the MSP base class CMSPStream).
#pragma once

#include <mspi/call_media_event.hpp>
#include <mspi/error.hpp>
#include <mspi/media_types.hpp>
#include <mspi/terminal.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mspi {

class stream;
/// Shared ownership of a stream: what `stream_control` hands out.
using stream_ptr = std::shared_ptr<stream>;

/// A call-media event raised by a stream (the payload of the MSP's `ME_CALL_EVENT`, TAPI's
/// `MSP_CALL_EVENT_INFO`); the TAPI object turns it into a `TE_CALLMEDIA` event for the application.
struct stream_event {
  call_media_kind event = call_media_kind::stream_active;  ///< What happened.
  call_media_cause cause = call_media_cause::unknown;        ///< Why.
  stream_ptr source;                                          ///< The stream it happened on.
  terminal_ptr terminal;                                      ///< The terminal concerned, if any.
  std::error_code error;                                      ///< The failure, for *_fail events.
};

/// The application's wish for a stream (TAPI: the desired graph state set by Start/Pause/StopStream).
enum class stream_desired_state : std::uint8_t {
  running,  ///< ITStream::StartStream was called last (the initial state).
  paused,   ///< ITStream::PauseStream was called last.
  stopped,  ///< ITStream::StopStream was called last.
};

/// Transport figures of one stream, as RTCP reports them (RFC 3550 §6.4), and what the receiver refused.
/// Counters start at 0 when the stream is created; an MSP without a transport reports zeros.
struct stream_statistics {
  std::uint64_t packets = 0;       ///< Packets sent (capture stream) or received (render stream).
  std::uint64_t octets = 0;        ///< Payload bytes sent or received.
  std::int64_t packets_lost = 0;   ///< Render: expected minus received (RFC 3550 A.3); capture: as the peer reports.
  double jitter_ms = 0;            ///< Interarrival jitter (RFC 3550 A.8) in milliseconds.
  std::uint64_t concealed = 0;     ///< Render: frames produced by loss concealment (PLC or FEC).
  /// Render: of `concealed`, packets rebuilt from the in-band FEC (RFC 6716 §2.1.7) of the packet after
  /// them (one whose mode can carry it: SILK or hybrid).
  std::uint64_t fec_recovered = 0;
  std::uint64_t late = 0;          ///< Render: packets that arrived after their playout time.
  int jitter_buffer_ms = 0;        ///< Render: current jitter-buffer target depth in milliseconds.
  /// Render: RTP and RTCP datagrams dropped, unread, because they came from another transport address
  /// than the peer's (the negotiated one, or the latched one with `rtp_opus_config::symmetric_rtp`),
  /// including a foreign source's packets while it is on probation for latching.
  std::uint64_t rejected_source = 0;
  /// Render: RTP packets from the peer's address dropped for their SSRC: a new SSRC on probation
  /// (RFC 3550 A.1, MIN_SEQUENTIAL = 2), and the previous SSRC's packets after the stream switched.
  std::uint64_t rejected_ssrc = 0;
  /// Render: datagrams from the peer's address that were dropped as invalid: RTP that does not parse
  /// (RFC 3550 A.1 checks) or carries a payload type that was not negotiated, RTCP that does not parse
  /// or holds no SR/RR, and report blocks on our stream that cannot be true (more lost than we sent, a
  /// sequence number we never sent, jitter over 10 s); such a block changes no capture figure.
  std::uint64_t malformed = 0;
  /// Render: how many times the received stream switched to a new SSRC after probation (the receive
  /// path restarts: jitter buffer, playout and per-source statistics; `packets_lost` keeps counting).
  std::uint64_t ssrc_changes = 0;

  // ---- what was negotiated (ptapi additions, the role of ITFormatControl::GetCurrentFormat) ----
  // Empty/0 until media starts; they follow a renegotiation (re-INVITE). Both streams of a call report
  // the same values.
  /// The codec in use: its SDP encoding name as in `a=rtpmap` (RFC 4566 §6): "opus" (RFC 7587),
  /// "PCMU" or "PCMA" (RFC 3551); empty before media starts.
  std::string codec;
  /// The codec's RTP payload type (RFC 3550 §5.1; RFC 3264 §6.1: the offerer's number); -1 before.
  int payload_type = -1;
  /// The codec's RTP clock rate in Hz (48000 for Opus, 8000 for G.711); 0 before media starts.
  int clock_rate_hz = 0;
  /// The packet duration we send, in ms (SDP `a=ptime`, RFC 4566 §6); 0 before media starts.
  int ptime_ms = 0;
  /// The peer's packet duration from its SDP `a=ptime`, in ms; 0 when it gave none.
  int remote_ptime_ms = 0;
  /// The peer's RTP transport address: the negotiated one (SDP `c=`/`m=`), or the source latched by
  /// symmetric RTP (RFC 4961); an IP literal, empty before media starts.
  std::string remote_address;
  /// The peer's RTP port (see `remote_address`); 0 before media starts.
  std::uint16_t remote_port = 0;
  /// Round-trip time to the peer in ms (RFC 3550 §6.4.1: arrival time of a report block on our stream
  /// minus its LSR and DLSR), from the latest such block; -1 until the peer has reported on one of our
  /// sender reports.
  double round_trip_ms = -1;
  /// True when the media is encrypted and authenticated (SRTP, RFC 3711; the RTP/Opus MSP with
  /// `rtp_opus_config::srtp`, SDES keys, RFC 4568, or DTLS-SRTP, RFC 5764); false for plain RTP, before media
  /// starts and before a DTLS-SRTP handshake completes.
  bool secured = false;
  /// Render: datagrams from the peer's address dropped because SRTP/SRTCP authentication or the replay
  /// check failed (RFC 3711 §3.3: a tampered, forged or replayed packet, or one under an old key just
  /// after a re-key); never parsed or played. 0 for plain RTP.
  std::uint64_t srtp_rejected = 0;
  /// The SRTP crypto suite's SDP name (RFC 4568 §6.2, RFC 7714 §14.2), e.g. "AES_CM_128_HMAC_SHA1_80";
  /// empty when `secured` is false.
  std::string srtp_suite;
  /// How the SRTP keys were agreed: "sdes" (RFC 4568) or "dtls" (DTLS-SRTP, RFC 5763/5764); empty when
  /// `secured` is false (with DTLS-SRTP: until the handshake has completed).
  std::string srtp_keying;
  /// DTLS-SRTP: how long the handshake took, ms (from media start to keys); -1 otherwise or before.
  double dtls_handshake_ms = -1;
  /// Render: DTLS datagrams (first byte 20..63, RFC 7983) dropped unread: from another address than the
  /// peer's (or the ICE-selected one), or when no DTLS-SRTP was negotiated.
  std::uint64_t dtls_dropped = 0;
  /// True when RTCP shares the RTP port (RFC 5761 rtcp-mux, negotiated in SDP or implied by ICE; see
  /// `rtp_opus_config::rtcp_mux`); false when it has a port of its own (`a=rtcp`, else RTP port + 1).
  bool rtcp_mux = false;
  /// DTLS-SRTP without rtcp-mux: how long the RTCP component's own handshake took (RFC 5764 §4.1: its keys
  /// protect SRTCP), ms from media start; -1 otherwise, before, or when it failed (RTCP is then not sent).
  double rtcp_dtls_handshake_ms = -1;
  /// RTCP compound packets (RFC 3550 §6.1): capture, sent to the peer; render, received from the peer and
  /// accepted (right source, SRTCP authenticated, parsed). Neither counts the packets of `packets`.
  std::uint64_t rtcp_packets = 0;

  // ---- NAT traversal (issue 9; ptapi additions) ----
  /// Our RTP transport address as the last offer or answer advertised it (SDP `c=` and `m=` port): the
  /// bound (host) address, the server-reflexive one learned through STUN (`rtp_opus_config::stun_server`,
  /// RFC 8445 §5.1.1.2), or the configured public address; empty/0 before the first offer or answer.
  std::string local_address;
  std::uint16_t local_port = 0;  ///< See `local_address`.
  /// True when `local_address`/`local_port` are server-reflexive (learned from the STUN server).
  bool server_reflexive = false;
  /// Why STUN gathering failed, when a STUN server is configured and the host address was advertised
  /// instead (e.g. "STUN transaction timed out"); empty when it succeeded or none is configured.
  std::string stun_error;
  /// How long STUN gathering took, in ms (from the call's creation to the server's last answer, or to the
  /// failure); -1 without a STUN server.
  double gathering_ms = -1;
  /// Render: STUN messages (RFC 7983 first byte 0..3) that arrived on the media sockets and were dropped
  /// unread as RTP/RTCP, e.g. late answers to gathering's retransmitted requests.
  std::uint64_t stun_dropped = 0;
  /// ICE (RFC 8445; `rtp_opus_config::ice`): "checking", "connected" (a pair is selected: `remote_address`
  /// and `remote_port` are its remote candidate) or "failed"; empty when ICE is not in use on the stream.
  std::string ice_state;
  /// From the start of ICE checks (media start) to the first selected pair, in ms; -1 before or without ICE.
  double ice_connect_ms = -1;
  /// Render: the peer's connectivity checks answered (authenticated Binding requests, RFC 8445 §7.3).
  std::uint64_t ice_checks_answered = 0;
  /// The relayed transport address allocated on the TURN server (`rtp_opus_config::turn_server`, RFC 8656
  /// §7.3) and offered as ICE's relayed candidate; empty/0 without TURN or when the allocation failed.
  std::string relayed_address;
  std::uint16_t relayed_port = 0;  ///< See `relayed_address`.
  /// Why the TURN allocation (or a permission or channel on it) failed, e.g. "STUN transaction timed out"
  /// or the 401 of wrong credentials; empty when it succeeded or no TURN server is configured.
  std::string turn_error;
  /// True while the ICE pair in use has the relayed candidate as its local side: media goes through the
  /// TURN server.
  bool ice_relayed = false;
  /// Datagrams (RTP, RTCP, ICE checks) sent through the TURN relay (capture stream), or received from it
  /// (render stream): Send indications or ChannelData (RFC 8656 §11-§12).
  std::uint64_t relayed_datagrams = 0;
  /// Capture: of `relayed_datagrams`, those sent as ChannelData (4-byte header, RFC 8656 §12.4) on the
  /// channel bound to the selected pair; the rest went as Send indications (36 bytes more, §11.1).
  std::uint64_t relayed_channel_data = 0;
};

/// One media stream of a call, in one direction (TAPI's `ITStream`).
///
/// Rules (TAPI 3, `ITStream::SelectTerminal` and `StartStream`):
/// - A terminal's media type must be the stream's (`tapi_errc::invalid_media_type`) and its direction
///   the stream's (`tapi_errc::invalid_direction`); a terminal is on one stream at a time
///   (`tapi_errc::terminal_in_use`); a stream takes up to `max_terminals` (`tapi_errc::max_terminals`):
///   several capture terminals are mixed, several render terminals each get every frame.
/// - The desired state starts as running. `start_stream`/`pause_stream`/`stop_stream` change it at any
///   time, with or without terminals; selecting a terminal therefore starts media unless the
///   application paused or stopped the stream more recently than it started it.
/// - Media flows (the stream is *active*) when the desired state is running, at least one terminal is
///   selected and the MSP's transport is ready. Entering and leaving that condition raise
///   `stream_active` / `stream_inactive`; a terminal that cannot start raises `terminal_fail` (and
///   `stream_fail` when it was the only one) and is unselected.
///
/// A stream that has an event sink must be owned by a `std::shared_ptr` (events carry `shared_from_this()`;
/// otherwise the raising call throws std::bad_weak_ptr); `raise` always requires it.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; every method may be called from any thread. Events go to
/// the sink given at construction, called after the stream's lock is released. Terminals' `on_stream_active`
/// (and, from `with_active_terminals`, their frame calls) run under the stream's lock: a terminal must
/// not call back into its stream from them.
class stream : public std::enable_shared_from_this<stream> {
 public:
  /// Where the stream sends its events (its MSP call, which queues them as ME_CALL_EVENT).
  using event_sink = std::function<void(stream_event)>;
  /// Where events of the selected terminals go (its MSP call, which queues them as ME_FILE_TERMINAL_EVENT).
  using terminal_event_sink = std::function<void(const terminal_ptr&, const terminal_event&)>;

  /// @param media the stream's media type (audio).
  /// @param direction capture (local → remote) or render (remote → local).
  /// @param name shown to applications (ITStream::get_Name).
  /// @param sink receives this stream's call-media events; may be empty.
  /// @param terminal_sink receives the events of terminals while they are selected here; may be empty.
  /// @param max_terminals how many terminals the stream accepts (storage reserved here).
  /// Throws only std::bad_alloc.
  stream(media_type media, terminal_direction direction, std::string name, event_sink sink,
         terminal_event_sink terminal_sink = {}, std::size_t max_terminals = 8)
      : media_(media), direction_(direction), name_(std::move(name)), sink_(std::move(sink)),
        terminal_sink_(std::move(terminal_sink)), max_terminals_(max_terminals) {
    terminals_.reserve(max_terminals_);
  }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  virtual ~stream() {
    for (auto& t : terminals_) {
      t->set_event_sink({});  // the sink forwards to this stream's MSP call: do not leave it behind
      t->release(this);
    }
  }

  /// ITStream::get_MediaType
  [[nodiscard]] media_type media() const noexcept { return media_; }
  /// ITStream::get_Direction
  [[nodiscard]] terminal_direction direction() const noexcept { return direction_; }
  /// ITStream::get_Name
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// ITStream::StartStream: desired state running. Never fails.
  void start_stream() { set_desired(stream_desired_state::running); }
  /// ITStream::PauseStream: desired state paused; media stops flowing, terminals stay selected.
  void pause_stream() { set_desired(stream_desired_state::paused); }
  /// ITStream::StopStream: desired state stopped; media stops flowing, terminals stay selected.
  void stop_stream() { set_desired(stream_desired_state::stopped); }
  /// The application's current wish for the stream (ptapi addition; TAPI does not expose it). No errors.
  [[nodiscard]] stream_desired_state desired_state() const {
    std::lock_guard lock(mutex_);
    return desired_;
  }
  /// True while media flows (between `stream_active` and `stream_inactive`). No errors.
  [[nodiscard]] bool active() const {
    std::lock_guard lock(mutex_);
    return active_;
  }

  /// ITStream::SelectTerminal. Errors: `invalid_terminal` (null), `invalid_media_type`,
  /// `invalid_direction`, `terminal_in_use` (on this or another stream), `max_terminals`.
  void select_terminal(const terminal_ptr& t, std::error_code& ec) {
    ec.clear();
    std::vector<stream_event> events;
    {
      std::lock_guard lock(mutex_);
      if (!t) {
        ec = tapi_errc::invalid_terminal;
        return;
      }
      if (t->media() != media_) {
        ec = tapi_errc::invalid_media_type;
        return;
      }
      if (t->direction() != direction_) {
        ec = tapi_errc::invalid_direction;
        return;
      }
      if (terminals_.size() >= max_terminals_) {
        ec = tapi_errc::max_terminals;
        return;
      }
      if (!t->claim(this)) {
        ec = tapi_errc::terminal_in_use;
        return;
      }
      terminals_.push_back(t);
      if (terminal_sink_) {
        std::weak_ptr<terminal> weak = t;
        t->set_event_sink([sink = terminal_sink_, weak](terminal&, const terminal_event& e) {
          if (auto strong = weak.lock()) sink(strong, e);
        });
      }
      if (active_) start_terminal_locked(t, events);  // joins a stream that is already flowing
      update_locked(call_media_cause::local_request, events);
    }
    emit(events);
  }
  /// ITStream::SelectTerminal, throwing `std::system_error` on the errors above.
  void select_terminal(const terminal_ptr& t) {
    std::error_code ec;
    select_terminal(t, ec);
    throw_if(ec, "select_terminal");
  }

  /// ITStream::UnselectTerminal. Error: `invalid_terminal` when `t` is not selected on this stream.
  void unselect_terminal(const terminal_ptr& t, std::error_code& ec) {
    ec.clear();
    std::vector<stream_event> events;
    {
      std::lock_guard lock(mutex_);
      auto it = std::find(terminals_.begin(), terminals_.end(), t);
      if (!t || it == terminals_.end()) {
        ec = tapi_errc::invalid_terminal;
        return;
      }
      if (active_) (void)t->on_stream_active(false);
      t->set_event_sink({});
      t->release(this);
      terminals_.erase(it);
      update_locked(call_media_cause::local_request, events);
    }
    emit(events);
  }
  /// ITStream::UnselectTerminal, throwing `std::system_error` on the error above.
  void unselect_terminal(const terminal_ptr& t) {
    std::error_code ec;
    unselect_terminal(t, ec);
    throw_if(ec, "unselect_terminal");
  }

  /// ITStream::EnumerateTerminals: the selected terminals, in selection order (a copy). No errors.
  [[nodiscard]] std::vector<terminal_ptr> terminals() const {
    std::lock_guard lock(mutex_);
    return terminals_;
  }

  /// Transport figures (RTCP-style, RFC 3550 §6.4; units in `stream_statistics`); zeros for an MSP
  /// without transport. No errors. (ptapi addition; TAPI 3 has no per-stream statistics.)
  [[nodiscard]] virtual stream_statistics statistics() const { return {}; }

  // -- For the MSP that owns the stream; applications do not call these. --

  /// The MSP reports whether its transport can carry media (negotiated and started by the TSP); may
  /// raise `stream_active`/`stream_inactive` with `cause`. No errors.
  void set_transport_ready(bool ready, call_media_cause cause) {
    std::vector<stream_event> events;
    {
      std::lock_guard lock(mutex_);
      transport_ready_ = ready;
      update_locked(cause, events);
    }
    emit(events);
  }

  /// Calls `f(std::span<const terminal_ptr>)` under the stream's media lock when the stream is active,
  /// and returns whether it was. The MSP's media clock uses this once per frame: no allocation, and
  /// terminals' read/write calls are serialised with selection changes. `f` must not call any member of
  /// this stream (self-deadlock). Exceptions from `f` propagate (the lock is released).
  template <class F>
  bool with_active_terminals(F&& f) {
    std::lock_guard lock(mutex_);
    if (!active_) return false;
    std::forward<F>(f)(std::span<const terminal_ptr>(terminals_));
    return true;
  }

  /// Unselects every terminal and stops media (the call is being shut down; CMSPStream::ShutDown).
  /// Raises `stream_inactive` if media was flowing. No errors.
  void shutdown(call_media_cause cause) {
    std::vector<stream_event> events;
    {
      std::lock_guard lock(mutex_);
      transport_ready_ = false;
      update_locked(cause, events);
      for (auto& t : terminals_) {
        t->set_event_sink({});
        t->release(this);
      }
      terminals_.clear();
    }
    emit(events);
  }

  /// Raises an event on behalf of the MSP (e.g. `stream_fail` when the transport breaks;
  /// CMSPCallBase::HandleStreamEvent's role). Requires shared ownership (std::bad_weak_ptr otherwise).
  void raise(call_media_kind e, call_media_cause cause, std::error_code error = {}, terminal_ptr t = {}) {
    emit({stream_event{e, cause, shared_from_this(), std::move(t), error}});
  }

 private:
  void set_desired(stream_desired_state s) {
    std::vector<stream_event> events;
    {
      std::lock_guard lock(mutex_);
      desired_ = s;
      update_locked(call_media_cause::local_request, events);
    }
    emit(events);
  }

  // Starts one terminal on a flowing stream; a failure unselects it and raises terminal_fail.
  bool start_terminal_locked(const terminal_ptr& t, std::vector<stream_event>& events) {
    if (auto ec = t->on_stream_active(true)) {
      t->set_event_sink({});
      t->release(this);
      terminals_.erase(std::remove(terminals_.begin(), terminals_.end(), t), terminals_.end());
      events.push_back({call_media_kind::terminal_fail, call_media_cause::bad_device, nullptr, t, ec});
      if (terminals_.empty()) {
        events.push_back({call_media_kind::stream_fail, call_media_cause::bad_device, nullptr, t, ec});
      }
      return false;
    }
    return true;
  }

  // Recomputes `active_` and collects the events of the change.
  void update_locked(call_media_cause cause, std::vector<stream_event>& events) {
    const bool should = desired_ == stream_desired_state::running && transport_ready_ && !terminals_.empty();
    if (should == active_) return;
    if (should) {
      active_ = true;
      auto copy = terminals_;  // a failing terminal is removed from terminals_
      for (auto& t : copy) start_terminal_locked(t, events);
      if (terminals_.empty()) {
        active_ = false;
        return;
      }
      events.push_back({call_media_kind::stream_active, cause, nullptr, {}, {}});
    } else {
      active_ = false;
      for (auto& t : terminals_) (void)t->on_stream_active(false);
      events.push_back({call_media_kind::stream_inactive, cause, nullptr, {}, {}});
    }
  }

  void emit(std::vector<stream_event> events) {
    if (!sink_ || events.empty()) return;
    auto self = shared_from_this();
    for (auto& e : events) {
      e.source = self;
      sink_(std::move(e));
    }
  }

  const media_type media_;
  const terminal_direction direction_;
  const std::string name_;
  const event_sink sink_;
  const terminal_event_sink terminal_sink_;
  const std::size_t max_terminals_;
  mutable std::mutex mutex_;
  std::vector<terminal_ptr> terminals_;
  stream_desired_state desired_ = stream_desired_state::running;
  bool transport_ready_ = false;
  bool active_ = false;
};

}  // namespace mspi
