// ptapi - portable TAPI
// mspi/rtp/telephone_event.hpp: the RTP payload of named telephone events (RFC 4733 §2.3), and the DTMF
// digits' event codes (RFC 4733 §3.2).
#pragma once

#include <mspi/rtp/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace mspi {

/// One telephone event as carried in RTP (RFC 4733 §2.3, Figure 1). A plain value.
struct telephone_event {
  std::uint8_t event = 0;     ///< Event code, 0..255 (DTMF digits are 0..15, see `dtmf_event_code`).
  bool end = false;           ///< E bit: this packet ends the event (RFC 4733 §2.3.3).
  std::uint8_t volume = 10;   ///< Power level in -dBm0, 0..63 (RFC 4733 §2.3.4; DTMF: 0..36 typical, 10 here).
  std::uint16_t duration = 0; ///< Duration so far, in RTP timestamp units of the event's clock (§2.3.5).
};

/// Size of one event in an RTP payload, in bytes (RFC 4733 §2.3).
inline constexpr std::size_t telephone_event_bytes = 4;

/// Writes `e` as the 4-byte payload `[event][E|R|volume][duration, big-endian]` (R, reserved, is 0).
/// Returns 4, or 0 when `out` is shorter than 4 bytes or `e.volume` > 63 (`out` untouched then).
/// RFC 4733 §2.3. Never throws; pure; no allocation.
inline std::size_t write_telephone_event(std::span<std::byte> out, const telephone_event& e) noexcept {
  if (out.size() < telephone_event_bytes || e.volume > 63) return 0;
  out[0] = static_cast<std::byte>(e.event);
  out[1] = static_cast<std::byte>((e.end ? 0x80U : 0U) | e.volume);
  detail::store_u16(out.data() + 2, e.duration);
  return telephone_event_bytes;
}

/// Parses the first event of a telephone-event payload (RFC 4733 §2.3; a payload may hold more, e.g.
/// with RFC 2198 redundancy, which this does not interpret). The R bit is ignored (§2.3.2: receivers
/// ignore it). nullopt when `payload` is shorter than 4 bytes. Never throws; pure; no allocation.
inline std::optional<telephone_event> parse_telephone_event(std::span<const std::byte> payload) noexcept {
  if (payload.size() < telephone_event_bytes) return std::nullopt;
  const unsigned b1 = std::to_integer<unsigned>(payload[1]);
  return telephone_event{std::to_integer<std::uint8_t>(payload[0]), (b1 & 0x80U) != 0,
                         static_cast<std::uint8_t>(b1 & 0x3FU), detail::load_u16(payload.data() + 2)};
}

/// The event code of a DTMF digit (RFC 4733 §3.2, Table 3): '0'..'9' → 0..9, '*' → 10, '#' → 11,
/// 'A'..'D' → 12..15. nullopt for any other character (lower case included). Never throws; pure.
constexpr std::optional<std::uint8_t> dtmf_event_code(char digit) noexcept {
  if (digit >= '0' && digit <= '9') return static_cast<std::uint8_t>(digit - '0');
  if (digit == '*') return std::uint8_t{10};
  if (digit == '#') return std::uint8_t{11};
  if (digit >= 'A' && digit <= 'D') return static_cast<std::uint8_t>(12 + (digit - 'A'));
  return std::nullopt;
}

/// The DTMF digit of an event code (the inverse of `dtmf_event_code`); nullopt for codes above 15
/// (other named events, e.g. 16 = flash). Never throws; pure.
constexpr std::optional<char> dtmf_digit(std::uint8_t event) noexcept {
  constexpr char digits[] = "0123456789*#ABCD";
  if (event > 15) return std::nullopt;
  return digits[event];
}

}  // namespace mspi
