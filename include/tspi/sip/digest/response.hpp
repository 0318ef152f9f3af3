// ptapi - portable TAPI
// tspi/sip/digest/response.hpp: Digest credentials (RFC 3261 §22.2, RFC 7616 §3.4): computing the
// request-digest with OpenSSL, parsing and verifying Authorization values, fresh cnonces.
#pragma once

#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/digest/algorithm.hpp>
#include <tspi/sip/digest/challenge.hpp>
#include <tspi/sip/digest/error.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tspi::sip {

/// A user's secret for one account (RFC 3261 §22.1). Plain value.
struct digest_credentials {
  std::string username;  ///< The authentication user name (may differ from the AOR's user part).
  std::string password;  ///< The shared secret, in clear (hashed only into the response).
};

/// The parameters of an `Authorization` / `Proxy-Authorization` Digest value (RFC 3261 §22.2, §25.1
/// digest-response; RFC 7616 §3.4). String members are unquoted. A plain value.
struct digest_response {
  std::string username;                        ///< username.
  std::string realm;                           ///< realm, as challenged.
  std::string nonce;                           ///< nonce, as challenged.
  std::string uri;                             ///< digest-uri: the Request-URI (RFC 3261 §22.4).
  std::string response;                        ///< request-digest: lower-case hex, 32 (MD5) or 64 (SHA-256) digits.
  digest_algorithm algorithm = digest_algorithm::md5;  ///< algorithm (always written).
  std::string qop;                             ///< "auth", "auth-int", or empty when the challenge offered none.
  std::string cnonce;                          ///< cnonce; empty without qop.
  std::uint32_t nc = 0;                        ///< nonce-count (written as 8 hex digits); 0 without qop.
  std::optional<std::string> opaque;           ///< opaque, echoed from the challenge.

  /// The header value: `Digest username="..", realm="..", nonce="..", uri="..", response="..",
  /// algorithm=.., cnonce="..", opaque="..", qop=auth, nc=00000001` (RFC 3261 §25.1 quoting: qop, nc and
  /// algorithm unquoted; cnonce, qop, nc only with a qop). Throws only std::bad_alloc.
  [[nodiscard]] std::string to_string() const {
    std::string out = "Digest username=" + detail::quote(username) + ", realm=" + detail::quote(realm) +
                      ", nonce=" + detail::quote(nonce) + ", uri=" + detail::quote(uri) +
                      ", response=" + detail::quote(response) + ", algorithm=";
    out += sip::to_string(algorithm);
    if (!qop.empty()) out += ", cnonce=" + detail::quote(cnonce);
    if (opaque) out += ", opaque=" + detail::quote(*opaque);
    if (!qop.empty()) {
      static constexpr char hex[] = "0123456789abcdef";
      out += ", qop=" + qop + ", nc=";
      for (int shift = 28; shift >= 0; shift -= 4) out += hex[(nc >> shift) & 0xf];
    }
    return out;
  }

  /// Member-wise equality.
  friend bool operator==(const digest_response&, const digest_response&) = default;
};

namespace detail {

// Lower-case hex of H(data) with the algorithm's hash (OpenSSL EVP); false when OpenSSL fails.
inline bool digest_hex(digest_algorithm a, std::string_view data, std::string& out) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  const EVP_MD* type = digest_strength(a) == 2 ? EVP_sha256() : EVP_md5();
  if (type == nullptr || EVP_Digest(data.data(), data.size(), md.data(), &len, type, nullptr) != 1) return false;
  static constexpr char hex[] = "0123456789abcdef";
  out.clear();
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return true;
}

// The request-digest of RFC 7616 §3.4.1 (RFC 2617 §3.2.2.1 without qop) into r.response, from the other
// members of `r`.
inline bool compute_response(digest_response& r, std::string_view password, std::string_view method, std::string_view body) {
  std::string ha1, ha2, body_hash, tmp;
  if (!digest_hex(r.algorithm, r.username + ":" + r.realm + ":" + std::string(password), ha1)) return false;
  if (is_session_algorithm(r.algorithm)) {
    tmp = ha1 + ":" + r.nonce + ":" + r.cnonce;
    if (!digest_hex(r.algorithm, tmp, ha1)) return false;
  }
  tmp = std::string(method) + ":" + r.uri;
  if (r.qop == "auth-int") {
    if (!digest_hex(r.algorithm, body, body_hash)) return false;
    tmp += ":" + body_hash;
  }
  if (!digest_hex(r.algorithm, tmp, ha2)) return false;
  if (r.qop.empty()) {
    tmp = ha1 + ":" + r.nonce + ":" + ha2;
  } else {
    char nc[9];
    static constexpr char hex[] = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) nc[i] = hex[(r.nc >> (28 - 4 * i)) & 0xf];
    nc[8] = '\0';
    tmp = ha1 + ":" + r.nonce + ":" + nc + ":" + r.cnonce + ":" + r.qop + ":" + ha2;
  }
  return digest_hex(r.algorithm, tmp, r.response);
}

}  // namespace detail

/// Computes the credentials answering `challenge` for one request (RFC 7616 §3.4.1; RFC 3261 §22.4 for
/// SIP: `digest_uri` is the Request-URI as sent, `method` the request's method, "ACK"/"CANCEL" included).
/// The qop is "auth" when offered, else "auth-int" when offered (then `body`, the request's message
/// body, is hashed in), else none (RFC 2617 §3.2.2.1 compatibility: no cnonce, no nc). `cnonce` (at
/// least one character; e.g. from `make_cnonce`) and `nc` (1 for the first use of a nonce, then counting
/// up) are used only with a qop. nullopt with `ec` = `crypto_failure` when OpenSSL cannot hash, or
/// `missing_parameter` when a qop applies and `cnonce` is empty or `nc` is 0. Thread safety: pure (OpenSSL
/// EVP_Digest is thread safe).
inline std::optional<digest_response> make_digest_response(const digest_challenge& challenge, const digest_credentials& credentials,
                                                           std::string_view method, std::string_view digest_uri,
                                                           std::string_view body, std::string_view cnonce, std::uint32_t nc,
                                                           std::error_code& ec) {
  ec.clear();
  digest_response r;
  r.username = credentials.username;
  r.realm = challenge.realm;
  r.nonce = challenge.nonce;
  r.uri = std::string(digest_uri);
  r.algorithm = challenge.algorithm;
  r.opaque = challenge.opaque;
  if (challenge.has_qop()) {
    if (cnonce.empty() || nc == 0) {
      ec = digest_errc::missing_parameter;
      return std::nullopt;
    }
    r.qop = challenge.qop_auth ? "auth" : "auth-int";
    r.cnonce = std::string(cnonce);
    r.nc = nc;
  } else if (is_session_algorithm(challenge.algorithm)) {
    ec = digest_errc::unsupported_qop;
    return std::nullopt;
  }
  if (!detail::compute_response(r, credentials.password, method, body)) {
    ec = digest_errc::crypto_failure;
    return std::nullopt;
  }
  return r;
}

/// Parses an `Authorization` / `Proxy-Authorization` Digest value (RFC 3261 §25.1 digest-response), for
/// a UAS or a test registrar. Requires username, realm, nonce, uri, response; with qop also cnonce and nc
/// (8 hex digits). nullopt with `ec`: `not_digest`, `malformed` (syntax, more than one credentials, a
/// bad nc), `duplicate_parameter`, `missing_realm`, `missing_nonce`, `missing_parameter`,
/// `unsupported_algorithm` or `unsupported_qop`. Throws only std::bad_alloc. Thread safety: pure.
inline std::optional<digest_response> parse_digest_response(std::string_view value, std::error_code& ec) {
  ec.clear();
  std::vector<detail::auth_item> items;
  if (!detail::parse_auth_items(value, items) || items.size() != 1) {
    ec = digest_errc::malformed;
    return std::nullopt;
  }
  const auto& item = items.front();
  if (!detail::iequals(item.scheme, "Digest")) {
    ec = digest_errc::not_digest;
    return std::nullopt;
  }
  if (item.malformed) {
    ec = digest_errc::malformed;
    return std::nullopt;
  }
  digest_response r;
  bool have[9] = {};
  static constexpr std::string_view names[9] = {"username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "nc", "qop"};
  for (const auto& p : item.params) {
    if (p.name.empty()) {
      ec = digest_errc::malformed;
      return std::nullopt;
    }
    if (detail::iequals(p.name, "opaque")) {
      if (r.opaque) {
        ec = digest_errc::duplicate_parameter;
        return std::nullopt;
      }
      r.opaque = p.value;
      continue;
    }
    for (std::size_t i = 0; i < std::size(names); ++i) {
      if (!detail::iequals(p.name, names[i])) continue;
      if (have[i]) {
        ec = digest_errc::duplicate_parameter;
        return std::nullopt;
      }
      have[i] = true;
      switch (i) {
        case 0: r.username = p.value; break;
        case 1: r.realm = p.value; break;
        case 2: r.nonce = p.value; break;
        case 3: r.uri = p.value; break;
        case 4: r.response = p.value; break;
        case 5:
          if (auto a = parse_digest_algorithm(p.value)) r.algorithm = *a;
          else ec = digest_errc::unsupported_algorithm;
          break;
        case 6: r.cnonce = p.value; break;
        case 7:
          if (p.value.size() != 8 || !std::all_of(p.value.begin(), p.value.end(), detail::is_hex_digit) ||
              std::from_chars(p.value.data(), p.value.data() + 8, r.nc, 16).ec != std::errc{})
            ec = digest_errc::malformed;
          break;
        case 8:
          if (detail::iequals(p.value, "auth")) r.qop = "auth";
          else if (detail::iequals(p.value, "auth-int")) r.qop = "auth-int";
          else ec = digest_errc::unsupported_qop;
          break;
      }
      if (ec) return std::nullopt;
    }
  }
  if (!have[1]) ec = digest_errc::missing_realm;
  else if (!have[2] || r.nonce.empty()) ec = digest_errc::missing_nonce;
  else if (!have[0] || !have[3] || !have[4]) ec = digest_errc::missing_parameter;
  else if (!r.qop.empty() && (!have[6] || !have[7] || r.cnonce.empty())) ec = digest_errc::missing_parameter;
  else if (r.qop.empty() && (have[6] || have[7])) ec = digest_errc::malformed;  // cnonce/nc only with qop
  else if (r.qop.empty() && is_session_algorithm(r.algorithm)) ec = digest_errc::unsupported_qop;
  if (ec) return std::nullopt;
  return r;
}

/// Checks credentials as a UAS or registrar would (RFC 3261 §22.4): true when `r.response` is the
/// request-digest of `r`'s other fields with `password`, `method` and (for qop=auth-int) `body`. The
/// comparison of the digests is constant-time (CRYPTO_memcmp) and case-insensitive. It does not check
/// that realm, nonce and uri are the ones the server issued and the request carries, nor nc replay:
/// the caller does. False when OpenSSL fails. Thread safety: pure.
inline bool verify_digest_response(const digest_response& r, std::string_view password, std::string_view method,
                                   std::string_view body = {}) {
  digest_response expected = r;
  if (!detail::compute_response(expected, password, method, body)) return false;
  if (expected.response.size() != r.response.size()) return false;
  std::string given = r.response;
  for (auto& c : given) c = detail::ascii_lower(c);
  return CRYPTO_memcmp(given.data(), expected.response.data(), given.size()) == 0;
}

/// A fresh cnonce: 16 random bytes from OpenSSL's CSPRNG (RAND_bytes) as 32 lower-case hex digits.
/// nullopt with `ec` = `crypto_failure` when OpenSSL has no entropy. Thread safety: safe from any thread.
inline std::optional<std::string> make_cnonce(std::error_code& ec) {
  ec.clear();
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    ec = digest_errc::crypto_failure;
    return std::nullopt;
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (auto b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 0xf];
  }
  return out;
}

}  // namespace tspi::sip
