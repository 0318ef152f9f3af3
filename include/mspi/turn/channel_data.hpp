// ptapi - portable TAPI
// mspi/turn/channel_data.hpp: the ChannelData message (RFC 8656 §12.4, §12.5): a 4-byte header (channel
// number, length) before application data, what a TURN client and server exchange once a channel is bound.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mspi::turn {

/// Bytes of the ChannelData header: channel number (2), length (2) (RFC 8656 §12.4).
inline constexpr std::size_t channel_data_header_size = 4;
/// The first and last channel numbers a client may bind (RFC 8656 §12: 0x4000..0x4FFF; 0x5000..0xFFFF are
/// reserved so that the first byte stays in RFC 7983's TURN channel range 64..79).
inline constexpr std::uint16_t first_channel = 0x4000;
inline constexpr std::uint16_t last_channel = 0x4FFF;

/// Whether `channel` is one a client may bind (0x4000..0x4FFF, RFC 8656 §12). Thread safety: pure.
[[nodiscard]] constexpr bool valid_channel(std::uint16_t channel) noexcept {
  return channel >= first_channel && channel <= last_channel;
}

/// A received ChannelData message, read in place (a view into the caller's datagram).
struct channel_data {
  std::uint16_t channel = 0;             ///< The channel number, 0x4000..0x4FFF.
  std::span<const std::byte> payload;    ///< The application data: `length` bytes after the header.
};

/// Reads `datagram` as one ChannelData message (RFC 8656 §12.5, §12.6): the channel number in
/// 0x4000..0x4FFF and the length field no more than the bytes after the header. Over UDP the message may
/// be padded to a multiple of 4 bytes (§12.5), so bytes after `length` (at most 3 of them) are padding and
/// ignored; more than 3 is refused (not a message that a server built). Returns false (and leaves `out`
/// alone) otherwise, never reading outside `datagram`. Thread safety: pure. Allocation: none.
[[nodiscard]] constexpr bool parse_channel_data(std::span<const std::byte> datagram, channel_data& out) noexcept {
  if (datagram.size() < channel_data_header_size) return false;
  const auto channel = static_cast<std::uint16_t>((std::to_integer<unsigned>(datagram[0]) << 8) |
                                                  std::to_integer<unsigned>(datagram[1]));
  const std::size_t length = (std::to_integer<std::size_t>(datagram[2]) << 8) | std::to_integer<std::size_t>(datagram[3]);
  const std::size_t after = datagram.size() - channel_data_header_size;
  if (!valid_channel(channel) || length > after || after - length > 3) return false;
  out = {channel, datagram.subspan(channel_data_header_size, length)};
  return true;
}

/// The 4-byte ChannelData header for `length` bytes of data on `channel` (RFC 8656 §12.4). Over UDP the
/// client sends no padding (RFC 8656 §12.5 makes it optional there). `length` at most 65535 bytes (the
/// caller checks). Thread safety: pure.
[[nodiscard]] constexpr std::array<std::byte, channel_data_header_size> channel_data_header(std::uint16_t channel,
                                                                                          std::size_t length) noexcept {
  return {static_cast<std::byte>(channel >> 8), static_cast<std::byte>(channel & 0xFF),
          static_cast<std::byte>((length >> 8) & 0xFF), static_cast<std::byte>(length & 0xFF)};
}

}  // namespace mspi::turn
