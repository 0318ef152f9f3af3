// ptapi - portable TAPI
// mspi/rtp_opus/config.hpp: settings of the RTP/Opus MSP (which also speaks G.711 and RFC 4733 DTMF).
#pragma once

#include <mspi/codec/opus.hpp>
#include <mspi/inband_digit_detector.hpp>
#include <mspi/rtp/srtp_suite.hpp>
#include <mspi/tones.hpp>

#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mspi {

/// The audio codecs the RTP/Opus MSP can carry (one at a time per call, chosen by offer/answer).
enum class audio_codec : std::uint8_t {
  opus,  ///< Opus, `opus/48000/2`, dynamic payload type (RFC 7587); 48 kHz RTP clock.
  pcmu,  ///< G.711 μ-law, static payload type 0, `PCMU/8000` (RFC 3551 §4.5.14); 8 kHz RTP clock.
  pcma,  ///< G.711 A-law, static payload type 8, `PCMA/8000` (RFC 3551 §4.5.14); 8 kHz RTP clock.
};

/// Whether calls use SRTP (RFC 3711) with SDES keys (RFC 4568). See `rtp_opus_config::srtp`.
enum class srtp_policy : std::uint8_t {
  off,        ///< Plain RTP only: no `a=crypto` offered; an offer of RTP/SAVP is refused, `a=crypto` on RTP/AVP ignored.
  optional,   ///< Best effort (RFC 8643 style): offers RTP/AVP with `a=crypto`; SRTP when the peer answers
              ///< with a usable one, else plain RTP. Answers an RTP/SAVP offer with SRTP, and an RTP/AVP one
              ///< with SRTP when it carries a usable `a=crypto`.
  mandatory,  ///< Offers RTP/SAVP with `a=crypto`; a peer that offers or answers without a usable `a=crypto`
              ///< fails the negotiation (`media_error`: the TSP refuses the offer with 488 or ends the call).
};

/// How SRTP master keys are agreed (see `rtp_opus_config::srtp_keying`).
enum class srtp_key_exchange : std::uint8_t {
  sdes,  ///< SDES (RFC 4568): `a=crypto` lines carry the keys in the SDP; needs protected signalling.
  dtls,  ///< DTLS-SRTP (RFC 5763/5764): `a=fingerprint` + `a=setup` in the SDP, a DTLS handshake on the
         ///< RTP port exports the keys; nothing secret crosses the signalling, so clear SIP is fine.
};

/// Settings of `rtp_opus_msp` (one per address). Every call of the address uses them. Checked by
/// `rtp_opus_msp::initialize` (`tapi_errc::invalid_argument` outside the ranges below). A plain value.
struct rtp_opus_config {
  /// IPv4 or IPv6 address RTP and RTCP sockets bind to and offer. Empty (default): the paired TSP's
  /// signalling address (`msp_context::signalling_address`: the SIP TSP's `listen_address`), else 127.0.0.1;
  /// so a SIP program names its address once, in `sip_config`.
  std::string local_address;
  std::chrono::milliseconds ptime{20};       ///< Packet time: 10, 20, 40 or 60 ms (RFC 7587 §4.2; `a=ptime`).
  opus_config opus;                          ///< Encoder settings (bitrate, complexity, FEC, DTX); libopus's ranges.
  int payload_type = 111;                    ///< Dynamic RTP payload type offered for Opus (96-127).
  /// Codecs offered, in preference order, and the only ones accepted from a remote offer or answer:
  /// non-empty, each at most once. The default offers Opus, then PCMU, then PCMA; put `pcmu` first to
  /// prefer G.711 μ-law. Terminals stay 48 kHz: G.711 is resampled to and from 8 kHz on the media thread.
  std::vector<audio_codec> codecs{audio_codec::opus, audio_codec::pcmu, audio_codec::pcma};
  /// Dynamic RTP payload type offered for `telephone-event/8000` (RFC 4733 DTMF, `a=fmtp:<pt> 0-15`);
  /// 96-127 and different from `payload_type`; -1: telephone-event is neither offered nor accepted (a
  /// peer's offer of it is answered without it), so DTMF goes in-band (see `tones`).
  int telephone_event_payload_type = 101;
  /// In-band DTMF detection (TAPI DetectDigits(LINEDIGITMODE_DTMF) for peers that send DTMF as audio,
  /// typically G.711 ones without RFC 4733): one detector per call, made at call setup, fed the call's
  /// decoded received audio (after the jitter buffer, decimated to 8 kHz; frames holding concealment of a
  /// lost or late packet are left out, so a gap in a tone neither splits nor invents a digit); each digit
  /// is reported as `channel_message_type::inband_digit_detected` (the TSP raises it as a digit event whose
  /// source is in-band). Empty (default): RFC 4733 only, and no DSP library needed. Set it from the
  /// optional `dsp` component: `#include <mspi/dsp/dtmf_detector.hpp>` (link ptapi::dsp, spandsp) and
  /// `cfg.inband_digits = mspi::dsp::dtmf_detection();`.
  /// De-duplication, RFC 4733 wins: once the peer has sent one RFC 4733 event on the call, in-band digits
  /// are no longer reported for the rest of the call (a peer sending both sends the same digits twice;
  /// the event packets are handled on arrival, before the audio has passed the jitter buffer and the
  /// ~40 ms the detector needs, so the first digit too comes once, as RFC 4733). A peer that sends only
  /// audio is detected for the whole call, even when telephone-event was negotiated.
  inband_digit_detector_factory inband_digits;
  /// Tones on calls (ITLegacyCallMediaControl GenerateTone, GenerateCustomTones, DetectTones) and in-band
  /// GenerateDigits towards peers that did not negotiate RFC 4733 telephone-event: the makers of tone
  /// sources and detectors (made per request on the requesting thread, run on the media thread; 8 kHz,
  /// resampled to and from the calls' 48 kHz). Empty (default): those requests fail with
  /// `tapi_errc::not_supported` and digits go as RFC 4733 only, and no DSP library is needed. Set it from
  /// the optional `dsp` component: `#include <mspi/dsp/tone_media.hpp>` (link ptapi::dsp, spandsp) and
  /// `cfg.tones = mspi::dsp::tone_media();` (the tone plan of GenerateTone is its argument).
  tone_factory tones;
  int jitter_min_packets = 1;                ///< Jitter buffer: smallest target depth in packets (>= 1).
  int jitter_max_packets = 10;               ///< Jitter buffer: largest target depth in packets (min..16).
  /// Receiver: playout clock lead after the first packet (0..1000 ms); nullopt (default) = ptime/2 (at
  /// least 4 ms), plus ptime - gcd(ptime, remote a=ptime) when the remote's packets are of another duration.
  std::optional<std::chrono::milliseconds> playout_lead;
  /// Highest packet loss, in percent (0..100), the Opus encoder is told to expect when the peer's RTCP
  /// reports loss (its robustness and in-band FEC follow the reports; see `opus_config`).
  int max_expected_loss_percent = 30;
  /// RTCP report interval (> 0; RFC 3550 §6.2's minimum is 5 s, shorter is for tests); the first report
  /// goes after half of it.
  std::chrono::milliseconds rtcp_interval{5000};
  std::string cname = "ptapi@127.0.0.1";     ///< RTCP SDES CNAME (RFC 3550 §6.5.1), 1..255 bytes.
  /// Where received media may come from (RFC 4961 symmetric RTP; latching and its risks: RFC 7362 §3-5).
  /// - false (default, strict): RTP is accepted only from the remote RTP transport address of the SDP
  ///   (`c=` address and `m=` port), RTCP only from that address and the remote RTCP port (`a=rtcp`,
  ///   else RTP port + 1). Media goes there. Defends against injection and hijack by anyone who cannot
  ///   forge that source address (an off-path sender spraying our port); not against an on-path
  ///   attacker or one that spoofs the peer's address. A peer behind NAT whose packets come from
  ///   another address than its SDP says is not heard.
  /// - true (symmetric RTP latching, for peers behind NAT): until the latch, RTP from the SDP address is
  ///   accepted as above; RTP from any other address is a candidate, latched when it parses, carries a
  ///   negotiated payload type and passes RFC 3550 A.1 probation (2 consecutive sequence numbers of one
  ///   SSRC from that address). The first source accepted (the SDP address or a candidate) is latched
  ///   once per offer/answer (each start after a renegotiation re-arms it): from then on RTP is sent to
  ///   and accepted only from it, and RTCP accepted only from its IP (sent to the port of the first
  ///   RTCP received from it, until then to the SDP's RTCP address). Defends against stray packets and
  ///   sources that do not send a valid stream; NOT against an attacker who learns our port and streams
  ///   valid RTP to it before the peer's first packet arrives (it wins the latch), which strict mode
  ///   stops. Use it only for peers known to be behind NAT.
  bool symmetric_rtp = false;
  /// Calls this address (one MSP instance) carries at once (>= 1), whichever media threads of the pool
  /// (`mspi::media_pool`, `tspi::tapi_options::media_threads`) they run on: calls created and not yet shut
  /// down (ITMSPAddress::ShutdownMSPCall, i.e. until `disconnected`); one more is refused with
  /// `tapi_errc::call_unavailable` (SIP: 503 with Retry-After). Derivation of the default: the full Opus
  /// media path costs ~365 µs of CPU per 20 ms frame per call, both directions, at complexity 9
  /// (`benchmarks/README.md`, `ptapi_bench_media_path`), i.e. ~1.8 % of a core per call, so one media
  /// thread saturates near 55 calls; 24 calls keep one thread near 44 % busy, leaving headroom for RTCP,
  /// DTMF, G.711 resampling, jitter and a loaded machine, so that no live call loses packets to a late
  /// clock. It is a per-address figure, not scaled by the pool: raise it to about 24 × the media threads
  /// for Opus at complexity 9 (more for G.711 or lower complexity, after measuring with
  /// `ptapi_bench_calls`) to use every core from one address. The TAPI object's address keeps the TSP's own
  /// `max_active_calls` (LINEADDRESSCAPS); where this limit is lower, the MSP's refusal enforces it
  /// (the TSP answers the refused call as it does a full address).
  int max_calls = 24;
  /// File descriptors left free below the process's `RLIMIT_NOFILE` soft limit (>= 0): a new call (2 UDP
  /// sockets, RTP and RTCP) is refused with `tapi_errc::call_unavailable` when the descriptors open
  /// (`/proc/self/fd`) + 2 + this exceed the limit, rather than failing half set up. The default 64 keeps
  /// room for the signalling side (SIP connections), the media thread's reactor (3 on its first call),
  /// WAV files and logs.
  int reserved_fds = 64;
  /// SRTP with SDES key exchange (RFC 3711, RFC 4568): off (default), optional or mandatory; see
  /// `srtp_policy`. SDES sends the keys in the SDP, so it is used only when the signalling is protected
  /// (`msp_context::signalling_secured`) or `allow_sdes_over_insecure_signalling` is set; otherwise the
  /// policy acts as `off` for `optional` and makes every negotiation fail for `mandatory`.
  srtp_policy srtp = srtp_policy::off;
  /// The suites offered, in preference order, and the only ones accepted from a remote offer (first of the
  /// offer's lines that is in this list, RFC 4568 §7.1.2): non-empty, each at most once when `srtp` is not
  /// off. Each offer and answer carries a fresh random key per suite (OpenSSL RAND_bytes), so a
  /// re-INVITE re-keys both directions.
  std::vector<srtp_suite> srtp_suites{srtp_suite::aes_cm_128_hmac_sha1_80, srtp_suite::aead_aes_128_gcm,
                                      srtp_suite::aes_cm_128_hmac_sha1_32};
  /// The key exchange of `srtp` (optional or mandatory): SDES (default) or DTLS-SRTP, for offers and
  /// answers alike (an MSP speaks one). With `dtls`, the MSP makes a self-signed EC P-256 certificate at
  /// `initialize` (`dtls_certificate`, in memory only), offers `a=fingerprint` (its SHA-256) and
  /// `a=setup:actpass` on RTP/AVP (optional, RFC 8643 style: plain RTP with a peer that answers without a
  /// fingerprint) or UDP/TLS/RTP/SAVP (mandatory); an answer takes the offer's fingerprint and answers
  /// `a=setup:active` (RFC 5763 §5; `passive` when the offer says `active`). The handshake runs on the RTP
  /// port when media starts (`dtls_transport`); until it completes nothing is sent, and received RTP is
  /// dropped (`srtp_rejected`). A handshake that fails -- above all a peer certificate that matches none of
  /// its SDP fingerprints -- never falls back to plain RTP: media stays silent, both streams raise
  /// `stream_fail` (connect_fail, the `dtls_errc`), and the MSP sends `media_error` with the reason, on which
  /// the SIP TSP ends the call (BYE, `disconnected` with `line_disconnect_mode::incompatible`). The suites
  /// offered in the handshake are `srtp_suites`' (as use_srtp profiles, RFC 5764 §4.1.2).
  /// `allow_sdes_over_insecure_signalling` does not apply.
  srtp_key_exchange srtp_keying = srtp_key_exchange::sdes;
  /// RTP/RTCP multiplexing on one port (RFC 5761, RFC 8858) outside ICE (ICE always offers and requires it).
  /// true (default): offers of DTLS-SRTP calls (`srtp_keying` dtls) carry `a=rtcp-mux` next to `a=rtcp` (the
  /// RTCP port, for a peer that refuses, RFC 5761 §5.1.1), and any remote offer with `a=rtcp-mux` is
  /// answered with it (and `a=rtcp` naming the RTP port); then RTCP is sent to and read from the peer's RTP
  /// transport address on our RTP socket, told apart from RTP by its packet type (RFC 5761 §4) and from
  /// STUN/DTLS by its first byte (RFC 7983 §7), and with DTLS-SRTP one association keys SRTP and SRTCP.
  /// Plain RTP and SDES offers do not carry it (SIP peers and middleboxes that predate RFC 5761 expect RTCP
  /// on RTP port + 1, and there one key protects both anyway). A DTLS-SRTP peer that answers without it
  /// gets RTCP on the separate port, keyed by a second DTLS association there (RFC 5764 §4.1; see
  /// `stream_statistics::rtcp_dtls_handshake_ms`). false: no `a=rtcp-mux` in offers and answers, and RTCP
  /// always on its own port (except with ICE). The streams' statistics say what was used
  /// (`stream_statistics::rtcp_mux`).
  bool rtcp_mux = true;
  /// Lets SDES run over signalling that is not protected (SIP over UDP/TCP): anyone who reads the SIP
  /// messages then has the media keys. For tests and closed networks; false by default.
  bool allow_sdes_over_insecure_signalling = false;

  // ---- NAT traversal (issue 9) ----
  /// A STUN server (RFC 8489; an IP literal and port, of the family of `local_address`) through which each
  /// call learns the server-reflexive transport address of its RTP and RTCP sockets (RFC 8445 §5.1.1.2: one
  /// Binding transaction from each media socket itself, started when the call is created), which its offers
  /// and answers then advertise (`c=`, `m=` port, `a=rtcp` port) instead of the bound address. An offer or
  /// answer waits for the gathering, at most `stun_timeout` after the call's creation; on a timeout or an
  /// error the bound (host) address is advertised and the streams' statistics report it
  /// (`stream_statistics::stun_error`). Ignored when `public_address` is set. nullopt (default): no STUN.
  std::optional<boost::asio::ip::udp::endpoint> stun_server;
  /// The bound on STUN gathering (see `stun_server`), 10..10000 ms; the first retransmission timeout is an
  /// eighth of it (50..500 ms, RFC 8489 §6.2.1). It also bounds how long an offer or answer can be delayed
  /// (the TAPI object's thread waits for it).
  std::chrono::milliseconds stun_timeout{1000};
  /// An IP literal advertised in `c=` instead of the bound address (a static NAT mapping, a known public
  /// address; ports stay the bound ones); when set no STUN gathering happens. Empty (default): none. With
  /// the SIP TSP, set the same value as `sip_config::public_address` (which rewrites `c=` too).
  std::string public_address;
  /// ICE (RFC 8445, SDP per RFC 8839) for the audio stream, with RTP and RTCP on one port (RFC 5761
  /// rtcp-mux): offers and answers carry `a=ice-ufrag`, `a=ice-pwd`, `a=candidate` (host; server-reflexive
  /// with `stun_server`) and `a=rtcp-mux`; with a peer that does the same, connectivity checks run on the RTP
  /// socket once media starts, the offerer controlling with regular nomination, and media switches to the
  /// selected pair (`stream_statistics::ice_state`, `remote_address`). After selection, consent freshness
  /// (RFC 7675: a check about every 5 s; none answered for 30 s stops sending, `ice_state` "failed"). A
  /// peer without them (or without
  /// rtcp-mux): plain RTP as without ICE. The `c=`/`m=` lines keep the default candidate (server-reflexive,
  /// else host). false (default): no ICE attributes.
  bool ice = false;
  /// ICE pacing (Ta, RFC 8445 §14.2) and the checks' first retransmission timeout (RFC 8445 §14.3), ms:
  /// 5..1000 and 10..3000. Shorter values are for tests on loopback.
  std::chrono::milliseconds ice_ta{50};   ///< Ta, ms (see above).
  std::chrono::milliseconds ice_rto{500}; ///< RTO of a check, ms (see above).
  /// A TURN server (RFC 8656 over UDP; an IP literal and port, of the family of `local_address`) on which
  /// each call, when it is created, allocates a relayed transport address from its RTP socket itself
  /// (long-term credentials `turn_username`/`turn_password`, RFC 8489 §9.2), which its offers and answers
  /// with ICE advertise as a relayed candidate (`a=candidate ... typ relay raddr rport`, RFC 8839 §5.1;
  /// type preference 0, RFC 8445 §5.1.2.2). Connectivity checks and media of a pair whose local candidate
  /// is the relayed one go through the allocation (Send indications, ChannelData once the selected pair's
  /// channel is bound, RFC 8656 §11-§12); permissions are installed for every remote candidate's address
  /// (RFC 8656 §9). The allocation's XOR-MAPPED-ADDRESS is then the RTP socket's server-reflexive
  /// address (RFC 8656 §7.3, advertised in `c=`/`m=` with `a=rtcp` on the same port, RTCP multiplexed),
  /// and `stun_server` is not used. Like STUN gathering, the first offer or answer waits at most
  /// `stun_timeout` for the allocation; on failure no relayed candidate is offered and the streams'
  /// statistics say why (`stream_statistics::turn_error`). The allocation is deleted when the media stops.
  /// Requires `ice`. nullopt (default): no TURN.
  std::optional<boost::asio::ip::udp::endpoint> turn_server;
  /// The TURN account's username (RFC 8489 §14.3: at most 513 bytes; non-empty with `turn_server`).
  std::string turn_username;
  /// The TURN account's password (only an HMAC key derived from it is sent, RFC 8489 §9.2.2).
  std::string turn_password;
  /// ICE "relay only" policy (as libnice's and pjnath's): the relayed candidate is the only one offered and
  /// checked, and the `c=`/`m=` lines carry it (RFC 8445 §5.1.3 default candidate), so the peer never
  /// learns our host or server-reflexive address. Requires `turn_server`; when the allocation fails the
  /// call offers no candidate and ICE fails. false (default): host, server-reflexive and relayed.
  bool ice_relay_only = false;
};

}  // namespace mspi
