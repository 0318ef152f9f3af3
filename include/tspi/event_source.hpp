// ptapi - portable TAPI
// tspi/event_source.hpp: the connect-only face of one of the TAPI object's event signals.
#pragma once

#include <ptapi/config.hpp>

#include <boost/signals2/connection.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace tspi {

namespace detail {
class core;
}

/// Where the application connects handlers for one kind of event (TAPI's `ITTAPIEventNotification`
/// sink, one per `TAPI_EVENT` kind): `tapi.on_call_state().connect(handler)`. Only connecting is
/// possible: the signal itself (Boost.Signals2) stays inside the TAPI object, so the application cannot
/// raise events of the library's. A cheap copyable handle that keeps the TAPI object's core alive.
///
/// Handlers run on the TAPI object's event executor (`tapi_options::event_executor`), one at a time and
/// in the order the events happened, and only for kinds in the event filter (`tapi::set_event_filter`).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; `connect` may be called from any thread, also from a
/// handler (the new handler sees the next event).
template <class Event>
class event_source {
 public:
  /// What a handler is called with: the event, valid during the call (copy what you keep).
  using handler_type = std::function<void(const Event&)>;

  /// Connects `handler` after the handlers already connected. Returns the Boost.Signals2 connection:
  /// `disconnect()` it, or keep it in a `boost::signals2::scoped_connection`, to stop the handler (a
  /// handler running at that moment finishes). An exception from a handler is caught and counted
  /// (`tapi::handler_exceptions`). Throws only std::bad_alloc.
  boost::signals2::connection connect(handler_type handler) const;

 private:
  friend class tapi;
  explicit event_source(std::shared_ptr<detail::core> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::core> core_;
};

}  // namespace tspi
