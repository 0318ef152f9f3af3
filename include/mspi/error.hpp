// ptapi - portable TAPI
// mspi/error.hpp: the error codes of the TAPI 3 object model (TAPI_E_*), shared by mspi and tspi.
#pragma once

#include <boost/system/system_error.hpp>

#include <new>
#include <string>
#include <system_error>
#include <type_traits>

namespace mspi {

/// The errors of TAPI 3 (`tapi3err.h`, `TAPI_E_*`), in snake_case.
///
/// Each enumerator's value is the low 16 bits of its TAPI HRESULT (`TAPI_E_INVALCALLSTATE` is
/// `0x80040010`, so `tapi_errc::invalid_call_state == 0x10`); `hresult()` gives the full value.
/// Codes that TAPI 3 has no HRESULT for (stale handles, media I/O) sit above `0x100` and say so.
/// Used through `std::error_code` with `tapi_category()`; `std::make_error_code` finds it by ADL.
/// Source: TAPI 3 `tapi3err.h` (ptapi additions marked below).
enum class tapi_errc : int {
  not_enough_memory = 0x01,      ///< TAPI_E_NOTENOUGHMEMORY: a caller's buffer is too small.
  no_items = 0x02,               ///< TAPI_E_NOITEMS: no items match the request.
  not_supported = 0x03,          ///< TAPI_E_NOTSUPPORTED: the provider does not support this method.
  invalid_media_type = 0x04,     ///< TAPI_E_INVALIDMEDIATYPE: media type unsupported or mismatched.
  operation_failed = 0x05,       ///< TAPI_E_OPERATIONFAILED: failed for an unspecified reason.
  allocated = 0x06,              ///< TAPI_E_ALLOCATED: the device is already in use.
  call_unavailable = 0x07,       ///< TAPI_E_CALLUNAVAIL: no call appearance available.
  conference_full = 0x09,        ///< TAPI_E_CONFERENCEFULL: the conference takes no more parties.
  dial_modifier_not_supported = 0x0A,  ///< TAPI_E_DIALMODIFIERNOTSUPPORTED: a dial string modifier (`,` `W` `@` `$` `!`) the provider cannot honour.
  in_use = 0x0B,                 ///< TAPI_E_INUSE: the device is already in use.
  invalid_address = 0x0C,        ///< TAPI_E_INVALADDRESS: destination address malformed or unknown.
  invalid_address_state = 0x0D,  ///< TAPI_E_INVALADDRESSSTATE: address out of service for this operation.
  invalid_call_params = 0x0E,    ///< TAPI_E_INVALCALLPARAMS: invalid call parameters.
  invalid_call_privilege = 0x0F, ///< TAPI_E_INVALCALLPRIVILEGE: invalid call privilege.
  invalid_call_state = 0x10,     ///< TAPI_E_INVALCALLSTATE: not permitted in the current call state.
  invalid_digits = 0x16,         ///< TAPI_E_INVALDIGITS: invalid digits.
  invalid_group_id = 0x17,       ///< TAPI_E_INVALGROUPID: invalid group pickup ID.
  invalid_park_id = 0x1A,        ///< TAPI_E_INVALPARKID: invalid park address.
  invalid_timeout = 0x1C,        ///< TAPI_E_INVALTIMEOUT: invalid timeout value.
  invalid_mode = 0x1F,           ///< TAPI_E_INVALMODE: invalid mode passed as a parameter.
  no_conference = 0x20,          ///< TAPI_E_NOCONFERENCE: the call is not part of a conference.
  no_device = 0x21,              ///< TAPI_E_NODEVICE: device removed, or device class not recognized.
  not_owner = 0x23,              ///< TAPI_E_NOTOWNER: the application lacks owner privilege on the call.
  not_registered = 0x24,         ///< TAPI_E_NOTREGISTERED: not registered for the notification.
  target_not_found = 0x26,       ///< TAPI_E_TARGETNOTFOUND: the call handoff found no such target application.
  target_self = 0x27,            ///< TAPI_E_TARGETSELF: the call handoff's only target is the caller itself.
  dropped = 0x31,                ///< TAPI_E_DROPPED: the call was disconnected.
  dest_busy = 0x34,              ///< TAPI_E_DESTBUSY: the called number is busy.
  dest_no_answer = 0x35,         ///< TAPI_E_DESTNOANSWER: the called party does not answer.
  dest_unavailable = 0x36,       ///< TAPI_E_DESTUNAVAIL: the called number could not be reached.
  request_failed = 0x37,         ///< TAPI_E_REQUESTFAILED: the request failed for unspecified reasons.
  request_cancelled = 0x38,      ///< TAPI_E_REQUESTCANCELLED: the request was cancelled.
  invalid_privilege = 0x39,      ///< TAPI_E_INVALPRIVILEGE: invalid privilege.
  invalid_direction = 0x3A,      ///< TAPI_E_INVALIDDIRECTION: terminal direction invalid for this use.
  invalid_terminal = 0x3B,       ///< TAPI_E_INVALIDTERMINAL: terminal invalid for this operation.
  invalid_terminal_class = 0x3C, ///< TAPI_E_INVALIDTERMINALCLASS: unknown terminal class.
  no_driver = 0x3D,              ///< TAPI_E_NODRIVER: the service provider was removed.
  max_streams = 0x3E,            ///< TAPI_E_MAXSTREAMS: the maximum number of streams was reached.
  no_terminal_selected = 0x3F,   ///< TAPI_E_NOTERMINALSELECTED: requires a selected terminal.
  terminal_in_use = 0x40,        ///< TAPI_E_TERMINALINUSE: the terminal is selected on another stream.
  not_stopped = 0x41,            ///< TAPI_E_NOTSTOPPED: requires the stream to be stopped.
  max_terminals = 0x42,          ///< TAPI_E_MAXTERMINALS: the stream takes no more terminals.
  invalid_stream = 0x43,         ///< TAPI_E_INVALIDSTREAM: stream invalid for this operation.
  timeout = 0x44,                ///< TAPI_E_TIMEOUT: the operation timed out.
  no_event = 0x50,               ///< TAPI_E_NOEVENT: no event in the MSP's event queue.
  not_initialized = 0x59,        ///< TAPI_E_NOT_INITIALIZED: the TAPI object is not initialized (or shut down).
  // ptapi additions, no TAPI HRESULT:
  invalid_handle = 0x101,        ///< A call/address handle that outlived its object (stale) or was never valid.
  file_read_error = 0x102,       ///< A media file could not be opened or decoded (FTEC_READ_ERROR).
  file_write_error = 0x103,      ///< A media file could not be created or written (FTEC_WRITE_ERROR).
  invalid_argument = 0x104,      ///< An argument is out of range (E_INVALIDARG).
  already_initialized = 0x105,   ///< initialize() called twice without shutdown().
};

namespace detail {
class tapi_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "tapi"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<tapi_errc>(ev)) {
      case tapi_errc::not_enough_memory: return "buffer too small";
      case tapi_errc::no_items: return "no items match the request";
      case tapi_errc::not_supported: return "operation not supported by the provider";
      case tapi_errc::invalid_media_type: return "invalid media type";
      case tapi_errc::operation_failed: return "operation failed";
      case tapi_errc::allocated: return "device already allocated";
      case tapi_errc::call_unavailable: return "no call appearance available";
      case tapi_errc::conference_full: return "the conference is full";
      case tapi_errc::dial_modifier_not_supported: return "the dial modifier is not supported";
      case tapi_errc::in_use: return "device in use";
      case tapi_errc::invalid_address: return "invalid address";
      case tapi_errc::invalid_address_state: return "operation not permitted in the current address state";
      case tapi_errc::invalid_call_params: return "invalid call parameters";
      case tapi_errc::invalid_call_privilege: return "invalid call privilege";
      case tapi_errc::invalid_call_state: return "operation not permitted in the current call state";
      case tapi_errc::invalid_digits: return "invalid digits";
      case tapi_errc::invalid_group_id: return "invalid group pickup ID";
      case tapi_errc::invalid_park_id: return "invalid park address";
      case tapi_errc::invalid_timeout: return "invalid timeout";
      case tapi_errc::invalid_mode: return "invalid mode";
      case tapi_errc::no_conference: return "the call is not part of a conference";
      case tapi_errc::no_device: return "no such device";
      case tapi_errc::not_owner: return "application is not the owner of the call";
      case tapi_errc::not_registered: return "not registered";
      case tapi_errc::target_not_found: return "no such application to hand the call off to";
      case tapi_errc::target_self: return "no other application to hand the call off to";
      case tapi_errc::dropped: return "the call was disconnected";
      case tapi_errc::dest_busy: return "the called number is busy";
      case tapi_errc::dest_no_answer: return "the called party does not answer";
      case tapi_errc::dest_unavailable: return "the called number could not be reached";
      case tapi_errc::request_failed: return "request failed";
      case tapi_errc::request_cancelled: return "request cancelled";
      case tapi_errc::invalid_privilege: return "invalid privilege";
      case tapi_errc::invalid_direction: return "invalid terminal direction";
      case tapi_errc::invalid_terminal: return "invalid terminal for this operation";
      case tapi_errc::invalid_terminal_class: return "invalid terminal class";
      case tapi_errc::no_driver: return "service provider removed";
      case tapi_errc::max_streams: return "maximum number of streams reached";
      case tapi_errc::no_terminal_selected: return "no terminal selected";
      case tapi_errc::terminal_in_use: return "terminal is in use on another stream";
      case tapi_errc::not_stopped: return "the stream must be stopped first";
      case tapi_errc::max_terminals: return "maximum number of terminals on the stream reached";
      case tapi_errc::invalid_stream: return "invalid stream";
      case tapi_errc::timeout: return "operation timed out";
      case tapi_errc::no_event: return "no event queued";
      case tapi_errc::not_initialized: return "TAPI object not initialized";
      case tapi_errc::invalid_handle: return "stale or invalid handle";
      case tapi_errc::file_read_error: return "media file read error";
      case tapi_errc::file_write_error: return "media file write error";
      case tapi_errc::invalid_argument: return "invalid argument";
      case tapi_errc::already_initialized: return "already initialized";
    }
    return "unknown tapi error";
  }
};
}  // namespace detail

/// The category of `tapi_errc`; its `name()` is "tapi"; `message()` gives an English text per code.
/// Never throws. Thread safety: a constant singleton, safe from any thread.
inline const std::error_category& tapi_category() noexcept {
  static const detail::tapi_category_impl category;
  return category;
}

/// Makes a `std::error_code` from a `tapi_errc` (found by ADL, so `ec = tapi_errc::timeout;` works).
/// Never throws; pure.
inline std::error_code make_error_code(tapi_errc e) noexcept { return {static_cast<int>(e), tapi_category()}; }

/// The full TAPI HRESULT of a code that has one (`0x80040000 | value`); 0 for ptapi-only codes.
/// Never throws; pure.
constexpr long hresult(tapi_errc e) noexcept {
  const int v = static_cast<int>(e);
  return v < 0x100 ? static_cast<long>(0x80040000UL | static_cast<unsigned long>(v)) : 0L;
}

/// Throws `std::system_error(ec, operation)` when `ec` is set; the operation's name goes into `what()`,
/// as Asio's `throw_error(ec, "connect")` does. Every throwing form in ptapi goes through here.
/// @throws std::system_error carrying `ec` when `ec` is set; otherwise no effect. Thread safety: pure.
inline void throw_if(const std::error_code& ec, const char* operation) {
  if (ec) throw std::system_error(ec, operation);
}

/// The error code of the exception being handled, for code that must report through `std::error_code`
/// instead of letting an exception escape (a thread's handler, a call being set up): a
/// `std::system_error`'s or `boost::system::system_error`'s own code (e.g. `EMFILE` from a socket or reactor), `std::errc::not_enough_memory`
/// for `std::bad_alloc`, `tapi_errc::operation_failed` for anything else. Call only inside a `catch`
/// block. Never throws. Thread safety: pure.
inline std::error_code current_exception_error() noexcept {
  try {
    throw;
  } catch (const std::system_error& e) {
    return e.code() ? e.code() : make_error_code(tapi_errc::operation_failed);
  } catch (const boost::system::system_error& e) {  // what Asio throws
    const std::error_code ec = e.code();
    return ec ? ec : make_error_code(tapi_errc::operation_failed);
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  } catch (...) {
    return make_error_code(tapi_errc::operation_failed);
  }
}

}  // namespace mspi

template <>
struct std::is_error_code_enum<mspi::tapi_errc> : std::true_type {};
