// ptapi - portable TAPI
// tspi/sip/digest/algorithm.hpp: the HTTP Digest algorithms SIP may use (RFC 7616 §3.3, RFC 8760 §2.2).
#pragma once

#include <tspi/sip/detail/text.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace tspi::sip {

/// The Digest algorithms this stack supports (RFC 7616 §3.3, RFC 8760 §2.2). SHA-512-256 and any other
/// algorithm is unsupported: a challenge naming it is rejected (`digest_errc::unsupported_algorithm`)
/// and never chosen.
enum class digest_algorithm : std::uint8_t {
  md5,          ///< "MD5" (the default when a challenge names none, RFC 2617 §3.2.1).
  md5_sess,     ///< "MD5-sess": H(A1) keyed with nonce and cnonce (RFC 7616 §3.4.2).
  sha256,       ///< "SHA-256" (RFC 7616 §3.3; RFC 8760 §2.2 makes it mandatory for SIP).
  sha256_sess,  ///< "SHA-256-sess".
};

/// The algorithm's token as written in headers ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess"). Pure.
constexpr std::string_view to_string(digest_algorithm a) noexcept {
  switch (a) {
    case digest_algorithm::md5: return "MD5";
    case digest_algorithm::md5_sess: return "MD5-sess";
    case digest_algorithm::sha256: return "SHA-256";
    case digest_algorithm::sha256_sess: return "SHA-256-sess";
  }
  return "MD5";
}

/// The algorithm named by `token`, compared case-insensitively (RFC 7616 §3.3); nullopt when it is not
/// one of the four supported. Pure.
constexpr std::optional<digest_algorithm> parse_digest_algorithm(std::string_view token) noexcept {
  for (auto a : {digest_algorithm::md5, digest_algorithm::md5_sess, digest_algorithm::sha256, digest_algorithm::sha256_sess})
    if (detail::iequals(token, to_string(a))) return a;
  return std::nullopt;
}

/// True for the "-sess" variants, whose H(A1) also covers nonce and cnonce (and so need a qop). Pure.
constexpr bool is_session_algorithm(digest_algorithm a) noexcept {
  return a == digest_algorithm::md5_sess || a == digest_algorithm::sha256_sess;
}

/// How strong the algorithm's hash is, for choosing among challenges (RFC 8760 §2.4): SHA-256 (2)
/// beats MD5 (1); a "-sess" variant ranks with its hash. Pure.
constexpr int digest_strength(digest_algorithm a) noexcept {
  return a == digest_algorithm::sha256 || a == digest_algorithm::sha256_sess ? 2 : 1;
}

}  // namespace tspi::sip
