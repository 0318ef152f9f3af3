// ptapi - portable TAPI
// tspi/sip/detail/diversion.hpp: what forwarding rules and the Diversion header (RFC 5806) mean to the SIP
// TSP: the trigger of a rule, its RFC 5806 reason, the CIL_REASON of a call arriving with one, and whether a
// caller is the one a `*_specific` rule names.
#pragma once

#include <tspi/call_info.hpp>
#include <tspi/forward.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/uri.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace tspi::sip::detail {

/// What makes a forwarding rule apply to an incoming call (tspi/forward.hpp; session/forwarding.hpp).
using tspi::forward_trigger;

/// The caller (`From` URI of an INVITE) matches a `*_specific` rule's `caller` (a URI, or `user@host`):
/// same user and host, case-insensitively for the host (RFC 3261 §19.1.4). Pure; throws only std::bad_alloc.
inline bool same_caller(const uri& from, std::string_view rule_caller) {
  auto rule = parse_uri(rule_caller);
  if (!rule) rule = parse_uri("sip:" + std::string(rule_caller));
  return rule && rule->user == from.user && iequals(rule->host, from.host);
}

/// The RFC 5806 §4 `reason` of a forwarding rule kind, and TAPI's CIL_REASON for a call arriving with it.
inline std::string_view diversion_reason(forward_trigger t) noexcept {
  switch (t) {
    case forward_trigger::unconditional: return "unconditional";
    case forward_trigger::busy: return "user-busy";
    case forward_trigger::no_answer: return "no-answer";
  }
  return "unknown";
}

/// The RFC 4458 `cause` URI parameter of a retargeting by a rule of kind `t` (302 unconditional, 486 user
/// busy, 408 no reply): the 302's Contact carries it, so the caller's retargeted Request-URI and History-Info
/// entry (RFC 7044 §9.1) say why. Pure.
inline int history_cause(forward_trigger t) noexcept {
  switch (t) {
    case forward_trigger::unconditional: return 302;
    case forward_trigger::busy: return 486;
    case forward_trigger::no_answer: return 408;
  }
  return 302;
}

/// CIL_REASON of an incoming INVITE whose first Diversion header (RFC 5806 §4) has `reason`: fwd_busy,
/// fwd_noanswer, fwd_uncond (also for "unconditional" and "unknown"), redirect for the others (deflection,
/// time-of-day...). Pure.
inline call_reason reason_of_diversion(std::string_view reason) noexcept {
  if (iequals(reason, "user-busy")) return call_reason::fwd_busy;
  if (iequals(reason, "no-answer")) return call_reason::fwd_noanswer;
  if (iequals(reason, "unconditional") || iequals(reason, "unknown") || reason.empty()) return call_reason::fwd_uncond;
  return call_reason::redirect;
}

}  // namespace tspi::sip::detail
