// ptapi - portable TAPI
// mspi/stun/message.hpp: STUN messages (RFC 8489): the header, reading the attributes of a received
// datagram (bounded, without allocating), (XOR-)MAPPED-ADDRESS, ERROR-CODE, MESSAGE-INTEGRITY (HMAC-SHA1,
// OpenSSL) and FINGERPRINT (CRC-32, Boost.CRC), and writing a message into a caller's buffer.
// Own code by issue 9's decision (include/mspi/ice/ice.hpp says why): STUN shares the RTP socket.
#pragma once

#include <mspi/stun/error.hpp>

#include <boost/asio/ip/udp.hpp>
#include <boost/crc.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <system_error>

namespace mspi::stun {

/// The magic cookie every RFC 5389/8489 message carries at bytes 4..7 (RFC 8489 §5).
inline constexpr std::uint32_t magic_cookie = 0x2112A442;
/// Bytes of the message header (RFC 8489 §5).
inline constexpr std::size_t header_size = 20;
/// XORed into FINGERPRINT's CRC-32: "STUN" (RFC 8489 §14.7).
inline constexpr std::uint32_t fingerprint_xor = 0x5354554E;
/// Bytes of MESSAGE-INTEGRITY's value: an HMAC-SHA1 (RFC 8489 §14.5).
inline constexpr std::size_t integrity_size = 20;

/// The 96-bit transaction ID (RFC 8489 §5): random for each request (RFC 8489 §6), echoed by the response.
using transaction_id = std::array<std::byte, 12>;

/// STUN methods (RFC 8489 §18.2; TURN's in RFC 8656 §17).
enum class method : std::uint16_t {
  binding = 0x001,            ///< Binding (RFC 8489 §18.2): learn the mapped address; ICE connectivity checks.
  allocate = 0x003,           ///< TURN Allocate (RFC 8656 §7): create a relayed transport address.
  refresh = 0x004,            ///< TURN Refresh (RFC 8656 §8): extend or (LIFETIME 0) delete an allocation.
  send = 0x006,               ///< TURN Send indication (RFC 8656 §11.1): client -> peer through the relay.
  data = 0x007,               ///< TURN Data indication (RFC 8656 §11.3): peer -> client through the relay.
  create_permission = 0x008,  ///< TURN CreatePermission (RFC 8656 §10): let a peer's address reach the relay.
  channel_bind = 0x009,       ///< TURN ChannelBind (RFC 8656 §12.1): a channel number for a peer.
};

/// The class of a message (RFC 8489 §5, the C1 C0 bits).
enum class message_class : std::uint8_t {
  request = 0,           ///< A request (expects a response).
  indication = 1,        ///< An indication (no response).
  success_response = 2,  ///< A success response.
  error_response = 3,    ///< An error response (carries ERROR-CODE).
};

/// Attribute types (RFC 8489 §18.3; ICE's in RFC 8445 §16.1; TURN's in RFC 8656 §18).
/// Comprehension-required below 0x8000.
namespace attribute_type {
inline constexpr std::uint16_t mapped_address = 0x0001;            ///< MAPPED-ADDRESS (§14.1, RFC 3489 servers)
inline constexpr std::uint16_t username = 0x0006;                  ///< USERNAME (§14.3)
inline constexpr std::uint16_t message_integrity = 0x0008;         ///< MESSAGE-INTEGRITY, HMAC-SHA1 (§14.5)
inline constexpr std::uint16_t error_code = 0x0009;                ///< ERROR-CODE (§14.8)
inline constexpr std::uint16_t unknown_attributes = 0x000A;        ///< UNKNOWN-ATTRIBUTES (§14.13)
inline constexpr std::uint16_t channel_number = 0x000C;            ///< CHANNEL-NUMBER (RFC 8656 §18.1)
inline constexpr std::uint16_t lifetime = 0x000D;                  ///< LIFETIME, seconds (RFC 8656 §18.2)
inline constexpr std::uint16_t xor_peer_address = 0x0012;          ///< XOR-PEER-ADDRESS (RFC 8656 §18.3)
inline constexpr std::uint16_t data = 0x0013;                      ///< DATA (RFC 8656 §18.4)
inline constexpr std::uint16_t realm = 0x0014;                     ///< REALM (§14.9)
inline constexpr std::uint16_t nonce = 0x0015;                     ///< NONCE (§14.10)
inline constexpr std::uint16_t xor_relayed_address = 0x0016;       ///< XOR-RELAYED-ADDRESS (RFC 8656 §18.5)
inline constexpr std::uint16_t requested_address_family = 0x0017;  ///< REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6)
inline constexpr std::uint16_t requested_transport = 0x0019;       ///< REQUESTED-TRANSPORT (RFC 8656 §18.8)
inline constexpr std::uint16_t dont_fragment = 0x001A;             ///< DONT-FRAGMENT (RFC 8656 §18.9)
inline constexpr std::uint16_t message_integrity_sha256 = 0x001C;  ///< MESSAGE-INTEGRITY-SHA256 (§14.6)
inline constexpr std::uint16_t xor_mapped_address = 0x0020;        ///< XOR-MAPPED-ADDRESS (§14.2)
inline constexpr std::uint16_t priority = 0x0024;                  ///< PRIORITY (RFC 8445 §7.1.1)
inline constexpr std::uint16_t use_candidate = 0x0025;             ///< USE-CANDIDATE (RFC 8445 §7.1.2)
inline constexpr std::uint16_t software = 0x8022;                  ///< SOFTWARE (§14.14)
inline constexpr std::uint16_t fingerprint = 0x8028;               ///< FINGERPRINT, CRC-32 (§14.7)
inline constexpr std::uint16_t ice_controlled = 0x8029;            ///< ICE-CONTROLLED (RFC 8445 §7.1.3)
inline constexpr std::uint16_t ice_controlling = 0x802A;           ///< ICE-CONTROLLING (RFC 8445 §7.1.3)
}  // namespace attribute_type

/// The 14-bit message type of `m` and `c` (RFC 8489 §5, figure 3: M11..M0 with C1 C0 interleaved).
[[nodiscard]] constexpr std::uint16_t message_type(method m, message_class c) noexcept {
  const auto mv = static_cast<std::uint16_t>(m);
  const auto cv = static_cast<std::uint16_t>(c);
  return static_cast<std::uint16_t>((mv & 0x000F) | ((mv & 0x0070) << 1) | ((mv & 0x0F80) << 2) | ((cv & 1) << 4) |
                                    ((cv & 2) << 7));
}

namespace detail {
inline std::uint16_t get16(std::span<const std::byte> b, std::size_t at) noexcept {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(b[at]) << 8) | std::to_integer<unsigned>(b[at + 1]));
}
inline std::uint32_t get32(std::span<const std::byte> b, std::size_t at) noexcept {
  return (std::uint32_t{get16(b, at)} << 16) | get16(b, at + 2);
}
inline void put16(std::span<std::byte> b, std::size_t at, std::uint16_t v) noexcept {
  b[at] = static_cast<std::byte>(v >> 8);
  b[at + 1] = static_cast<std::byte>(v);
}
inline void put32(std::span<std::byte> b, std::size_t at, std::uint32_t v) noexcept {
  put16(b, at, static_cast<std::uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<std::uint16_t>(v));
}
// XOR-*-ADDRESS's mask (RFC 8489 §14.2): the magic cookie, then the 12-byte transaction ID at `id`.
inline std::array<std::byte, 16> address_mask(const std::byte* id) noexcept {
  std::array<std::byte, 16> mask{};
  put32(mask, 0, magic_cookie);
  std::memcpy(mask.data() + 4, id, 12);
  return mask;
}
inline std::uint32_t crc32(std::span<const std::byte> b) noexcept {
  boost::crc_32_type crc;  // ISO/IEC 13239 CRC-32, as RFC 8489 §14.7 (and zlib) compute it
  crc.process_bytes(b.data(), b.size());
  return crc.checksum();
}
// HMAC-SHA1 of `data` with `key` (OpenSSL's one-shot HMAC). Returns false when OpenSSL fails.
inline bool hmac_sha1(std::span<const std::byte> key, std::span<const std::byte> data,
                      std::array<std::byte, integrity_size>& out) noexcept {
  unsigned int n = 0;
  static constexpr unsigned char no_key = 0;
  const auto* k = key.empty() ? &no_key : reinterpret_cast<const unsigned char*>(key.data());
  return HMAC(EVP_sha1(), k, static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(),
              reinterpret_cast<unsigned char*>(out.data()), &n) != nullptr &&
         n == integrity_size;
}
}  // namespace detail

/// RFC 7983 §7's demultiplexing test for a datagram on a socket shared with RTP/RTCP and DTLS: first byte
/// 0..3 and the magic cookie at bytes 4..7 (RFC 8489 §5, §7: "the magic cookie field MUST contain
/// 0x2112A442"). Cheap (no parsing); `parse` is still needed before trusting anything. Thread safety: pure.
[[nodiscard]] inline bool looks_like_stun(std::span<const std::byte> datagram) noexcept {
  return datagram.size() >= header_size && std::to_integer<unsigned>(datagram[0]) < 4 &&
         detail::get32(datagram, 4) == magic_cookie;
}

/// One attribute of a parsed message: its type, its value (padding excluded) and where its 4-byte
/// attribute header starts in the message (bytes), which MESSAGE-INTEGRITY and FINGERPRINT need.
struct attribute {
  std::uint16_t type = 0;             ///< The attribute type (`attribute_type`).
  std::span<const std::byte> value;   ///< Its value, without padding: a view into the datagram.
  std::size_t offset = 0;             ///< Bytes from the message's start to the attribute's header.
};

/// A received STUN message, read in place: views into the caller's datagram, which must outlive it.
/// No allocation; at most `max_attributes` attributes. Thread safety: distinct objects safe; a shared
/// object is safe for concurrent const use.
class message_view {
 public:
  /// Attributes kept per message; a message with more is refused (`stun_errc::too_many_attributes`).
  static constexpr std::size_t max_attributes = 32;

  /// Parses `datagram` as one STUN message (RFC 8489 §5, §14): header checks (first two bits 0, magic
  /// cookie, length a multiple of 4 and exactly the rest of the datagram), then every attribute's length
  /// against the bytes left (value padded to 4 bytes). Per §14.5 and §14.7, attributes after
  /// MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored, and FINGERPRINT
  /// must be the last attribute. Errors: `not_stun`, `truncated`, `too_many_attributes`,
  /// `bad_fingerprint` (an attribute after FINGERPRINT). Integrity and fingerprint values are checked by
  /// `check_integrity` / `check_fingerprint`, not here. Never reads outside `datagram`.
  [[nodiscard]] static std::error_code parse(std::span<const std::byte> datagram, message_view& out) noexcept {
    out = message_view{};
    if (datagram.size() < header_size || std::to_integer<unsigned>(datagram[0]) >= 4 ||
        detail::get32(datagram, 4) != magic_cookie)
      return stun_errc::not_stun;
    const std::size_t length = detail::get16(datagram, 2);
    if (length % 4 != 0) return stun_errc::not_stun;
    if (header_size + length != datagram.size()) return stun_errc::truncated;
    bool after_integrity = false, after_fingerprint = false;
    for (std::size_t at = header_size; at < datagram.size();) {
      if (datagram.size() - at < 4) return stun_errc::truncated;
      if (after_fingerprint) return stun_errc::bad_fingerprint;
      const std::uint16_t type = detail::get16(datagram, at);
      const std::size_t len = detail::get16(datagram, at + 2);
      const std::size_t padded = (len + 3) & ~std::size_t{3};
      if (padded > datagram.size() - at - 4) return stun_errc::truncated;
      const bool keep = !after_integrity || type == attribute_type::message_integrity_sha256 ||
                        type == attribute_type::fingerprint;
      if (keep) {
        if (out.count_ == max_attributes) return stun_errc::too_many_attributes;
        out.attributes_[out.count_++] = {type, datagram.subspan(at + 4, len), at};
      }
      after_integrity = after_integrity || type == attribute_type::message_integrity;
      after_fingerprint = type == attribute_type::fingerprint;
      at += 4 + padded;
    }
    out.bytes_ = datagram;
    const std::uint16_t t = detail::get16(datagram, 0);
    out.method_ = static_cast<stun::method>((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
    out.class_ = static_cast<message_class>(((t >> 4) & 1) | ((t >> 7) & 2));
    std::memcpy(out.id_.data(), datagram.data() + 8, out.id_.size());
    return {};
  }

  /// The method (any 12-bit value may arrive; compare with `method::binding`).
  [[nodiscard]] stun::method method() const noexcept { return method_; }
  /// The class: request, indication, success or error response.
  [[nodiscard]] message_class klass() const noexcept { return class_; }
  /// The transaction ID (RFC 8489 §5).
  [[nodiscard]] const transaction_id& transaction() const noexcept { return id_; }
  /// The attributes kept, in message order.
  [[nodiscard]] std::span<const attribute> attributes() const noexcept { return {attributes_.data(), count_}; }
  /// The first attribute of `type`, or nullptr.
  [[nodiscard]] const attribute* find(std::uint16_t type) const noexcept {
    for (std::size_t i = 0; i < count_; ++i)
      if (attributes_[i].type == type) return &attributes_[i];
    return nullptr;
  }
  /// The whole message (header and attributes), a view into the datagram.
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }

 private:
  std::span<const std::byte> bytes_;
  std::array<attribute, max_attributes> attributes_{};
  std::size_t count_ = 0;
  stun::method method_{};
  message_class class_{};
  transaction_id id_{};
};

/// Decodes MAPPED-ADDRESS (RFC 8489 §14.1) or, for XOR-MAPPED-ADDRESS and the other XOR-*-ADDRESS
/// attributes (RFC 8489 §14.2, RFC 8656 §18.3/§18.5), undoes the XOR with the magic cookie and `id`.
/// Value: a zero byte, family 1 (IPv4, 8 bytes in all) or 2 (IPv6, 20 bytes), port, address.
/// Errors: `bad_attribute` for another size or family. Thread safety: pure.
[[nodiscard]] inline std::error_code decode_address(const attribute& a, const transaction_id& id,
                                                    boost::asio::ip::udp::endpoint& out) noexcept {
  const auto v = a.value;
  const unsigned family = v.size() < 4 ? 0 : std::to_integer<unsigned>(v[1]);
  if (!(family == 1 && v.size() == 8) && !(family == 2 && v.size() == 20)) return stun_errc::bad_attribute;
  // XOR-*-ADDRESS: port XOR the cookie's high 16 bits, address XOR (cookie, transaction ID).
  const bool xored = a.type != attribute_type::mapped_address;
  const auto mask = xored ? detail::address_mask(id.data()) : std::array<std::byte, 16>{};
  const auto port = static_cast<std::uint16_t>(detail::get16(v, 2) ^ detail::get16(mask, 0));
  std::array<unsigned char, 16> b{};
  for (std::size_t i = 0; i + 4 < v.size(); ++i) b[i] = std::to_integer<unsigned char>(v[4 + i] ^ mask[i]);
  if (family == 1) {
    out = {boost::asio::ip::address_v4({b[0], b[1], b[2], b[3]}), port};
  } else {
    out = {boost::asio::ip::address_v6(b), port};
  }
  return {};
}

/// The mapped address of a Binding success response: XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from an
/// RFC 3489 server (RFC 8489 §14.1). Errors: `no_mapped_address`, `bad_attribute`.
[[nodiscard]] inline std::error_code mapped_address(const message_view& m,
                                                    boost::asio::ip::udp::endpoint& out) noexcept {
  const attribute* a = m.find(attribute_type::xor_mapped_address);
  if (!a) a = m.find(attribute_type::mapped_address);
  if (!a) return stun_errc::no_mapped_address;
  return decode_address(*a, m.transaction(), out);
}

/// An ERROR-CODE attribute's content (RFC 8489 §14.8).
struct error_code_value {
  int code = 0;             ///< 300..699 (class × 100 + number); 0 when absent or malformed.
  std::string_view reason;  ///< The reason phrase (UTF-8, a view into the message); empty when absent.
};

/// The ERROR-CODE of `m`, or {0, ""} when it has none or it is malformed (fewer than 4 bytes, class
/// outside 3..6, number above 99). Thread safety: pure.
[[nodiscard]] inline error_code_value error_code_of(const message_view& m) noexcept {
  const attribute* a = m.find(attribute_type::error_code);
  if (!a || a->value.size() < 4) return {};
  const int klass = std::to_integer<int>(a->value[2]) & 7, number = std::to_integer<int>(a->value[3]);
  if (klass < 3 || klass > 6 || number > 99) return {};
  return {klass * 100 + number,
          {reinterpret_cast<const char*>(a->value.data()) + 4, a->value.size() - 4}};
}

/// Checks FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message up to the attribute, XOR 0x5354554E.
/// `required` false accepts a message without one. Errors: `bad_fingerprint`. Thread safety: pure.
[[nodiscard]] inline std::error_code check_fingerprint(const message_view& m, bool required = true) noexcept {
  const attribute* a = m.find(attribute_type::fingerprint);
  if (!a) return required ? std::error_code(stun_errc::bad_fingerprint) : std::error_code{};
  if (a->value.size() != 4) return stun_errc::bad_fingerprint;
  const auto crc = detail::crc32(m.bytes().first(a->offset)) ^ fingerprint_xor;
  return crc == detail::get32(a->value, 0) ? std::error_code{} : std::error_code(stun_errc::bad_fingerprint);
}

/// The most bytes before MESSAGE-INTEGRITY that `check_integrity` verifies (it copies them to patch the length).
inline constexpr std::size_t max_integrity_checked = 2048;

/// Checks MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 with `key` over the message up to the attribute,
/// the header's length counting through MESSAGE-INTEGRITY (as when it was made), compared in constant
/// time. The key is the short-term password (ICE, RFC 8445 §7.2.2; RFC 8489 §9.1.1's OpaqueString of an
/// ASCII password is the password itself) or `long_term_key` (RFC 8489 §9.2.2). Errors: `bad_integrity`
/// when absent, of the wrong size, different, or when more than `max_integrity_checked` bytes precede it
/// (the message is copied to patch its length; STUN over UDP stays below the path MTU, RFC 8489 §6.1).
/// Thread safety: pure; allocates nothing of its own.
[[nodiscard]] inline std::error_code check_integrity(const message_view& m, std::span<const std::byte> key) noexcept {
  const attribute* a = m.find(attribute_type::message_integrity);
  if (!a || a->value.size() != integrity_size || a->offset > max_integrity_checked) return stun_errc::bad_integrity;
  std::array<std::byte, max_integrity_checked> copy;  // the message up to the attribute, length field adjusted
  const auto before = m.bytes().first(a->offset);
  std::memcpy(copy.data(), before.data(), before.size());
  detail::put16(copy, 2, static_cast<std::uint16_t>(a->offset - header_size + 4 + integrity_size));
  std::array<std::byte, integrity_size> mac{};
  if (!detail::hmac_sha1(key, std::span<const std::byte>(copy.data(), before.size()), mac))
    return stun_errc::bad_integrity;
  return CRYPTO_memcmp(mac.data(), a->value.data(), integrity_size) == 0 ? std::error_code{}
                                                                         : std::error_code(stun_errc::bad_integrity);
}

/// The long-term credential key (RFC 8489 §9.2.2, MD5 as without PASSWORD-ALGORITHM):
/// MD5(username ":" realm ":" password), OpenSSL's EVP MD5. Strings are used as given (OpaqueString
/// processing of non-ASCII input is the caller's). Returns false when OpenSSL has no MD5 (FIPS mode).
[[nodiscard]] inline bool long_term_key(std::string_view username, std::string_view realm, std::string_view password,
                                        std::array<std::byte, 16>& out) noexcept {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  unsigned int n = 0;
  const bool ok = EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, username.data(), username.size()) == 1 &&
                  EVP_DigestUpdate(ctx, ":", 1) == 1 && EVP_DigestUpdate(ctx, realm.data(), realm.size()) == 1 &&
                  EVP_DigestUpdate(ctx, ":", 1) == 1 &&
                  EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()), &n) == 1 && n == 16;
  EVP_MD_CTX_free(ctx);
  return ok;
}

/// Writes one STUN message into a caller's buffer (RFC 8489 §5, §14): the header at construction, then
/// attributes in call order (each padded to 4 bytes with zeros), MESSAGE-INTEGRITY and FINGERPRINT last.
/// The header's length is kept current. A write that does not fit sets the sticky
/// `stun_errc::buffer_too_small` and leaves the message as it was. No allocation.
/// Thread safety: distinct objects safe; a shared object unsafe.
class message_writer {
 public:
  /// Starts a message of `m`/`c` with transaction `id` in `buffer` (which must outlive the writer).
  message_writer(std::span<std::byte> buffer, method m, message_class c, const transaction_id& id) noexcept
      : buffer_(buffer) {
    if (buffer_.size() < header_size) {
      error_ = stun_errc::buffer_too_small;
      return;
    }
    detail::put16(buffer_, 0, message_type(m, c));
    detail::put16(buffer_, 2, 0);
    detail::put32(buffer_, 4, magic_cookie);
    std::memcpy(buffer_.data() + 8, id.data(), id.size());
    size_ = header_size;
  }

  /// Appends an attribute of `type` with `value` (at most 65535 bytes).
  message_writer& add(std::uint16_t type, std::span<const std::byte> value) noexcept {
    if (auto* v = reserve(type, value.size()); v && !value.empty()) std::memcpy(v, value.data(), value.size());
    return *this;
  }
  /// Appends a text attribute (USERNAME, SOFTWARE, REALM, NONCE; RFC 8489 §14.3, §14.14, §14.9, §14.10).
  message_writer& add(std::uint16_t type, std::string_view text) noexcept {
    return add(type, std::as_bytes(std::span<const char>(text.data(), text.size())));
  }
  /// Appends a 32-bit attribute, big-endian (PRIORITY, RFC 8445 §16.1).
  message_writer& add_u32(std::uint16_t type, std::uint32_t v) noexcept {
    if (auto* p = reserve(type, 4)) detail::put32(std::span<std::byte>(p, 4), 0, v);
    return *this;
  }
  /// Appends a 64-bit attribute, big-endian (ICE-CONTROLLING / ICE-CONTROLLED's tie-breaker, RFC 8445 §16.1).
  message_writer& add_u64(std::uint16_t type, std::uint64_t v) noexcept {
    if (auto* p = reserve(type, 8)) {
      detail::put32(std::span<std::byte>(p, 8), 0, static_cast<std::uint32_t>(v >> 32));
      detail::put32(std::span<std::byte>(p, 8), 4, static_cast<std::uint32_t>(v));
    }
    return *this;
  }
  /// Appends ERROR-CODE (RFC 8489 §14.8): `code` 300..699 (class = code / 100, number = code % 100) and a
  /// UTF-8 reason phrase. A code outside 300..699 sets `bad_attribute` (a server's or a test's helper).
  message_writer& add_error_code(int code, std::string_view reason) noexcept {
    if (code < 300 || code > 699) {
      if (!error_) error_ = stun_errc::bad_attribute;
      return *this;
    }
    if (auto* p = reserve(attribute_type::error_code, 4 + reason.size())) {
      p[0] = p[1] = std::byte{0};
      p[2] = static_cast<std::byte>(code / 100);
      p[3] = static_cast<std::byte>(code % 100);
      if (!reason.empty()) std::memcpy(p + 4, reason.data(), reason.size());
    }
    return *this;
  }
  /// Appends XOR-MAPPED-ADDRESS or another XOR-*-ADDRESS of `ep` (RFC 8489 §14.2).
  message_writer& add_xor_address(std::uint16_t type, const boost::asio::ip::udp::endpoint& ep) noexcept {
    const bool v4 = ep.address().is_v4();
    auto* p = reserve(type, v4 ? 8 : 20);
    if (!p) return *this;
    std::span<std::byte> v(p, v4 ? 8 : 20);
    const auto mask = detail::address_mask(buffer_.data() + 8);
    v[0] = std::byte{0};
    v[1] = std::byte{static_cast<unsigned char>(v4 ? 1 : 2)};
    detail::put16(v, 2, static_cast<std::uint16_t>(ep.port() ^ detail::get16(mask, 0)));
    if (v4) {
      const auto b = ep.address().to_v4().to_bytes();
      for (std::size_t i = 0; i < 4; ++i) v[4 + i] = std::byte{b[i]} ^ mask[i];
    } else {
      const auto b = ep.address().to_v6().to_bytes();
      for (std::size_t i = 0; i < 16; ++i) v[4 + i] = std::byte{b[i]} ^ mask[i];
    }
    return *this;
  }
  /// Appends MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 with `key` over the message so far, the length
  /// counting through this attribute. Sets `bad_integrity` if OpenSSL fails.
  message_writer& add_message_integrity(std::span<const std::byte> key) noexcept {
    const std::size_t before = size_;
    auto* p = reserve(attribute_type::message_integrity, integrity_size);
    if (!p) return *this;
    std::array<std::byte, integrity_size> mac{};
    if (!detail::hmac_sha1(key, std::span<const std::byte>(buffer_.data(), before), mac)) {
      error_ = stun_errc::bad_integrity;
      return *this;
    }
    std::memcpy(p, mac.data(), mac.size());
    return *this;
  }
  /// Appends FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message so far XOR 0x5354554E, the length counting
  /// through this attribute. Must be the last attribute.
  message_writer& add_fingerprint() noexcept {
    const std::size_t before = size_;
    auto* p = reserve(attribute_type::fingerprint, 4);
    if (p) detail::put32(std::span<std::byte>(p, 4), 0,
                         detail::crc32(std::span<const std::byte>(buffer_.data(), before)) ^ fingerprint_xor);
    return *this;
  }

  /// The message written so far (empty after an error).
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return error_ ? std::span<const std::byte>{} : std::span<const std::byte>(buffer_.data(), size_);
  }
  /// The first error (`buffer_too_small`, `bad_integrity`, `bad_attribute`), or none.
  [[nodiscard]] std::error_code error() const noexcept { return error_; }

 private:
  // Writes the attribute header, zeroes the padding, updates the header's length (it counts this
  // attribute, as MESSAGE-INTEGRITY and FINGERPRINT require) and returns the value's first byte.
  std::byte* reserve(std::uint16_t type, std::size_t len) noexcept {
    const std::size_t padded = (len + 3) & ~std::size_t{3};
    if (error_ || len > 0xFFFF || buffer_.size() - size_ < 4 + padded || size_ + 4 + padded - header_size > 0xFFFF) {
      if (!error_) error_ = stun_errc::buffer_too_small;
      return nullptr;
    }
    detail::put16(buffer_, size_, type);
    detail::put16(buffer_, size_ + 2, static_cast<std::uint16_t>(len));
    std::byte* value = buffer_.data() + size_ + 4;
    std::memset(value + len, 0, padded - len);
    size_ += 4 + padded;
    detail::put16(buffer_, 2, static_cast<std::uint16_t>(size_ - header_size));
    return value;
  }

  std::span<std::byte> buffer_;
  std::size_t size_ = 0;
  std::error_code error_;
};

}  // namespace mspi::stun
