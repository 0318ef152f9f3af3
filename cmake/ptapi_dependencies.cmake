# Finds ptapi's dependencies and exposes each under one stable imported name (ptapi::dep_*),
# preferring a CMake package (vcpkg, Conan, upstream) and falling back to pkg-config (Debian).
# Used by the build tree and by the installed ptapi-config.cmake alike.
include_guard(GLOBAL)
find_package(Boost 1.81 REQUIRED)            # Boost::headers: Asio, Signals2, Lockfree
find_package(fmt 9 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig QUIET)

# ptapi_dependency(<name> <cmake-package> <cmake-target> <pkg-config-module>)
function(ptapi_dependency name package target module)
  if(TARGET ptapi::dep_${name})
    return()
  endif()
  find_package(${package} CONFIG QUIET)
  add_library(ptapi::dep_${name} INTERFACE IMPORTED GLOBAL)
  if(TARGET ${target})
    target_link_libraries(ptapi::dep_${name} INTERFACE ${target})
  else()
    if(NOT PKG_CONFIG_FOUND)
      message(FATAL_ERROR "ptapi: ${name} not found as CMake package ${package}, and pkg-config is missing")
    endif()
    pkg_check_modules(PTAPI_${name} REQUIRED IMPORTED_TARGET GLOBAL ${module})
    target_link_libraries(ptapi::dep_${name} INTERFACE PkgConfig::PTAPI_${name})
  endif()
endfunction()

ptapi_dependency(opus       Opus       Opus::opus          opus)
ptapi_dependency(portaudio  portaudio  portaudio           portaudio-2.0)
ptapi_dependency(sndfile    SndFile    SndFile::sndfile    sndfile)
ptapi_dependency(samplerate SampleRate SampleRate::samplerate samplerate)

# OpenSSL's libcrypto (EVP digests, RAND_bytes) for SIP Digest authentication (tspi/sip/digest.hpp).
# CMake's own FindOpenSSL module (vcpkg, Conan and Debian's libssl-dev all work with it) gives OpenSSL::Crypto.
if(NOT TARGET ptapi::dep_crypto)
  find_package(OpenSSL REQUIRED COMPONENTS Crypto)
  add_library(ptapi::dep_crypto INTERFACE IMPORTED GLOBAL)
  target_link_libraries(ptapi::dep_crypto INTERFACE OpenSSL::Crypto)
endif()
