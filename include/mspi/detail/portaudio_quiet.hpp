// ptapi - portable TAPI
// mspi/detail/portaudio_quiet.hpp: silences the stderr chatter of ALSA-lib and libjack that
// Pa_Initialize triggers on machines without a sound card or a JACK server.
#pragma once

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace mspi::detail {

/// No-op ALSA-lib error handler (`snd_lib_error_handler_t`).
inline void quiet_alsa_error(const char* file, int line, const char* function, int err, const char* fmt, ...) {
  (void)file;
  (void)line;
  (void)function;
  (void)err;
  (void)fmt;
}

/// No-op libjack error/info callback.
inline void quiet_jack_message(const char* message) { (void)message; }

/// Installs the no-op handlers above with `snd_lib_error_set_handler`, `jack_set_error_function` and
/// `jack_set_info_function`, each looked up with `dlsym(RTLD_DEFAULT, ...)`: no link dependency on
/// libasound or libjack (libportaudio already loads them); a library that is absent is skipped.
/// Process-wide and permanent: ALSA and JACK errors are silenced for the whole process.
/// Call before Pa_Initialize. Idempotent and thread-safe (runs once). On Windows, which has neither
/// ALSA nor a dlsym, it does nothing.
inline void install_quiet_audio_error_handlers() noexcept {
#if !defined(_WIN32)
  static const bool installed = [] {
    using alsa_handler = void (*)(const char*, int, const char*, int, const char*, ...);
    using alsa_set = int (*)(alsa_handler);
    using jack_handler = void (*)(const char*);
    using jack_set = void (*)(jack_handler);
    if (auto set = reinterpret_cast<alsa_set>(dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler"))) set(&quiet_alsa_error);
    if (auto set = reinterpret_cast<jack_set>(dlsym(RTLD_DEFAULT, "jack_set_error_function"))) set(&quiet_jack_message);
    if (auto set = reinterpret_cast<jack_set>(dlsym(RTLD_DEFAULT, "jack_set_info_function"))) set(&quiet_jack_message);
    return true;
  }();
  (void)installed;
#endif
}

}  // namespace mspi::detail
