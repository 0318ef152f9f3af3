// ptapi - portable TAPI
// tspi/sip/detail/call_information.hpp: what the SIP TSP tells the application about a call
// (`provider_call_info`, TSPI's LINECALLINFO), taken from the messages of the call's INVITE.
#pragma once

#include <tspi/call_info.hpp>
#include <tspi/sip/digest/challenge.hpp>
#include <tspi/sip/digest/error.hpp>
#include <tspi/sip/digest/policy.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transport/peer.hpp>
#include <tspi/sip/uri.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace tspi::sip::detail {

/// The start line and header section of `m`, CRLF-separated, ending with the empty line (no body): what
/// CIB_DEVSPECIFICBUFFER carries for SIP. Throws only std::bad_alloc.
inline std::string header_section(const message& m) {
  auto text = m.to_string();  // ends with the empty line, then the body
  text.resize(text.size() - m.body.size());
  return text;
}

/// Most INVITE response codes kept in `provider_responses`: a peer may send 1xx without end, and each
/// report copies the information, so later ones are not recorded (the final status still is).
inline constexpr std::size_t max_recorded_responses = 32;

/// Appends `status` to `info.provider_responses` while fewer than `max_recorded_responses` are there.
inline void record_response(provider_call_info& info, int status) {
  if (info.provider_responses.size() < max_recorded_responses) info.provider_responses.push_back(status);
}

/// Records a response to the call's INVITE (RFC 3261 §7.2) in `info`: its status joins
/// `provider_responses`; a final one that settles the INVITE (`settles`: not a challenge answered with
/// credentials) sets `provider_status`/`provider_reason` unless an earlier one did, and every final one
/// becomes `dev_specific`.
inline void note_invite_response(provider_call_info& info, const message& r, bool settles) {
  record_response(info, r.status);
  if (r.status < 200) return;
  if (settles && info.provider_status == 0) {
    info.provider_status = r.status;
    info.provider_reason = r.reason;
  }
  info.dev_specific = header_section(r);
}

/// `provider_call_info::signalling_secured` of a call whose hop is `hop`, for the initial request or final
/// response `m` with Request-URI (or target) `target`: our hop is TLS, and the URI is `sips:` (RFC 3261
/// §26.2.2: TLS on every hop) or no proxy is on the path (no Record-Route; for a request received, a
/// single Via; `via_proxy`: we send through an outbound proxy). Pure.
inline bool signalling_secured(const peer& hop, const uri& target, const message& m, bool request_received, bool via_proxy) {
  if (hop.protocol != transport_protocol::tls) return false;
  if (target.scheme == "sips") return true;
  if (via_proxy || m.header("Record-Route")) return false;
  if (!request_received) return true;
  const auto vias = m.headers_named("Via");
  return vias.size() == 1 && vias[0].find(',') == std::string_view::npos;
}

/// The party that answered an outgoing call (CIS_CONNECTEDIDNUMBER/NAME): the 2xx's P-Asserted-Identity
/// (RFC 3325 §9.1), else its To header.
inline void note_connected(provider_call_info& info, const message& ok) {
  auto who = parse_name_addr(ok.header("P-Asserted-Identity").value_or(""));
  if (!who) who = parse_name_addr(ok.header("To").value_or(""));
  if (!who) return;
  info.connected_id = who->address.to_string();
  info.connected_name = who->display_name;
}

/// Why the 401/407 `challenge` to the INVITE sent to `target` was not answered, as one line naming the
/// realm (`provider_detail`): `has_password` false when the account has none; `credentials_sent` when an
/// earlier challenge was answered already; `policy` the realms and RFC 2069 rule the account follows.
inline std::string challenge_refusal(const message& challenge, std::string_view target, bool has_password,
                                     bool credentials_sent, const digest_policy& policy) {
  std::error_code ec;
  const auto all = parse_digest_challenges(
      challenge.headers_named(challenge.status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate"), ec);
  if (all.empty()) return fmt::format("{} asked for authentication without a usable Digest challenge", target);
  const auto& c = all.front();
  if (!has_password)
    return fmt::format("{} asks for credentials for realm \"{}\" and the account has no password", target, c.realm);
  const auto refused = policy.check(c);
  if (refused == digest_errc::realm_not_allowed)
    return fmt::format("refused to send credentials to realm \"{}\" of {}: {}", c.realm, target,
                       policy.realms.empty()
                           ? "credentials go only to the registrar's realm or a configured realm, and there is neither"
                           : "not a configured realm nor the registrar's realm");
  if (refused == digest_errc::rfc2069_not_allowed)
    return fmt::format("refused to answer realm \"{}\" of {}: MD5 without qop (RFC 2069) would expose the password "
                       "to offline guessing",
                       c.realm, target);
  if (credentials_sent) return fmt::format("{} refused the credentials for realm \"{}\"", target, c.realm);
  return fmt::format("{} asked for authentication without a usable Digest challenge", target);
}

}  // namespace tspi::sip::detail
