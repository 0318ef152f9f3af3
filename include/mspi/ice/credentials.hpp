// ptapi - portable TAPI
// mspi/ice/credentials.hpp: an ICE agent's short-term credentials (RFC 8445 §5.3; SDP `a=ice-ufrag`,
// `a=ice-pwd`, RFC 8839 §5.4).
#pragma once

#include <mspi/detail/random.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace mspi::ice {

/// One side's username fragment and password. A plain value.
struct credentials {
  std::string ufrag;  ///< `a=ice-ufrag`: 4..256 ice-chars (RFC 8839 §5.4).
  std::string pwd;    ///< `a=ice-pwd`: 22..256 ice-chars; the MESSAGE-INTEGRITY key of checks sent to this side.
  /// Same ufrag and password.
  friend bool operator==(const credentials&, const credentials&) = default;
};

/// Whether `s` is made of ice-chars (ALPHA / DIGIT / "+" / "/") and its length is within `min..max`.
[[nodiscard]] inline bool valid_ice_string(std::string_view s, std::size_t min, std::size_t max) noexcept {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return false;
  return true;
}

/// Whether `c` meets RFC 8839 §5.4 (ufrag 4..256, pwd 22..256 ice-chars).
[[nodiscard]] inline bool valid(const credentials& c) noexcept {
  return valid_ice_string(c.ufrag, 4, 256) && valid_ice_string(c.pwd, 22, 256);
}

/// Fresh credentials from OpenSSL's CSPRNG: an 8-character ufrag (48 bits) and a 24-character password
/// (144 bits; RFC 8445 §5.3 asks for at least 128). Throws what `detail::random_bytes` throws.
[[nodiscard]] inline credentials make_credentials() {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::array<std::byte, 32> r{};
  mspi::detail::random_bytes(r);
  credentials c;
  for (std::size_t i = 0; i < 8; ++i) c.ufrag += alphabet[std::to_integer<unsigned>(r[i]) & 63];
  for (std::size_t i = 8; i < 32; ++i) c.pwd += alphabet[std::to_integer<unsigned>(r[i]) & 63];
  return c;
}

}  // namespace mspi::ice
