// ptapi - portable TAPI
// mspi/turn/detail/messages.hpp: the TURN messages a client writes (Allocate, Refresh, CreatePermission,
// ChannelBind requests with long-term credentials; the head of a Send indication) and the attributes it
// reads from the server's (LIFETIME, XOR-PEER-ADDRESS + DATA of a Data indication). RFC 8656 §7-§12, §18.
// Internal to mspi/turn/allocation.hpp; bounded, no allocation.
#pragma once

#include <mspi/stun/message.hpp>

#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace mspi::turn::detail {

/// What one request asks (RFC 8656 §7.1 Allocate, §8.1 Refresh, §10.1 CreatePermission, §12.1 ChannelBind).
struct request_spec {
  stun::method method = stun::method::allocate;
  std::optional<std::uint32_t> lifetime;             // LIFETIME, seconds (Allocate, Refresh)
  std::optional<boost::asio::ip::udp::endpoint> peer;  // XOR-PEER-ADDRESS (CreatePermission, ChannelBind)
  std::uint16_t channel = 0;                         // CHANNEL-NUMBER (ChannelBind), 0 = none
};

/// Long-term credentials as sent (RFC 8489 §9.2.4): USERNAME, REALM and NONCE as given, and the key
/// MD5(username:realm:password) for MESSAGE-INTEGRITY.
struct long_term_auth {
  std::string_view username, realm, nonce;
  std::span<const std::byte> key;
};

/// The longest REALM and NONCE accepted from a server: RFC 8489 §14.9/§14.10 "fewer than 128 characters"
/// of up to 6 UTF-8 bytes each (763 bytes).
inline constexpr std::size_t max_realm_or_nonce = 763;
/// Bytes of the buffer a request is written into: the largest USERNAME (513 bytes, RFC 8489 §14.3), REALM
/// and NONCE, and the fixed attributes.
inline constexpr std::size_t max_request_size = 2200;

/// Writes the request `spec` with transaction `id` into `out`: REQUESTED-TRANSPORT UDP for Allocate
/// (RFC 8656 §7.1, protocol 17), LIFETIME, CHANNEL-NUMBER, XOR-PEER-ADDRESS, then with `auth` USERNAME,
/// REALM, NONCE and MESSAGE-INTEGRITY, and FINGERPRINT last. Returns the message (empty with `ec` set when
/// it does not fit: `stun_errc::buffer_too_small`).
inline std::span<const std::byte> write_request(const request_spec& spec, const stun::transaction_id& id,
                                                const long_term_auth* auth, std::span<std::byte> out,
                                                std::error_code& ec) noexcept {
  namespace at = stun::attribute_type;
  stun::message_writer w(out, spec.method, stun::message_class::request, id);
  if (spec.method == stun::method::allocate) w.add_u32(at::requested_transport, 17U << 24);  // UDP, RFFU zero
  if (spec.lifetime) w.add_u32(at::lifetime, *spec.lifetime);
  if (spec.channel != 0) w.add_u32(at::channel_number, std::uint32_t{spec.channel} << 16);  // channel, RFFU
  if (spec.peer) w.add_xor_address(at::xor_peer_address, *spec.peer);
  if (auth) {
    w.add(at::username, auth->username).add(at::realm, auth->realm).add(at::nonce, auth->nonce);
    w.add_message_integrity(auth->key);
  }
  w.add_fingerprint();
  ec = w.error();
  return w.bytes();
}

/// Bytes before DATA's value in a Send indication: header, XOR-PEER-ADDRESS (IPv6: 24), DATA's header.
inline constexpr std::size_t max_send_head = stun::header_size + 24 + 4;

/// Writes the head of a Send indication to `peer` (RFC 8656 §11.1): the header, XOR-PEER-ADDRESS and
/// DATA's attribute header for `length` bytes of data, the message length counting the data and its
/// padding (`(4 - length % 4) % 4` zero bytes the caller sends after the data). No FINGERPRINT (optional,
/// RFC 8656 §11.1). Returns the head, or an empty span when `length` does not fit a STUN message.
inline std::span<const std::byte> write_send_head(const boost::asio::ip::udp::endpoint& peer,
                                                  const stun::transaction_id& id, std::size_t length,
                                                  std::array<std::byte, max_send_head>& out) noexcept {
  stun::message_writer w(out, stun::method::send, stun::message_class::indication, id);
  w.add_xor_address(stun::attribute_type::xor_peer_address, peer);
  const std::size_t head = w.bytes().size();
  const std::size_t padded = (length + 3) & ~std::size_t{3};
  if (head == 0 || length > 0xFFFF || head - stun::header_size + 4 + padded > 0xFFFF) return {};
  stun::detail::put16(out, head, stun::attribute_type::data);
  stun::detail::put16(out, head + 2, static_cast<std::uint16_t>(length));
  stun::detail::put16(out, 2, static_cast<std::uint16_t>(head - stun::header_size + 4 + padded));
  return std::span<const std::byte>(out.data(), head + 4);
}

/// LIFETIME of `m` in seconds (RFC 8656 §18.2), or nullopt when absent or not 4 bytes.
[[nodiscard]] inline std::optional<std::uint32_t> lifetime_of(const stun::message_view& m) noexcept {
  const auto* a = m.find(stun::attribute_type::lifetime);
  if (!a || a->value.size() != 4) return std::nullopt;
  return stun::detail::get32(a->value, 0);
}

/// Reads a Data indication (RFC 8656 §11.4): XOR-PEER-ADDRESS into `peer`, DATA's value into `payload`.
/// False when either is absent or the address is malformed (the indication is then discarded).
[[nodiscard]] inline bool read_data_indication(const stun::message_view& m, boost::asio::ip::udp::endpoint& peer,
                                               std::span<const std::byte>& payload) noexcept {
  const auto* p = m.find(stun::attribute_type::xor_peer_address);
  const auto* d = m.find(stun::attribute_type::data);
  if (!p || !d || stun::decode_address(*p, m.transaction(), peer)) return false;
  payload = d->value;
  return true;
}

}  // namespace mspi::turn::detail
