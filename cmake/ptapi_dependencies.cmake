# Finds ptapi's dependencies and exposes each under one stable imported name (ptapi::dep_*),
# preferring a CMake package (vcpkg, Conan, upstream) and falling back to pkg-config (Debian).
#
# Used by the build tree (top CMakeLists.txt) and by the installed ptapi-config.cmake alike:
#   - the build tree includes this file as is: every dependency of every component it builds is REQUIRED
#     (options PTAPI_WITH_DEVICES, PTAPI_WITH_FILES and PTAPI_WITH_DSP, below);
#   - ptapi-config.cmake sets _ptapi_dependency_mode to QUIET before including it, then calls
#     ptapi_find_component_dependencies(<component>) for the components it needs and reads
#     ptapi_<component>_dependencies_found / ptapi_<component>_missing.
#
# Dependencies per component (conanfile.py, ports/ptapi/vcpkg.json, the ptapi*.pc files and
# scripts/check-packaging.py name the same ones):
#   mspi:       Boost >= 1.81 (headers), fmt >= 9, Threads, Opus, OpenSSL libcrypto, libsrtp2
#   tspi:       mspi's, c-ares (libcares: the SIP provider's DNS, RFC 3263) and OpenSSL libssl (SIP over TLS)
#   devices:    PortAudio (portaudio-2.0), speexdsp (echo cancellation, noise suppression, AGC)
#   files:      libsndfile (sndfile), libsamplerate (samplerate)
#   dsp:        spandsp (spandsp; Debian libspandsp-dev 0.0.6)

if(NOT DEFINED _ptapi_dependency_mode)
  set(_ptapi_dependency_mode REQUIRED)
endif()

# ptapi_dependency(<name> <cmake-package> <cmake-target> <pkg-config-module>)
# Defines ptapi::dep_<name> and sets ptapi_dep_<name>_FOUND in the caller's scope. With
# _ptapi_dependency_mode REQUIRED a missing dependency is a fatal error; with QUIET it is only reported.
function(ptapi_dependency name package target module)
  if(TARGET ptapi::dep_${name})
    set(ptapi_dep_${name}_FOUND TRUE PARENT_SCOPE)
    return()
  endif()
  find_package(${package} CONFIG QUIET)
  if(NOT TARGET ${target})
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
      pkg_check_modules(PTAPI_${name} QUIET IMPORTED_TARGET GLOBAL ${module})
    endif()
    if(NOT TARGET PkgConfig::PTAPI_${name})
      if(_ptapi_dependency_mode STREQUAL "REQUIRED")
        message(FATAL_ERROR "ptapi: ${name} not found, neither as CMake package ${package} nor as pkg-config module ${module}")
      endif()
      set(ptapi_dep_${name}_FOUND FALSE PARENT_SCOPE)
      return()
    endif()
    set(target PkgConfig::PTAPI_${name})
  endif()
  add_library(ptapi::dep_${name} INTERFACE IMPORTED GLOBAL)
  target_link_libraries(ptapi::dep_${name} INTERFACE ${target})
  set(ptapi_dep_${name}_FOUND TRUE PARENT_SCOPE)
endfunction()

# ptapi_openssl_dependency(<name> <OpenSSL component> <library>)
# Defines ptapi::dep_<name> from CMake's own FindOpenSSL (vcpkg, Conan and Debian's libssl-dev all work
# with it); appends <library> to the caller's `missing` when that OpenSSL component is not found (a macro:
# it runs in the caller's scope).
macro(ptapi_openssl_dependency name component library)
  if(NOT TARGET ptapi::dep_${name})
    find_package(OpenSSL ${_ptapi_dependency_mode} COMPONENTS ${component})
    if(TARGET OpenSSL::${component})
      add_library(ptapi::dep_${name} INTERFACE IMPORTED GLOBAL)
      target_link_libraries(ptapi::dep_${name} INTERFACE OpenSSL::${component})
    else()
      list(APPEND missing ${library})
    endif()
  endif()
endmacro()

# ptapi_find_component_dependencies(<mspi|tspi|devices|files|dsp>) (tspi includes mspi's)
# Sets ptapi_<component>_dependencies_found (TRUE/FALSE) and ptapi_<component>_missing (the names
# of the missing dependencies) in the caller's scope.
function(ptapi_find_component_dependencies component)
  set(missing)
  if(component STREQUAL "mspi")
    # Boost (Asio, Signals2, Lockfree), fmt and Threads: ptapi-config.cmake looks for them with
    # find_dependency first, so that a missing one fails find_package(ptapi) with CMake's own message.
    find_package(Boost 1.81 ${_ptapi_dependency_mode})
    find_package(fmt 9 ${_ptapi_dependency_mode})
    find_package(Threads ${_ptapi_dependency_mode})
    foreach(t Boost::headers fmt::fmt Threads::Threads)
      if(NOT TARGET ${t})
        list(APPEND missing ${t})
      endif()
    endforeach()
    ptapi_dependency(opus Opus Opus::opus opus)
    if(NOT ptapi_dep_opus_FOUND)
      list(APPEND missing opus)
    endif()
    # libsrtp2: SRTP/SRTCP of the RTP/Opus MSP (RFC 3711). Upstream's and vcpkg's CMake package libSRTP,
    # else pkg-config (Debian libsrtp2-dev).
    ptapi_dependency(srtp libSRTP libSRTP::srtp2 libsrtp2)
    if(NOT ptapi_dep_srtp_FOUND)
      list(APPEND missing libsrtp2)
    endif()
    # OpenSSL's libcrypto: RTP SSRC/sequence/timestamp from its CSPRNG (mspi), SIP Digest (tspi).
    ptapi_openssl_dependency(crypto Crypto libcrypto)
  elseif(component STREQUAL "tspi")
    ptapi_find_component_dependencies(mspi)
    set(missing ${ptapi_mspi_missing})
    # c-ares: the SIP provider's asynchronous DNS (NAPTR, SRV, A/AAAA; tspi/sip/dns/).
    ptapi_dependency(cares c-ares c-ares::cares libcares)
    if(NOT ptapi_dep_cares_FOUND)
      list(APPEND missing libcares)
    endif()
    # OpenSSL's libssl: SIP over TLS (tspi/sip/transport/tls.hpp, through Boost.Asio's SSL streams).
    ptapi_openssl_dependency(ssl SSL libssl)
  elseif(component STREQUAL "devices")
    ptapi_dependency(portaudio portaudio portaudio portaudio-2.0)
    if(NOT ptapi_dep_portaudio_FOUND)
      list(APPEND missing portaudio-2.0)
    endif()
    # speexdsp: the device terminals' echo canceller and preprocessor (mspi/audio_processing.hpp).
    # vcpkg's CMake package speexdsp (SpeexDSP::speexdsp), else pkg-config (Debian libspeexdsp-dev).
    ptapi_dependency(speexdsp speexdsp SpeexDSP::speexdsp speexdsp)
    if(NOT ptapi_dep_speexdsp_FOUND)
      list(APPEND missing speexdsp)
    endif()
  elseif(component STREQUAL "files")
    ptapi_dependency(sndfile SndFile SndFile::sndfile sndfile)
    if(NOT ptapi_dep_sndfile_FOUND)
      list(APPEND missing sndfile)
    endif()
    ptapi_dependency(samplerate SampleRate SampleRate::samplerate samplerate)
    if(NOT ptapi_dep_samplerate_FOUND)
      list(APPEND missing samplerate)
    endif()
  elseif(component STREQUAL "dsp")
    # spandsp: in-band DTMF (dtmf_rx/dtmf_tx), call-progress tones and fax tone detection (mspi/dsp/).
    # No upstream CMake package; pkg-config (Debian libspandsp-dev).
    ptapi_dependency(spandsp SpanDSP SpanDSP::spandsp spandsp)
    if(NOT ptapi_dep_spandsp_FOUND)
      list(APPEND missing spandsp)
    endif()
  else()
    message(FATAL_ERROR "ptapi_find_component_dependencies: unknown component ${component}")
  endif()
  if(missing)
    set(ptapi_${component}_dependencies_found FALSE PARENT_SCOPE)
  else()
    set(ptapi_${component}_dependencies_found TRUE PARENT_SCOPE)
  endif()
  set(ptapi_${component}_missing "${missing}" PARENT_SCOPE)
endfunction()

# The build tree: the core and every optional component it is asked for, all dependencies required.
# PTAPI_WITH_DEVICES / PTAPI_WITH_FILES OFF (the vcpkg port's features, for instance) leave a component
# and its dependencies out of the build and of the installed package; the tests, examples and benchmarks
# use every component, so they need both ON.
if(_ptapi_dependency_mode STREQUAL "REQUIRED")
  option(PTAPI_WITH_DEVICES "Build and install the devices component (PortAudio, speexdsp)" ON)
  option(PTAPI_WITH_FILES "Build and install the files component (libsndfile, libsamplerate)" ON)
  option(PTAPI_WITH_DSP "Build and install the dsp component (spandsp)" ON)
  if(NOT PTAPI_WITH_DSP AND (PTAPI_BUILD_TESTS OR PTAPI_BUILD_EXAMPLES OR PTAPI_BUILD_BENCHMARKS))
    message(FATAL_ERROR "ptapi: PTAPI_WITH_DSP=OFF needs "
                        "PTAPI_BUILD_TESTS=OFF, PTAPI_BUILD_EXAMPLES=OFF and PTAPI_BUILD_BENCHMARKS=OFF")
  endif()
  if(NOT (PTAPI_WITH_DEVICES AND PTAPI_WITH_FILES) AND (PTAPI_BUILD_TESTS OR PTAPI_BUILD_EXAMPLES OR PTAPI_BUILD_BENCHMARKS))
    message(FATAL_ERROR "ptapi: PTAPI_WITH_DEVICES=OFF or PTAPI_WITH_FILES=OFF needs "
                        "PTAPI_BUILD_TESTS=OFF, PTAPI_BUILD_EXAMPLES=OFF and PTAPI_BUILD_BENCHMARKS=OFF")
  endif()
  ptapi_find_component_dependencies(tspi)
  if(PTAPI_WITH_DEVICES)
    ptapi_find_component_dependencies(devices)
  endif()
  if(PTAPI_WITH_FILES)
    ptapi_find_component_dependencies(files)
  endif()
  if(PTAPI_WITH_DSP)
    ptapi_find_component_dependencies(dsp)
  endif()
endif()
