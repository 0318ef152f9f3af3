// ptapi - portable TAPI
// tspi/sip/digest.hpp: HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 8760 over
// RFC 7616 / RFC 2617): parsing WWW-Authenticate / Proxy-Authenticate challenges, choosing among them,
// building Authorization / Proxy-Authorization values, a per-account client state that pre-authorizes
// later requests, and the server-side check. Hashes come from OpenSSL's libcrypto (EVP); link
// ptapi::tspi (it carries OpenSSL::Crypto).
#pragma once

#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/message.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

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

namespace tspi::sip {

/// One Digest challenge from a `WWW-Authenticate` (401) or `Proxy-Authenticate` (407) value (RFC 3261
/// §22.1, RFC 7616 §3.3). String members hold the values unquoted, with quoted-pairs undone. A plain
/// value; thread safety as for any aggregate.
struct digest_challenge {
  std::string realm;                           ///< realm (required).
  std::string nonce;                           ///< nonce (required, not empty).
  std::optional<std::string> opaque;           ///< opaque, returned unchanged; nullopt when absent.
  digest_algorithm algorithm = digest_algorithm::md5;  ///< algorithm; MD5 when absent.
  bool qop_auth = false;                       ///< qop offers "auth".
  bool qop_auth_int = false;                   ///< qop offers "auth-int" (integrity over the body).
  bool stale = false;                          ///< stale=true: the nonce expired, the credentials were fine.

  /// True when the challenge carries a qop the client can use (then the response has qop, cnonce and nc).
  [[nodiscard]] bool has_qop() const noexcept { return qop_auth || qop_auth_int; }

  /// The challenge as a header value (for a UAS or a test registrar): `Digest realm="...", nonce="...",
  /// algorithm=..., qop="auth,auth-int", opaque="...", stale=true` (qop, opaque, stale only when set).
  /// `parse_digest_challenge` reads it back to an equal value. Throws only std::bad_alloc.
  [[nodiscard]] std::string to_string() const {
    std::string out = "Digest realm=" + detail::quote(realm) + ", nonce=" + detail::quote(nonce) + ", algorithm=";
    out += sip::to_string(algorithm);
    if (has_qop()) {
      out += ", qop=\"";
      out += qop_auth && qop_auth_int ? "auth,auth-int" : qop_auth ? "auth" : "auth-int";
      out += '"';
    }
    if (opaque) out += ", opaque=" + detail::quote(*opaque);
    if (stale) out += ", stale=true";
    return out;
  }

  /// Member-wise equality (all fields, including `stale`).
  friend bool operator==(const digest_challenge&, const digest_challenge&) = default;
};

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

// One auth-param of a challenge or credentials, value unquoted.
struct auth_param {
  std::string name;
  std::string value;
  bool quoted = false;
};

// One challenge (or credentials) of an auth header: the scheme and its parameters in order.
struct auth_item {
  std::string scheme;
  std::vector<auth_param> params;
  bool malformed = false;  // a parameter of this item did not parse
};

// Splits at commas outside quoted strings (angle brackets mean nothing in auth headers).
inline std::vector<std::string_view> split_auth_list(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = find_unquoted(s, ',', start);
    if (comma == std::string_view::npos) break;
    out.push_back(trim(s.substr(start, comma - start)));
    start = comma + 1;
  }
  out.push_back(trim(s.substr(start)));
  return out;
}

// Parses `name = value` (SIP's EQUAL allows whitespace around '=', RFC 3261 §25.1); value a token-ish
// run without whitespace, quotes or commas, or a quoted-string.
inline bool parse_auth_param(std::string_view piece, auth_param& out) {
  const auto eq = piece.find('=');
  if (eq == std::string_view::npos) return false;
  const auto name = trim(piece.substr(0, eq));
  const auto value = trim(piece.substr(eq + 1));
  if (!is_token(name)) return false;
  out.name = std::string(name);
  if (!value.empty() && value.front() == '"') {
    out.quoted = true;
    return unquote(value, out.value);
  }
  if (value.empty()) return false;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '"' || c == ',') return false;
  }
  out.quoted = false;
  out.value = std::string(value);
  return true;
}

// Reads an auth header value into its challenges (RFC 7235 §4.1: `1#challenge`; each challenge is a
// scheme followed by comma-separated auth-params, or a token68, which is kept as one nameless param).
// false when the value does not start with a scheme.
inline bool parse_auth_items(std::string_view value, std::vector<auth_item>& items) {
  for (auto piece : split_auth_list(value)) {
    if (piece.empty()) continue;  // RFC 7230 §7: empty list elements are ignored
    // A new challenge starts with `scheme SP` unless the token is followed by '=' (then it is a param).
    std::size_t n = 0;
    while (n < piece.size() && is_token_char(piece[n])) ++n;
    std::size_t after = n;
    while (after < piece.size() && (piece[after] == ' ' || piece[after] == '\t')) ++after;
    const bool starts_challenge = n > 0 && (after == piece.size() || (after > n && piece[after] != '='));
    if (starts_challenge) {
      items.push_back({std::string(piece.substr(0, n)), {}, false});
      piece = trim(piece.substr(after));
      if (piece.empty()) continue;
    } else if (items.empty()) {
      return false;
    }
    auth_item& item = items.back();
    auth_param p;
    if (parse_auth_param(piece, p)) item.params.push_back(std::move(p));
    else if (item.params.empty() && piece.find_first_of(" \t,\"") == std::string_view::npos) item.params.push_back({"", std::string(piece), false});  // token68
    else item.malformed = true;
  }
  return !items.empty();
}

// The Digest challenge that `item` describes, or the reason it cannot be used.
inline std::optional<digest_challenge> digest_challenge_from(const auth_item& item, std::error_code& ec) {
  if (!iequals(item.scheme, "Digest")) {
    ec = digest_errc::not_digest;
    return std::nullopt;
  }
  if (item.malformed) {
    ec = digest_errc::malformed;
    return std::nullopt;
  }
  digest_challenge c;
  bool have_realm = false, have_nonce = false, have_algorithm = false, have_qop = false, have_stale = false;
  bool qop_unknown_only = false;
  auto once = [&ec](bool& seen) {
    if (seen) ec = digest_errc::duplicate_parameter;
    seen = true;
    return !ec;
  };
  for (const auto& p : item.params) {
    if (p.name.empty()) {
      ec = digest_errc::malformed;
      return std::nullopt;
    }
    if (iequals(p.name, "realm")) {
      if (!once(have_realm)) return std::nullopt;
      c.realm = p.value;
    } else if (iequals(p.name, "nonce")) {
      if (!once(have_nonce)) return std::nullopt;
      c.nonce = p.value;
    } else if (iequals(p.name, "opaque")) {
      if (c.opaque) {
        ec = digest_errc::duplicate_parameter;
        return std::nullopt;
      }
      c.opaque = p.value;
    } else if (iequals(p.name, "algorithm")) {
      if (!once(have_algorithm)) return std::nullopt;
      auto a = parse_digest_algorithm(p.value);
      if (!a) {
        ec = digest_errc::unsupported_algorithm;
        return std::nullopt;
      }
      c.algorithm = *a;
    } else if (iequals(p.name, "qop")) {
      if (!once(have_qop)) return std::nullopt;
      for (auto q : split_auth_list(p.value)) {
        if (iequals(q, "auth")) c.qop_auth = true;
        else if (iequals(q, "auth-int")) c.qop_auth_int = true;
      }
      qop_unknown_only = !c.has_qop();
    } else if (iequals(p.name, "stale")) {
      if (!once(have_stale)) return std::nullopt;
      c.stale = iequals(p.value, "true");
    }
    // domain, charset, userhash and unknown directives are ignored (RFC 7616 §3.3: "MUST ignore").
  }
  if (!have_realm) ec = digest_errc::missing_realm;
  else if (!have_nonce || c.nonce.empty()) ec = digest_errc::missing_nonce;
  else if (qop_unknown_only || (is_session_algorithm(c.algorithm) && !c.has_qop())) ec = digest_errc::unsupported_qop;
  if (ec) return std::nullopt;
  return c;
}

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

/// Parses one Digest challenge (a `WWW-Authenticate` or `Proxy-Authenticate` value holding exactly one
/// challenge; RFC 3261 §25.1 challenge, RFC 7616 §3.3). Parameter names and the scheme are matched
/// case-insensitively, `name = value` may have whitespace around '=', values are tokens or quoted
/// strings (escapes undone; commas inside quotes are part of the value); qop is a quoted list (a bare
/// token is accepted too). Unknown parameters (domain, charset, userhash, extensions) are ignored. On
/// failure returns nullopt and sets `ec`: `not_digest` for another scheme, `malformed` for bad syntax or
/// more than one challenge, `duplicate_parameter`, `missing_realm`, `missing_nonce`,
/// `unsupported_algorithm`, or `unsupported_qop` (a qop list without auth/auth-int, or a "-sess"
/// algorithm with no qop); `ec` is cleared on success. Throws only std::bad_alloc. Thread safety: pure.
inline std::optional<digest_challenge> parse_digest_challenge(std::string_view value, std::error_code& ec) {
  ec.clear();
  std::vector<detail::auth_item> items;
  if (!detail::parse_auth_items(value, items) || items.size() != 1) {
    ec = digest_errc::malformed;
    return std::nullopt;
  }
  return detail::digest_challenge_from(items.front(), ec);
}

/// As above; nullopt on any failure (the reason is dropped).
inline std::optional<digest_challenge> parse_digest_challenge(std::string_view value) {
  std::error_code ec;
  return parse_digest_challenge(value, ec);
}

/// Every usable Digest challenge in `values` (the `WWW-Authenticate` or `Proxy-Authenticate` values of
/// one response, in order; each value may hold several comma-separated challenges, RFC 7235 §4.1), in
/// order. Challenges of other schemes, and Digest challenges that `parse_digest_challenge` would reject
/// (unknown algorithm, missing nonce...), are skipped. When none is usable, `ec` tells why: the error of
/// the first Digest challenge rejected, or `no_challenge` when there was no Digest challenge at all
/// (including a value that does not parse). Throws only std::bad_alloc. Thread safety: pure.
inline std::vector<digest_challenge> parse_digest_challenges(std::span<const std::string_view> values, std::error_code& ec) {
  ec.clear();
  std::vector<digest_challenge> out;
  std::error_code first_error;
  for (auto v : values) {
    std::vector<detail::auth_item> items;
    if (!detail::parse_auth_items(v, items)) continue;
    for (const auto& item : items) {
      std::error_code e;
      if (auto c = detail::digest_challenge_from(item, e)) out.push_back(std::move(*c));
      else if (e != digest_errc::not_digest && !first_error) first_error = e;
    }
  }
  if (out.empty()) ec = first_error ? first_error : std::error_code(digest_errc::no_challenge);
  return out;
}

/// The challenge to answer among `values` (see `parse_digest_challenges`): the one with the strongest
/// algorithm this stack supports (RFC 8760 §2.4: SHA-256 over MD5; unknown algorithms are never chosen);
/// among equally strong ones, the first (the server lists its preferred first, RFC 8760 §2.4). When
/// `realm` is given, only challenges of that realm count. nullopt with `ec` set (as
/// `parse_digest_challenges`, or `no_challenge` when no challenge has the realm) when none is usable.
/// Throws only std::bad_alloc. Thread safety: pure.
inline std::optional<digest_challenge> select_digest_challenge(std::span<const std::string_view> values, std::error_code& ec,
                                                               std::optional<std::string_view> realm = std::nullopt) {
  auto all = parse_digest_challenges(values, ec);
  const digest_challenge* best = nullptr;
  for (const auto& c : all) {
    if (realm && c.realm != *realm) continue;
    if (!best || digest_strength(c.algorithm) > digest_strength(best->algorithm)) best = &c;
  }
  if (!best) {
    if (!ec) ec = digest_errc::no_challenge;
    return std::nullopt;
  }
  ec.clear();
  return *best;
}

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

/// Which challenges a `digest_client` may answer (issue: credentials must not go to whoever challenges;
/// RFC 3261 §22.1 leaves the choice of realms to the UA, RFC 8760 §3 the algorithms). A plain value.
struct digest_policy {
  /// Realms whose challenges are answered, compared exactly (RFC 7616 §3.3: case-sensitive). Empty =
  /// none (unless `any_realm`).
  std::vector<std::string> realms;
  /// Answer challenges of every realm. Only for a client that already trusts its server by other means;
  /// never for an account that calls arbitrary URIs.
  bool any_realm = false;
  /// Answer challenges without qop (RFC 2069 compatibility, RFC 2617 §3.2.2.1 without qop): no cnonce,
  /// so the response is an unsalted dictionary target. Off by default.
  bool allow_rfc2069 = false;

  /// Empty when `c` may be answered; else `realm_not_allowed` (checked first) or `rfc2069_not_allowed`.
  /// Pure.
  [[nodiscard]] std::error_code check(const digest_challenge& c) const {
    if (!any_realm && std::find(realms.begin(), realms.end(), c.realm) == realms.end()) return digest_errc::realm_not_allowed;
    if (!c.has_qop() && !allow_rfc2069) return digest_errc::rfc2069_not_allowed;
    return {};
  }
};

/// The Digest state of one account (RFC 3261 §22.2-22.3): its credentials and the challenges it has
/// answered, so later requests are authorized up front (pre-authorization, RFC 3261 §22.3) with the
/// remembered nonce and a nonce-count that goes up by one per request (RFC 7616 §3.4). It keeps at most
/// `max_challenges` challenges, one per (realm, WWW/Proxy) pair; a new challenge replaces the old one of
/// its pair, and a new nonce restarts its count at 1. Retry policy is the caller's (RFC 3261 §22.2: do
/// not resend credentials that a non-stale challenge just rejected). Only challenges its `digest_policy`
/// allows are taken (by default none: set the realms). Not thread safe: one object per account, used on
/// one thread (the SIP TSP's).
class digest_client {
 public:
  /// Most challenges remembered at once (oldest dropped first).
  static constexpr std::size_t max_challenges = 4;

  /// A client for `credentials` answering what `policy` allows, with no challenge yet (requests go out
  /// without credentials).
  explicit digest_client(digest_credentials credentials = {}, digest_policy policy = {})
      : credentials_(std::move(credentials)), policy_(std::move(policy)) {}

  /// The account's credentials.
  [[nodiscard]] const digest_credentials& credentials() const noexcept { return credentials_; }
  /// Which challenges are answered.
  [[nodiscard]] const digest_policy& policy() const noexcept { return policy_; }
  /// Replaces the policy; remembered challenges it no longer allows are forgotten.
  void set_policy(digest_policy policy) {
    policy_ = std::move(policy);
    std::erase_if(entries_, [this](const entry& e) { return static_cast<bool>(policy_.check(e.challenge)); });
  }
  /// Replaces the credentials and forgets every challenge.
  void set_credentials(digest_credentials credentials) {
    credentials_ = std::move(credentials);
    entries_.clear();
  }

  /// Takes the challenges of a 401 (`WWW-Authenticate`) or 407 (`Proxy-Authenticate`) response (any
  /// response carrying them is read): for each realm the policy allows, the strongest usable challenge
  /// (as `select_digest_challenge`: our local policy per RFC 8760 §2.4, so that an MD5 listed first cannot
  /// downgrade a SHA-256 offer) is remembered. Returns an empty code when at least one was taken;
  /// otherwise the reason: the policy's (`realm_not_allowed`, `rfc2069_not_allowed`, for the topmost
  /// challenge it refused) when parsable challenges were all refused, else as `parse_digest_challenges`
  /// gives it (`no_challenge`, `unsupported_algorithm`...).
  std::error_code on_challenge(const message& response) {
    std::error_code result = digest_errc::no_challenge;
    bool taken = false;
    for (bool proxy : {false, true}) {
      const auto values = response.headers_named(proxy ? "Proxy-Authenticate" : "WWW-Authenticate");
      if (values.empty()) continue;
      std::error_code ec;
      const auto all = parse_digest_challenges(values, ec);
      if (all.empty()) {
        if (!taken && result != digest_errc::realm_not_allowed && result != digest_errc::rfc2069_not_allowed) result = ec;
        continue;
      }
      std::vector<const digest_challenge*> best;  // per realm, in order of first appearance
      for (const auto& c : all) {
        if (auto refused = policy_.check(c)) {
          if (!taken && result == digest_errc::no_challenge) result = refused;
          continue;
        }
        auto it = std::find_if(best.begin(), best.end(), [&c](const digest_challenge* b) { return b->realm == c.realm; });
        if (it == best.end()) best.push_back(&c);
        else if (digest_strength(c.algorithm) > digest_strength((*it)->algorithm)) *it = &c;
      }
      if (best.empty()) continue;
      for (const auto* c : best) remember(*c, proxy);
      taken = true;
      result.clear();
    }
    return result;
  }

  /// Remembers `challenge` as a `Proxy-Authenticate` (`proxy`) or `WWW-Authenticate` one (see the class).
  void remember(digest_challenge challenge, bool proxy) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->proxy != proxy || it->challenge.realm != challenge.realm) continue;
      const bool same_nonce = it->challenge.nonce == challenge.nonce;
      it->challenge = std::move(challenge);
      if (!same_nonce) it->nc = 0;
      return;
    }
    if (entries_.size() >= max_challenges) entries_.erase(entries_.begin());
    entries_.push_back({std::move(challenge), proxy, 0});
  }

  /// True when a challenge is remembered (requests will carry credentials).
  [[nodiscard]] bool has_challenge() const noexcept { return !entries_.empty(); }
  /// Forgets every challenge (e.g. after the registrar rejected the credentials for good).
  void clear() noexcept { entries_.clear(); }

  /// Adds credentials to `request` for every remembered challenge: `Authorization` for WWW challenges,
  /// `Proxy-Authorization` for proxy ones (RFC 3261 §22.2, §22.3), over the request's method,
  /// Request-URI and body, with a fresh cnonce and the next nonce-count. Fields of those two names
  /// already in `request` are removed first. Without a remembered challenge the request is left as is.
  /// Returns `crypto_failure` when OpenSSL fails (the request then carries no credentials).
  std::error_code authorize(message& request) {
    request.remove("Authorization");
    request.remove("Proxy-Authorization");
    for (auto& e : entries_) {
      std::error_code ec;
      std::string cnonce;
      if (e.challenge.has_qop()) {
        auto c = make_cnonce(ec);
        if (!c) return ec;
        cnonce = std::move(*c);
      }
      const std::uint32_t nc = e.challenge.has_qop() ? e.nc + 1 : 0;
      auto r = make_digest_response(e.challenge, credentials_, request.method, request.request_uri, request.body, cnonce, nc, ec);
      if (!r) {
        request.remove("Authorization");
        request.remove("Proxy-Authorization");
        return ec;
      }
      e.nc = nc;
      request.add(e.proxy ? "Proxy-Authorization" : "Authorization", r->to_string());
    }
    return {};
  }

 private:
  struct entry {
    digest_challenge challenge;
    bool proxy = false;
    std::uint32_t nc = 0;  // last nonce-count sent with this nonce
  };
  digest_credentials credentials_;
  digest_policy policy_;
  std::vector<entry> entries_;
};

}  // namespace tspi::sip
