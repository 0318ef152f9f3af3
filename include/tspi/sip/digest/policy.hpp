// ptapi - portable TAPI
// tspi/sip/digest/policy.hpp: which Digest challenges a client may answer (realms, algorithms, RFC 2069).
#pragma once

#include <tspi/sip/digest/challenge.hpp>
#include <tspi/sip/digest/error.hpp>

#include <algorithm>
#include <string>
#include <system_error>
#include <vector>

namespace tspi::sip {

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

}  // namespace tspi::sip
