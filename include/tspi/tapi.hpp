// ptapi - portable TAPI
// tspi/tapi.hpp: the TAPI root object (ITTAPI): provider registration, initialize/shutdown, addresses,
// incoming-call registration, the event filter and the event signals.
#pragma once

#include <ptapi/config.hpp>

#include <tspi/address.hpp>
#include <tspi/call.hpp>
#include <tspi/call_hub.hpp>
#include <tspi/detail/provider_base.hpp>
#include <tspi/event_source.hpp>
#include <tspi/events.hpp>
#include <tspi/tsp.hpp>

#include <mspi/error.hpp>
#include <mspi/provider_config.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace tspi {

namespace detail {
class core;
// Defined in tspi/detail/provider_pair.hpp (header-only) or compiled by ptapi/src.hpp for the shipped pairs.
template <class Tsp, class Msp>
std::unique_ptr<provider_base> make_provider_pair(const mspi::provider_config_t<Tsp>& tsp_config,
                                                  const mspi::provider_config_t<Msp>& msp_config);
}  // namespace detail

/// Options of a `tapi` object.
struct tapi_options {
  /// Where event handlers run. Default: a thread the TAPI object owns, dedicated to events. Whatever the
  /// executor, handlers of one TAPI object run one at a time, in the order the events happened.
  std::optional<boost::asio::any_io_executor> event_executor;
  /// Media threads shared by the calls of every address (MSP) of this TAPI object: each call's media runs
  /// on one of them (the least loaded when the call is made), so one address can use every core.
  /// 0 (default): `std::thread::hardware_concurrency()` (at least 1). Read at `initialize`.
  std::size_t media_threads = 0;
};

/// The TAPI object (TAPI 3's `ITTAPI`): the root from which an application reaches every address of
/// every registered provider pair, registers for incoming calls and receives events.
///
/// Typical use: register provider pairs (one line each), set the event filter, connect handlers,
/// `initialize`, then work with `addresses()`.
///
/// Events: nothing is delivered until the application sets an event filter that includes the event's
/// kind (ITTAPI::put_EventFilter). Handlers are connected to Boost.Signals2 signals (through
/// `event_source`, which only connects: the application cannot raise the library's events) and run on the event
/// executor (see `tapi_options`); they may call any ptapi function, synchronous forms included, except
/// waiting synchronously for something that only another handler can bring about.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; any thread may call any member, with no registration.
class tapi {
 public:
  /// A TAPI object with its own event thread.
  tapi() : tapi(tapi_options{}) {}
  /// A TAPI object with the given options.
  PTAPI_DECL explicit tapi(tapi_options options);
  tapi(const tapi&) = delete;
  tapi& operator=(const tapi&) = delete;
  /// Shuts down (see `shutdown`).
  PTAPI_DECL ~tapi();

  /// Registers a provider pair: a TSP policy type bound to an MSP policy type at compile time. Call before
  /// `initialize`. Both types are checked by their concepts; a type that does not model its concept fails
  /// to compile with the concept's name and the missing member. With `PTAPI_SEPARATE_COMPILATION`, the
  /// shipped pairs are compiled by `<ptapi/src.hpp>`; a pair of your own needs `<tspi/provider_pair.hpp>`
  /// included where you register it.
  /// @throws std::system_error `already_initialized` after `initialize`.
  template <class Tsp, class Msp>
  void register_provider(const mspi::provider_config_t<Tsp>& tsp_config = {},
                         const mspi::provider_config_t<Msp>& msp_config = {}) {
    add_provider(detail::make_provider_pair<Tsp, Msp>(tsp_config, msp_config));
  }

  /// ITTAPI::Initialize: starts the TAPI object's thread(s), initializes every provider and its MSPs, and
  /// enumerates their addresses. Errors: `already_initialized`; a provider's own error.
  PTAPI_DECL void initialize(std::error_code& ec);
  /// ITTAPI::Initialize, throwing `std::system_error`.
  void initialize() {
    std::error_code ec;
    initialize(ec);
    mspi::throw_if(ec, "initialize");
  }

  /// ITTAPI::Shutdown: disconnects and releases every call (each still reports `disconnected`), shuts the
  /// providers down, delivers the events already queued and stops the threads. Every call and address
  /// handle becomes stale. Idempotent.
  PTAPI_DECL void shutdown();

  /// ITTAPI::EnumerateAddresses: every address of every registered provider (empty before initialize).
  [[nodiscard]] PTAPI_DECL std::vector<address> addresses() const;
  /// The address named `name`. Error: `invalid_address` when there is none.
  [[nodiscard]] PTAPI_DECL address find_address(std::string_view name, std::error_code& ec) const;
  /// The address named `name`, throwing `std::system_error` when there is none.
  [[nodiscard]] address find_address(std::string_view name) const {
    std::error_code ec;
    auto a = find_address(name, ec);
    mspi::throw_if(ec, "find_address");
    return a;
  }

  /// ITTAPI::put_EventFilter: the kinds of event to deliver (none until set).
  PTAPI_DECL void set_event_filter(tapi_event mask) noexcept;
  /// ITTAPI::get_EventFilter
  [[nodiscard]] PTAPI_DECL tapi_event event_filter() const noexcept;

  /// ITTAPI::RegisterCallNotifications: asks for incoming calls of `media` on `a`, as owner (may answer)
  /// and/or monitor. Each incoming call raises a `call_notification_event` of kind `owner` for the first
  /// owner registration and, when a separate monitor registration exists, one of kind `monitor` for it
  /// (a process has one call object per call: the monitor watches the owner's call). Incoming calls that
  /// no registration owns are rejected by the provider (the caller sees busy on the loopback provider),
  /// as TAPI drops unowned calls. So are calls that arrive while the event filter lacks
  /// `tapi_event::call_notification`: the owner could never learn of them, so rather than ringing until
  /// the caller gives up (and a synchronous `connect` waiting as long) they are refused at once and
  /// counted by `unnotified_calls()`. Returns the registration's id (non-zero).
  /// Errors: `invalid_handle` for an empty address; `invalid_argument` when neither owner nor monitor;
  /// `not_initialized`.
  PTAPI_DECL std::uint64_t register_call_notifications(const address& a, bool monitor, bool owner,
                                                       mspi::media_type media, std::error_code& ec);
  /// RegisterCallNotifications, throwing `std::system_error`.
  std::uint64_t register_call_notifications(const address& a, bool monitor = false, bool owner = true,
                                            mspi::media_type media = mspi::media_type::audio) {
    std::error_code ec;
    auto id = register_call_notifications(a, monitor, owner, media, ec);
    mspi::throw_if(ec, "register_call_notifications");
    return id;
  }
  /// ITTAPI::UnregisterNotifications. Returns false when `registration` is unknown.
  PTAPI_DECL bool unregister_notifications(std::uint64_t registration);

  /// TE_CALLNOTIFICATION events.
  [[nodiscard]] event_source<call_notification_event> on_call_notification() const { return event_source<call_notification_event>(core_); }
  /// TE_CALLSTATE events.
  [[nodiscard]] event_source<call_state_event> on_call_state() const { return event_source<call_state_event>(core_); }
  /// TE_CALLMEDIA events.
  [[nodiscard]] event_source<call_media_event> on_call_media() const { return event_source<call_media_event>(core_); }
  /// TE_FILETERMINAL events.
  [[nodiscard]] event_source<file_terminal_event> on_file_terminal() const { return event_source<file_terminal_event>(core_); }
  /// TE_ADDRESS events.
  [[nodiscard]] event_source<address_event> on_address() const { return event_source<address_event>(core_); }
  /// TE_DIGITEVENT events (DTMF received on a call).
  [[nodiscard]] event_source<digit_event> on_digit() const { return event_source<digit_event>(core_); }
  /// TE_CALLINFOCHANGE events (a call's `call::info()` items changed).
  [[nodiscard]] event_source<call_info_change_event> on_call_info_change() const { return event_source<call_info_change_event>(core_); }
  /// TE_GATHERDIGITS events (a `call::gather_digits` ended).
  [[nodiscard]] event_source<digits_gathered_event> on_digits_gathered() const { return event_source<digits_gathered_event>(core_); }
  /// TE_TONEEVENT events (a tone of a call's `call::detect_tones` list was heard).
  [[nodiscard]] event_source<tone_detection_event> on_tone_detection() const { return event_source<tone_detection_event>(core_); }
  /// TE_GENERATEEVENT events (a `call::generate_digits`, `generate_tone` or `generate_custom_tones` request
  /// ended: done or cancelled; see `digit_generation_event`).
  [[nodiscard]] event_source<digit_generation_event> on_digit_generation() const {
    return event_source<digit_generation_event>(core_);
  }

  /// ITTAPI::EnumerateCallHubs / get_CallHubs: the call hubs of this TAPI object's local conferences that
  /// have calls now (a hub that went idle is not listed), by hub number (`call_hub::id`, ascending). Empty
  /// before `initialize` and after `shutdown`. Any thread; allocates; a snapshot.
  [[nodiscard]] PTAPI_DECL std::vector<call_hub> call_hubs() const;

  /// TE_CALLHUB events (a local conference's hub was made, a call joined or left it, it went idle).
  [[nodiscard]] event_source<call_hub_event> on_call_hub() const { return event_source<call_hub_event>(core_); }

  /// The executor events are delivered on (valid after `initialize`).
  [[nodiscard]] PTAPI_DECL boost::asio::any_io_executor get_executor() const;

  /// Provider-reported call-state changes that TAPI 3's table forbids, dropped since initialize.
  [[nodiscard]] PTAPI_DECL std::uint64_t illegal_transitions() const;

  /// Diagnostic: calls not yet released, on every address (what `address::calls()` would list in all).
  /// A call is released once it is `disconnected` and no handle refers to it (see `call`), by
  /// `call::release`, or by `shutdown`; so after calls end and their handles are dropped this returns to
  /// 0 (releases run on the TAPI object's thread, shortly after the last handle goes). Any thread.
  [[nodiscard]] PTAPI_DECL std::size_t live_calls() const;
  /// Diagnostic: the per-call entries the provider pairs keep (their MSP calls, MSP data held until the
  /// TSP knows a call, the calls the TSP knows), summed; 0 when every call is released or not running.
  /// Runs on the TAPI object's thread and waits for it: do not call while holding up that thread.
  [[nodiscard]] PTAPI_DECL std::size_t provider_call_entries() const;
  /// Diagnostic: exceptions that escaped a handler on the TAPI object's thread or its own event thread
  /// (a provider's, or an event handler of the application's): each is caught and counted, and the
  /// thread runs on, rather than ending the process through std::terminate.
  [[nodiscard]] PTAPI_DECL std::uint64_t handler_exceptions() const;
  /// Diagnostic: incoming calls refused because, when they arrived, an owner was registered but the event
  /// filter excluded `tapi_event::call_notification` (see `register_call_notifications`). Any thread.
  [[nodiscard]] PTAPI_DECL std::uint64_t unnotified_calls() const;

 private:
  PTAPI_DECL void add_provider(std::unique_ptr<detail::provider_base> pair);

  std::shared_ptr<detail::core> core_;
};

}  // namespace tspi

#if PTAPI_HEADER_ONLY
#include <tspi/impl/tapi.ipp>
#endif
