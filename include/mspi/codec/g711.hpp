// ptapi - portable TAPI
// mspi/codec/g711.hpp: G.711 μ-law (PCMU) and A-law (PCMA) companding (ITU-T G.711), as carried over RTP
// by RFC 3551 §4.5.14 (static payload types 0 and 8, 8000 Hz clock, one octet per sample).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mspi {

/// RTP payload type of PCMU, μ-law (RFC 3551 §6, Table 4).
inline constexpr int pcmu_payload_type = 0;
/// RTP payload type of PCMA, A-law (RFC 3551 §6, Table 4).
inline constexpr int pcma_payload_type = 8;
/// Sampling rate and RTP clock rate of G.711, in Hz (RFC 3551 §4.5.14).
inline constexpr int g711_rate_hz = 8000;

/// Encodes one 16-bit linear sample as a μ-law octet (ITU-T G.711 §3; bit-based, the 14-bit magnitude
/// with a bias of 33, eight segments of 16 steps, all bits inverted). 0 gives 0xFF; full scale gives
/// 0x80 (positive) and 0x00 (negative). Never throws; pure; no allocation; any thread.
constexpr std::uint8_t linear_to_ulaw(std::int16_t sample) noexcept {
  int x = sample >> 2;  // G.711 μ-law works on 14 bits
  std::uint8_t mask = 0xFF;
  if (x < 0) {
    x = -x;
    mask = 0x7F;  // sign bit 0 after the inversion below
  }
  x = std::min(x, 8159) + 33;  // clip, then bias: the magnitude is 33..8192
  const int segment = std::max(0, static_cast<int>(std::bit_width(static_cast<unsigned>(x))) - 6);
  if (segment > 7) return static_cast<std::uint8_t>(0x7F ^ mask);
  const int code = (segment << 4) | ((x >> (segment + 1)) & 0x0F);
  return static_cast<std::uint8_t>(code ^ mask);
}

/// Decodes a μ-law octet to a 16-bit linear sample (ITU-T G.711 Table 2a, scaled to 16 bits): the
/// middle of the octet's quantisation interval. Range ±32124; 0xFF and 0x7F give 0. Never throws; pure.
constexpr std::int16_t ulaw_to_linear(std::uint8_t code) noexcept {
  const unsigned u = ~code & 0xFFu;
  const int magnitude = ((static_cast<int>(u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07);
  return static_cast<std::int16_t>((u & 0x80) ? 0x84 - magnitude : magnitude - 0x84);
}

/// Encodes one 16-bit linear sample as an A-law octet (ITU-T G.711 §2; bit-based, the 13-bit magnitude,
/// eight segments of 16 steps, even bits inverted: XOR 0x55). 0 gives 0xD5; full scale gives 0xAA
/// (positive) and 0x2A (negative). Never throws; pure; no allocation; any thread.
constexpr std::uint8_t linear_to_alaw(std::int16_t sample) noexcept {
  int x = sample >> 3;  // G.711 A-law works on 13 bits
  std::uint8_t mask = 0xD5;  // sign bit 1 for positive values, then XOR 0x55
  if (x < 0) {
    x = -x - 1;  // one's complement magnitude: -1 maps to 0, like +0
    mask = 0x55;
  }
  if (x > 0x0FFF) return static_cast<std::uint8_t>(0x7F ^ mask);
  // Segment 0 and 1 share a step size (linear part of the A-law curve).
  const int segment = std::max(0, static_cast<int>(std::bit_width(static_cast<unsigned>(x))) - 5);
  const int quant = segment < 2 ? (x >> 1) & 0x0F : (x >> segment) & 0x0F;
  return static_cast<std::uint8_t>(((segment << 4) | quant) ^ mask);
}

/// Decodes an A-law octet to a 16-bit linear sample (ITU-T G.711 Table 1a, scaled to 16 bits): the
/// middle of the octet's quantisation interval. Range ±32256; 0xD5 gives 8, 0x55 gives -8. Never
/// throws; pure.
constexpr std::int16_t alaw_to_linear(std::uint8_t code) noexcept {
  const unsigned a = code ^ 0x55u;
  const unsigned segment = (a >> 4) & 0x07;
  int magnitude = static_cast<int>(a & 0x0F) << 4;
  magnitude += segment == 0 ? 8 : 0x108;
  if (segment > 1) magnitude <<= segment - 1;
  return static_cast<std::int16_t>((a & 0x80) ? magnitude : -magnitude);
}

/// Encodes `pcm` (8 kHz linear samples) as PCMU octets into `out`, one octet per sample, as many as both
/// spans hold. Returns the octets written (`min(pcm.size(), out.size())`). Never throws; no allocation.
inline std::size_t encode_pcmu(std::span<const std::int16_t> pcm, std::span<std::byte> out) noexcept {
  const std::size_t n = std::min(pcm.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(linear_to_ulaw(pcm[i]));
  return n;
}

/// Decodes PCMU octets (an RTP payload, RFC 3551 §4.5.14) into `pcm`, as many as both spans hold.
/// Returns the samples written (8 kHz). Never throws; no allocation.
inline std::size_t decode_pcmu(std::span<const std::byte> payload, std::span<std::int16_t> pcm) noexcept {
  const std::size_t n = std::min(pcm.size(), payload.size());
  for (std::size_t i = 0; i < n; ++i) pcm[i] = ulaw_to_linear(std::to_integer<std::uint8_t>(payload[i]));
  return n;
}

/// Encodes `pcm` (8 kHz linear samples) as PCMA octets into `out`; as `encode_pcmu`.
inline std::size_t encode_pcma(std::span<const std::int16_t> pcm, std::span<std::byte> out) noexcept {
  const std::size_t n = std::min(pcm.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(linear_to_alaw(pcm[i]));
  return n;
}

/// Decodes PCMA octets into `pcm` (8 kHz); as `decode_pcmu`.
inline std::size_t decode_pcma(std::span<const std::byte> payload, std::span<std::int16_t> pcm) noexcept {
  const std::size_t n = std::min(pcm.size(), payload.size());
  for (std::size_t i = 0; i < n; ++i) pcm[i] = alaw_to_linear(std::to_integer<std::uint8_t>(payload[i]));
  return n;
}

}  // namespace mspi
