// ptapi - portable TAPI
// tspi/events.hpp: the events the TAPI object delivers (TAPI_EVENT and its event interfaces).
#pragma once

#include <tspi/address.hpp>
#include <tspi/call.hpp>
#include <tspi/call_info.hpp>
#include <tspi/call_state.hpp>
#include <tspi/digit_gathering.hpp>
#include <tspi/digit_generation.hpp>
#include <tspi/tapi_event.hpp>

#include <mspi/call_media_event.hpp>
#include <mspi/stream.hpp>
#include <mspi/terminal.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

namespace tspi {

/// TAPI's `CALL_NOTIFICATION_EVENT`.
enum class call_notification_kind : std::uint8_t {
  owner,    ///< CNE_OWNER: the application owns the new call.
  monitor,  ///< CNE_MONITOR: the application monitors it.
};

/// TE_CALLNOTIFICATION (ITCallNotificationEvent): a new incoming call on an address the application
/// registered for (`tapi::register_call_notifications`). A `call_state_event` with `offering` follows.
struct call_notification_event {
  tspi::call call;                  ///< ITCallNotificationEvent::get_Call
  call_notification_kind kind;      ///< ITCallNotificationEvent::get_Event
  std::uint64_t registration = 0;   ///< The registration that matched (get_CallbackInstance's role).
};

/// TE_CALLSTATE (ITCallStateEvent): a call changed state. Each call reports `disconnected` exactly once,
/// as its last state event.
struct call_state_event {
  tspi::call call;                                  ///< ITCallStateEvent::get_Call
  tspi::call_state state;                           ///< ITCallStateEvent::get_State
  call_state_cause cause = call_state_cause::none;  ///< ITCallStateEvent::get_Cause
};

/// TE_CALLMEDIA (ITCallMediaEvent): a stream or terminal of a call changed. Never delivered after the
/// call's `disconnected` state event.
struct call_media_event {
  tspi::call call;                ///< ITCallMediaEvent::get_Call
  mspi::call_media_kind event;   ///< ITCallMediaEvent::get_Event
  mspi::call_media_cause cause;   ///< ITCallMediaEvent::get_Cause
  mspi::stream_ptr stream;        ///< ITCallMediaEvent::get_Stream
  mspi::terminal_ptr terminal;    ///< ITCallMediaEvent::get_Terminal (may be null)
  std::error_code error;          ///< ITCallMediaEvent::get_Error
};

/// TE_FILETERMINAL (ITFileTerminalEvent): a file terminal of a call changed media state (for example
/// playback reached the end of its play list).
struct file_terminal_event {
  tspi::call call;                 ///< ITFileTerminalEvent::get_Call
  mspi::terminal_ptr terminal;     ///< ITFileTerminalEvent::get_Terminal
  mspi::terminal_media_state state;///< ITFileTerminalEvent::get_State
  mspi::file_terminal_cause cause; ///< ITFileTerminalEvent::get_Cause
  std::error_code error;           ///< ITFileTerminalEvent::get_Error
};

/// TAPI's `LINEDIGITMODE` values ptapi reports.
enum class digit_mode : std::uint8_t {
  dtmf = 0x2,  ///< LINEDIGITMODE_DTMF: DTMF digits (RFC 4733 telephone-events, SIP INFO, or in-band audio).
};

/// How a detected digit reached us (ptapi's addition to ITDigitDetectionEvent, which has no such item).
enum class digit_source : std::uint8_t {
  out_of_band,  ///< Signalled apart from the audio: an RFC 4733 telephone-event, or SIP INFO (dtmf-relay).
  in_band,      ///< Recognised in the decoded received audio (in-band DTMF; `rtp_opus_config::inband_digits`).
};

/// TE_DIGITEVENT (ITDigitDetectionEvent): the far end sent a digit. Never delivered after the call's
/// `disconnected` state event.
struct digit_event {
  tspi::call call;                             ///< ITDigitDetectionEvent::get_Call
  char digit = 0;                              ///< ITDigitDetectionEvent::get_Digit: `0-9 * # A-D`.
  tspi::digit_mode mode = digit_mode::dtmf;    ///< ITDigitDetectionEvent::get_DigitMode
  std::chrono::steady_clock::time_point time;  ///< When it was detected (get_TickCount's role).
  /// Out of band (RFC 4733, SIP INFO) or in-band (audio). A peer that sends both is reported once, out of
  /// band (the MSP's rule, `rtp_opus_config::inband_digits`).
  tspi::digit_source source = digit_source::out_of_band;
};

/// TE_GATHERDIGITS (ITDigitsGatheredEvent): a `call::gather_digits` ended, however it ended (its
/// async/sync completion gives the same digits and termination). A gathering cancelled because its call
/// disconnected is reported before the `disconnected` state event.
struct digits_gathered_event {
  tspi::call call;                             ///< ITDigitsGatheredEvent::get_Call
  std::string digits;                          ///< ITDigitsGatheredEvent::get_Digits
  gather_termination termination = gather_termination::cancel;  ///< get_GatherTermination
  std::chrono::steady_clock::time_point time;  ///< When it ended (get_TickCount's role).
};

/// TE_GENERATEEVENT (ITDigitGenerationEvent; TSPI: LINE_GENERATE): a `call::generate_digits`,
/// `generate_tone` or `generate_custom_tones` request that the call accepted has ended, exactly once per
/// request: `done` when its last digit was sent or its tone ended by itself, `cancel` when it was cut short
/// (a newer tone or in-band digit request, `tone_mode::none`, the call's media stopping) or the MSP refused
/// it. RFC 4733 digit requests queue behind each other, each ending `done` in order. A request still
/// running when its call disconnects ends `cancel`, reported before the `disconnected` state event; none
/// is delivered after it. `tone_mode::none` itself is no request (it raises the cancel of the tone it stops).
struct digit_generation_event {
  tspi::call call;                                              ///< ITDigitGenerationEvent::get_Call
  generate_termination termination = generate_termination::done;  ///< get_GenerationTermination (LINEGENERATETERM_*)
  generation_kind kind = generation_kind::digits;               ///< Digits or a tone (ptapi's addition).
  std::chrono::steady_clock::time_point time;                   ///< When it ended (get_TickCount's role).
};

/// TE_TONEEVENT (ITToneDetectionEvent): a tone of the call's DetectTones list (`call::detect_tones`) was
/// recognised in its received audio; once per occurrence (a tone that keeps sounding is reported once).
/// Never delivered after the call's `disconnected` state event.
struct tone_detection_event {
  tspi::call call;                             ///< ITToneDetectionEvent::get_Call
  std::uint32_t app_specific = 0;              ///< ITToneDetectionEvent::get_AppSpecific: the tone's `mspi::detect_tone::app_specific`.
  std::chrono::steady_clock::time_point time;  ///< When it was detected (get_TickCount's role).
};

/// TE_CALLINFOCHANGE (ITCallInfoChangeEvent): items of a call's `call::info()` changed, one event per
/// cause, in the order other, dev_specific, call_id, called_id, connected_id. Read `call.info()` for the
/// new values (it may already show later changes). Never delivered after the call's `disconnected`
/// state event (what a provider reports later still shows in `call::info()`); the SIP TSP reports a
/// failed call's final response before disconnecting it.
struct call_info_change_event {
  tspi::call call;               ///< ITCallInfoChangeEvent::get_Call
  call_info_change_cause cause;  ///< ITCallInfoChangeEvent::get_Cause
};

/// TAPI's `ADDRESS_EVENT` subset ptapi raises.
enum class address_event_kind : std::uint8_t {
  state,            ///< AE_STATE: the address went in or out of service.
  new_terminal,     ///< AE_NEWTERMINAL
  remove_terminal,  ///< AE_REMOVETERMINAL
};

/// TE_ADDRESS (ITAddressEvent).
struct address_event {
  tspi::address address;        ///< ITAddressEvent::get_Address
  address_event_kind kind;      ///< ITAddressEvent::get_Event
  mspi::terminal_ptr terminal;  ///< ITAddressEvent::get_Terminal (terminal events only)
};

}  // namespace tspi
