#!/bin/sh
# Installs ptapi's dependencies from Debian bookworm's packages. Idempotent; run as root.
#   scripts/install-deps.sh           the library and the softphone demo (the README's first command)
#   scripts/install-deps.sh --tests   also the tests, benchmarks, fuzzers, sanitizers, interop peers and the
#                                     API reference (what .ci/run uses); PTAPI_DEPS=all does the same
# NOTE: libboost1.81-dev conflicts with libboost-dev (1.74): never add libboost-dev or anything needing it.
set -eu
export DEBIAN_FRONTEND=noninteractive

# The library (scripts/check-packaging.py checks this list against the CMake package) and the softphone:
# libssl-dev: OpenSSL's libcrypto (SIP Digest, RTP random values, SDES keys) and libssl (SIP over TLS); libsrtp2-dev: SRTP; portaudio19-dev, libasound2-dev, libspeexdsp-dev:
# the devices component (speexdsp: echo cancellation); libsndfile1-dev, libsamplerate0-dev: the files component; libspandsp-dev: the dsp component; libcli11-dev,
# nlohmann-json3-dev: the softphone's command line and JSON report; libfftw3-dev: FFTW for the delay
# estimate of the demo, wav_match, tests and benchmarks (tools/measure; the library itself does not use
# it); alsa-utils ships the speech recordings the demo and the tests play (/usr/share/sounds/alsa/*.wav);
# libsrtp2-dev: SRTP (RFC 3711) of the media provider; libc-ares-dev: c-ares, the SIP provider's DNS resolver (RFC 3263).
core_packages="cmake ninja-build pkg-config g++ libboost1.81-dev libfmt-dev libopus-dev libssl-dev libsrtp2-dev portaudio19-dev libasound2-dev libspeexdsp-dev libsndfile1-dev libsamplerate0-dev libspandsp-dev libcli11-dev nlohmann-json3-dev libfftw3-dev alsa-utils libc-ares-dev"

# Tests and CI: catch2 (unit tests), libbenchmark-dev (benchmarks), libspeexdsp-dev (the resampler
# comparison, benchmarks/bench_resampler.cpp), ccache (rebuilds), sox (resampled test
# fixtures), python3 (interop drivers, scripts/check-packaging.py), doxygen (the `docs` target). clang-16
# builds the libFuzzer targets (tests/fuzz) and the ASan/UBSan stage; with --no-install-recommends the
# fuzzer and sanitizer runtimes (libclang-rt-16-dev) and llvm-symbolizer (llvm-16) must be named.
# sip-tester (SIPp) and baresip-core are foreign SIP peers for interoperability tests; kamailio (5.6, its
# dispatcher module is in the base package) is the SIP load balancer of tests/interop/dispatcher and
# examples/kamailio (the test runs it in the foreground; Debian's own service is not needed). dnsmasq-base (the program,
# without the system service of the `dnsmasq` package) serves SRV/NAPTR records of a test domain to the SIP
# DNS tests (started by the test on 127.0.0.1). coturn is the STUN/TURN server of the NAT traversal tests
# (tests/mspi/stun.cpp starts it in the foreground on 127.0.0.1:7500; Debian's service is not needed).
# openssl (the command) makes the throwaway CA and certificates of the SIP over TLS tests at test time;
# kamailio-tls-modules is Kamailio's tls module for tests/interop/registrar/registrar_tls_test.py.
# iproute2 (`ip netns`, veth) builds the network namespaces of the NAT traversal tests (tests/interop/nat);
# linphone-cli (linphonec 5.1) is the ICE peer of tests/interop/nat/linphone_ice_test.py.
test_packages="catch2 libbenchmark-dev libspeexdsp-dev ccache sox python3 doxygen clang-16 libclang-rt-16-dev llvm-16 sip-tester baresip-core kamailio kamailio-tls-modules dnsmasq-base coturn openssl iproute2 linphone-cli"

packages=$core_packages
case "${1:-}" in
  --tests) packages="$core_packages $test_packages" ;;
  "") [ "${PTAPI_DEPS:-}" = all ] && packages="$core_packages $test_packages" ;;
  *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
esac

apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $packages >/dev/null
