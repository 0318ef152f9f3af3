// ptapi - portable TAPI
// mspi/sdp_crypto.hpp: the SDP `a=crypto` attribute of SDES key exchange (RFC 4568 §9.1), restricted to
// what ptapi's SRTP supports: one inline key per line, no MKI, the default key lifetime.
#pragma once

#include <mspi/rtp/srtp_suite.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mspi {

/// One `a=crypto` line: `<tag> <suite> inline:<base64 key||salt>` (RFC 4568 §9.1). The key is the one its
/// describer encrypts what it SENDS with (RFC 4568 §6.1). A plain value; it holds secret key material:
/// do not log it.
struct sdp_crypto {
  std::uint32_t tag = 1;  ///< 1..999999999, unique per m-line; the answer repeats the chosen offer's (RFC 4568 §9.1).
  srtp_suite suite = srtp_suite::aes_cm_128_hmac_sha1_80;  ///< The crypto suite.
  /// Master key then master salt; the first `srtp_key_salt_bytes(suite)` bytes are used (30 or 28).
  std::array<std::byte, srtp_max_key_salt_bytes> key_salt{};

  /// The used part of `key_salt`. Never throws.
  [[nodiscard]] std::span<const std::byte> key() const noexcept { return {key_salt.data(), srtp_key_salt_bytes(suite)}; }
  /// Same tag, suite and key bytes. Never throws.
  bool operator==(const sdp_crypto&) const = default;
};

/// What `parse_crypto_attribute` found: the line, or why it is not usable.
struct crypto_parse_result {
  std::optional<sdp_crypto> crypto;  ///< The attribute, when well formed and supported.
  std::string_view error;            ///< Otherwise a static English explanation (e.g. "MKI is not supported").
};

namespace detail {
/// RFC 4648 §4 base64 of `bytes`, padded, with OpenSSL's EVP_EncodeBlock. Throws only std::bad_alloc.
inline std::string base64_encode(std::span<const std::byte> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

/// Decodes RFC 4648 §4 base64 of exactly `out.size()` bytes (padding optional) with EVP_DecodeBlock;
/// false when `text` is not base64 or decodes to another length. Never throws.
inline bool base64_decode_exact(std::string_view text, std::span<std::byte> out) noexcept {
  if (text.size() > 64) return false;
  std::array<unsigned char, 68> in{};
  std::copy(text.begin(), text.end(), in.begin());
  std::size_t len = text.size();
  while (len % 4 != 0) in[len++] = '=';  // RFC 4568 implementations sometimes omit the padding
  const std::size_t pad = (len >= 1 && in[len - 1] == '=') + (len >= 2 && in[len - 2] == '=');
  std::array<unsigned char, 51> decoded{};
  const int n = EVP_DecodeBlock(decoded.data(), in.data(), static_cast<int>(len));
  if (n < 0 || static_cast<std::size_t>(n) < pad || static_cast<std::size_t>(n) - pad != out.size()) return false;
  std::copy_n(reinterpret_cast<const std::byte*>(decoded.data()), out.size(), out.begin());
  return true;
}
}  // namespace detail

/// Writes the attribute's value (after `a=crypto:`): `<tag> <suite> inline:<base64>` (RFC 4568 §9.1),
/// no lifetime, no MKI. Throws only std::bad_alloc. Thread safety: pure function.
inline std::string to_string(const sdp_crypto& c) {
  std::string out = std::to_string(c.tag);
  out += ' ';
  out += srtp_suite_name(c.suite);
  out += " inline:";
  out += detail::base64_encode(c.key());
  return out;
}

/// Smallest key lifetime accepted, in packets (2^31). A lifetime (RFC 4568 §6.1, `|2^n` or a decimal
/// count of packets) is accepted only when it is at least this, which a call never
/// reaches (libsrtp enforces the RFC 3711 §9.2 maxima itself); a shorter one would need re-keying we do
/// not do, so the line is refused.
inline constexpr std::uint64_t srtp_min_lifetime_packets = std::uint64_t{1} << 31;

/// Parses an `a=crypto` value (what follows `a=crypto:`; RFC 4568 §9.1). Accepted: a tag of 1-9 digits,
/// a suite of `srtp_suite`, exactly one `inline:` key-param whose base64 decodes to the suite's key
/// || salt (30 bytes AES_CM, 28 GCM), an optional lifetime >= 2^31 packets, and session parameters
/// limited to `WSH=<n>` (a replay window hint, RFC 4568 §6.3.7, ignored: libsrtp's window is 128). Refused,
/// with `error` saying why: a bad tag, an unknown suite, a missing or non-inline key, a key of the wrong
/// length or not base64, an MKI (`|<value>:<length>`), several keys, a short lifetime, or any other
/// session parameter (KDR, UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP, FEC_ORDER,
/// FEC_KEY: each would weaken or change the protection). Never throws. Thread safety: pure function.
inline crypto_parse_result parse_crypto_attribute(std::string_view value) noexcept {
  auto next = [&value] {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    auto end = std::min(value.find(' '), value.find('\t'));
    auto tok = value.substr(0, end);
    value = end == std::string_view::npos ? std::string_view{} : value.substr(end);
    return tok;
  };
  sdp_crypto c;
  const auto tag = next();
  auto r = std::from_chars(tag.data(), tag.data() + tag.size(), c.tag);
  if (tag.empty() || tag.size() > 9 || r.ec != std::errc{} || r.ptr != tag.data() + tag.size())
    return {std::nullopt, "the tag is not 1-9 digits"};
  auto suite = parse_srtp_suite(next());
  if (!suite) return {std::nullopt, "unsupported crypto suite"};
  c.suite = *suite;
  auto key_params = next();
  if (!key_params.starts_with("inline:")) return {std::nullopt, "the key is not inline:"};
  if (key_params.find(';') != std::string_view::npos) return {std::nullopt, "several keys (MKI) are not supported"};
  key_params.remove_prefix(7);
  const auto bar = key_params.find('|');
  if (!detail::base64_decode_exact(key_params.substr(0, bar), std::span<std::byte>(c.key_salt.data(), srtp_key_salt_bytes(c.suite))))
    return {std::nullopt, "the key is not base64 of the suite's key and salt"};
  for (auto rest = key_params.substr(std::min(bar, key_params.size())); !rest.empty();) {
    rest.remove_prefix(1);  // the '|'
    const auto end = rest.find('|');
    auto field = rest.substr(0, end);
    rest = rest.substr(std::min(end, rest.size()));
    if (field.find(':') != std::string_view::npos) return {std::nullopt, "MKI is not supported"};
    std::uint64_t packets = 0;
    if (field.starts_with("2^")) {
      unsigned exponent = 0;
      auto e = std::from_chars(field.data() + 2, field.data() + field.size(), exponent);
      if (e.ec != std::errc{} || e.ptr != field.data() + field.size() || exponent > 63)
        return {std::nullopt, "the key lifetime is malformed"};
      packets = std::uint64_t{1} << exponent;
    } else {
      auto d = std::from_chars(field.data(), field.data() + field.size(), packets);
      if (field.empty() || d.ec != std::errc{} || d.ptr != field.data() + field.size())
        return {std::nullopt, "the key lifetime is malformed"};
    }
    if (packets < srtp_min_lifetime_packets) return {std::nullopt, "a key lifetime below 2^31 packets is not supported"};
  }
  for (auto param = next(); !param.empty(); param = next())
    if (!param.starts_with("WSH=")) return {std::nullopt, "unsupported SDES session parameter"};
  return {c, {}};
}

}  // namespace mspi
