// ptapi - portable TAPI
// tspi/call_hub.hpp: the call hub of a local conference (TAPI 3 ITCallHub) and its events (ITCallHubEvent).
#pragma once

#include <tspi/call.hpp>
#include <tspi/detail/backends.hpp>

#include <mspi/error.hpp>

#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

namespace tspi {

/// TAPI 3's `CALLHUB_STATE`.
enum class call_hub_state : std::uint8_t {
  active,  ///< CHS_ACTIVE: the hub has calls.
  idle,    ///< CHS_IDLE: every call has left the hub (it stays idle; a new conference makes a new hub).
};

/// A call hub (TAPI 3 ITCallHub): the calls of one local conference that this TAPI object hosts, made by
/// `call::conference` and joined by `call::finish(finish_mode::as_conference)`. Its calls are ordinary
/// calls (each its own dialog with one far end); the MSP mixes their audio so that every far end hears
/// the others and the local user (see `mspi::conference_bridge`: at most 8 calls per hub). A call leaves
/// its hub when it disconnects; the others continue. A cheap, copyable handle; an empty one (`call::hub`
/// of a call in no conference) answers `invalid_handle`.
///
/// Source: TAPI 3 ITCallHub (Clear, EnumerateCalls/get_Calls, get_NumCalls, get_State).
///
/// @par Thread Safety
/// Any thread, like `call`. Async handlers run on their associated executor (default: the TAPI object's
/// event executor).
class call_hub {
 public:
  /// The executor async completions default to.
  using executor_type = boost::asio::any_io_executor;

  /// An empty handle.
  call_hub() = default;
  /// Wraps a backend (the TAPI object makes hubs; applications get them from `call::hub` and events).
  explicit call_hub(std::shared_ptr<detail::hub_backend> backend) : backend_(std::move(backend)) {}

  /// Whether this refers to a hub.
  [[nodiscard]] explicit operator bool() const noexcept { return backend_ != nullptr; }
  /// Same hub.
  friend bool operator==(const call_hub& a, const call_hub& b) noexcept { return a.backend_ == b.backend_; }

  /// The hub's number (1, 2, ... unique in the process, across TAPI objects); 0 for an empty handle.
  [[nodiscard]] std::uint64_t id() const noexcept { return backend_ ? backend_->id() : 0; }

  /// ITCallHub::EnumerateCalls / get_Calls: the hub's calls now, in the order they joined (empty once
  /// idle, or for an empty handle). Any thread; allocates.
  [[nodiscard]] std::vector<call> calls() const {
    std::vector<call> out;
    if (backend_)
      for (auto& b : backend_->calls()) out.emplace_back(std::move(b));
    return out;
  }
  /// ITCallHub::get_NumCalls.
  [[nodiscard]] std::size_t num_calls() const { return backend_ ? backend_->calls().size() : 0; }
  /// ITCallHub::get_State: `idle` once every call left (also for an empty handle).
  [[nodiscard]] call_hub_state state() const {
    return !backend_ || backend_->idle() ? call_hub_state::idle : call_hub_state::active;
  }

  /// ITCallHub::Clear: disconnects every call of the hub (`disconnect_code::normal`); completes when each
  /// `call::disconnect` has completed, with the first error among them. The hub goes idle when the last
  /// call's `disconnected` state is reached (event hub_idle), which may follow the completion. Errors:
  /// `invalid_handle` (empty handle); `not_initialized`; those of `call::disconnect`.
  void clear(std::error_code& ec) const { ec = run(); }
  /// Clear, throwing `std::system_error` on the errors above.
  void clear() const { mspi::throw_if(run(), "clear"); }
  /// Clear, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_clear(Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, clear_op{});
  }

 private:
  struct clear_op {
    void operator()(detail::hub_backend& b, detail::completion d) const { b.clear(std::move(d)); }
  };
  std::error_code run() const {
    if (!backend_) return make_error_code(mspi::tapi_errc::invalid_handle);
    return detail::wait_for([&](detail::completion done) { backend_->clear(std::move(done)); });
  }

  std::shared_ptr<detail::hub_backend> backend_;
};

/// TAPI 3's `CALLHUB_EVENT`.
enum class call_hub_event_kind : std::uint8_t {
  hub_created,  ///< CHE_CALLHUBNEW: `call::conference` made the hub (`call`: the primary call).
  call_joined,  ///< CHE_CALLJOIN: `call` joined the hub (the primary at creation, a consultation call at Finish).
  call_left,    ///< CHE_CALLLEAVE: `call` left the hub (it disconnected); the others continue.
  hub_idle,     ///< CHE_CALLHUBIDLE: the last call left.
};

/// TE_CALLHUB (ITCallHubEvent), in the order of the changes.
struct call_hub_event {
  call_hub hub;              ///< ITCallHubEvent::get_CallHub
  tspi::call call;           ///< ITCallHubEvent::get_Call (empty for hub_idle)
  call_hub_event_kind kind;  ///< ITCallHubEvent::get_Event
};

/// ITCallInfo::get_CallHub: the hub of the conference this call is in, or an empty handle.
inline call_hub call::hub() const { return call_hub(backend_ ? backend_->hub() : nullptr); }

}  // namespace tspi
