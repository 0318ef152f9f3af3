// ptapi - portable TAPI
// mspi/rtp/srtp_suite.hpp: the SRTP crypto suites ptapi speaks (RFC 4568 §6.2, RFC 7714 §14.2), with their
// SDP names and master key/salt sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mspi {

/// An SRTP crypto suite (the `a=crypto` suite names of RFC 4568 §6.2 and RFC 7714 §14.2). All use a
/// 128-bit master key; the default SRTP key derivation rate 0 (RFC 3711 §4.3.1).
enum class srtp_suite : std::uint8_t {
  aes_cm_128_hmac_sha1_80,  ///< AES_CM_128_HMAC_SHA1_80: AES-128 counter mode, 80-bit HMAC-SHA1 tag (RFC 4568 §6.2.1).
  aes_cm_128_hmac_sha1_32,  ///< AES_CM_128_HMAC_SHA1_32: as above, 32-bit RTP tag (SRTCP keeps 80; RFC 4568 §6.2.2).
  aead_aes_128_gcm,         ///< AEAD_AES_128_GCM: AES-128 GCM, 16-byte tag (RFC 7714 §14.2).
};

/// The suite's SDP name, as written in `a=crypto` (RFC 4568 §6.2, RFC 7714 §14.2). Never throws.
constexpr std::string_view srtp_suite_name(srtp_suite s) noexcept {
  switch (s) {
    case srtp_suite::aes_cm_128_hmac_sha1_80: return "AES_CM_128_HMAC_SHA1_80";
    case srtp_suite::aes_cm_128_hmac_sha1_32: return "AES_CM_128_HMAC_SHA1_32";
    case srtp_suite::aead_aes_128_gcm: return "AEAD_AES_128_GCM";
  }
  return {};
}

/// The suite an SDP name denotes (exact, case-sensitive as RFC 4568 §9.2's grammar); nullopt for any
/// other name (e.g. AES_256_CM_HMAC_SHA1_80, F8_128_HMAC_SHA1_80: not supported). Never throws.
constexpr std::optional<srtp_suite> parse_srtp_suite(std::string_view name) noexcept {
  for (auto s : {srtp_suite::aes_cm_128_hmac_sha1_80, srtp_suite::aes_cm_128_hmac_sha1_32, srtp_suite::aead_aes_128_gcm})
    if (srtp_suite_name(s) == name) return s;
  return std::nullopt;
}

/// Master key bytes of every supported suite (128 bits).
inline constexpr std::size_t srtp_master_key_bytes = 16;

/// Master salt bytes: 14 for AES_CM (112 bits, RFC 3711 §8.2), 12 for AEAD_AES_128_GCM (96 bits, RFC 7714 §8.1).
constexpr std::size_t srtp_master_salt_bytes(srtp_suite s) noexcept { return s == srtp_suite::aead_aes_128_gcm ? 12 : 14; }

/// Bytes of the concatenated master key || master salt an `a=crypto` `inline:` carries (RFC 4568 §6.1):
/// 30 for AES_CM, 28 for GCM.
constexpr std::size_t srtp_key_salt_bytes(srtp_suite s) noexcept { return srtp_master_key_bytes + srtp_master_salt_bytes(s); }

/// Longest key || salt of any supported suite, in bytes.
inline constexpr std::size_t srtp_max_key_salt_bytes = 30;

}  // namespace mspi
