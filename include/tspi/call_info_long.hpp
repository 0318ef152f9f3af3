// ptapi - portable TAPI
// tspi/call_info_long.hpp: TAPI 3's CALLINFO_LONG items (ITCallInfo::get/put_CallInfoLong) read from a
// `call_info`, and the LINECALLORIGIN_ / LINECALLPARAMFLAGS_ values they use.
#pragma once

#include <tspi/address_capabilities.hpp>
#include <tspi/call_info.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string_view>

namespace tspi {

/// TAPI 3's `CALLINFO_LONG` (tapi3if.h; same values): which number `info_long` reads and
/// `call::set_info_long` writes (ITCallInfo::get/put_CallInfoLong).
enum class call_info_long : std::uint8_t {
  media_types_available = 0,      ///< CIL_MEDIATYPESAVAILABLE: `call_info::media` (TAPIMEDIATYPE_ bits).
  bearer_mode = 1,                ///< CIL_BEARERMODE: LINEBEARERMODE_VOICE (every ptapi call).
  caller_id_address_type = 2,     ///< CIL_CALLERIDADDRESSTYPE: `address_type_of(caller_id)`.
  called_id_address_type = 3,     ///< CIL_CALLEDIDADDRESSTYPE: `address_type_of(called_id)`.
  connected_id_address_type = 4,  ///< CIL_CONNECTEDIDADDRESSTYPE: `address_type_of(connected_id)`.
  redirection_id_address_type = 5,  ///< CIL_REDIRECTIONIDADDRESSTYPE: `address_type_of(redirection_id)`.
  redirecting_id_address_type = 6,  ///< CIL_REDIRECTINGIDADDRESSTYPE: `address_type_of(redirecting_id)`.
  origin = 7,                     ///< CIL_ORIGIN: `line_call_origin::inbound` or `outbound` (`call_info::incoming`).
  reason = 8,                     ///< CIL_REASON: `call_info::reason` (LINECALLREASON_).
  app_specific = 9,               ///< CIL_APPSPECIFIC: `call_info::app_specific` (settable).
  call_params_flags = 10,         ///< CIL_CALLPARAMSFLAGS: `line_call_param_flags::secure` when `secured`, else 0.
  call_treatment = 11,            ///< CIL_CALLTREATMENT: 0 (ptapi's providers have no call treatments).
  min_rate = 12,                  ///< CIL_MINRATE: 0 (not known).
  max_rate = 13,                  ///< CIL_MAXRATE: 0 (not known).
  country_code = 14,              ///< CIL_COUNTRYCODE: 0 (not known).
  call_id = 15,                   ///< CIL_CALLID: `call_info::id`, its low 32 bits.
  related_call_id = 16,           ///< CIL_RELATEDCALLID: `call_info::related_call_id`, its low 32 bits.
  completion_id = 17,             ///< CIL_COMPLETIONID: 0 (no call completion).
  number_of_owners = 18,          ///< CIL_NUMBEROFOWNERS: 1 for a call with owner privilege, else 0.
  number_of_monitors = 19,        ///< CIL_NUMBEROFMONITORS: 1 for a call with monitor privilege, else 0.
  trunk = 20,                     ///< CIL_TRUNK: 0xFFFFFFFF (LINECALLINFO's "unknown": no trunks).
  rate = 21,                      ///< CIL_RATE: 0 (not known).
  /// CIL_GENERATEDIGITDURATION (ms, settable): `call_info::generate_digit_duration`, or
  /// `generate_digit_duration_ms` while that is 0.
  generate_digit_duration = 22,
  monitor_digit_modes = 23,       ///< CIL_MONITORDIGITMODES: `call_info::monitor_digit_modes` (settable).
  monitor_media_modes = 24,       ///< CIL_MONITORMEDIAMODES: 0 (no media mode monitoring).
};

/// LINECALLORIGIN_ (tapi.h): CIL_ORIGIN's values that ptapi reports.
namespace line_call_origin {
inline constexpr std::uint32_t outbound = 0x1;  ///< LINECALLORIGIN_OUTBOUND: placed by the application.
inline constexpr std::uint32_t inbound = 0x80;  ///< LINECALLORIGIN_INBOUND: arrived (internal or external not known).
}  // namespace line_call_origin

/// LINECALLPARAMFLAGS_ (tapi.h): CIL_CALLPARAMSFLAGS' value that ptapi reports.
namespace line_call_param_flags {
/// LINECALLPARAMFLAGS_SECURE: the call is secure (ptapi: `call_info::secured`, TLS signalling and SRTP media).
inline constexpr std::uint32_t secure = 0x1;
}  // namespace line_call_param_flags

/// True for the CALLINFO_LONG items `call::set_info_long` takes: CIL_APPSPECIFIC (lineSetAppSpecific),
/// CIL_MONITORDIGITMODES (lineMonitorDigits) and CIL_GENERATEDIGITDURATION. Pure, never throws.
[[nodiscard]] constexpr bool settable(call_info_long item) noexcept {
  return item == call_info_long::app_specific || item == call_info_long::monitor_digit_modes ||
         item == call_info_long::generate_digit_duration;
}

/// The LINEADDRESSTYPE_ (`line_address_type`) a party ID's form has: 0 for an empty ID; `phone_number` for
/// a `tel:` URI (RFC 3966), a SIP URI with `user=phone` (RFC 3261 §19.1.1) or an ID of dialable
/// characters only (`0-9 + * # - . ( )` and spaces); `email_name` for `user@host` (a SIP or SIPS URI with a
/// user part, RFC 3261 §19.1); `ip_address` for an IPv4 or IPv6 literal (a bracketed IPv6 `host` too, with
/// or without the `sip:` scheme, a port or parameters); `domain_name` for anything else (a host name, or a
/// loopback provider's address name). TAPI has no SIP URI type (tapi3-object-model: address types).
/// Throws only std::bad_alloc. Pure.
[[nodiscard]] inline std::uint32_t address_type_of(std::string_view id) {
  namespace t = line_address_type;
  if (id.empty()) return 0;
  const auto has_prefix = [&](std::string_view p) {
    if (id.size() < p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
      if ((id[i] | 0x20) != p[i]) return false;
    return true;
  };
  if (has_prefix("tel:")) return t::phone_number;
  if (id.find(";user=phone") != std::string_view::npos) return t::phone_number;
  if (has_prefix("sips:")) id.remove_prefix(5);
  else if (has_prefix("sip:")) id.remove_prefix(4);
  if (id.find('@') != std::string_view::npos) return t::email_name;
  id = id.substr(0, id.find(';'));  // URI parameters
  if (!id.empty() && id.front() == '[') {
    const auto close = id.find(']');
    if (close == std::string_view::npos) return t::domain_name;  // no IPv6 reference (RFC 3261 §25.1)
    id = id.substr(1, close - 1);
  } else if (id.find(':') == id.rfind(':')) id = id.substr(0, id.find(':'));  // one colon: a port
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(std::string(id), ec);  // std::string: may throw only std::bad_alloc
  if (!ec) return t::ip_address;
  if (id.empty()) return t::domain_name;
  for (char ch : id)
    if (!((ch >= '0' && ch <= '9') || ch == '+' || ch == '*' || ch == '#' || ch == '-' || ch == '.' || ch == '(' ||
          ch == ')' || ch == ' '))
      return t::domain_name;
  return t::phone_number;
}

/// ITCallInfo::get_CallInfoLong: the value of `item` for a call described by `info` (see `call_info_long`
/// for each item's source); 0 for a value outside the enumeration. Throws only std::bad_alloc. Pure.
[[nodiscard]] inline std::uint32_t info_long(const call_info& info, call_info_long item) {
  using l = call_info_long;
  switch (item) {
    case l::media_types_available: return static_cast<std::uint32_t>(info.media);
    case l::bearer_mode: return line_bearer_mode::voice;
    case l::caller_id_address_type: return address_type_of(info.caller_id);
    case l::called_id_address_type: return address_type_of(info.called_id);
    case l::connected_id_address_type: return address_type_of(info.connected_id);
    case l::redirection_id_address_type: return address_type_of(info.redirection_id);
    case l::redirecting_id_address_type: return address_type_of(info.redirecting_id);
    case l::origin: return info.incoming ? line_call_origin::inbound : line_call_origin::outbound;
    case l::reason: return static_cast<std::uint32_t>(info.reason);
    case l::app_specific: return info.app_specific;
    case l::call_params_flags: return info.secured ? line_call_param_flags::secure : 0;
    case l::call_id: return static_cast<std::uint32_t>(info.id);
    case l::related_call_id: return static_cast<std::uint32_t>(info.related_call_id);
    case l::number_of_owners: return info.privilege == call_privilege::owner ? 1 : 0;
    case l::number_of_monitors: return info.privilege == call_privilege::monitor ? 1 : 0;
    case l::trunk: return 0xFFFFFFFF;
    case l::generate_digit_duration:
      return info.generate_digit_duration ? info.generate_digit_duration : generate_digit_duration_ms;
    case l::monitor_digit_modes: return info.monitor_digit_modes;
    case l::call_treatment:
    case l::min_rate:
    case l::max_rate:
    case l::country_code:
    case l::completion_id:
    case l::rate:
    case l::monitor_media_modes: return 0;
  }
  return 0;
}

}  // namespace tspi
