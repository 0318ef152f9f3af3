// ptapi - portable TAPI
// ptapi/config.hpp: how the library is built into a program: header-only (the default) or separately
// compiled, and which optional components are present.
#pragma once

/// @file
/// @par Header-only (default)
/// Include the headers you use; everything is inline. Simple, but every unit that registers a provider
/// compiles the provider's whole implementation.
///
/// @par Separate compilation (like Boost.Beast's `BOOST_BEAST_SEPARATE_COMPILATION`)
/// Define `PTAPI_SEPARATE_COMPILATION` for the whole program (e.g. `target_compile_definitions`), and
/// include `<ptapi/src.hpp>` in exactly one source file of it, before any other ptapi header. The public
/// headers then declare what they define elsewhere: the TAPI object's members, terminal support, and the
/// shipped provider pairs (`loopback_tsp` and `sip::sip_tsp`, each with `rtp_opus_msp`), which
/// `<ptapi/src.hpp>` compiles once. A provider header (`<tspi/sip/tsp.hpp>`...) then gives only the
/// provider's configuration and name; to register a provider pair of your own, include
/// `<tspi/provider_pair.hpp>` where you register it.
///
/// @par Optional components
/// `PTAPI_WITH_DEVICES=1`: PortAudio capture and playback terminals (`ITTerminalSupport`'s static
/// terminals); link PortAudio. `PTAPI_WITH_FILES=1`: WAV file playback and recording terminals; link
/// libsndfile and libsamplerate. Both default to 0, so a program that only signals, or streams media through
/// the media streaming terminal, needs neither library. The CMake targets `ptapi::devices` and
/// `ptapi::files` define them. Every unit of a program must see the same values.

/// 1 unless `PTAPI_SEPARATE_COMPILATION` is defined.
#if defined(PTAPI_SEPARATE_COMPILATION)
#define PTAPI_HEADER_ONLY 0
#else
#define PTAPI_HEADER_ONLY 1
#endif

/// Storage of the functions defined in `impl/*.ipp` files: `inline` header-only, external otherwise.
#if PTAPI_HEADER_ONLY
#define PTAPI_DECL inline
#else
#define PTAPI_DECL
#endif

/// True where a provider's whole implementation is visible: header-only, the unit of `<ptapi/src.hpp>`,
/// or, in separate compilation, a unit that defines `PTAPI_PROVIDER_DEFINITIONS` before its first ptapi
/// header: one that uses a shipped provider's own members (`sip::sip_tsp`, `rtp_opus_msp`, their calls)
/// or pairs a shipped provider with one of its own. Providers' members are inline, so such a unit adds
/// no duplicate symbols; it compiles only what it uses, while the shipped pairs stay in `<ptapi/src.hpp>`.
#if PTAPI_HEADER_ONLY || defined(PTAPI_SOURCE) || defined(PTAPI_PROVIDER_DEFINITIONS)
#define PTAPI_FULL_DEFINITIONS 1
#else
#define PTAPI_FULL_DEFINITIONS 0
#endif

#ifndef PTAPI_WITH_DEVICES
#define PTAPI_WITH_DEVICES 0
#endif
#ifndef PTAPI_WITH_FILES
#define PTAPI_WITH_FILES 0
#endif

/// Set once this header is seen (`<ptapi/src.hpp>` checks that it comes first in its unit).
#define PTAPI_CONFIG_INCLUDED 1
