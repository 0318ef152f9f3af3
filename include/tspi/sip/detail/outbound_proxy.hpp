// ptapi - portable TAPI
// tspi/sip/detail/outbound_proxy.hpp: an account's outbound proxy as the URI of a preloaded Route
// (RFC 3261 §8.1.2: loose routing, `lr`).
#pragma once

#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/uri.hpp>

#include <optional>
#include <string_view>

namespace tspi::sip::detail {

/// `sip_account::outbound_proxy` parsed, with `;lr` added when missing; nullopt when it does not parse.
/// A `sips:` or `;transport=tls` proxy is kept as it is: reached over TLS only (the provider refuses it
/// when TLS is not enabled, never downgraded). Throws only std::bad_alloc. Pure.
inline std::optional<uri> loose_route_uri(std::string_view proxy) {
  auto u = parse_uri(proxy);
  if (!u) return std::nullopt;
  if (!u->param("lr")) u->params.push_back({"lr", ""});
  u->user.clear();
  u->password.clear();
  return u;
}

}  // namespace tspi::sip::detail
