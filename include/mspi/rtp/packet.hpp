// ptapi - portable TAPI
// mspi/rtp/packet.hpp: the RTP fixed header (RFC 3550 §5.1): writing, validating parsing, and
// 16-bit sequence number arithmetic.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace mspi {

namespace detail {
// Network byte order (RFC 3550 §5: all fields are big-endian). Callers check the bounds.
constexpr std::uint16_t load_u16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) | std::to_integer<unsigned>(p[1]));
}
constexpr std::uint32_t load_u32(const std::byte* p) noexcept {
  return (std::uint32_t{load_u16(p)} << 16) | load_u16(p + 2);
}
constexpr void store_u16(std::byte* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}
constexpr void store_u32(std::byte* p, std::uint32_t v) noexcept {
  store_u16(p, static_cast<std::uint16_t>(v >> 16));
  store_u16(p + 2, static_cast<std::uint16_t>(v));
}

/// RTP and RTCP version field value (RFC 3550 §5.1 "V", §6.4.1).
inline constexpr unsigned rtp_version = 2;
/// Size of the RTP fixed header without CSRCs (RFC 3550 §5.1), in bytes.
inline constexpr std::size_t rtp_fixed_header_bytes = 12;
}  // namespace detail

/// The fields of the RTP fixed header (RFC 3550 §5.1) that a ptapi sender sets.
/// Version is always 2; padding, extension and CSRC count are not represented (written as 0).
/// A plain value: thread safety as for any aggregate.
struct rtp_header {
  bool marker = false;             ///< M bit; for audio, the first packet of a talk spurt (RFC 3551 §4.1).
  std::uint8_t payload_type = 0;   ///< PT, 7 bits (0..127); dynamic types 96..127 for Opus (RFC 7587 §7).
  std::uint16_t sequence = 0;      ///< Sequence number, +1 per packet, wraps at 2^16.
  std::uint32_t timestamp = 0;     ///< Sampling instant in clock units (48000 Hz for Opus, RFC 7587 §4.1).
  std::uint32_t ssrc = 0;          ///< Synchronization source identifier.
};

/// Largest datagram ptapi sends or expects, in bytes (an Ethernet MTU). Sizes receive buffers.
/// (RFC 3550 §11 leaves this to the lower layer.)
inline constexpr std::size_t max_rtp_packet_bytes = 1500;

/// Writes an RTP packet (RFC 3550 §5.1): the 12-byte fixed header (V=2, P=0, X=0, CC=0) followed by
/// `payload`, into `out`.
/// Returns the bytes written (12 + payload.size()), or 0 when `out` is too small or
/// `h.payload_type` > 127; `out` is then left untouched.
/// Thread safety: pure function. No allocation.
inline std::size_t write_rtp(std::span<std::byte> out, const rtp_header& h, std::span<const std::byte> payload) noexcept {
  const std::size_t total = detail::rtp_fixed_header_bytes + payload.size();
  if (h.payload_type > 127 || payload.size() > out.size() || out.size() < total) return 0;
  std::byte* p = out.data();
  p[0] = static_cast<std::byte>(detail::rtp_version << 6);
  p[1] = static_cast<std::byte>((h.marker ? 0x80U : 0U) | h.payload_type);
  detail::store_u16(p + 2, h.sequence);
  detail::store_u32(p + 4, h.timestamp);
  detail::store_u32(p + 8, h.ssrc);
  std::copy(payload.begin(), payload.end(), p + detail::rtp_fixed_header_bytes);
  return total;
}

/// A parsed RTP packet: the header fields and the payload, a view into the parsed datagram
/// (valid as long as the datagram's bytes are).
struct rtp_packet_view {
  rtp_header header;                   ///< Fixed-header fields (CSRCs and extension are skipped).
  std::span<const std::byte> payload;  ///< Payload bytes, padding removed; may be empty.
};

/// Parses and validates one RTP datagram (RFC 3550 §5.1, validity checks of Appendix A.1):
/// - version must be 2;
/// - the CSRC list (CC × 4 bytes) is skipped;
/// - with X set, the header extension (§5.3.1: 16-bit profile field, 16-bit length in 32-bit words,
///   then the words) is skipped;
/// - with P set, the last octet is the padding count (it counts itself, so it must be ≥ 1) and that
///   many octets are stripped from the end; a count larger than what follows the header is malformed;
/// - payload types 72..76 are rejected: with RTP/RTCP multiplexing these octets are RTCP packet
///   types 200..204 with the M bit set (RFC 5761 §4), so the datagram is not RTP.
/// Returns std::nullopt for any truncated or malformed datagram. Never reads outside `datagram`.
/// Thread safety: pure function. No allocation.
inline std::optional<rtp_packet_view> parse_rtp(std::span<const std::byte> datagram) noexcept {
  const std::size_t size = datagram.size();
  if (size < detail::rtp_fixed_header_bytes) return std::nullopt;
  const std::byte* p = datagram.data();
  const unsigned b0 = std::to_integer<unsigned>(p[0]);
  const unsigned b1 = std::to_integer<unsigned>(p[1]);
  if ((b0 >> 6) != detail::rtp_version) return std::nullopt;
  const bool padding = (b0 & 0x20U) != 0;
  const bool extension = (b0 & 0x10U) != 0;
  const std::size_t csrc_count = b0 & 0x0FU;
  const auto payload_type = static_cast<std::uint8_t>(b1 & 0x7FU);
  if (payload_type >= 72 && payload_type <= 76) return std::nullopt;

  std::size_t offset = detail::rtp_fixed_header_bytes + 4 * csrc_count;
  if (offset > size) return std::nullopt;
  if (extension) {
    if (size - offset < 4) return std::nullopt;
    const std::size_t words = detail::load_u16(p + offset + 2);
    offset += 4;
    if ((size - offset) / 4 < words) return std::nullopt;
    offset += 4 * words;
  }
  std::size_t end = size;
  if (padding) {
    // The padding count octet is part of the padding, so at least one octet must follow the header.
    if (end == offset) return std::nullopt;
    const std::size_t count = std::to_integer<std::size_t>(p[end - 1]);
    if (count == 0 || count > end - offset) return std::nullopt;
    end -= count;
  }
  rtp_packet_view view;
  view.header.marker = (b1 & 0x80U) != 0;
  view.header.payload_type = payload_type;
  view.header.sequence = detail::load_u16(p + 2);
  view.header.timestamp = detail::load_u32(p + 4);
  view.header.ssrc = detail::load_u32(p + 8);
  view.payload = datagram.subspan(offset, end - offset);
  return view;
}

/// The signed distance `a - b` between two RTP sequence numbers modulo 2^16, in [-32768, 32767]
/// packets: positive when `a` is newer than `b` (e.g. `seq_delta(1, 65535) == 2` across the wrap).
/// RFC 3550 §5.1 / Appendix A.1 (sequence numbers wrap at 16 bits). Never throws; pure.
constexpr std::int32_t seq_delta(std::uint16_t a, std::uint16_t b) noexcept {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(a - b));
}

}  // namespace mspi
