// ptapi - portable TAPI
// tspi/sip/digest/error.hpp: why a Digest challenge or credentials value could not be used (digest_errc, a
// std::error_code enum).
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace tspi::sip {

/// Why a Digest challenge or credentials value could not be used. Used through `std::error_code` with
/// `digest_category()`; `std::make_error_code` finds it by ADL.
enum class digest_errc : int {
  not_digest = 1,         ///< The auth-scheme is not "Digest" (e.g. Basic, Bearer).
  malformed,              ///< Syntax: an auth-param without '=', a bad name, an unterminated quoted string.
  duplicate_parameter,    ///< A parameter appears twice in one challenge (RFC 7235 §2.1 forbids it).
  missing_realm,          ///< No realm (RFC 7616 §3.3: required).
  missing_nonce,          ///< No nonce, or an empty one (RFC 7616 §3.3: required).
  missing_parameter,      ///< Credentials lack username, uri, response, or cnonce/nc with a qop.
  unsupported_algorithm,  ///< An algorithm this stack does not implement (see `digest_algorithm`).
  unsupported_qop,        ///< A qop list with neither "auth" nor "auth-int", or a "-sess" algorithm without qop.
  no_challenge,           ///< No usable Digest challenge among the header values (none at all, or all rejected).
  crypto_failure,         ///< OpenSSL could not hash (e.g. MD5 disabled by a FIPS policy) or give random bytes.
  realm_not_allowed,      ///< The challenge's realm is not one the client may answer (`digest_policy::realms`).
  rfc2069_not_allowed,    ///< A challenge without qop (RFC 2069 compatibility) and `digest_policy::allow_rfc2069` unset.
};

namespace detail {
class digest_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "sip.digest"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<digest_errc>(ev)) {
      case digest_errc::not_digest: return "authentication scheme is not Digest";
      case digest_errc::malformed: return "malformed Digest parameters";
      case digest_errc::duplicate_parameter: return "Digest parameter given twice";
      case digest_errc::missing_realm: return "Digest challenge without realm";
      case digest_errc::missing_nonce: return "Digest challenge without nonce";
      case digest_errc::missing_parameter: return "Digest credentials lack a required parameter";
      case digest_errc::unsupported_algorithm: return "unsupported Digest algorithm";
      case digest_errc::unsupported_qop: return "unsupported Digest qop";
      case digest_errc::no_challenge: return "no usable Digest challenge";
      case digest_errc::crypto_failure: return "OpenSSL hashing or random generation failed";
      case digest_errc::realm_not_allowed: return "Digest realm not configured for this account";
      case digest_errc::rfc2069_not_allowed: return "Digest challenge without qop (RFC 2069) not allowed";
    }
    return "unknown Digest error";
  }
};
}  // namespace detail

/// The category of `digest_errc`; its `name()` is "sip.digest". Never throws. Thread safety: a constant
/// singleton, safe from any thread.
inline const std::error_category& digest_category() noexcept {
  static const detail::digest_category_impl category;
  return category;
}

/// Makes a `std::error_code` from a `digest_errc` (found by ADL). Never throws; pure.
inline std::error_code make_error_code(digest_errc e) noexcept { return {static_cast<int>(e), digest_category()}; }

}  // namespace tspi::sip

template <>
struct std::is_error_code_enum<tspi::sip::digest_errc> : std::true_type {};
