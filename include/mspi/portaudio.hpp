// ptapi - portable TAPI
// mspi/portaudio.hpp: lazy, reference-counted PortAudio for the audio device terminals, and device
// enumeration.
#pragma once

#include <mspi/detail/portaudio_quiet.hpp>
#include <mspi/error.hpp>

#include <portaudio.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mspi {

namespace detail {
/// Process-wide PortAudio bookkeeping of `portaudio_system`.
struct portaudio_state {
  std::mutex mutex;
  std::size_t references = 0;           // live portaudio_system objects
  std::uint64_t initialize_calls = 0;   // successful Pa_Initialize calls so far
};
inline portaudio_state& pa_state() noexcept {
  static portaudio_state state;
  return state;
}
}  // namespace detail

/// Opt-in: silences, for the whole process and for good, the messages ALSA-lib and libjack print to stderr
/// (e.g. when PortAudio probes a machine without a sound card or a JACK server), by installing no-op
/// handlers through `snd_lib_error_set_handler` and `jack_set_error_function`/`jack_set_info_function`
/// (looked up at run time: no link dependency; an absent library is skipped). This affects every user
/// of ALSA and JACK in the process, which is why ptapi never does it unasked. Call before the first
/// PortAudio use. Idempotent, thread-safe, never throws; does nothing on Windows. (A ptapi addition.)
inline void silence_audio_library_messages() noexcept { detail::install_quiet_audio_error_handlers(); }

/// A reference to the process-wide, initialized PortAudio library (move-only RAII).
///
/// PortAudio is initialized lazily: nothing calls Pa_Initialize until the first `acquire`. On machines
/// without a sound card ALSA and JACK then print errors to stderr; `silence_audio_library_messages()`
/// turns that off for the process, if the application wants it. The last reference to go away calls Pa_Terminate. PortAudio
/// device indices stay valid while any reference lives. (TAPI has no counterpart: this is the plumbing
/// under the static terminals of ITTerminalSupport.)
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe (move, `reset` and `valid` on one object need external
/// serialisation; `lock_api` is const and safe). `acquire`, destruction and the static getters may be
/// called from any thread (serialized on one process-wide mutex). Code that calls PortAudio directly must hold a reference, and must not call
/// Pa_Initialize/Pa_Terminate itself.
class portaudio_system {
 public:
  /// An empty reference (`valid()` false).
  portaudio_system() noexcept = default;
  /// Takes over `other`'s reference (`other` becomes empty). Never throws.
  portaudio_system(portaudio_system&& other) noexcept : held_(std::exchange(other.held_, false)) {}
  /// Drops this reference (as `reset`), then takes over `other`'s. Never throws.
  portaudio_system& operator=(portaudio_system&& other) noexcept {
    if (this != &other) {
      reset();
      held_ = std::exchange(other.held_, false);
    }
    return *this;
  }
  /// Drops the reference (as `reset`).
  ~portaudio_system() { reset(); }

  /// Takes a reference, initializing PortAudio if no one holds one.
  /// @param ec cleared on success; `tapi_errc::no_device` when Pa_Initialize fails (no audio system).
  /// @return a valid reference, or an empty one on error.
  static portaudio_system acquire(std::error_code& ec) {
    ec.clear();
    auto& s = detail::pa_state();
    std::lock_guard lock(s.mutex);
    if (s.references == 0) {
      if (Pa_Initialize() != paNoError) {
        ec = tapi_errc::no_device;
        return {};
      }
      ++s.initialize_calls;
    }
    ++s.references;
    portaudio_system p;
    p.held_ = true;
    return p;
  }
  /// Throwing form of `acquire(ec)`. @throws std::system_error naming "portaudio_system::acquire".
  static portaudio_system acquire() {
    std::error_code ec;
    auto p = acquire(ec);
    throw_if(ec, "portaudio_system::acquire");
    return p;
  }

  /// Drops this reference (Pa_Terminate if it was the last). No effect on an empty one. Never throws
  /// (a failing mutex lock terminates).
  void reset() noexcept {
    if (!std::exchange(held_, false)) return;
    auto& s = detail::pa_state();
    std::lock_guard lock(s.mutex);
    if (--s.references == 0) Pa_Terminate();
  }

  /// Serializes PortAudio calls that are not thread-safe (device queries, opening, starting, stopping
  /// and closing streams): hold the returned lock around them. Never call `acquire` or `reset` while
  /// holding it (self-deadlock). Requires `valid()`. @throws std::system_error only if the mutex fails.
  [[nodiscard]] std::unique_lock<std::mutex> lock_api() const { return std::unique_lock(detail::pa_state().mutex); }

  /// True when this object holds a reference. Never throws.
  [[nodiscard]] bool valid() const noexcept { return held_; }

  /// True while any reference exists (PortAudio is initialized). Must not be called under `lock_api`.
  [[nodiscard]] static bool initialized() {
    auto& s = detail::pa_state();
    std::lock_guard lock(s.mutex);
    return s.references > 0;
  }
  /// How many times ptapi has called Pa_Initialize in this process (for tests of laziness). Must not be
  /// called under `lock_api`.
  [[nodiscard]] static std::uint64_t initialize_count() {
    auto& s = detail::pa_state();
    std::lock_guard lock(s.mutex);
    return s.initialize_calls;
  }

 private:
  bool held_ = false;
};

/// One PortAudio device, as `enumerate_audio_devices` reports it (Pa_GetDeviceInfo). A plain value.
struct audio_device_info {
  int index = -1;                    ///< PortAudio device index (valid while PortAudio stays initialized).
  std::string name;                  ///< Device name ("default", "hw:0,0", ...).
  std::string host_api;              ///< Host API name ("ALSA", "JACK Audio Connection Kit", ...).
  int max_input_channels = 0;        ///< Capture channels (0: not an input).
  int max_output_channels = 0;       ///< Render channels (0: not an output).
  double default_sample_rate = 0.0;  ///< Hz.
  bool default_input = false;        ///< PortAudio's default input device.
  bool default_output = false;       ///< PortAudio's default output device.
};

/// Lists PortAudio's devices. The caller must hold `pa` (a valid `portaudio_system`) for the indices to mean anything.
/// @param ec cleared on success; `tapi_errc::invalid_argument` for an empty `pa`;
///        `tapi_errc::operation_failed` when PortAudio cannot count its devices.
/// @par Thread Safety
/// Any thread.
inline std::vector<audio_device_info> enumerate_audio_devices(const portaudio_system& pa, std::error_code& ec) {
  ec.clear();
  std::vector<audio_device_info> out;
  if (!pa.valid()) {
    ec = tapi_errc::invalid_argument;
    return out;
  }
  const auto lock = pa.lock_api();
  const int count = Pa_GetDeviceCount();
  if (count < 0) {
    ec = tapi_errc::operation_failed;
    return out;
  }
  const int default_in = Pa_GetDefaultInputDevice();
  const int default_out = Pa_GetDefaultOutputDevice();
  for (int i = 0; i < count; ++i) {
    const PaDeviceInfo* d = Pa_GetDeviceInfo(i);
    if (d == nullptr) continue;
    const PaHostApiInfo* api = Pa_GetHostApiInfo(d->hostApi);
    out.push_back(audio_device_info{i, d->name != nullptr ? d->name : "", api != nullptr && api->name != nullptr ? api->name : "",
                                    d->maxInputChannels, d->maxOutputChannels, d->defaultSampleRate,
                                    i == default_in, i == default_out});
  }
  return out;
}

/// Lists PortAudio's devices, initializing PortAudio for the duration of the call if nothing else
/// holds it (the indices are then only good while some `portaudio_system` reference lives).
/// (TAPI: the device scan behind ITTerminalSupport::EnumerateStaticTerminals.)
/// @param ec cleared on success; `tapi_errc::no_device` when PortAudio cannot initialize;
///        `tapi_errc::operation_failed` when it cannot count its devices.
/// @par Thread Safety
/// Any thread.
inline std::vector<audio_device_info> enumerate_audio_devices(std::error_code& ec) {
  auto pa = portaudio_system::acquire(ec);
  if (ec) return {};
  return enumerate_audio_devices(pa, ec);
}

/// Throwing form of `enumerate_audio_devices(ec)`. @throws std::system_error naming "enumerate_audio_devices".
inline std::vector<audio_device_info> enumerate_audio_devices() {
  std::error_code ec;
  auto devices = enumerate_audio_devices(ec);
  throw_if(ec, "enumerate_audio_devices");
  return devices;
}

}  // namespace mspi
