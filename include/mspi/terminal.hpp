// ptapi - portable TAPI
// mspi/terminal.hpp: the terminal object (ITTerminal) and the audio port an MSP drives it through
// (the role of ITTerminalControl and ITPluggableTerminalEventSink in TAPI 3).
#pragma once

#include <mspi/media_types.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mspi {

class stream;
namespace detail {
struct terminal_access;
}  // namespace detail

/// TAPI's `TERMINAL_TYPE`: static terminals are devices (enumerated), dynamic ones are created on demand.
enum class terminal_type : std::uint8_t {
  static_terminal,   ///< TT_STATIC: a capture or render device.
  dynamic_terminal,  ///< TT_DYNAMIC: file playback/recording, media streaming.
};

/// TAPI's `TERMINAL_STATE`: a terminal is in use while it is selected on a stream.
enum class terminal_state : std::uint8_t {
  not_in_use,  ///< TS_NOTINUSE
  in_use,      ///< TS_INUSE
};

/// TAPI's `TERMINAL_MEDIA_STATE` (ITMediaControl::get_MediaState) of file terminals.
enum class terminal_media_state : std::uint8_t {
  idle,    ///< TMS_IDLE: stopped, finished or failed.
  active,  ///< TMS_ACTIVE: playing or recording.
  paused,  ///< TMS_PAUSED
};

/// TAPI's `FT_STATE_EVENT_CAUSE`: why a file terminal changed media state.
enum class file_terminal_cause : std::uint8_t {
  normal,       ///< FTEC_NORMAL: the application asked (start/pause/stop).
  end_of_file,  ///< FTEC_END_OF_FILE: playback reached the end of its play list.
  read_error,   ///< FTEC_READ_ERROR
  write_error,  ///< FTEC_WRITE_ERROR
  max_duration,  ///< A recording reached `recording_limits::max_duration` (ptapi addition).
  silence,       ///< A recording heard `recording_limits::silence_timeout` of silence (ptapi addition).
};

/// Terminal classes (TAPI: `CLSID_*Terminal` strings). The MSP's `terminal_support` creates dynamic
/// terminals by class and enumerates static ones.
namespace terminal_classes {
inline constexpr std::string_view microphone = "microphone";            ///< CLSID_MicrophoneTerminal (static capture)
inline constexpr std::string_view speakers = "speakers";                ///< CLSID_SpeakersTerminal (static render)
inline constexpr std::string_view file_playback = "file_playback";      ///< CLSID_FilePlaybackTerminal (capture)
inline constexpr std::string_view file_recording = "file_recording";    ///< CLSID_FileRecordingTerminal (render)
inline constexpr std::string_view media_streaming = "media_streaming";  ///< CLSID_MediaStreamTerminal (either)
}  // namespace terminal_classes

/// What a terminal tells its MSP (TAPI: `MSP_FILE_TERMINAL_EVENT_INFO` fired through
/// `ITPluggableTerminalEventSink::FireEvent`); the MSP turns it into a `TE_FILETERMINAL` event.
struct terminal_event {
  terminal_media_state state = terminal_media_state::idle;  ///< The new media state.
  file_terminal_cause cause = file_terminal_cause::normal;  ///< Why it changed.
  std::error_code error;                                    ///< Set for read/write errors.
};

/// A source or sink of media selected onto a stream (TAPI's `ITTerminal`).
///
/// The audio port: an MSP calls `read_frame` (capture terminals) or `write_frame` (render terminals)
/// once per packet time from its media clock, with frames in the pipeline format (48 kHz, mono,
/// signed 16-bit, `frame.size()` samples: 480/960/1920/2880 for 10/20/40/60 ms). Terminals never
/// set the pace: the MSP's clock does, so an unpaced device or a file cannot make media run fast.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: identity getters and `state()` may be called from any
/// thread, and so may the stream side (selection claims and the event sink: private, reached by
/// `mspi::stream` and `detail::terminal_access`). `read_frame`, `write_frame` and
/// `on_stream_active` are called only by the stream that has the terminal selected, one call at a time
/// (serialised by the stream's media lock): the frame calls from the MSP's media thread,
/// `on_stream_active` from whichever thread changed the stream's state. Implementations must not block
/// in the frame calls (no waiting on locks held by the application, no device waits). Subclasses
/// document their own control methods.
class terminal {
 public:
  /// Event sink installed by the stream that selects the terminal (ITPluggableTerminalEventSink).
  using event_sink = std::function<void(terminal&, const terminal_event&)>;

  /// @param name human-readable name ("Front_Center.wav", "default (ALSA)").
  /// @param terminal_class one of `terminal_classes` (or a provider's own class); the view is kept, so
  ///        it must outlive the terminal (the `terminal_classes` constants do).
  /// @param type static (a device) or dynamic (created by the application) (ITTerminal::get_TerminalType).
  /// @param media the media type it handles (ITTerminal::get_MediaType).
  /// @param direction capture or render (ITTerminal::get_Direction).
  /// Throws only std::bad_alloc.
  terminal(std::string name, std::string_view terminal_class, terminal_type type, media_type media,
           terminal_direction direction)
      : name_(std::move(name)), class_(terminal_class), type_(type), media_(media), direction_(direction) {}
  terminal(const terminal&) = delete;
  terminal& operator=(const terminal&) = delete;
  virtual ~terminal() = default;

  /// ITTerminal::get_Name
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// ITTerminal::get_TerminalClass
  [[nodiscard]] std::string_view terminal_class() const noexcept { return class_; }
  /// ITTerminal::get_TerminalType
  [[nodiscard]] terminal_type type() const noexcept { return type_; }
  /// ITTerminal::get_MediaType
  [[nodiscard]] media_type media() const noexcept { return media_; }
  /// ITTerminal::get_Direction
  [[nodiscard]] terminal_direction direction() const noexcept { return direction_; }
  /// ITTerminal::get_State: `in_use` while selected on a stream.
  [[nodiscard]] terminal_state state() const noexcept {
    return owner_.load(std::memory_order_acquire) ? terminal_state::in_use : terminal_state::not_in_use;
  }

  /// Capture port (ITTerminalControl's role): fill all of `frame` with the next samples (48 kHz mono s16,
  /// `frame.size()` samples). Never throws; no error channel. A terminal with nothing
  /// to give (paused, finished, not started) fills silence. Called on the MSP's media thread.
  virtual void read_frame(std::span<std::int16_t> frame) noexcept {
    for (auto& s : frame) s = 0;
  }
  /// Render port: consume one frame of received audio (48 kHz mono s16, `frame.size()` samples). Called
  /// on the media thread. Never throws; no error channel.
  virtual void write_frame(std::span<const std::int16_t> frame) noexcept { (void)frame; }
  /// Called by the stream when media starts (`true`) or stops (`false`) flowing through the
  /// terminal: the stream became active or inactive, or the terminal was selected onto or removed from
  /// an active stream. Device terminals open and close their device here.
  /// @return an error when the terminal cannot run (device gone): the MSP then raises CME_TERMINAL_FAIL.
  virtual std::error_code on_stream_active(bool active) noexcept {
    (void)active;
    return {};
  }

 protected:
  /// Sends `e` to the selecting stream's sink, if any (ITPluggableTerminalEventSink::FireEvent).
  /// Safe from any thread. Takes the sink mutex briefly and itself does not allocate, but it runs the
  /// sink synchronously on the calling thread: ptapi's MSP sinks queue an `msp_event` (a mutex and an
  /// allocation) and call the TAPI object's signal. Exceptions from the sink propagate.
  void fire_event(const terminal_event& e) {
    std::shared_ptr<const event_sink> sink;
    {
      std::lock_guard lock(sink_mutex_);
      sink = sink_;
    }
    if (sink) (*sink)(*this, e);
  }

 private:
  friend class stream;
  friend struct detail::terminal_access;

  // -- The MSP side (streams, and MSPs through detail::terminal_access); not application API. --

  /// Claims the terminal for `owner` (a stream); false if it is already selected elsewhere.
  /// TAPI's rule (ITStream::SelectTerminal, TAPI_E_TERMINALINUSE): a terminal is on one stream at a time.
  /// Lock-free; never throws.
  bool claim(const void* owner) noexcept {
    const void* expected = nullptr;
    return owner_.compare_exchange_strong(expected, owner, std::memory_order_acq_rel);
  }
  /// Releases a claim made by `owner`; no effect if `owner` does not hold it. Lock-free; never throws.
  void release(const void* owner) noexcept {
    const void* expected = owner;
    owner_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel);
  }
  /// True when `owner` holds the terminal. Lock-free; never throws.
  [[nodiscard]] bool claimed_by(const void* owner) const noexcept {
    return owner_.load(std::memory_order_acquire) == owner;
  }
  /// Installs (or, with an empty function, removes) the sink for this terminal's events
  /// (ITPluggableTerminalEventSinkRegistration::RegisterSink / UnregisterSink). Throws only std::bad_alloc.
  void set_event_sink(event_sink sink) {
    auto p = sink ? std::make_shared<const event_sink>(std::move(sink)) : nullptr;
    std::lock_guard lock(sink_mutex_);
    sink_ = std::move(p);
  }


  std::string name_;
  std::string_view class_;
  terminal_type type_;
  media_type media_;
  terminal_direction direction_;
  std::atomic<const void*> owner_{nullptr};
  std::mutex sink_mutex_;
  std::shared_ptr<const event_sink> sink_;
};

/// Shared ownership of a terminal: what `terminal_support` hands out and streams hold.
using terminal_ptr = std::shared_ptr<terminal>;

namespace detail {
/// The stream side of a terminal, for MSP implementations that drive terminals without `mspi::stream`
/// and for tests: selection claims (TAPI_E_TERMINALINUSE) and the event sink
/// (ITPluggableTerminalEventSinkRegistration). Applications select terminals through streams and never
/// call these. Each forwards to the terminal member of the same name; same guarantees.
struct terminal_access {
  static bool claim(terminal& t, const void* owner) noexcept { return t.claim(owner); }
  static void release(terminal& t, const void* owner) noexcept { t.release(owner); }
  [[nodiscard]] static bool claimed_by(const terminal& t, const void* owner) noexcept { return t.claimed_by(owner); }
  static void set_event_sink(terminal& t, terminal::event_sink sink) { t.set_event_sink(std::move(sink)); }
};
}  // namespace detail

}  // namespace mspi
