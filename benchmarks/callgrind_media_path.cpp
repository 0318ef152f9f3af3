// Instruction counts of the media path: runs N frames of one variant, with callgrind instrumentation
// switched on only around the frame loop (setup, file reading and the first 10 warm-up frames excluded).
//   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p ./build/bin/ptapi_callgrind_media_path <raw|path|udp> 500
// then divide the Ir of `callgrind_annotate /tmp/cg.<pid> | grep "PROGRAM TOTALS"` by N (user-space only: no kernel).
// raw = libopus encode+decode; path = full path without sockets; udp = full path over 127.0.0.1.
#include "media_path.hpp"

#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <raw|path|udp> [frames=500]\n", argv[0]);
    return 2;
  }
  const int frames = argc > 2 ? std::atoi(argv[2]) : 500;
  const auto speech = ptapi_bench::load_speech();
  const bool raw_mode = std::strcmp(argv[1], "raw") == 0;
  ptapi_bench::raw_opus raw(speech);
  ptapi_bench::media_path path(speech, std::strcmp(argv[1], "udp") == 0);
  auto one = [&] { return raw_mode ? std::size_t(raw.frame()) : path.frame(); };
  for (int i = 0; i < 10; ++i) one();
  std::size_t samples = 0;
  CALLGRIND_ZERO_STATS;
  CALLGRIND_START_INSTRUMENTATION;
  for (int i = 0; i < frames; ++i) samples += one();
  CALLGRIND_STOP_INSTRUMENTATION;
  std::printf("%s: %d frames, %zu samples decoded, checksum %llu\n", argv[1], frames, samples,
              static_cast<unsigned long long>(raw_mode ? raw.sum_ : path.checksum()));
}
