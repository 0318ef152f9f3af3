// ptapi - portable TAPI
// mspi/rtp_opus/call.hpp: the MSP call object of the RTP/Opus MSP (CMSPCallBase's role): two streams,
// SDP offer/answer over the TSP channel, and the media engine.
#pragma once

#include <mspi/channel.hpp>
#include <mspi/conference_bridge.hpp>
#include <mspi/ice/candidate.hpp>
#include <mspi/ice/credentials.hpp>
#include <mspi/ice/gathering.hpp>
#include <mspi/media_pool.hpp>
#include <mspi/msp_event.hpp>
#include <mspi/qos.hpp>
#include <mspi/rtp/dtls_certificate.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/rtp_opus/detail/negotiation.hpp>
#include <mspi/rtp_opus/detail/rtp_media.hpp>
#include <mspi/rtp/telephone_event.hpp>
#include <mspi/sdp.hpp>
#include <mspi/stream_control.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace mspi {

/// The MSP call of `rtp_opus_msp`: one audio capture stream ("Audio capture", local → remote) and one
/// audio render stream ("Audio render", remote → local), carried in RTP (RFC 3550) over UDP as Opus
/// (RFC 7587) or G.711 PCMU/PCMA (RFC 3551), with DTMF as RFC 4733 telephone events, negotiated with SDP
/// offer/answer (RFC 3264) through the TSP channel.
///
/// Channel protocol (see `channel.hpp`): `request_offer` [direction] → `local_offer`; `remote_offer` →
/// `local_answer`; `remote_answer` completes our offer; `start_media`/`stop_media` follow the call's
/// signalling; `generate_digits` → `digits_generated` or `generate_failed`; received DTMF →
/// `digit_detected`.
/// - Offers list `config().codecs` in order (default Opus, PCMU, PCMA) and `telephone-event/8000`; a
///   re-offer puts the session's current codec first, with its payload type. The o= version grows with
///   every offer and answer.
/// - An answer carries the first codec of the offer that is in `config().codecs` (RFC 3264 §6.1), plus
///   telephone-event when offered, with the offerer's payload types; its direction mirrors the offer's,
///   within the direction of the last `request_offer` (so a call we hold stays held).
/// - A remote offer or answer while media runs is applied at once: codec, remote address and
///   direction (we send only when both sides' directions allow it, and play out only likewise; the
///   streams' transport readiness follows).
/// - A description without a codec we support, or whose connection address is not an IP literal, gives
///   `media_error` and `stream_not_used` on both streams.
/// - SRTP (RFC 3711) with SDES keys (RFC 4568) follows `config().srtp` (see `srtp_policy`): offers carry
///   one `a=crypto` per `config().srtp_suites` with fresh keys (RTP/SAVP when mandatory, RTP/AVP when
///   optional); an answer takes the first acceptable line of the offer. A description that cannot meet
///   the policy gives `media_error` (body: the reason) and `stream_not_used`, like one without a codec.
///   Every offer and answer re-keys; the streams' statistics report `secured` and the suite.
/// - DTLS-SRTP (RFC 5763/5764) instead, with `config().srtp_keying` dtls: offers carry the MSP's certificate
///   fingerprint and `a=setup:actpass` (UDP/TLS/RTP/SAVP when mandatory), answers `a=setup:active`
///   (passive to an active offer); the handshake runs on the RTP port when media starts and its failure
///   (e.g. a fingerprint mismatch) gives stream_fail on both streams and `media_error` (see `rtp_media`).
/// - RTCP multiplexing (RFC 5761) follows `config().rtcp_mux`: DTLS-SRTP offers carry `a=rtcp-mux` (and
///   `a=rtcp`), an offer with it is answered with it; without it a DTLS-SRTP call keys SRTCP with a second
///   association on the RTCP port (RFC 5764 §4.1). ICE always multiplexes.
/// - NAT (issue 9): with `config().stun_server` the call learns its sockets' server-reflexive addresses
///   when it is created (RFC 8445 §5.1.1.2, see `ice::async_gather_server_reflexive`) and its offers and
///   answers advertise them (`c=`, `m=` port, `a=rtcp` port); the first offer or answer waits for that, at
///   most `config().stun_timeout` after creation, then falls back to the bound address. A
///   `config().public_address` is advertised instead of either. The streams' statistics report what was
///   advertised and why (`local_address`, `server_reflexive`, `stun_error`, `gathering_ms`).
///   With `config().turn_server` the gathering is a TURN Allocate from the RTP socket (RFC 8656 §7)
///   instead: its relayed address becomes ICE's relayed candidate (`relayed_address`, `turn_error`), its
///   XOR-MAPPED-ADDRESS the server-reflexive one; `config().ice_relay_only` offers the relayed one alone.
///
/// Source: TAPI 3's MSP call object (ITStreamControl, CMSPCallBase); RFC 3264 §5-§6 and §8 for
/// offer/answer and hold, RFC 4733 for DTMF.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: stream operations and the getters are safe from any thread;
/// `receive_tsp_data` and `shutdown` must be called from one thread at a time (the MSP address calls them
/// on the TAPI object's thread); the media runs on the one media thread of the pool it was assigned, which posts its own channel
/// messages (digit_detected, digits_generated, generate_failed) to the MSP's thread-safe event queue.
class rtp_opus_call final : public stream_control, public std::enable_shared_from_this<rtp_opus_call> {
 public:
  /// Keeps the settings and picks a random SDP session id; creates nothing else (public only for
  /// `std::make_shared`). Use `create`. Throws only std::bad_alloc and what std::random_device throws.
  rtp_opus_call(media_pool::assignment media, msp_handle handle, const rtp_opus_config& cfg,
                std::shared_ptr<msp_event_queue> events, bool signalling_secured = false,
                std::shared_ptr<const dtls_certificate> certificate = {})
      : media_io_(media.context()), media_thread_(std::move(media)), handle_(handle), cfg_(cfg),
        events_(std::move(events)), signalling_secured_(signalling_secured), certificate_(std::move(certificate)) {
    std::random_device rd;
    session_id_ = (static_cast<std::uint64_t>(rd()) << 32 | rd()) & 0x7fffffffffffffffULL;
  }

  /// Makes a call object with its two streams and bound RTP/RTCP sockets, whose media runs on the media
  /// thread of `media` (held until `shutdown`). `signalling_secured`: the call's signalling is protected
  /// (TLS), so SDES may be used (`msp_context::signalling_secured`). `certificate`: the MSP's, for
  /// DTLS-SRTP (`rtp_opus_config::srtp_keying`); without one a DTLS-SRTP negotiation fails.
  /// Errors: `std::errc::invalid_argument` when `cfg.local_address` is not an IP address; the system error
  /// when a socket cannot be opened or bound (null then). @throws std::system_error when `cfg` holds Opus or
  /// jitter-buffer settings out of range (`rtp_opus_msp::initialize` rejects those first).
  static std::shared_ptr<rtp_opus_call> create(media_pool::assignment media, msp_handle handle,
                                               const rtp_opus_config& cfg, std::shared_ptr<msp_event_queue> events,
                                               std::error_code& ec, bool signalling_secured = false,
                                               std::shared_ptr<const dtls_certificate> certificate = {}) {
    auto call = std::make_shared<rtp_opus_call>(std::move(media), handle, cfg, std::move(events), signalling_secured,
                                                std::move(certificate));
    call->init(ec);
    if (ec) return nullptr;
    return call;
  }

  /// The TAPI object's identifier of this call (MSP_HANDLE). Never throws.
  [[nodiscard]] msp_handle handle() const noexcept { return handle_; }

  /// The capture stream (audio sent to the remote party). Never throws.
  [[nodiscard]] stream_ptr capture_stream() const { return capture_; }
  /// The render stream (audio received from the remote party). Never throws.
  [[nodiscard]] stream_ptr render_stream() const { return render_; }

  /// ITMSPAddress::ReceiveTSPData for this call: one framed channel message from the TSP.
  /// No errors: malformed frames and unknown types are ignored; a remote description without a usable
  /// codec is answered with `media_error` and raises CME_STREAM_NOT_USED on both streams; a
  /// `request_offer` naming an unknown direction is answered with `media_error`; `start_media` before
  /// any negotiation raises CME_STREAM_FAIL (connect_fail) on both; a `generate_digits` body that is
  /// empty or holds a character other than `0-9 * # A-D` is answered with `generate_failed`.
  void receive_tsp_data(std::span<const std::byte> data) {
    auto msg = decode_channel_message(data);
    if (!msg) return;
    switch (msg->type) {
      case channel_message_type::request_offer: {
        auto direction = detail::parse_direction(msg->body);
        if (!direction) {
          tsp_send(channel_message_type::media_error, "request_offer: unknown direction (sendrecv, sendonly, recvonly, inactive)");
          break;
        }
        preferred_direction_ = *direction;
        send_offer(*direction);
        break;
      }
      case channel_message_type::remote_offer:
        if (auto n = read_remote(msg->body, true)) send_answer(*n);
        break;
      case channel_message_type::remote_answer: (void)read_remote(msg->body, false); break;
      case channel_message_type::start_media: start_media(); break;
      case channel_message_type::stop_media: stop_media(call_media_cause::remote_request); break;
      case channel_message_type::generate_digits: generate_digits(msg->body); break;
      default: break;
    }
  }

  /// TSPI_lineGenerateTone's media half (ITLegacyCallMediaControl::GenerateTone / GenerateCustomTones):
  /// from the next frame, `g`'s tone is sent in place of the capture (mode none and no custom tones: the
  /// tone or in-band digits playing stop). The source is made here (`rtp_opus_config::tones.generator`)
  /// and handed to the media thread. Errors (nothing changes): those of `mspi::validate(g)`;
  /// `tapi_errc::not_supported` when `rtp_opus_config::tones` has no generator (no `dsp` component);
  /// std::bad_alloc is thrown. Thread safety: any thread (the TAPI object's, in practice).
  std::error_code generate_tone(const tone_generation& g) {
    if (auto ec = validate(g)) return ec;
    if (!cfg_.tones.generator) return tapi_errc::not_supported;
    std::unique_ptr<tone_source> source;
    if (g.mode != tone_mode::none || !g.custom.empty()) source = cfg_.tones.generator(g);
    if (media_)
      boost::asio::post(*media_io_, [media = media_, s = std::move(source), d = g.duration]() mutable {
        media->generate_tone(std::move(s), d);
      });
    return {};
  }

  /// TSPI_lineMonitorTones' media half (ITLegacyCallMediaControl::DetectTones): from now on the decoded
  /// received audio is monitored for `tones` (replacing the previous list; empty: monitoring stops); each
  /// detection is sent to the TSP as `channel_message_type::tone_detected`. Errors (nothing changes): those
  /// of `mspi::validate(tones)`; `tapi_errc::not_supported` when `rtp_opus_config::tones` has no detector;
  /// std::bad_alloc is thrown. Thread safety: any thread.
  std::error_code detect_tones(std::span<const detect_tone> tones) {
    if (auto ec = validate(tones)) return ec;
    if (!cfg_.tones.detector) return tapi_errc::not_supported;
    std::unique_ptr<tone_detector> detector;
    if (!tones.empty()) detector = cfg_.tones.detector(tones);
    if (media_)
      boost::asio::post(*media_io_, [media = media_, d = std::move(detector)]() mutable { media->detect_tones(std::move(d)); });
    return {};
  }

  /// ITBasicCallControl::SetQOS's media half: from now on every packet of the call's RTP and RTCP sockets
  /// (media, RTCP, DTLS, STUN) carries the DiffServ code point of `level` (`dscp_of`: EF, 46, for `needed`
  /// and `if_available`; 0 for `best_effort`, a new call's level), set on the media thread (IP_TOS or
  /// IPV6_TCLASS). Marking is a request to the network (RFC 2474): a system that refuses the option
  /// (Windows ignores IP_TOS without qWAVE) sends unmarked. Errors (nothing changes): `tapi_errc::invalid_argument`
  /// for a value outside `qos_service_level`; `invalid_call_state` after `shutdown`. Thread safety: the
  /// thread of `shutdown` and `receive_tsp_data` (the TAPI object's). Throws only std::bad_alloc.
  std::error_code set_qos(qos_service_level level) {
    if (!valid(level)) return tapi_errc::invalid_argument;
    if (shut_down_) return tapi_errc::invalid_call_state;
    boost::asio::post(*media_io_, [media = media_, dscp = dscp_of(level)] { (void)media->set_dscp(dscp); });
    return {};
  }

  /// Stops media, unselects every terminal and frees its place on the media thread for another call
  /// (ITMSPAddress::ShutdownMSPCall). No errors.
  void shutdown() {
    shut_down_ = true;
    stop_media(call_media_cause::local_request);
    capture_->shutdown(call_media_cause::local_request);
    render_->shutdown(call_media_cause::local_request);
    media_thread_.release();
  }

  /// Mixes this call into the local conference `bridge` (see `conference_bridge`): from its next frame the
  /// call sends its capture (silence without a capture terminal) plus every other party's received
  /// audio, and its render terminals play its own party plus the others. Leaves the conference it was in.
  /// Errors: `std::errc::invalid_argument` when `bridge` is null or its frames are not this call's ptime;
  /// `tapi_errc::max_streams` when the bridge has `conference_bridge::max_parties` parties; `invalid_call_state`
  /// after `shutdown`. Any thread (the change is applied on the media thread). Throws only std::bad_alloc.
  void join_conference(const std::shared_ptr<conference_bridge>& bridge, std::error_code& ec) {
    ec.clear();
    if (!bridge || bridge->frame_samples() != samples_per_frame(static_cast<int>(cfg_.ptime.count())))
      ec = std::make_error_code(std::errc::invalid_argument);
    else if (shut_down_)
      ec = tapi_errc::invalid_call_state;
    if (ec) return;
    auto port = bridge->join();
    if (!port) {
      ec = tapi_errc::max_streams;
      return;
    }
    boost::asio::post(*media_io_, [media = media_, port] { media->set_conference(port); });
  }
  /// Takes this call out of its conference (the other parties continue without it); no effect outside
  /// one. Any thread. No errors; throws only std::bad_alloc.
  void leave_conference() {
    boost::asio::post(*media_io_, [media = media_] { media->set_conference(nullptr); });
  }

  /// True once `shutdown` ran (the call no longer counts against `rtp_opus_config::max_calls`). Same
  /// thread as `shutdown`. Never throws.
  [[nodiscard]] bool shut_down() const noexcept { return shut_down_; }

  /// Opus encoder lookahead in samples at 48 kHz (part of the mouth-to-ear delay with Opus; G.711 has
  /// none, its resampling adds 2 ms each way instead). Never throws.
  [[nodiscard]] int codec_lookahead_samples() const noexcept { return lookahead_; }

 private:
  void init(std::error_code& ec) {
    // The streams may outlive this call object (applications hold stream_ptr): their sinks capture the
    // shared queue and the handle, never `this`.
    auto post_stream_event = [q = events_, h = handle_](stream_event e) { q->post(msp_event{h, std::move(e)}); };
    auto post_terminal_event = [q = events_, h = handle_](const terminal_ptr& t, const terminal_event& e) {
      q->post(msp_event{h, msp_file_terminal_event{t, e}});
    };
    auto tx = std::make_shared<detail::rtp_counters>();
    auto rx = std::make_shared<detail::rtp_counters>();
    capture_ = std::make_shared<detail::rtp_stream>(terminal_direction::capture, "Audio capture", post_stream_event,
                                                    post_terminal_event, tx);
    render_ = std::make_shared<detail::rtp_stream>(terminal_direction::render, "Audio render", post_stream_event,
                                                   post_terminal_event, rx);
    add_stream(capture_);
    add_stream(render_);
    // The engine posts its channel messages (DTMF) from the media thread: the queue is thread safe.
    auto notify = [q = events_, h = handle_](channel_message_type type, std::string_view body) {
      q->post(msp_event{h, msp_tsp_data{encode_channel_message(type, body)}});
    };
    tx_ = tx;
    rx_ = rx;
    media_ = std::make_shared<detail::rtp_media>(media_io_, cfg_, capture_, render_, tx, rx, std::move(notify));
    lookahead_ = media_->lookahead_samples();
    media_->bind(ec);
    if (ec) return;
    rtp_port_ = media_->rtp_port();
    rtcp_port_ = media_->rtcp_port();
    if ((cfg_.stun_server || cfg_.turn_server) && cfg_.public_address.empty()) start_gathering();
    if (cfg_.ice) {
      ice_local_ = ice::make_credentials();  // kept for the call: a re-offer is no ICE restart
      ice_tie_breaker_ = mspi::detail::random_value<std::uint64_t>();
    }
  }

  // Server-reflexive gathering on the media thread (the sockets' executor); the result is waited for by
  // the first offer or answer (`advertised`).
  struct gathering_state {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;  // under mutex
    ice::reflexive_gathering result;
    bool turn = false;  // TURN (instead of STUN): the allocation's result below
    std::error_code turn_error;
    turn::allocate_result relay;
  };
  void start_gathering() {
    gathering_ = std::make_shared<gathering_state>();
    // A margin over the gatherer's own deadline, for a media thread that is busy when its timer expires.
    gathering_deadline_ = std::chrono::steady_clock::now() + cfg_.stun_timeout + std::chrono::milliseconds(200);
    const auto started = std::chrono::steady_clock::now();
    if (cfg_.turn_server) {  // RFC 8656 §7.3: the Allocate's XOR-MAPPED-ADDRESS is the server-reflexive one
      gathering_->turn = true;
      boost::asio::post(*media_io_, [media = media_, g = gathering_, cfg = cfg_, started] {
        media->gather_relayed(*cfg.turn_server, {cfg.turn_username, cfg.turn_password}, cfg.stun_timeout,
                              [g, started](std::error_code ec, const turn::allocate_result& r) {
                                {
                                  std::lock_guard lock(g->mutex);
                                  g->turn_error = ec;
                                  g->relay = r;
                                  g->result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - started);
                                  g->done = true;
                                }
                                g->done_cv.notify_all();
                              });
      });
      return;
    }
    boost::asio::post(*media_io_, [media = media_, g = gathering_, server = *cfg_.stun_server, t = cfg_.stun_timeout] {
      media->gather_server_reflexive(server, t, [g](const ice::reflexive_gathering& r) {
        {
          std::lock_guard lock(g->mutex);
          g->result = r;
          g->done = true;
        }
        g->done_cv.notify_all();
      });
    });
  }

  // Where our offers and answers say the media is: the public address, the server-reflexive addresses
  // (waiting for the gathering, bounded), else the bound address. Publishes it to the statistics.
  struct transport_address {
    std::string address;
    std::uint16_t rtp_port = 0, rtcp_port = 0;
  };
  transport_address advertised() {
    transport_address a{cfg_.public_address.empty() ? cfg_.local_address : cfg_.public_address, rtp_port_, rtcp_port_};
    detail::rtp_counters::local_state l;
    if (gathering_) {
      std::unique_lock lock(gathering_->mutex);
      const bool done = gathering_->done_cv.wait_until(lock, gathering_deadline_, [this] { return gathering_->done; });
      const auto& r = gathering_->result;
      if (gathering_->turn) {
        read_relay(done, a, l);
      } else if (done && !r.error) {
        a = {r.mapped[0].address().to_string(), r.mapped[0].port(), r.mapped[1].port()};
        l.server_reflexive = true;
        server_reflexive_ = r.mapped[0];
      } else {
        l.stun_error = done ? r.error.message() : "STUN gathering did not end in time";
      }
      l.gathering_ms = done ? static_cast<double>(r.elapsed.count()) / 1000.0
                            : static_cast<double>(cfg_.stun_timeout.count());
    }
    l.address = a.address;
    l.port = a.rtp_port;
    tx_->set_local(l);
    rx_->set_local(std::move(l));
    return a;
  }

  // The TURN allocation's outcome (under gathering_->mutex): the relayed candidate, and the RTP socket's
  // server-reflexive address (RTCP multiplexed: a=rtcp says the same port); with ice_relay_only the c= and
  // m= lines carry the relayed address (the default candidate, RFC 8445 §5.1.3).
  void read_relay(bool done, transport_address& a, detail::rtp_counters::local_state& l) {
    const auto& g = *gathering_;
    if (!done || g.turn_error) {
      l.turn_error = done ? g.turn_error.message() : "TURN allocation did not end in time";
      return;
    }
    relayed_ = g.relay.relayed;
    l.relayed_address = relayed_->address().to_string();
    l.relayed_port = relayed_->port();
    if (!g.relay.mapped.address().is_unspecified()) {
      server_reflexive_ = g.relay.mapped;
      l.server_reflexive = true;
      a = {g.relay.mapped.address().to_string(), g.relay.mapped.port(), g.relay.mapped.port()};
    }
    if (cfg_.ice_relay_only) {
      l.server_reflexive = false;
      a = {l.relayed_address, l.relayed_port, l.relayed_port};
    }
  }

  // Writes `a` into our description's c= and m= lines, and with ICE our credentials and candidates.
  void advertise(session_description& sd, const transport_address& a, bool with_ice) {
    sd.connection_address = a.address;
    sd.media[0].address = a.address;
    sd.media[0].port = a.rtp_port;
    sd.media[0].rtcp_port = a.rtcp_port;
    if (!with_ice) return;
    auto& m = sd.media[0];
    m.ice_ufrag = ice_local_.ufrag;
    m.ice_pwd = ice_local_.pwd;
    m.rtcp_mux = true;
    m.candidates = local_candidates();
  }

  // Our candidates for component 1 (RTP, RTCP multiplexed; RFC 8445 §5.1.1): the host candidate (not for
  // a wildcard bind, whose address is no interface's), the server-reflexive one learned through STUN when
  // it differs, then `relayed_candidates()`.
  std::vector<ice::candidate> local_candidates() const {
    std::vector<ice::candidate> out;
    boost::system::error_code bec;
    const auto host = boost::asio::ip::make_address(cfg_.local_address, bec);
    const boost::asio::ip::udp::endpoint base(host, rtp_port_);
    if (cfg_.ice_relay_only) return relayed_candidates();
    if (!bec && !host.is_unspecified())
      out.push_back({"1", 1, ice::candidate_priority(ice::candidate_type::host, 65535, 1), base, ice::candidate_type::host, {}});
    if (server_reflexive_ && *server_reflexive_ != base)
      out.push_back({"2", 1, ice::candidate_priority(ice::candidate_type::server_reflexive, 65535, 1), *server_reflexive_,
                     ice::candidate_type::server_reflexive, base});
    for (auto& c : relayed_candidates()) out.push_back(std::move(c));
    return out;
  }

  // The relayed candidate of the TURN allocation, if one was made (RFC 8445 §5.1.1.2; type preference 0,
  // §5.1.2.2; raddr/rport: the server-reflexive address the server saw, else the host one, RFC 8839 §5.1).
  // The engine's agent pairs it with the peer's candidates and sends through the allocation.
  std::vector<ice::candidate> relayed_candidates() const {
    if (!relayed_) return {};
    boost::system::error_code bec;
    const boost::asio::ip::udp::endpoint base(boost::asio::ip::make_address(cfg_.local_address, bec), rtp_port_);
    return {{"3", 1, ice::candidate_priority(ice::candidate_type::relayed, 65535, 1), *relayed_, ice::candidate_type::relayed,
             server_reflexive_ ? *server_reflexive_ : base}};
  }

  // Reads a remote offer (`is_offer`) or answer; on success records the negotiated media, with the
  // directions both sides allow, and applies it to running media.
  std::optional<detail::negotiated_media> read_remote(std::string_view body, bool is_offer) {
    auto sd = parse_sdp(body);
    auto n = sd ? detail::negotiate(*sd, cfg_.codecs) : std::nullopt;
    if (n && cfg_.telephone_event_payload_type < 0) n->telephone_event_payload_type = -1;  // not wanted
    boost::system::error_code bad_address;
    if (n) (void)boost::asio::ip::make_address(n->remote_address, bad_address);  // e.g. a host name: unusable
    if (!n || bad_address) {
      refuse("no usable audio stream (Opus, PCMU or PCMA) in the remote description");
      return std::nullopt;
    }
    if (!negotiate_srtp(sd->media[n->media_index], *n, is_offer)) return std::nullopt;
    negotiate_ice(sd->media[n->media_index], *n, is_offer);
    // rtcp-mux (RFC 5761 §5.1.1): an offer's is accepted by policy (or with ICE), an answer's only if we offered it.
    n->rtcp_mux = sd->media[n->media_index].rtcp_mux && (is_offer ? cfg_.rtcp_mux || n->ice : offered_rtcp_mux_);
    // Our side of the exchange: for an offer, the answer we are about to give; for an answer, our offer.
    if (is_offer) local_direction_ = detail::restrict_direction(preferred_direction_, *n);
    n->send = n->send && detail::direction_sends(local_direction_);
    n->receive = n->receive && detail::direction_receives(local_direction_);
    bool started = false;
    {
      std::lock_guard lock(mutex_);
      negotiated_ = n;
      started = media_started_;
    }
    if (started) apply(*n);
    return n;
  }

  void send_offer(media_direction direction) {
    std::optional<detail::negotiated_media> current;
    {
      std::lock_guard lock(mutex_);
      current = negotiated_;
    }
    local_direction_ = direction;
    auto formats = detail::offer_formats(cfg_, current ? &*current : nullptr);
    if (auto refusal = detail::sdes_refusal(cfg_, signalling_secured_); !refusal.empty())
      return tsp_send(channel_message_type::media_error, refusal);
    auto sd = detail::local_description(cfg_, session_id_, ++session_version_, rtp_port_, rtcp_port_, std::move(formats),
                                        direction);
    offered_crypto_.clear();
    if (detail::sdes_enabled(cfg_, signalling_secured_)) offered_crypto_ = detail::offer_crypto(cfg_);
    sd.media[0].crypto = offered_crypto_;
    advertise(sd, advertised(), cfg_.ice);
    if (dtls_keying() && certificate_)  // RFC 5763 §5: the offerer is actpass
      detail::describe_dtls(sd.media[0], *certificate_, sdp_setup::actpass, cfg_.srtp == srtp_policy::mandatory);
    else if (cfg_.srtp == srtp_policy::mandatory) sd.media[0].protocol = "RTP/SAVP";
    // RFC 5761 §5.1.1: a=rtcp-mux next to a=rtcp (the separate port, for a peer that refuses it).
    if (cfg_.rtcp_mux && dtls_keying() && certificate_) sd.media[0].rtcp_mux = true;
    offered_rtcp_mux_ = sd.media[0].rtcp_mux;
    tsp_send(channel_message_type::local_offer, to_string(sd));
  }

  void send_answer(const detail::negotiated_media& n) {
    auto sd = detail::local_description(cfg_, session_id_, ++session_version_, rtp_port_, rtcp_port_,
                                        detail::answer_formats(cfg_, n), local_direction_);
    sd.media[0].protocol = answered_protocol_;
    if (n.srtp) sd.media[0].crypto.push_back(n.srtp->local);
    if (n.dtls)  // RFC 5763 §5: the answerer's role; the offer's profile
      detail::describe_dtls(sd.media[0], *certificate_, n.dtls->role == dtls_role::client ? sdp_setup::active : sdp_setup::passive,
                            answered_protocol_ != "RTP/AVP");
    advertise(sd, advertised(), n.ice.has_value());
    if (n.rtcp_mux && !n.ice) {  // RFC 5761 §5.1.1: accepted; RFC 8858 §4.4: a=rtcp names the RTP port
      sd.media[0].rtcp_mux = true;
      sd.media[0].rtcp_port = sd.media[0].port;
    }
    tsp_send(channel_message_type::local_answer, to_string(sd));
  }

  // The SRTP part of reading a remote offer or answer (`m`: its chosen m-line): sets `n.srtp`, or reports
  // the failure like an unusable description (media_error with the reason, stream_not_used) and returns false.
  bool negotiate_srtp(const sdp_media& m, detail::negotiated_media& n, bool is_offer) {
    if (dtls_keying()) return negotiate_dtls(m, n, is_offer);
    const bool sdes = detail::sdes_enabled(cfg_, signalling_secured_);
    auto outcome = is_offer ? detail::answer_srtp(m, cfg_, sdes) : detail::accept_answer_srtp(m, offered_crypto_, cfg_);
    if (!outcome.error.empty()) {
      refuse(outcome.error);
      return false;
    }
    // Our answer's profile (RFC 3264 §6.1): the offer's SRTP-ness; AVPF/SAVPF feedback is not supported,
    // so they are answered as AVP/SAVP as before.
    if (is_offer) answered_protocol_ = detail::profile_of(m.protocol) == detail::rtp_profile::savp ? "RTP/SAVP" : "RTP/AVP";
    n.srtp = std::move(outcome.keys);
    return true;
  }

  // DTLS-SRTP's part of reading a remote offer or answer: sets `n.dtls`, or refuses like negotiate_srtp.
  bool negotiate_dtls(const sdp_media& m, detail::negotiated_media& n, bool is_offer) {
    auto outcome = is_offer ? detail::answer_dtls(m, cfg_, certificate_) : detail::accept_answer_dtls(m, cfg_, certificate_);
    if (!outcome.error.empty()) {
      refuse(outcome.error);
      return false;
    }
    if (is_offer) answered_protocol_ = outcome.dtls && detail::profile_of(m.protocol) == detail::rtp_profile::dtls_savp
                                           ? "UDP/TLS/RTP/SAVP" : "RTP/AVP";
    if (is_offer && outcome.dtls && m.setup == sdp_setup::actpass) {  // a re-offer: keep our role, and so the
      std::lock_guard lock(mutex_);                                  // association (RFC 5763 §6.7.1)
      if (negotiated_ && negotiated_->dtls && negotiated_->dtls->remote == outcome.dtls->remote)
        outcome.dtls->role = negotiated_->dtls->role;
    }
    n.dtls = std::move(outcome.dtls);
    return true;
  }
  [[nodiscard]] bool dtls_keying() const noexcept {
    return cfg_.srtp != srtp_policy::off && cfg_.srtp_keying == srtp_key_exchange::dtls;
  }

  // ICE when we and the peer both do it (RFC 8445 §6.1.1: the offerer controls; the role is kept across
  // re-offers); otherwise `n.ice` stays empty and media is plain RTP.
  void negotiate_ice(const sdp_media& m, detail::negotiated_media& n, bool is_offer) {
    if (!cfg_.ice) return;
    auto s = detail::remote_ice(m);
    if (!s) return;
    if (!ice_controlling_) ice_controlling_ = !is_offer;
    s->local = ice_local_;
    s->controlling = *ice_controlling_;
    s->tie_breaker = ice_tie_breaker_;
    n.ice = std::move(s);
  }

  // A remote description we cannot use: media_error (body: `reason`) and stream_not_used on both streams.
  void refuse(std::string_view reason) {
    tsp_send(channel_message_type::media_error, reason);
    capture_->raise(call_media_kind::stream_not_used, call_media_cause::remote_request);
    render_->raise(call_media_kind::stream_not_used, call_media_cause::remote_request);
  }

  void tsp_send(channel_message_type type, std::string_view body) {
    events_->post(msp_event{handle_, msp_tsp_data{encode_channel_message(type, body)}});
  }

  void start_media() {
    std::optional<detail::negotiated_media> n;
    {
      std::lock_guard lock(mutex_);
      n = negotiated_;
      media_started_ = n.has_value();
    }
    if (!n) {
      capture_->raise(call_media_kind::stream_fail, call_media_cause::connect_fail, tapi_errc::operation_failed);
      render_->raise(call_media_kind::stream_fail, call_media_cause::connect_fail, tapi_errc::operation_failed);
      return;
    }
    apply(*n);
  }

  // Hands the negotiated media to the engine (first start or an update) and lets each stream flow only
  // in the directions the negotiation allows.
  void apply(const detail::negotiated_media& n) {
    boost::asio::post(*media_io_, [media = media_, n] { media->start(n); });
    capture_->set_transport_ready(n.send, call_media_cause::remote_request);
    render_->set_transport_ready(n.receive, call_media_cause::remote_request);
  }

  void stop_media(call_media_cause cause) {
    {
      std::lock_guard lock(mutex_);
      media_started_ = false;
    }
    capture_->set_transport_ready(false, cause);
    render_->set_transport_ready(false, cause);
    if (media_) boost::asio::post(*media_io_, [media = media_] { media->stop(); });
  }

  // Checks the digits here (the TSP's thread) and queues them on the media thread, which answers.
  void generate_digits(std::string_view body) {
    const auto request = parse_generate_digits(body);
    if (!request)
      return tsp_send(channel_message_type::generate_failed,
                      "the digit duration is not " + std::to_string(min_digit_duration_ms) + ".." +
                          std::to_string(max_digit_duration_ms) + " ms");
    const auto digits = request->digits;
    if (digits.empty()) return tsp_send(channel_message_type::generate_failed, "no digits to generate");
    for (char c : digits)
      if (!dtmf_event_code(c))
        return tsp_send(channel_message_type::generate_failed, "not a DTMF digit (0-9 * # A-D) in the request");
    // In-band audio for a peer without telephone-event, when the dsp component is there (the engine picks).
    const auto ms = request->duration_ms;
    std::unique_ptr<tone_source> inband =
        cfg_.tones.digits ? cfg_.tones.digits(digits, std::chrono::milliseconds(ms)) : nullptr;
    boost::asio::post(*media_io_, [media = media_, d = std::string(digits), ms, i = std::move(inband)]() mutable {
      media->generate_digits(d, ms, std::move(i));
    });
  }

  std::shared_ptr<boost::asio::io_context> media_io_;  // the assigned thread's
  media_pool::assignment media_thread_;                // counts this call in that thread's load until shutdown
  const msp_handle handle_;
  const rtp_opus_config cfg_;
  std::shared_ptr<msp_event_queue> events_;
  std::shared_ptr<detail::rtp_stream> capture_, render_;
  std::shared_ptr<detail::rtp_media> media_;
  std::shared_ptr<detail::rtp_counters> tx_, rx_;
  std::shared_ptr<gathering_state> gathering_;  // null without STUN
  std::chrono::steady_clock::time_point gathering_deadline_{};
  std::optional<boost::asio::ip::udp::endpoint> server_reflexive_;  // learned by the gathering
  std::optional<boost::asio::ip::udp::endpoint> relayed_;           // allocated on the TURN server
  ice::credentials ice_local_;                // with cfg_.ice: ours, for the whole call
  std::uint64_t ice_tie_breaker_ = 0;
  std::optional<bool> ice_controlling_;       // our role, from the first exchange with ICE
  std::uint16_t rtp_port_ = 0, rtcp_port_ = 0;
  int lookahead_ = 0;
  std::uint64_t session_id_ = 0, session_version_ = 0;
  media_direction preferred_direction_ = media_direction::sendrecv;  // from the last request_offer
  media_direction local_direction_ = media_direction::sendrecv;      // of our last offer or answer
  std::mutex mutex_;
  std::optional<detail::negotiated_media> negotiated_;
  bool media_started_ = false;  // between start_media and stop_media
  bool shut_down_ = false;      // TAPI object's thread only
  const bool signalling_secured_;            // SDES may be used without allow_sdes_over_insecure_signalling
  std::vector<sdp_crypto> offered_crypto_;   // our last offer's a=crypto lines (keys), for its answer
  std::string answered_protocol_ = "RTP/AVP";  // our answer's profile, from the last remote offer's
  bool offered_rtcp_mux_ = false;            // our last offer carried a=rtcp-mux
  const std::shared_ptr<const dtls_certificate> certificate_;  // the MSP's, for DTLS-SRTP
};

}  // namespace mspi
