// ptapi - portable TAPI
// mspi/sdp_dtls.hpp: the SDP attributes of DTLS-SRTP (RFC 5763 §5): `a=fingerprint` (RFC 8122 §5) and
// `a=setup` (RFC 4145 §4).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mspi {

/// The hash function of an `a=fingerprint` (RFC 8122 §5, the IANA "Hash Function Textual Names"). ptapi
/// writes sha-256; it accepts these from peers (md5, md2 and sha-224 are refused: RFC 8122 §5 deprecates
/// the first two, and no DTLS-SRTP implementation uses the third).
enum class fingerprint_hash : std::uint8_t {
  sha_1,    ///< "sha-1", 20 bytes.
  sha_256,  ///< "sha-256", 32 bytes.
  sha_384,  ///< "sha-384", 48 bytes.
  sha_512,  ///< "sha-512", 64 bytes.
};

/// The hash's SDP name, lowercase as RFC 8122 §5 writes it ("sha-256"). Never throws.
constexpr std::string_view fingerprint_hash_name(fingerprint_hash h) noexcept {
  switch (h) {
    case fingerprint_hash::sha_1: return "sha-1";
    case fingerprint_hash::sha_256: return "sha-256";
    case fingerprint_hash::sha_384: return "sha-384";
    case fingerprint_hash::sha_512: return "sha-512";
  }
  return {};
}

/// The digest size of `h` in bytes (20, 32, 48, 64). Never throws.
constexpr std::size_t fingerprint_hash_bytes(fingerprint_hash h) noexcept {
  switch (h) {
    case fingerprint_hash::sha_1: return 20;
    case fingerprint_hash::sha_256: return 32;
    case fingerprint_hash::sha_384: return 48;
    case fingerprint_hash::sha_512: return 64;
  }
  return 0;
}

/// Longest digest of any supported hash, in bytes (sha-512).
inline constexpr std::size_t fingerprint_max_bytes = 64;

/// One `a=fingerprint` (RFC 8122 §5): the hash of the certificate its describer will present in the DTLS
/// handshake. A plain value.
struct sdp_fingerprint {
  fingerprint_hash hash = fingerprint_hash::sha_256;      ///< The hash function.
  std::array<std::byte, fingerprint_max_bytes> digest{};  ///< The first `fingerprint_hash_bytes(hash)` bytes are used.

  /// The used part of `digest`. Never throws.
  [[nodiscard]] std::span<const std::byte> value() const noexcept { return {digest.data(), fingerprint_hash_bytes(hash)}; }
  /// Same hash and digest (the used bytes only). Never throws.
  bool operator==(const sdp_fingerprint& o) const noexcept {
    return hash == o.hash && std::equal(value().begin(), value().end(), o.value().begin(), o.value().end());
  }
};

/// Writes the attribute's value (after `a=fingerprint:`): `<hash> <HEX:HEX:...>`, uppercase hex as RFC
/// 8122 §5 recommends. Throws only std::bad_alloc. Thread safety: pure function.
inline std::string to_string(const sdp_fingerprint& f) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out(fingerprint_hash_name(f.hash));
  out += ' ';
  for (std::size_t i = 0; i < fingerprint_hash_bytes(f.hash); ++i) {
    if (i != 0) out += ':';
    const auto b = std::to_integer<unsigned>(f.digest[i]);
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

/// Parses an `a=fingerprint` value (what follows `a=fingerprint:`; RFC 8122 §5): a hash name of
/// `fingerprint_hash` (case-insensitive, RFC 8122 §5: "hash-func" is a token compared without case), one
/// space or tab, then exactly the hash's digest as two hex digits per byte (either case) separated by
/// colons, and nothing else but trailing white space. nullopt for anything else (an unknown or deprecated
/// hash, a digest of another length, a missing colon, a stray character). Never throws. Thread safety:
/// pure function.
inline std::optional<sdp_fingerprint> parse_fingerprint_attribute(std::string_view value) noexcept {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  const auto space = value.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  auto name = value.substr(0, space);
  auto digest = value.substr(space + 1);
  auto lower_equal = [](std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return (x >= 'A' && x <= 'Z' ? static_cast<char>(x + 32) : x) == y; });
  };
  sdp_fingerprint f;
  bool known = false;
  for (auto h : {fingerprint_hash::sha_1, fingerprint_hash::sha_256, fingerprint_hash::sha_384, fingerprint_hash::sha_512})
    if (lower_equal(name, fingerprint_hash_name(h))) {
      f.hash = h;
      known = true;
    }
  const std::size_t n = fingerprint_hash_bytes(f.hash);
  if (!known || digest.size() != 3 * n - 1) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const int hi = nibble(digest[3 * i]), lo = nibble(digest[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i + 1 < n && digest[3 * i + 2] != ':')) return std::nullopt;
    f.digest[i] = static_cast<std::byte>(hi << 4 | lo);
  }
  return f;
}

/// The `a=setup` role (RFC 4145 §4, used by DTLS-SRTP per RFC 5763 §5): which side opens the DTLS
/// association (the DTLS client is the `active` one).
enum class sdp_setup : std::uint8_t {
  active,    ///< "active": the describer is the DTLS client.
  passive,   ///< "passive": the describer is the DTLS server.
  actpass,   ///< "actpass": either; the answerer chooses (RFC 5763 §5: the offerer's value).
  holdconn,  ///< "holdconn": no connection now.
};

/// The role's SDP name ("active", "passive", "actpass", "holdconn"). Never throws.
constexpr std::string_view to_string(sdp_setup s) noexcept {
  switch (s) {
    case sdp_setup::active: return "active";
    case sdp_setup::passive: return "passive";
    case sdp_setup::actpass: return "actpass";
    case sdp_setup::holdconn: return "holdconn";
  }
  return {};
}

/// Parses an `a=setup` value (RFC 4145 §4: one of the four names, case-sensitive as its grammar);
/// trailing white space is ignored. nullopt for anything else. Never throws. Thread safety: pure function.
constexpr std::optional<sdp_setup> parse_setup_attribute(std::string_view value) noexcept {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  for (auto s : {sdp_setup::active, sdp_setup::passive, sdp_setup::actpass, sdp_setup::holdconn})
    if (to_string(s) == value) return s;
  return std::nullopt;
}

}  // namespace mspi
