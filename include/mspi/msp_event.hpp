// ptapi - portable TAPI
// mspi/msp_event.hpp: what an MSP tells the TAPI object (MSP_EVENT_INFO) and the queue it keeps them in
// (CMSPAddress::PostEvent / ITMSPAddress::GetEvent).
#pragma once

#include <mspi/error.hpp>
#include <mspi/stream.hpp>
#include <mspi/terminal.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace mspi {

/// TAPI's `MSP_HANDLE` for a call: the TAPI object's identifier of the call an MSP call belongs to.
/// Opaque to the MSP; 0 means "address-level" (no call).
using msp_handle = std::uint64_t;

/// ME_ADDRESS_EVENT: a static terminal became available or unavailable (device plugged or removed).
struct msp_address_event {
  /// ADDRESS_TERMINAL_AVAILABLE / ADDRESS_TERMINAL_UNAVAILABLE (TAPI's MSP_ADDRESS_EVENT).
  enum class kind : std::uint8_t { terminal_available, terminal_unavailable };
  kind type = kind::terminal_available;  ///< Whether the terminal came or went.
  terminal_ptr terminal;  ///< The device terminal concerned.
};

/// ME_TSP_DATA: opaque bytes for the paired TSP (TSPI_lineReceiveMSPData). Never shown to applications.
struct msp_tsp_data {
  std::vector<std::byte> data;  ///< The message, as the MSP framed it (see `channel.hpp`).
};

/// ME_FILE_TERMINAL_EVENT: a file terminal changed media state (TE_FILETERMINAL for the application).
struct msp_file_terminal_event {
  terminal_ptr terminal;  ///< The file terminal.
  terminal_event info;    ///< New media state, cause and error.
};

/// ME_PRIVATE_EVENT: a provider-defined event (TE_PRIVATE for the application).
struct msp_private_event {
  int code = 0;                  ///< Provider-defined event code.
  std::vector<std::byte> data;   ///< Provider-defined payload.
};

/// One event from an MSP (TAPI's `MSP_EVENT_INFO`): the call it concerns and what happened.
/// `ME_CALL_EVENT` is `stream_event`.
struct msp_event {
  msp_handle call = 0;  ///< The call concerned, 0 for address-level events.
  /// What happened: the `MSP_EVENT` kind and its payload (ME_ADDRESS_EVENT, ME_CALL_EVENT, ME_TSP_DATA,
  /// ME_FILE_TERMINAL_EVENT, ME_PRIVATE_EVENT).
  std::variant<msp_address_event, stream_event, msp_tsp_data, msp_file_terminal_event, msp_private_event> info;
};

/// The event queue every MSP address keeps (CMSPAddress's `m_EventList` + `PostEvent`/`GetEvent`).
///
/// `post` appends an event and then calls the signal the TAPI object gave at `initialize` (TAPI: the
/// MSP sets `hEvent`); the TAPI object then drains the queue with `get_event` until `no_event`.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; every member may be called from any thread. The
/// signal is called outside the queue's lock, on the thread that called `post`.
class msp_event_queue {
 public:
  /// Sets the function called after each post (ITMSPAddress::Initialize's event handle); an empty
  /// function disables signalling. Throws only what copying the function throws.
  void set_signal(std::function<void()> signal) {
    std::lock_guard lock(mutex_);
    signal_ = std::move(signal);
  }
  /// Queues `e` and signals (CMSPAddress::PostEvent). Allocates; throws only std::bad_alloc and what
  /// the signal throws. Never blocks beyond the queue's short internal lock.
  void post(msp_event e) {
    std::function<void()> signal;
    {
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(e));
      signal = signal_;
    }
    if (signal) signal();
  }
  /// ITMSPAddress::GetEvent: the oldest queued event (FIFO); `ec` cleared, or `tapi_errc::no_event` and
  /// nullopt when the queue is empty. Does not throw.
#if defined(__GNUC__) && !defined(__clang__)
  // GCC 12 at -O2, once this is inlined into a caller's loop, reports the moved variant's shared_ptr as
  // maybe-uninitialized (a false positive that breaks -Werror builds); one call per event costs nothing.
  [[gnu::noinline]]
#endif
  std::optional<msp_event> get_event(std::error_code& ec) {
    std::lock_guard lock(mutex_);
    if (events_.empty()) {
      ec = tapi_errc::no_event;
      return std::nullopt;
    }
    ec.clear();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push  // the same false positive, reported here for the variant's vector in some TUs
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
    std::optional<msp_event> e(std::in_place, std::move(events_.front()));
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    events_.pop_front();
    return e;
  }
  /// Drops queued events (ITMSPAddress::Shutdown). No errors.
  void clear() {
    std::lock_guard lock(mutex_);
    events_.clear();
  }

 private:
  std::mutex mutex_;
  std::deque<msp_event> events_;
  std::function<void()> signal_;
};

}  // namespace mspi
