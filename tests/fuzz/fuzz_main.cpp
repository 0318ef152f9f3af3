// ptapi - portable TAPI
// tests/fuzz/fuzz_main.cpp: the entry points of `ptapi_fuzz`, ONE libFuzzer binary for every parser that
// takes network or file input (one binary links once under ASan + UBSan, which keeps CI fast).
// The target is chosen by the environment variable PTAPI_FUZZ_TARGET, read once at start-up:
//   sip, rtp, rtcp, telephone_event, sdp, channel, digest, wav, stun
// e.g.  PTAPI_FUZZ_TARGET=rtcp build-fuzz/bin/ptapi_fuzz -max_total_time=20 corpus/rtcp
// PTAPI_FUZZ_TARGET=list prints the names, one per line, and exits 0 (tests/fuzz/run-fuzzers.sh runs
// every listed target); an unknown or missing name prints them to stderr and exits 2.
#include "fuzz.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

struct target {
  const char* name;
  void (*run)(ptapi_fuzz::input);
};

constexpr target targets[] = {
    {"sip", ptapi_fuzz::fuzz_sip},         {"rtp", ptapi_fuzz::fuzz_rtp},
    {"rtcp", ptapi_fuzz::fuzz_rtcp},       {"telephone_event", ptapi_fuzz::fuzz_telephone_event},
    {"sdp", ptapi_fuzz::fuzz_sdp},         {"channel", ptapi_fuzz::fuzz_channel},
    {"digest", ptapi_fuzz::fuzz_digest},   {"wav", ptapi_fuzz::fuzz_wav},
    {"stun", ptapi_fuzz::fuzz_stun},
};

void (*selected)(ptapi_fuzz::input) = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("PTAPI_FUZZ_TARGET");
  if (name != nullptr && std::strcmp(name, "list") == 0) {
    for (const auto& t : targets) std::printf("%s\n", t.name);
    std::exit(0);
  }
  for (const auto& t : targets)
    if (name != nullptr && std::strcmp(name, t.name) == 0) selected = t.run;
  if (selected == nullptr) {
    std::fprintf(stderr, "ptapi_fuzz: set PTAPI_FUZZ_TARGET to one of:");
    for (const auto& t : targets) std::fprintf(stderr, " %s", t.name);
    std::fprintf(stderr, "\n");
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  selected({reinterpret_cast<const std::byte*>(data), size});
  return 0;
}
