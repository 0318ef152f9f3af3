// ptapi - portable TAPI
// tspi/tapi.hpp: the TAPI root object (ITTAPI): provider registration, initialize/shutdown, addresses,
// incoming-call registration, the event filter and the event signals.
#pragma once

#include <tspi/address.hpp>
#include <tspi/call.hpp>
#include <tspi/detail/core.hpp>
#include <tspi/detail/provider_pair.hpp>
#include <tspi/events.hpp>
#include <tspi/tsp.hpp>

#include <mspi/error.hpp>
#include <mspi/msp.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/signals2/signal.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace tspi {

/// Options of a `tapi` object.
struct tapi_options {
  /// Where event handlers run. Default: a thread the TAPI object owns, dedicated to events. Whatever the
  /// executor, handlers of one TAPI object run one at a time, in the order the events happened.
  std::optional<boost::asio::any_io_executor> event_executor;
  /// Media threads shared by the calls of every address (MSP) of this TAPI object: each call's media runs
  /// on one of them (the least loaded when the call is made), so one address can use every core. 0 is
  /// taken as 1. Default: `std::thread::hardware_concurrency()`. Read at `initialize`.
  std::size_t media_threads = std::thread::hardware_concurrency();
};

/// The TAPI object (TAPI 3's `ITTAPI`): the root from which an application reaches every address of
/// every registered provider pair, registers for incoming calls and receives events.
///
/// Typical use: register provider pairs (one line each), set the event filter, connect handlers,
/// `initialize`, then work with `addresses()`.
///
/// Events: nothing is delivered until the application sets an event filter that includes the event's
/// kind (ITTAPI::put_EventFilter). Handlers are connected to Boost.Signals2 signals and run on the event
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
  explicit tapi(tapi_options options)
      : core_(std::make_shared<detail::core>(detail::core_options{std::move(options.event_executor), options.media_threads})) {}
  tapi(const tapi&) = delete;
  tapi& operator=(const tapi&) = delete;
  /// Shuts down (see `shutdown`).
  ~tapi() { shutdown(); }

  /// Registers a provider pair: a TSP policy type bound to an MSP policy type at compile time. Call before
  /// `initialize`. Both types are checked by their concepts; a type that does not model its concept fails
  /// to compile with the concept's name and the missing member.
  /// @throws std::system_error `already_initialized` after `initialize`.
  template <class Tsp, class Msp>
  void register_provider(const typename Tsp::config_type& tsp_config = {},
                         const typename Msp::config_type& msp_config = {}) {
    static_assert(telephony_service_provider<Tsp>,
                  "ptapi: the TSP type does not model tspi::telephony_service_provider (see tspi/tsp.hpp)");
    static_assert(mspi::media_service_provider<Msp>,
                  "ptapi: the MSP type does not model mspi::media_service_provider (see mspi/msp.hpp)");
    if (core_->running()) throw std::system_error(mspi::tapi_errc::already_initialized, "register_provider");
    core_->add_provider(std::make_unique<detail::provider_pair<Tsp, Msp>>(tsp_config, msp_config));
  }

  /// ITTAPI::Initialize: starts the TAPI object's thread(s), initializes every provider and its MSPs, and
  /// enumerates their addresses. Errors: `already_initialized`; a provider's own error.
  void initialize(std::error_code& ec) { core_->initialize(ec); }
  /// ITTAPI::Initialize, throwing `std::system_error`.
  void initialize() {
    std::error_code ec;
    initialize(ec);
    mspi::throw_if(ec, "initialize");
  }

  /// ITTAPI::Shutdown: disconnects and releases every call (each still reports `disconnected`), shuts the
  /// providers down, delivers the events already queued and stops the threads. Every call and address
  /// handle becomes stale. Idempotent.
  void shutdown() { core_->shutdown(); }

  /// ITTAPI::EnumerateAddresses: every address of every registered provider (empty before initialize).
  [[nodiscard]] std::vector<address> addresses() const {
    std::vector<address> out;
    for (auto& a : core_->addresses()) out.emplace_back(a);
    return out;
  }
  /// The address named `name`. Error: `invalid_address` when there is none.
  [[nodiscard]] address find_address(std::string_view name, std::error_code& ec) const {
    for (auto& a : core_->addresses())
      if (a->info().name == name) {
        ec.clear();
        return address(a);
      }
    ec = mspi::tapi_errc::invalid_address;
    return {};
  }
  /// The address named `name`, throwing `std::system_error` when there is none.
  [[nodiscard]] address find_address(std::string_view name) const {
    std::error_code ec;
    auto a = find_address(name, ec);
    mspi::throw_if(ec, "find_address");
    return a;
  }

  /// ITTAPI::put_EventFilter: the kinds of event to deliver (none until set).
  void set_event_filter(tapi_event mask) noexcept { core_->event_filter.store(static_cast<std::uint32_t>(mask)); }
  /// ITTAPI::get_EventFilter
  [[nodiscard]] tapi_event event_filter() const noexcept { return static_cast<tapi_event>(core_->event_filter.load()); }

  /// ITTAPI::RegisterCallNotifications: asks for incoming calls of `media` on `a`, as owner (may answer)
  /// and/or monitor. Each incoming call raises a `call_notification_event` of kind `owner` for the first
  /// owner registration and, when a separate monitor registration exists, one of kind `monitor` for it
  /// (a process has one call object per call: the monitor watches the owner's call). Incoming calls that
  /// no registration owns are rejected by the provider (the caller sees busy on the loopback provider),
  /// as TAPI drops unowned calls. Returns the registration's id (non-zero).
  /// Errors: `invalid_handle` for an empty address; `invalid_argument` when neither owner nor monitor;
  /// `not_initialized`.
  std::uint64_t register_call_notifications(const address& a, bool monitor, bool owner, mspi::media_type media,
                                            std::error_code& ec) {
    auto impl = a ? std::dynamic_pointer_cast<detail::address_impl>(a.backend_ptr()) : nullptr;
    if (!impl) {
      ec = mspi::tapi_errc::invalid_handle;
      return 0;
    }
    if (!monitor && !owner) {
      ec = mspi::tapi_errc::invalid_argument;
      return 0;
    }
    if (!core_->running()) {
      ec = mspi::tapi_errc::not_initialized;
      return 0;
    }
    ec.clear();
    return core_->register_notifications(std::move(impl), monitor, owner, media);
  }
  /// RegisterCallNotifications, throwing `std::system_error`.
  std::uint64_t register_call_notifications(const address& a, bool monitor = false, bool owner = true,
                                            mspi::media_type media = mspi::media_type::audio) {
    std::error_code ec;
    auto id = register_call_notifications(a, monitor, owner, media, ec);
    mspi::throw_if(ec, "register_call_notifications");
    return id;
  }
  /// ITTAPI::UnregisterNotifications. Returns false when `registration` is unknown.
  bool unregister_notifications(std::uint64_t registration) { return core_->unregister_notifications(registration); }

  /// TE_CALLNOTIFICATION events.
  boost::signals2::signal<void(const call_notification_event&)>& on_call_notification() { return core_->signals.call_notification; }
  /// TE_CALLSTATE events.
  boost::signals2::signal<void(const call_state_event&)>& on_call_state() { return core_->signals.call_state; }
  /// TE_CALLMEDIA events.
  boost::signals2::signal<void(const call_media_event&)>& on_call_media() { return core_->signals.call_media; }
  /// TE_FILETERMINAL events.
  boost::signals2::signal<void(const file_terminal_event&)>& on_file_terminal() { return core_->signals.file_terminal; }
  /// TE_ADDRESS events.
  boost::signals2::signal<void(const address_event&)>& on_address() { return core_->signals.address; }
  /// TE_DIGITEVENT events (DTMF received on a call).
  boost::signals2::signal<void(const digit_event&)>& on_digit() { return core_->signals.digit; }

  /// The executor events are delivered on (valid after `initialize`).
  [[nodiscard]] boost::asio::any_io_executor get_executor() const { return core_->event_executor(); }

  /// Provider-reported call-state changes that TAPI 3's table forbids, dropped since initialize.
  [[nodiscard]] std::uint64_t illegal_transitions() const { return core_->illegal_transitions(); }

  /// Diagnostic: calls not yet released, on every address (what `address::calls()` would list in all).
  /// A call is released once it is `disconnected` and no handle refers to it (see `call`), by
  /// `call::release`, or by `shutdown`; so after calls end and their handles are dropped this returns to
  /// 0 (releases run on the TAPI object's thread, shortly after the last handle goes). Any thread.
  [[nodiscard]] std::size_t live_calls() const { return core_->live_calls(); }
  /// Diagnostic: the per-call entries the provider pairs keep (their MSP calls, MSP data held until the
  /// TSP knows a call, the calls the TSP knows), summed; 0 when every call is released or not running.
  /// Runs on the TAPI object's thread and waits for it: do not call while holding up that thread.
  [[nodiscard]] std::size_t provider_call_entries() const { return core_->provider_call_entries(); }
  /// Diagnostic: exceptions that escaped a handler on the TAPI object's thread or its own event thread
  /// (a provider's, or an event handler of the application's): each is caught and counted, and the
  /// thread runs on, rather than ending the process through std::terminate.
  [[nodiscard]] std::uint64_t handler_exceptions() const { return core_->handler_exceptions(); }

 private:
  std::shared_ptr<detail::core> core_;
};

}  // namespace tspi
