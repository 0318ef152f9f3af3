// ptapi - portable TAPI
// tspi/sip/causes.hpp: how SIP final responses map to TAPI disconnect modes, and how an application's
// reject maps to a SIP response (one table each, used by the SIP TSP in both directions).
#pragma once

#include <tspi/call_state.hpp>

namespace tspi::sip {

/// The LINEDISCONNECTMODE a failed outgoing INVITE ends with, from the final response's status
/// (RFC 3261 §21; the TAPI 3 cause follows via `to_cause`, e.g. busy → CSC_DISCONNECT_BUSY and
/// `connect` failing with `dest_busy`):
///
/// | SIP status | mode | TAPI 3 cause |
/// |---|---|---|
/// | 486 Busy Here, 600 Busy Everywhere | busy | disconnect_busy |
/// | 603 Decline, 403 Forbidden | reject | disconnect_rejected |
/// | 480 Temporarily Unavailable, 408 Request Timeout (a reply, or Timer B) | noanswer | disconnect_noanswer |
/// | 404, 604 Does Not Exist, 484 Address Incomplete, 410 Gone, 416, 485 Ambiguous | badaddress | disconnect_badaddress |
/// | 487 Request Terminated (our CANCEL) | cancelled | disconnect_cancelled |
/// | 488, 606 Not Acceptable, 415 Unsupported Media Type | incompatible | disconnect_failed |
/// | 503 Service Unavailable, 502, 504, a transport error | unreachable | disconnect_failed |
/// | 401/407 whose challenge cannot be answered (no password, no usable challenge) or that the account's policy refuses (a realm not in `sip_account::realms`, RFC 2069 without `allow_rfc2069`; no credentials are sent) | blocked | disconnect_blocked |
/// | 3xx (redirects are not followed) | forwarded | disconnect_normal |
/// | any other 4xx/5xx/6xx | unavail | disconnect_failed |
///
/// A BYE from the far end ends a connected call with `normal`; a CANCEL of an incoming call with
/// `cancelled`... see `sip_tsp`. Pure function.
constexpr line_disconnect_mode disconnect_mode_for_status(int status) noexcept {
  using enum line_disconnect_mode;
  switch (status) {
    case 486:
    case 600: return busy;
    case 603:
    case 403: return reject;
    case 480:
    case 408: return noanswer;
    case 404:
    case 604:
    case 484:
    case 410:
    case 416:
    case 485: return badaddress;
    case 487: return cancelled;
    case 488:
    case 606:
    case 415: return incompatible;
    case 502:
    case 503:
    case 504: return unreachable;
    case 401:
    case 407: return blocked;
    default: break;
  }
  if (status >= 300 && status < 400) return forwarded;
  return unavail;
}

/// The final response with which an offering call is refused when the application drops it
/// (ITBasicCallControl::Disconnect on an offering call): `rejected` → 603 Decline, `noanswer` →
/// 480 Temporarily Unavailable, `normal` → 486 Busy Here. Pure function.
constexpr int reject_status(disconnect_code code) noexcept {
  switch (code) {
    case disconnect_code::rejected: return 603;
    case disconnect_code::noanswer: return 480;
    case disconnect_code::normal: return 486;
  }
  return 486;
}

}  // namespace tspi::sip
