#!/bin/sh
# Installs ptapi's build, test and demo dependencies from Debian bookworm's packages. Idempotent; run as root.
# NOTE: libboost1.81-dev conflicts with libboost-dev (1.74): never add libboost-dev or anything needing it.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    cmake ninja-build pkg-config g++ ccache \
    libboost1.81-dev libfmt-dev catch2 libbenchmark-dev \
    portaudio19-dev libasound2-dev libopus-dev libsndfile1-dev libsamplerate0-dev \
    libcli11-dev nlohmann-json3-dev libssl-dev libfftw3-dev libspeexdsp-dev \
    clang-16 libclang-rt-16-dev llvm-16 \
    sip-tester baresip-core \
    alsa-utils sox >/dev/null
# alsa-utils ships the speech recordings the demo and the tests use (/usr/share/sounds/alsa/*.wav);
# sox makes resampled test fixtures from them at test time.
# libfftw3-dev: FFTW for the delay estimate of the demo, wav_match, tests and benchmarks (tools/measure;
# the library itself does not use it). libspeexdsp-dev: the resampler comparison benchmark only
# (benchmarks/bench_resampler.cpp).
# libssl-dev: OpenSSL's libcrypto for SIP Digest authentication (tspi/sip/digest.hpp).
# clang-16 builds the libFuzzer targets (tests/fuzz); with --no-install-recommends the fuzzer and
# sanitizer runtimes (libclang-rt-16-dev) and llvm-symbolizer (llvm-16) must be named.
# sip-tester (SIPp) and baresip-core are foreign SIP peers for interoperability tests.
