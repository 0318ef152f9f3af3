// ptapi - portable TAPI
// mspi/stream_control.hpp: the MSP call object's stream list (ITStreamControl), the base every MSP call
// derives from; the TAPI object exposes it on the call, as TAPI 3 aggregates it.
#pragma once

#include <mspi/error.hpp>
#include <mspi/stream.hpp>

#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

namespace mspi {

/// The streams of one call (TAPI's `ITStreamControl`, implemented by the MSP call object).
///
/// ptapi's MSPs create their streams when the call is created (one capture and one render stream per
/// media type, as TAPI's MSPs do for `CreateMSPCall`) and keep them for the call's life.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; every method may be called from any thread.
class stream_control {
 public:
  stream_control() = default;
  stream_control(const stream_control&) = delete;
  stream_control& operator=(const stream_control&) = delete;
  virtual ~stream_control() = default;

  /// ITStreamControl::EnumerateStreams: every stream of the call, in creation order (a copy).
  [[nodiscard]] std::vector<stream_ptr> streams() const {
    std::lock_guard lock(streams_mutex_);
    return streams_;
  }

  /// The first stream of `media` in `direction`, or null when there is none (the lookup behind
  /// ITBasicCallControl2::SelectTerminalOnCall). No errors.
  [[nodiscard]] stream_ptr find_stream(media_type media, terminal_direction direction) const {
    std::lock_guard lock(streams_mutex_);
    for (const auto& s : streams_)
      if (s->media() == media && s->direction() == direction) return s;
    return nullptr;
  }

  /// ITStreamControl::CreateStream. ptapi's MSPs have a fixed stream set: `tapi_errc::max_streams`.
  virtual stream_ptr create_stream(media_type media, terminal_direction direction, std::error_code& ec) {
    (void)media;
    (void)direction;
    ec = tapi_errc::max_streams;
    return nullptr;
  }
  /// ITStreamControl::RemoveStream. ptapi's MSPs have a fixed stream set: `tapi_errc::not_supported`.
  virtual void remove_stream(const stream_ptr& s, std::error_code& ec) {
    (void)s;
    ec = tapi_errc::not_supported;
  }

  /// ITBasicCallControl2::SelectTerminalOnCall: selects `t` on the first stream of the call whose media
  /// type and direction match the terminal's. Errors: `invalid_terminal` (null), `invalid_media_type`
  /// (no stream of that media and direction), and those of `stream::select_terminal`.
  void select_terminal_on_call(const terminal_ptr& t, std::error_code& ec) {
    if (!t) {
      ec = tapi_errc::invalid_terminal;
      return;
    }
    auto s = find_stream(t->media(), t->direction());
    if (!s) {
      ec = tapi_errc::invalid_media_type;
      return;
    }
    s->select_terminal(t, ec);
  }
  /// ITBasicCallControl2::UnselectTerminalOnCall: unselects `t` from whichever stream holds it.
  /// Error: `invalid_terminal` when `t` is null or no stream of this call has it selected.
  void unselect_terminal_on_call(const terminal_ptr& t, std::error_code& ec) {
    for (const auto& s : streams()) {
      s->unselect_terminal(t, ec);
      if (!ec) return;
    }
    ec = tapi_errc::invalid_terminal;
  }

 protected:
  /// Adds a stream (MSP implementations, at call creation; CMSPCallBase::InternalCreateStream's role).
  /// Throws only std::bad_alloc.
  void add_stream(stream_ptr s) {
    std::lock_guard lock(streams_mutex_);
    streams_.push_back(std::move(s));
  }

 private:
  mutable std::mutex streams_mutex_;
  std::vector<stream_ptr> streams_;
};

}  // namespace mspi
