// ptapi - portable TAPI
// tspi/call_info.hpp: what an application learns about a call (TAPI 3's ITCallInfo items), and the part
// of it a TSP fills (TSPI's LINECALLINFO, reported with LINE_CALLINFO).
#pragma once

#include <tspi/call_state.hpp>

#include <mspi/media_types.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tspi {

/// CIL_REASON: why the call exists (TAPI's LINECALLREASON_* values, ITCallInfo::get_CallInfoLong(CIL_REASON)).
/// ptapi sets `direct` for calls the application places or that arrive, and `transfer` for a call a
/// provider places because the far end transferred this one (SIP: a REFER to us, RFC 3515); the other
/// values are TAPI's, for providers that learn them.
enum class call_reason : std::uint32_t {
  direct = 0x1,             ///< LINECALLREASON_DIRECT: placed or received directly.
  fwd_busy = 0x2,           ///< LINECALLREASON_FWDBUSY: forwarded because the destination was busy.
  fwd_noanswer = 0x4,       ///< LINECALLREASON_FWDNOANSWER: forwarded for no answer.
  fwd_uncond = 0x8,         ///< LINECALLREASON_FWDUNCOND: forwarded unconditionally.
  pickup = 0x10,            ///< LINECALLREASON_PICKUP: picked up from another address.
  unpark = 0x20,            ///< LINECALLREASON_UNPARK: retrieved from park.
  redirect = 0x40,          ///< LINECALLREASON_REDIRECT: redirected here.
  call_completion = 0x80,   ///< LINECALLREASON_CALLCOMPLETION: a call-completion request's result.
  transfer = 0x100,         ///< LINECALLREASON_TRANSFER: the result of a transfer.
  reminder = 0x200,         ///< LINECALLREASON_REMINDER: a reminder of a parked or held call.
  unknown = 0x400,          ///< LINECALLREASON_UNKNOWN: not known (yet).
  unavail = 0x800,          ///< LINECALLREASON_UNAVAIL: not available.
  intrude = 0x1000,         ///< LINECALLREASON_INTRUDE: intrusion.
  parked = 0x2000,          ///< LINECALLREASON_PARKED: parked.
  camped_on = 0x4000,       ///< LINECALLREASON_CAMPEDON: camp-on.
  route_request = 0x8000,   ///< LINECALLREASON_ROUTEREQUEST: a route request.
};

/// The call information a TSP provides and updates while the call lives (TSPI's LINECALLINFO fields,
/// reported with `line_event_sink::call_info_changed`, TSPI's LINE_CALLINFO). The TSP always reports the
/// whole set; the TAPI object replaces the call's copy with it. Items a TSP does not know stay empty/0.
/// The `provider_*` items, `secured` and the SIP meanings are ptapi additions: TAPI 3 leaves such data to
/// CIB_DEVSPECIFICBUFFER.
struct provider_call_info {
  /// CIS_CALLEDIDNAME: the called party's display name (SIP: the To header's display-name, RFC 3261
  /// §20.39), empty when none was given.
  std::string called_name;
  /// CIS_CONNECTEDIDNUMBER: the party that actually answered an outgoing call (SIP: the URI of the 2xx's
  /// P-Asserted-Identity, RFC 3325 §9.1, else of its To header). Set when the call connects; empty for
  /// incoming calls and before.
  std::string connected_id;
  /// CIS_CONNECTEDIDNAME: that party's display name, empty when none was given.
  std::string connected_name;
  /// CIS_REDIRECTINGIDNUMBER: the address that forwarded or redirected the call (SIP: for an incoming
  /// call the first Diversion header's URI, RFC 5806 §4, else the History-Info entry its last retargeting
  /// came from, RFC 7044 §10.3; for an outgoing call the URI that answered 3xx).
  /// Empty when the call was not redirected.
  std::string redirecting_id;
  /// CIS_REDIRECTINGIDNAME: that address's display name (SIP: the Diversion header's or History-Info entry's
  /// display-name, RFC 3261 §25.1 name-addr); empty when none was given or the call was not redirected.
  std::string redirecting_name;
  /// CIS_REDIRECTIONIDNUMBER: where an outgoing call was redirected to (SIP: the 3xx Contact followed,
  /// RFC 3261 §8.1.3.4). Empty when the call was not redirected; incoming calls leave it empty.
  std::string redirection_id;
  /// CIS_REDIRECTIONIDNAME: the display name of that Contact; empty when none was given.
  std::string redirection_name;
  /// The provider's identifier of the call (SIP: the Call-ID, RFC 3261 §8.1.1.4 — of the INVITE we sent,
  /// or of the INVITE received). Set when the call is placed or arrives; never changes after that (a new
  /// INVITE after a digest challenge keeps it, RFC 3261 §22.2).
  std::string provider_call_id;
  /// Status codes of the responses to the call's initial INVITE so far, in order: for an outgoing call
  /// those received (provisional 1xx, digest challenges 401/407 with the INVITEs that answer them, and
  /// the final response, RFC 3261 §7.2), for an incoming call those sent (100 Trying, 180, the final).
  /// Responses to later requests of the dialog (re-INVITE, BYE, REFER) are not listed.
  std::vector<int> provider_responses;
  /// The final response that settled the call's initial INVITE (SIP: its status code, 200..699, RFC
  /// 3261 §7.2; a challenge left unanswered counts, one answered with credentials does not); 0 before
  /// there is one, and for a call that got none (timeout, transport error). For an incoming call: the
  /// final response we sent.
  int provider_status = 0;
  /// That response's reason phrase (RFC 3261 §7.2, "Busy Here"); empty while `provider_status` is 0.
  std::string provider_reason;
  /// A human-readable explanation of a failure the provider understood better than a status code says,
  /// e.g. (SIP) why a digest challenge was not answered, naming its realm; empty when there is none.
  std::string provider_detail;
  /// True when signalling and media are both protected (SIP over TLS with SRTP): `signalling_secured`, and
  /// every stream of the call reports `mspi::stream_statistics::secured`. Computed by the TAPI object, not
  /// the provider (a TSP's value is ignored), whenever the call's information is read; a change seen at a
  /// LINE_CALLINFO or a stream event of the call is reported as `call_info_change_cause::other`. The lock an application shows; a ptapi extension
  /// (issue 10), TAPI has no such item.
  bool secured = false;
  /// True when the call's signalling went over TLS end to end as far as the provider knows (SIP: our hop
  /// is TLS, RFC 3261 §26.2, and the URI is `sips:` — TLS on every hop — or no proxy is on the path), so
  /// that SDP keys (SDES) stayed secret. Set when an incoming call arrives, and when an outgoing one is
  /// answered (false before). A ptapi extension (issue 10); TAPI has no such item.
  bool signalling_secured = false;
  /// CIB_DEVSPECIFICBUFFER: provider-specific raw bytes (SIP: the start line and header section,
  /// CRLF-separated, of the last final response to the call's INVITE, or for an incoming call of the
  /// INVITE received). Empty when the provider has none.
  std::string dev_specific;
};

/// What `call::info` reports (ITCallInfo: CIL_* / CIS_* / CIB_* values and get_CallState, get_Privilege):
/// the items the TAPI object keeps itself, plus the provider's (`provider_call_info`, empty until the TSP
/// reports them). A snapshot: later changes raise `tapi_event::call_info_change`.
struct call_info : provider_call_info {
  std::uint64_t id = 0;                                   ///< The call's identifier in this TAPI object (CIL_CALLID's role); never reused.
  tspi::call_state state = tspi::call_state::idle;        ///< ITCallInfo::get_CallState
  call_state_cause cause = call_state_cause::none;        ///< Cause of the last state change.
  call_privilege privilege = call_privilege::owner;       ///< ITCallInfo::get_Privilege
  bool incoming = false;                                  ///< CIL_ORIGIN: inbound (true) or outbound.
  std::string caller_id;                                  ///< CIS_CALLERIDNUMBER
  std::string caller_name;                                ///< CIS_CALLERIDNAME
  std::string called_id;                                  ///< CIS_CALLEDIDNUMBER (the destination dialled)
  mspi::media_type media = mspi::media_type::audio;       ///< CIL_MEDIATYPESAVAILABLE
  /// CIL_REASON (see `call_reason`): fixed at creation, but for an outgoing call placed by `call::unpark`
  /// (`unpark`) or `call::pickup` (`pickup`).
  call_reason reason = call_reason::direct;
  /// CIL_RELATEDCALLID: for a consultation call (`call::transfer` or `call::conference` named it), the `id`
  /// of the call it consults for; for an inbound call that replaces one of ours (RFC 3891 Replaces: we are a
  /// consultation transfer's target; `reason` is `transfer`), the `id` of the call it replaces, which ends
  /// when this one connects; 0 otherwise. Kept after the transfer or conference ends.
  std::uint64_t related_call_id = 0;
  /// CIL_MONITORDIGITMODES: the LINEDIGITMODE_ bits whose digits raise TE_DIGITEVENT (`call::detect_digits`):
  /// LINEDIGITMODE_DTMF (0x2, ptapi's default) or 0.
  std::uint32_t monitor_digit_modes = 0x2;
  /// CIL_GENERATEDIGITDURATION as set by `call::set_info_long` (ms): the duration `call::generate_digits`
  /// and `call::dial` give each digit and pause when the request names none; 0 (the default): the MSP's
  /// default timing (`info_long` then reports `generate_digit_duration_ms`).
  std::uint32_t generate_digit_duration = 0;
  std::uint32_t app_specific = 0;  ///< CIL_APPSPECIFIC: the application's own value (`call::set_app_specific`); 0 until set.
  /// CIS_CALLINGPARTYID: the identity an outgoing call asks to be presented as (LINECALLPARAMS'
  /// CallingPartyID; SIP: P-Preferred-Identity, RFC 3325 §9.2, a SIP URI or `user@host`), set by
  /// `call::set_info_string` before Connect; empty otherwise and for incoming calls.
  std::string calling_party_id;
  /// CIS_COMMENT: a line about the call. Outgoing: set by `call::set_info_string` before Connect (SIP:
  /// sent as Subject, RFC 3261 §20.36); incoming: what the caller sent (the INVITE's Subject).
  std::string comment;
  /// CIS_DISPLAYABLEADDRESS: how the application shows the called party's address (LINECALLPARAMS'
  /// DisplayableAddress, e.g. "+1 (425) 555-0100" for `sip:+14255550100@...`), set by
  /// `call::set_info_string`; kept in the TAPI object, never sent.
  std::string displayable_address;
  /// CIS_CALLEDPARTYFRIENDLYNAME: the called party's name as the caller knows it (LINECALLPARAMS'
  /// CalledParty; SIP: the To header's display-name of the INVITE), set by `call::set_info_string` before
  /// Connect.
  std::string called_party_friendly_name;
  /// CIB_USERUSERINFO: opaque bytes (at most `max_user_user_info_size`) for the far end's application. Outgoing:
  /// set by `call::set_info_buffer` before Connect (SIP: the INVITE's User-to-User header, hex, RFC 7433 §4.1);
  /// incoming: what the caller sent (the INVITE's first hex User-to-User value), known at the call notification.
  std::string user_user_info;
  /// CIB_CALLDATABUFFER: the application's own bytes on the call (lineSetCallData; `call::set_info_buffer`,
  /// at most `max_call_data_size`); every handle sees them, a change raises TE_CALLINFOCHANGE `call_data`.
  /// Kept in the TAPI object, never sent.
  std::string call_data;
};

/// TAPI 3's `CALLINFO_STRING` (values are TAPI's): which string `info_string` reads and
/// `call::set_info_string` writes (ITCallInfo::get/put_CallInfoString).
enum class call_info_string : std::uint8_t {
  caller_id_name = 0,              ///< CIS_CALLERIDNAME: `call_info::caller_name`
  caller_id_number = 1,            ///< CIS_CALLERIDNUMBER: `caller_id`
  called_id_name = 2,              ///< CIS_CALLEDIDNAME: `called_name`
  called_id_number = 3,            ///< CIS_CALLEDIDNUMBER: `called_id`
  connected_id_name = 4,           ///< CIS_CONNECTEDIDNAME: `connected_name`
  connected_id_number = 5,         ///< CIS_CONNECTEDIDNUMBER: `connected_id`
  redirection_id_name = 6,         ///< CIS_REDIRECTIONIDNAME: `redirection_name`
  redirection_id_number = 7,       ///< CIS_REDIRECTIONIDNUMBER: `redirection_id`
  redirecting_id_name = 8,         ///< CIS_REDIRECTINGIDNAME: `redirecting_name`
  redirecting_id_number = 9,       ///< CIS_REDIRECTINGIDNUMBER: `redirecting_id`
  called_party_friendly_name = 10, ///< CIS_CALLEDPARTYFRIENDLYNAME: `called_party_friendly_name` (settable)
  comment = 11,                    ///< CIS_COMMENT: `comment` (settable)
  displayable_address = 12,        ///< CIS_DISPLAYABLEADDRESS: `displayable_address` (settable)
  calling_party_id = 13,           ///< CIS_CALLINGPARTYID: `calling_party_id` (settable)
};

/// True for the CALLINFO_STRING items an application may set (`call::set_info_string`): the four of
/// LINECALLPARAMS. Pure, never throws.
[[nodiscard]] constexpr bool settable(call_info_string item) noexcept {
  return item == call_info_string::called_party_friendly_name || item == call_info_string::comment ||
         item == call_info_string::displayable_address || item == call_info_string::calling_party_id;
}

/// Longest value `call::set_info_string` takes, in bytes (longer ones give `invalid_argument`).
inline constexpr std::size_t max_info_string_size = 1024;

/// The `call_info` member that `item` names (see `call_info_string`); null for a value outside the
/// enumeration. Never throws; pure.
[[nodiscard]] constexpr std::string call_info::*member_of(call_info_string item) noexcept {
  using s = call_info_string;
  switch (item) {
    case s::caller_id_name: return &call_info::caller_name;
    case s::caller_id_number: return &call_info::caller_id;
    case s::called_id_name: return &call_info::called_name;
    case s::called_id_number: return &call_info::called_id;
    case s::connected_id_name: return &call_info::connected_name;
    case s::connected_id_number: return &call_info::connected_id;
    case s::redirection_id_name: return &call_info::redirection_name;
    case s::redirection_id_number: return &call_info::redirection_id;
    case s::redirecting_id_name: return &call_info::redirecting_name;
    case s::redirecting_id_number: return &call_info::redirecting_id;
    case s::called_party_friendly_name: return &call_info::called_party_friendly_name;
    case s::comment: return &call_info::comment;
    case s::displayable_address: return &call_info::displayable_address;
    case s::calling_party_id: return &call_info::calling_party_id;
  }
  return nullptr;
}

/// ITCallInfo::get_CallInfoString: the member of `info` that `item` names (`member_of`); empty for a value
/// outside the enumeration. Throws only std::bad_alloc. Pure.
[[nodiscard]] inline std::string info_string(const call_info& info, call_info_string item) {
  const auto member = member_of(item);
  return member ? info.*member : std::string();
}

/// TAPI's `CALLINFOCHANGE_CAUSE` subset ptapi raises (which `call_info` items changed).
enum class call_info_change_cause : std::uint8_t {
  other,         ///< CIC_OTHER: `provider_responses`, `provider_status`/`reason`/`detail`, `secured` or `signalling_secured`; or a string set by `call::set_info_string`.
  dev_specific,  ///< CIC_DEVSPECIFIC: `dev_specific`.
  call_id,       ///< CIC_CALLID: `provider_call_id`.
  called_id,     ///< CIC_CALLEDID: `called_name`.
  connected_id,  ///< CIC_CONNECTEDID: `connected_id` or `connected_name`.
  redirecting_id,  ///< CIC_REDIRECTINGID: `redirecting_id` or `redirecting_name`.
  redirection_id,  ///< CIC_REDIRECTIONID: `redirection_id` or `redirection_name`.
  related_call_id,  ///< CIC_RELATEDCALLID: `related_call_id` (the call became a consultation call).
  app_specific,     ///< CIC_APPSPECIFIC: `app_specific` (`call::set_app_specific`).
  reason,           ///< CIC_REASON: `reason` (an idle call set to `unpark` or `pickup` by `call::unpark` / `pickup`).
  call_data,        ///< CIC_CALLDATA: `call_data` (`call::set_info_buffer`).
  user_user_info,   ///< CIC_USERUSERINFO: `user_user_info` (`call::set_info_buffer` before Connect).
};

}  // namespace tspi
