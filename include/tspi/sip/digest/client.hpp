// ptapi - portable TAPI
// tspi/sip/digest/client.hpp: the Digest state of one account: answering challenges and pre-authorizing later
// requests (RFC 3261 §22.2-22.3).
#pragma once

#include <tspi/sip/digest/challenge.hpp>
#include <tspi/sip/digest/error.hpp>
#include <tspi/sip/digest/policy.hpp>
#include <tspi/sip/digest/response.hpp>
#include <tspi/sip/message.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tspi::sip {

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
