// ptapi - portable TAPI
// mspi/channel.hpp: the framing of the TSP <-> MSP byte channel (LINE_SENDMSPDATA / ME_TSP_DATA).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mspi {

/// Message types on the TSP <-> MSP channel used by ptapi's SDP-based MSPs (RTP/Opus) and every TSP
/// that pairs with them (loopback, SIP). TAPI leaves the content of this channel to each TSP/MSP pair;
/// the TAPI object only carries the bytes, in order, per call (TAPI: TSPI_lineReceiveMSPData /
/// ITMSPAddress::ReceiveTSPData, LINE_SENDMSPDATA / ME_TSP_DATA). The framing is ptapi's own.
enum class channel_message_type : std::uint8_t {
  // TSP -> MSP
  /// Make a local SDP offer (a new call, or a re-offer during one, RFC 3264 §8); the MSP answers with
  /// local_offer. Body: the direction to offer, `sendrecv`, `sendonly` (hold: we only send), `recvonly`
  /// or `inactive`; empty means sendrecv. The direction also bounds our later answers. Another body:
  /// media_error.
  request_offer = 0x01,
  /// Body: the remote party's SDP offer (also a re-offer while media runs); the MSP answers with
  /// local_answer, and running media follows the new codec, address and direction at once.
  remote_offer = 0x02,
  /// Body: the remote party's SDP answer to our offer; running media follows it at once.
  remote_answer = 0x03,
  start_media = 0x04,    ///< Signalling says media may flow (the call is connected).
  stop_media = 0x05,     ///< Media must stop (the call is ending).
  /// Body: DTMF digits to send as RFC 4733 telephone events, characters `0-9 * # A-D` (at most 64
  /// queued), or as audio when telephone-event was not negotiated and `rtp_opus_config::tones` can make
  /// in-band DTMF; optionally followed by one space and each digit's duration in ms, which is also the
  /// pause after it (TSPI_lineGenerateDigits' dwDuration; `generate_digits_body`). The MSP replies
  /// digits_generated once all are sent, or generate_failed (also when a tone request or newer in-band
  /// digits cut them short, or for a duration outside `min/max_digit_duration`).
  generate_digits = 0x06,
  /// Body: a conference identifier, unique in the process (any bytes, chosen by the TSP side, e.g. the call
  /// hub's number). The call joins the local conference bridge of that identifier (made at its first join;
  /// shared by the MSP's addresses, so the calls of one conference may be on several): it then
  /// sends its capture plus the other parties' audio and plays everyone (`mspi::conference_bridge`).
  /// A refused join (the bridge is full) is answered with media_error.
  conference_join = 0x07,
  /// Empty body: the call leaves its conference; the other parties continue.
  conference_leave = 0x08,
  // MSP -> TSP
  local_offer = 0x81,    ///< Body: our SDP offer (RFC 3264 §5).
  local_answer = 0x82,   ///< Body: our SDP answer (RFC 3264 §6).
  media_error = 0x83,    ///< Body: a UTF-8 reason; negotiation or transport failed.
  /// Body: one DTMF digit character (`0-9 * # A-D`) received as an RFC 4733 event; each event is
  /// reported once, when its first packet arrives.
  digit_detected = 0x84,
  /// Body: a UTF-8 reason; a generate_digits request was refused (a character that is not a digit, no
  /// negotiated telephone-event, media not running or not sending) or abandoned (media stopped or
  /// renegotiated before all its digits were sent). One reply per refused or abandoned request.
  generate_failed = 0x85,
  /// Empty body: every digit of a generate_digits request has been sent (one reply per request, in order).
  digits_generated = 0x86,
  /// Body: one DTMF digit character (`0-9 * # A-D`) recognised in the decoded received audio (in-band
  /// DTMF, `rtp_opus_config::inband_digits`), once per key press. Never sent for a peer that has sent
  /// an RFC 4733 event on the call (those digits come as digit_detected; see `rtp_opus_config::inband_digits`).
  inband_digit_detected = 0x87,
  /// Body: the decimal `detect_tone::app_specific` of a tone of the call's DetectTones list recognised in
  /// the decoded received audio (`rtp_opus_config::tones`; TSPI: LINE_MONITORTONE). The TSP reports it
  /// with `line_event_sink::tone_detected`.
  tone_detected = 0x88,
  /// Empty body: the tone (or custom tones) of the last generate_tone request ended by itself: its
  /// duration elapsed or its burst is over (TSPI: LINE_GENERATE, LINEGENERATETERM_DONE). One report per
  /// tone request, this or tone_cancelled.
  tone_generated = 0x89,
  /// Body: a UTF-8 reason; the tone playing was cut short: a newer tone or in-band digit request replaced
  /// it, a stop request (`tone_mode::none`) ended it, or media stopped (LINEGENERATETERM_CANCEL).
  tone_cancelled = 0x8A,
};

/// The app-specific value of a `tone_detected` body (decimal, 1..10 digits, at most 2^32 - 1); nullopt
/// when the body is anything else. Never throws; pure.
inline std::optional<std::uint32_t> parse_tone_detected(std::string_view body) noexcept {
  if (body.empty() || body.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : body) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xFFFFFFFFu) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

/// Shortest and longest digit duration a generate_digits body may ask for (ms): ITU-T Q.24's shortest
/// DTMF signal, and the longest one RFC 4733 event (a 16-bit duration at a 48 kHz event clock, §2.5.1.3)
/// carries without splitting.
inline constexpr std::uint32_t min_digit_duration_ms = 40;
inline constexpr std::uint32_t max_digit_duration_ms = 1000;  ///< See `min_digit_duration_ms`.

/// A generate_digits body: `digits`, and ` <duration_ms>` unless `duration_ms` is 0 (the MSP's default
/// timing). Throws only std::bad_alloc; the values are not checked (the MSP checks them).
inline std::string generate_digits_body(std::string_view digits, std::uint32_t duration_ms) {
  std::string body(digits);
  if (duration_ms != 0) body += ' ' + std::to_string(duration_ms);
  return body;
}

/// A generate_digits body's parts (`parse_generate_digits`).
struct digit_request {
  std::string_view digits;        ///< Points into the body.
  std::uint32_t duration_ms = 0;  ///< 0: the MSP's default timing.
};
/// A generate_digits body split into its digits and duration (ms; 0 when the body has none): nullopt when
/// a duration is there but is not 1..5 decimal digits within `min/max_digit_duration_ms`. The digits are
/// not checked. Never throws; pure.
inline std::optional<digit_request> parse_generate_digits(std::string_view body) noexcept {
  const auto space = body.find(' ');
  if (space == std::string_view::npos) return digit_request{body, 0};
  const auto ms = body.substr(space + 1);
  if (ms.empty() || ms.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : ms) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v < min_digit_duration_ms || v > max_digit_duration_ms) return std::nullopt;
  return digit_request{body.substr(0, space), v};
}

/// Version of the framing below; a receiver drops frames of another version.
inline constexpr std::uint8_t channel_version = 1;

/// A decoded channel message; `body` points into the buffer that was decoded.
struct channel_message_view {
  channel_message_type type;  ///< The message type (may be a value not listed in the enum).
  std::string_view body;      ///< The body bytes (SDP text, a direction, digits or a UTF-8 reason); empty when none.
};

/// Frames a message: `[version:1][type:1][body length:4, big-endian][body]` (6 + body.size() bytes).
/// Precondition: `body.size()` < 2^32 bytes (the length field is 32-bit; not checked).
/// Errors: none (throws only std::bad_alloc). Thread safety: pure function.
inline std::vector<std::byte> encode_channel_message(channel_message_type type, std::string_view body = {}) {
  std::vector<std::byte> out(6 + body.size());
  const auto n = static_cast<std::uint32_t>(body.size());
  out[0] = std::byte{channel_version};
  out[1] = static_cast<std::byte>(type);
  out[2] = static_cast<std::byte>(n >> 24);
  out[3] = static_cast<std::byte>(n >> 16);
  out[4] = static_cast<std::byte>(n >> 8);
  out[5] = static_cast<std::byte>(n);
  for (std::size_t i = 0; i < body.size(); ++i) out[6 + i] = static_cast<std::byte>(body[i]);
  return out;
}

/// Decodes one framed message; nullopt when the frame is shorter than 6 bytes, the version differs
/// or the length does not match exactly. Never throws; pure; `body` views `frame`'s bytes.
inline std::optional<channel_message_view> decode_channel_message(std::span<const std::byte> frame) noexcept {
  if (frame.size() < 6 || frame[0] != std::byte{channel_version}) return std::nullopt;
  const std::uint32_t n = (std::to_integer<std::uint32_t>(frame[2]) << 24) |
                          (std::to_integer<std::uint32_t>(frame[3]) << 16) |
                          (std::to_integer<std::uint32_t>(frame[4]) << 8) | std::to_integer<std::uint32_t>(frame[5]);
  if (frame.size() - 6 != n) return std::nullopt;
  return channel_message_view{static_cast<channel_message_type>(frame[1]),
                              std::string_view(reinterpret_cast<const char*>(frame.data() + 6), n)};
}

}  // namespace mspi
