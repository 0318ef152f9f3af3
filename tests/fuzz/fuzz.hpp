// ptapi - portable TAPI
// tests/fuzz/fuzz.hpp: the targets of the one libFuzzer binary `ptapi_fuzz` (see fuzz_main.cpp) and the
// check macro they share. Each target takes one input and returns 0; a broken property traps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

/// Traps (a libFuzzer crash, with the input saved) when a property that must hold for every input fails.
#define PTAPI_FUZZ_CHECK(cond)     \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

namespace ptapi_fuzz {

using input = std::span<const std::byte>;

/// The input as text (SIP, SDP and digest targets).
inline std::string_view as_text(input in) noexcept {
  return {reinterpret_cast<const char*>(in.data()), in.size()};
}

void fuzz_sip(input in);              // sip_fuzz.cpp: tspi/sip/{message,headers,uri,digest}.hpp
void fuzz_rtp(input in);              // rtp_fuzz.cpp: mspi::parse_rtp
void fuzz_rtcp(input in);             // rtp_fuzz.cpp: mspi::parse_rtcp, receiver_statistics
void fuzz_telephone_event(input in);  // rtp_fuzz.cpp: mspi::parse_telephone_event (RFC 4733)
void fuzz_sdp(input in);              // sdp_fuzz.cpp: mspi::parse_sdp
void fuzz_channel(input in);          // channel_fuzz.cpp: mspi::decode_channel_message
void fuzz_digest(input in);           // digest_fuzz.cpp: WWW-/Proxy-Authenticate, digest_client
void fuzz_wav(input in);              // wav_fuzz.cpp: mspi::read_audio_file (libsndfile, libsamplerate)
void fuzz_stun(input in);             // stun_fuzz.cpp: mspi::stun::message_view, attribute readers, TURN framing

}  // namespace ptapi_fuzz
