// ptapi - portable TAPI
// tspi/detail/call_feature_ops.hpp: the core's part of ITBasicCallControl's less common methods: Dial (as
// DTMF), ParkDirect (TSPI_linePark), ParkIndirect, Unpark (TSPI_lineUnpark), Pickup (TSPI_linePickup),
// HandoffDirect/Indirect (lineHandoff) and SetQOS (the MSP's DiffServ marking).
#pragma once

#include <tspi/detail/core.hpp>

#include <mspi/qos.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace tspi::detail {

// Dial's dialable string (TAPI's dialable address format) as DTMF digits: `0-9 * # A-D a-d` kept, the
// formatting characters ` ( ) - .` and the tone-dialling mode `T` skipped, `;` (partial dial) accepted at
// the end. A dial modifier ptapi cannot honour (`,` pause, `W` wait for dial tone, `@` quiet answer,
// `$` billing tone, `!` flash, `P` pulse dialling) gives dial_modifier_not_supported; any other character,
// or no digit at all, invalid_address.
inline std::string dial_digits(std::string_view dialable, std::error_code& ec) {
  std::string digits;
  ec.clear();
  for (std::size_t i = 0; i < dialable.size(); ++i) {
    const char ch = dialable[i];
    if ((ch >= '0' && ch <= '9') || ch == '*' || ch == '#' || (ch >= 'A' && ch <= 'D') || (ch >= 'a' && ch <= 'd'))
      digits += ch;
    else if (std::string_view(" ()-.Tt").find(ch) != std::string_view::npos || (ch == ';' && i + 1 == dialable.size()))
      continue;
    else if (std::string_view(",Ww@$!Pp").find(ch) != std::string_view::npos) {
      ec = mspi::tapi_errc::dial_modifier_not_supported;
      return {};
    } else {
      ec = mspi::tapi_errc::invalid_address;
      return {};
    }
  }
  if (digits.empty()) ec = mspi::tapi_errc::invalid_address;
  return digits;
}

// A settable CALLINFO_STRING value: at most `max_info_string_size` bytes, no control character (it may
// become a SIP header field's value).
inline bool info_string_acceptable(std::string_view value) {
  if (value.size() > max_info_string_size) return false;
  for (unsigned char ch : value)
    if (ch < 0x20 || ch == 0x7f) return false;
  return true;
}

inline void core::call_feature(const std::shared_ptr<call_impl>& c, call_feature_request r, completion done) {
  post_op(std::move(done), [self = shared_from_this(), c, r = std::move(r)](completion done) {
    using k = call_feature_request::kind;
    if (auto ec = self->usable(*c)) return done(ec);
    const auto info = c->snapshot();
    // put_CallInfoLong takes three items (`settable`), whatever the privilege: E_INVALIDARG for the others.
    if (r.what == k::set_info_long && !settable(r.long_item)) return done(mspi::tapi_errc::invalid_argument);
    if (r.what == k::set_info_long && r.long_item == call_info_long::app_specific)
      return self->set_app_specific(c, r.value, std::move(done));
    // TAPI lets a monitor watch digits (lineMonitorDigits, CIL_MONITORDIGITMODES); every other request needs the owner.
    const bool digit_modes =
        r.what == k::detect_digits || (r.what == k::set_info_long && r.long_item == call_info_long::monitor_digit_modes);
    if (info.privilege != call_privilege::owner && !digit_modes) return done(mspi::tapi_errc::not_owner);
    const auto s = c->state();
    auto& provider = c->address_->provider();
    switch (r.what) {
      case k::dial: {  // TSPI_lineDial on a connected call: the digits go out as GenerateDigits sends them
        std::error_code ec;
        auto digits = dial_digits(r.argument, ec);
        if (ec) return done(ec);
        return self->control(c, call_request{call_request::kind::generate_digits, std::move(digits), 0}, std::move(done));
      }
      case k::park_direct: return self->control(c, call_request{call_request::kind::park, r.argument, 0}, std::move(done));
      case k::park_indirect:  // no TSP member: the switch's chosen address has no way back (SIP has none)
        if (s != call_state::connected && s != call_state::hold) return done(mspi::tapi_errc::invalid_call_state);
        return done(mspi::tapi_errc::not_supported);
      case k::unpark:
      case k::pickup: {
        if (s != call_state::idle) return done(mspi::tapi_errc::invalid_call_state);
        const bool unpark = r.what == k::unpark;
        const auto f = provider.features();
        if (!(unpark ? f.unpark : f.pickup)) return done(mspi::tapi_errc::not_supported);  // the call stays idle
        c->set_reason(unpark ? call_reason::unpark : call_reason::pickup);
        self->emit(tapi_event::call_info_change, call_info_change_event{handle_of(c), call_info_change_cause::reason});
        return self->place(c, std::move(done), true,
                           [unpark, group = r.argument](provider_base& p, request_id req, std::size_t address, const call_info& i) {
                             if (unpark) p.unpark(req, address, i.id, i.called_id, i.media);
                             else p.pickup(req, address, i.id, i.called_id, group, i.media);
                           });
      }
      case k::handoff_direct:  // lineHandoff: a TAPI object is one application; no other can own its calls
        return done(r.argument.empty() ? mspi::tapi_errc::invalid_argument : mspi::tapi_errc::target_not_found);
      case k::handoff_indirect:
        if (!mspi::contains(info.media, r.media)) return done(mspi::tapi_errc::invalid_media_type);
        return done(mspi::tapi_errc::target_not_found);
      case k::set_qos:
        if (!mspi::contains(info.media, r.media)) return done(mspi::tapi_errc::invalid_media_type);
        if (!mspi::valid(r.level)) return done(mspi::tapi_errc::invalid_argument);
        if (s == call_state::disconnected) return done(mspi::tapi_errc::invalid_call_state);
        return done(provider.qos_media(c->id(), r.level));
      case k::set_info_long:  // CIL_GENERATEDIGITDURATION or CIL_MONITORDIGITMODES (CIL_APPSPECIFIC went above)
        if (r.long_item == call_info_long::generate_digit_duration) {
          if (r.value != 0 && (r.value < mspi::min_digit_duration_ms || r.value > mspi::max_digit_duration_ms))
            return done(mspi::tapi_errc::invalid_argument);
          c->set_generate_digit_duration(r.value);
          return done({});
        }
        [[fallthrough]];
      case k::detect_digits:  // lineMonitorDigits: DTMF digits only (no pulse, no digit ends)
        if (r.value & ~line_digit_mode::dtmf) return done(mspi::tapi_errc::invalid_mode);
        c->set_monitor_digit_modes(r.value);
        return done({});
      case k::set_info_buffer: {  // UserUserInfo goes out with the call (idle only), CallData any time
        const bool uui = r.buffer_item == call_info_buffer::user_user_info;
        if (!settable(r.buffer_item) || r.argument.size() > (uui ? max_user_user_info_size : max_call_data_size))
          return done(mspi::tapi_errc::invalid_argument);
        if (uui && s != call_state::idle) return done(mspi::tapi_errc::invalid_call_state);
        if (c->store_info(member_of(r.buffer_item), r.argument))
          self->emit(tapi_event::call_info_change,
                     call_info_change_event{handle_of(c), uui ? call_info_change_cause::user_user_info : call_info_change_cause::call_data});
        return done({});
      }
      case k::set_info_string: {  // LINECALLPARAMS' strings: set before the call is placed
        if (!settable(r.item) || !info_string_acceptable(r.argument)) return done(mspi::tapi_errc::invalid_argument);
        if (s != call_state::idle) return done(mspi::tapi_errc::invalid_call_state);
        if (c->store_info(member_of(r.item), r.argument))
          self->emit(tapi_event::call_info_change, call_info_change_event{handle_of(c), call_info_change_cause::other});
        return done({});
      }
    }
    done(mspi::tapi_errc::invalid_argument);
  });
}

}  // namespace tspi::detail
