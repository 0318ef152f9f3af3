// softphone: what the demo measured, as text and as JSON.
#pragma once

#include <mspi/stream.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace softphone {

/// One direction of the call (talker's capture stream -> listener's render stream).
struct direction_report {
  std::uint64_t packets_sent = 0;      ///< RTP packets the talker's capture stream sent.
  std::uint64_t packets_received = 0;  ///< RTP packets the listener's render stream received.
  std::int64_t packets_lost = 0;       ///< Lost at the listener (RFC 3550 expected - received).
  double jitter_ms = 0;                ///< Interarrival jitter at the listener.
  std::uint64_t concealed = 0;         ///< Frames the listener concealed (PLC/FEC).
  std::uint64_t late = 0;              ///< Packets that reached the listener after their playout time.
  int jitter_buffer_ms = 0;            ///< The listener's jitter-buffer target depth at the end.
  std::optional<double> mouth_to_ear_ms;  ///< Measured by cross-correlation; none without both file terminals.
  double correlation = 0;              ///< Normalized correlation of the recording with what was played.
  long lag_samples = 0;                ///< Where the played audio starts in the recording (48 kHz samples).
  bool recorded = false;               ///< The listener recorded to a file (false: it used the speakers).
  double recorded_seconds = 0;         ///< Length of the listener's recording.
  bool audible = false;                ///< The recording is not silence.

  /// At least 80% of the packets arrived and (when recorded) the audio is not silence.
  [[nodiscard]] bool flowed(bool check_audio) const {
    return packets_sent > 0 && packets_received * 10 >= packets_sent * 8 && (!check_audio || audible);
  }
};

/// What a SIP call adds to the report (`softphone listen` / `softphone call`).
struct sip_report {
  std::string role;                ///< "caller" or "callee".
  std::string local;               ///< This phone's address-of-record.
  std::string remote;              ///< The far end: the dialled URI (caller) or the From URI (callee).
  std::vector<int> sip_responses;  ///< Responses to the call's INVITE (received by a caller, sent by a callee), in order: `call_info::provider_responses`.
  std::string digits_received;     ///< DTMF digits detected on the call (RFC 4733 or SIP INFO).
  std::vector<std::string> tones_received;  ///< US call-progress tones heard on the call ("ringback", "busy"), in order (DetectTones).
  std::string reason;              ///< Final failure response ("486 Busy Here"), empty when none.
  bool tls = false;                ///< The call's signalling went over TLS (`call_info::signalling_secured`).
};

/// The whole demo call; for a SIP call (`sip` set) the report of one phone: `forward` is what this phone
/// sent (packets_sent) and received (packets_received and the receive-side figures, its recording),
/// `reverse` the far end's view of what this phone sent, from its RTCP reports (packets_lost, jitter_ms).
struct demo_report {
  std::string codec = "opus";
  int ptime_ms = 20;
  std::vector<std::string> states;  ///< The caller's call states, in order.
  std::string end_cause;            ///< Cause of the caller's disconnected state ("normal", ...).
  direction_report forward;         ///< alice -> bob
  direction_report reverse;         ///< bob -> alice
  std::string play, record;
  bool play_temporary = false;
  bool connected = false, both_ways = false, normal_end = false;
  std::optional<sip_report> sip;    ///< Set for SIP calls.
  /// The SRTP suite protecting the media (SDES keys, e.g. "AES_CM_128_HMAC_SHA1_80"); none: plain RTP.
  std::optional<std::string> srtp_suite;
  /// How its keys were agreed: "sdes" or "dtls" (`stream_statistics::srtp_keying`); empty: plain RTP.
  std::string srtp_keying;
  /// RTCP (RFC 3550 §6) of a SIP call, from this phone's streams' statistics.
  struct rtcp_report {
    bool mux = false;                   ///< RTCP on the RTP port (RFC 5761, `stream_statistics::rtcp_mux`).
    std::uint64_t sent = 0;             ///< RTCP compound packets this phone sent.
    std::uint64_t received = 0;         ///< RTCP compound packets from the far end it accepted.
    std::optional<double> round_trip_ms;  ///< RFC 3550 §6.4.1 round trip from the far end's reports, ms.
    /// DTLS-SRTP without rtcp-mux: the RTCP port's own handshake, ms (RFC 5764 §4.1); none otherwise.
    std::optional<double> dtls_handshake_ms;
  } rtcp;
  /// Where this phone's SDP said its RTP is ("IP:port"; empty: unknown) and what that address is, by where
  /// it came from: "host", "public" (--public-address), "server-reflexive (STUN)" (--stun: a Binding
  /// response's XOR-MAPPED-ADDRESS), "server-reflexive (TURN)" (--turn: the Allocate response's
  /// XOR-MAPPED-ADDRESS, RFC 8656 §7.3) or "relayed (TURN)" (the relayed address itself).
  std::string media_address, media_address_kind;
  /// With --stun: why the STUN server gave no address (the host address was advertised); empty otherwise.
  std::string stun_error;
  /// With --ice: "connected" (media on the selected pair), "checking" or "failed"; empty when the call
  /// did not use ICE (no --ice, or a peer without it).
  std::string ice_state;
  /// With --ice: ms from the start of the checks to the first selected pair; none before or without ICE.
  std::optional<double> ice_connect_ms;
  /// With --ice, once a pair is selected: its remote candidate ("IP:port", where the media goes), and
  /// whether its local candidate is our TURN relayed one (the media leaves through the TURN server).
  std::string ice_remote;
  bool ice_relayed = false;
  /// With --turn: the relayed transport address allocated for the call ("IP:port"; empty when the
  /// allocation failed: `turn_error` says why), and the datagrams sent through it (RTP, RTCP, checks).
  std::string relayed_address, turn_error;
  std::uint64_t relayed_datagrams = 0;
};

/// Human-readable summary (several lines).
void print_report(std::ostream& out, const demo_report& r);

/// The JSON object `--json` prints as the last line.
nlohmann::json to_json(const demo_report& r);

/// The packet figures of one direction from the talker's capture stream `tx` and the listener's render
/// stream `rx` (either may be null: its figures stay 0).
direction_report measure(const mspi::stream_ptr& tx, const mspi::stream_ptr& rx);

}  // namespace softphone
