// ptapi - portable TAPI
// mspi/terminals/media_control.hpp: the start/pause/stop state machine of file terminals (ITMediaControl).
#pragma once

#include <mspi/error.hpp>
#include <mspi/terminal.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mspi {

namespace detail {

/// A `std::chrono::steady_clock::time_point` that may be unset, readable from any thread without
/// locking (nanoseconds since the clock's epoch in one lock-free atomic).
class atomic_time_point {
 public:
  using clock = std::chrono::steady_clock;
  /// The stored time, or nullopt when unset.
  [[nodiscard]] std::optional<clock::time_point> load() const noexcept {
    const auto ns = ns_.load(std::memory_order_acquire);
    if (ns == unset) return std::nullopt;
    return clock::time_point(std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(ns)));
  }
  /// Stores `t`.
  void store(clock::time_point t) noexcept {
    ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
              std::memory_order_release);
  }
  /// Makes the time unset.
  void clear() noexcept { ns_.store(unset, std::memory_order_release); }

 private:
  static constexpr std::int64_t unset = std::numeric_limits<std::int64_t>::min();
  std::atomic<std::int64_t> ns_{unset};
};

}  // namespace detail

/// A terminal with TAPI's media control (ITMediaControl): the base of the file playback and file
/// recording terminals. It owns the `terminal_media_state` machine and fires a `terminal_event`
/// through the terminal's event sink (ITPluggableTerminalEventSink::FireEvent) on every change:
///
/// | call / event        | from idle                    | from active          | from paused          |
/// |---------------------|------------------------------|----------------------|----------------------|
/// | `start()`           | active {active, normal}      | no change, success   | active {active, normal} |
/// | `pause()`           | error operation_failed       | paused {paused, normal} | no change, success |
/// | `stop()`            | no change, success           | idle {idle, normal}  | idle {idle, normal}  |
/// | media thread `finish` | -                          | idle {idle, cause}   | -                    |
///
/// A subclass vets or prepares a transition in `before_transition` (a playback terminal rewinds when
/// started from idle; both refuse to start with nothing to play or record) and ends activity from the
/// media thread with `finish` (end of file, write error).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: `start`, `pause` and `stop` may be called from any thread (they serialize on an internal mutex);
/// `media_state()` is a lock-free atomic read, safe on the media thread. Events are fired after the
/// state has changed and outside the internal lock, so a sink may call back into the terminal; when
/// several threads drive one terminal at once the order of their events is unspecified.
class media_control : public terminal {
 public:
  /// ITMediaControl::Start: begin (from idle) or resume (from paused) playing or recording.
  /// @param ec cleared on success (also when already active); otherwise the subclass's refusal, e.g.
  ///        `tapi_errc::operation_failed` when no play list or no file is set.
  void start(std::error_code& ec) { transition(command::start, ec); }
  /// Throwing form of `start(ec)`. @throws std::system_error naming "start".
  void start() { checked(command::start, "start"); }

  /// ITMediaControl::Pause: hold playback or recording; `start` resumes from the same place.
  /// @param ec cleared on success (also when already paused); `tapi_errc::operation_failed` when idle
  ///        (TAPI's TAPI_E_WRONG_STATE: there is nothing to pause).
  void pause(std::error_code& ec) { transition(command::pause, ec); }
  /// Throwing form of `pause(ec)`. @throws std::system_error naming "pause".
  void pause() { checked(command::pause, "pause"); }

  /// ITMediaControl::Stop: end playing or recording (a later `start` plays the list from its start).
  /// @param ec always cleared: stopping an idle terminal is a successful no-op.
  void stop(std::error_code& ec) { transition(command::stop, ec); }
  /// Throwing form of `stop(ec)`. @throws std::system_error naming "stop" (does not happen in practice).
  void stop() { checked(command::stop, "stop"); }

  /// ITMediaControl::get_MediaState. Lock-free; safe on the media thread.
  [[nodiscard]] terminal_media_state media_state() const noexcept { return state_.load(std::memory_order_acquire); }

 protected:
  /// Forwards to `terminal`'s constructor; the state starts idle. Throws only std::bad_alloc.
  media_control(std::string name, std::string_view terminal_class, terminal_type type, media_type media,
                terminal_direction direction)
      : terminal(std::move(name), terminal_class, type, media, direction) {}

  /// Called (under the control lock, before the state changes) for every real transition requested
  /// by `start`/`pause`/`stop`. Return an error to refuse it (the state then stays `from`).
  /// May be called more than once for one request if the media thread finishes concurrently.
  virtual std::error_code before_transition(terminal_media_state from, terminal_media_state to) noexcept {
    (void)from;
    (void)to;
    return {};
  }

  /// Ends activity from the media thread: active -> idle, firing {idle, cause, error}. The state change
  /// is lock-free and never waits on the control lock; the event goes through `fire_event`, which runs
  /// the sink synchronously (see there: the MSP's sink locks and allocates). Fires at most once per
  /// activity; returns false, with no event, when not active (TAPI: the terminal's FTEC_* event).
  bool finish(file_terminal_cause cause, std::error_code error = {}) noexcept {
    auto expected = terminal_media_state::active;
    if (!state_.compare_exchange_strong(expected, terminal_media_state::idle, std::memory_order_acq_rel)) return false;
    fire_event(terminal_event{terminal_media_state::idle, cause, error});
    return true;
  }

 private:
  enum class command : std::uint8_t { start, pause, stop };

  void checked(command c, const char* operation) {
    std::error_code ec;
    transition(c, ec);
    throw_if(ec, operation);
  }

  /// The target of `c` from `from`, or `from` itself for a no-op; sets `ec` for a refused command.
  static terminal_media_state target(command c, terminal_media_state from, std::error_code& ec) noexcept {
    switch (c) {
      case command::start: return terminal_media_state::active;
      case command::stop: return terminal_media_state::idle;
      case command::pause:
        if (from == terminal_media_state::idle) ec = tapi_errc::operation_failed;
        return from == terminal_media_state::idle ? from : terminal_media_state::paused;
    }
    return from;
  }

  void transition(command c, std::error_code& ec) {
    ec.clear();
    terminal_media_state to{};
    {
      std::lock_guard lock(control_mutex_);
      for (;;) {
        auto from = state_.load(std::memory_order_acquire);
        to = target(c, from, ec);
        if (ec || to == from) return;
        if (auto refused = before_transition(from, to)) {
          ec = refused;
          return;
        }
        // Only the media thread changes the state behind our back (active -> idle): then re-decide.
        if (state_.compare_exchange_strong(from, to, std::memory_order_acq_rel)) break;
      }
    }
    fire_event(terminal_event{to, file_terminal_cause::normal, {}});
  }

  std::mutex control_mutex_;
  std::atomic<terminal_media_state> state_{terminal_media_state::idle};
};

}  // namespace mspi
