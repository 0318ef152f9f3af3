// ptapi - portable TAPI
// tspi/tapi_event.hpp: TAPI's TAPI_EVENT mask (the event filters of the TAPI object and of each call).
#pragma once

#include <cstdint>

namespace tspi {

/// TAPI's `TAPI_EVENT`, a bit mask: the event filter (`tapi::set_event_filter`) and the kind of each event.
enum class tapi_event : std::uint32_t {
  none = 0,
  tapi_object = 0x1,          ///< TE_TAPIOBJECT
  address = 0x2,              ///< TE_ADDRESS: `address_event`
  call_notification = 0x4,    ///< TE_CALLNOTIFICATION: `call_notification_event`
  call_state = 0x8,           ///< TE_CALLSTATE: `call_state_event`
  call_media = 0x10,          ///< TE_CALLMEDIA: `call_media_event`
  call_hub = 0x20,            ///< TE_CALLHUB: `call_hub_event` (tspi/call_hub.hpp)
  call_info_change = 0x40,    ///< TE_CALLINFOCHANGE: `call_info_change_event`
  private_event = 0x80,       ///< TE_PRIVATE
  digit_event = 0x8000,       ///< TE_DIGITEVENT
  generate_event = 0x10000,   ///< TE_GENERATEEVENT: `digit_generation_event`
  file_terminal = 0x80000,    ///< TE_FILETERMINAL: `file_terminal_event`
  tone_event = 0x400000,      ///< TE_TONEEVENT: `tone_detection_event`
  gather_digits = 0x800000,   ///< TE_GATHERDIGITS: `digits_gathered_event`
  all = 0xFFFFFFFF,
};

/// The union of two masks. Pure.
constexpr tapi_event operator|(tapi_event a, tapi_event b) noexcept {
  return static_cast<tapi_event>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
/// True when `mask` has any kind of `e`. Pure.
constexpr bool has(tapi_event mask, tapi_event e) noexcept {
  return (static_cast<std::uint32_t>(mask) & static_cast<std::uint32_t>(e)) != 0;
}

/// The events that concern one call and that its own filter (`call::set_event_filter`, ITCallInfo2) can
/// turn off: every kind but TE_TAPIOBJECT, TE_ADDRESS, TE_CALLNOTIFICATION and TE_PRIVATE.
inline constexpr tapi_event call_events = tapi_event::call_state | tapi_event::call_media | tapi_event::call_hub |
                                          tapi_event::call_info_change | tapi_event::digit_event |
                                          tapi_event::generate_event | tapi_event::file_terminal |
                                          tapi_event::tone_event | tapi_event::gather_digits;

}  // namespace tspi
