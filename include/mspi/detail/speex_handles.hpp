// ptapi - portable TAPI
// mspi/detail/speex_handles.hpp: owning handles (std::unique_ptr with deleters) for speexdsp's echo
// canceller and preprocessor states, used by mspi/audio_processing.hpp.
#pragma once

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#include <memory>

namespace mspi::detail {

/// Deleter of a SpeexEchoState (speex_echo_state_destroy). Never throws.
struct speex_echo_deleter {
  void operator()(SpeexEchoState* s) const noexcept { speex_echo_state_destroy(s); }
};
/// Deleter of a SpeexPreprocessState (speex_preprocess_state_destroy). Never throws.
struct speex_preprocess_deleter {
  void operator()(SpeexPreprocessState* s) const noexcept { speex_preprocess_state_destroy(s); }
};

/// Owning handle of speexdsp's acoustic echo canceller state (null: no echo cancellation).
using speex_echo_ptr = std::unique_ptr<SpeexEchoState, speex_echo_deleter>;
/// Owning handle of speexdsp's preprocessor state (null: no preprocessing).
using speex_preprocess_ptr = std::unique_ptr<SpeexPreprocessState, speex_preprocess_deleter>;

}  // namespace mspi::detail
