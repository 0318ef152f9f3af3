// ptapi - portable TAPI
// tspi/sip/digest/challenge.hpp: Digest challenges (RFC 3261 §22.1, RFC 7616 §3.3): parsing WWW-Authenticate
// / Proxy-Authenticate values and choosing the challenge to answer (RFC 8760 §2.4).
#pragma once

#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/digest/algorithm.hpp>
#include <tspi/sip/digest/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

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

}  // namespace tspi::sip
