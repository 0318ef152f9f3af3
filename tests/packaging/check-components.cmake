# cmake -DSTAGE=<installed ptapi prefix> -DPROBE_SOURCE=<components/> -DWORK=<scratch dir>
#       [-DPTAPI_SOURCE_DIR=<ptapi source tree>] -P check-components.cmake
# Checks the component logic of the installed ptapi-config.cmake: which targets each find_package call
# defines, that the optional dependencies are looked for only when their component is wanted, and that a
# required component whose dependency is missing fails with a message naming the dependency. "Missing" is
# made by a pkg-config directory holding every module of the machine except portaudio-2.0, sndfile,
# samplerate and spandsp (Debian ships no CMake package for those).
cmake_minimum_required(VERSION 3.23)
foreach(v STAGE PROBE_SOURCE WORK)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check-components.cmake: -D${v}= is required")
  endif()
endforeach()

find_program(PKG_CONFIG_EXECUTABLE pkg-config REQUIRED)
execute_process(COMMAND ${PKG_CONFIG_EXECUTABLE} --variable pc_path pkg-config
                OUTPUT_VARIABLE pc_path OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
set(hidden_pc ${WORK}/pkgconfig-without-optional)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${hidden_pc})
string(REPLACE ":" ";" pc_path "${pc_path}")
foreach(dir IN LISTS pc_path)
  file(GLOB pcs ${dir}/*.pc)
  foreach(pc IN LISTS pcs)
    get_filename_component(name ${pc} NAME)
    if(name STREQUAL "spandsp.pc")   # the dsp component's library, hidden too
      continue()
    endif()

    if(NOT name MATCHES "^(portaudio-2\\.0|portaudiocpp|sndfile|samplerate)\\.pc$" AND NOT EXISTS ${hidden_pc}/${name})
      file(CREATE_LINK ${pc} ${hidden_pc}/${name} SYMBOLIC)
    endif()
  endforeach()
endforeach()

set(failures 0)
# probe(<name> <FULL|HIDDEN> <PASS|FAIL> KIND <COMPONENTS|OPTIONAL_COMPONENTS|-> COMPONENTS <c...>
#       EXPECT <regex...> REJECT <regex...>)
function(probe name env outcome)
  cmake_parse_arguments(P "" "KIND" "COMPONENTS;EXPECT;REJECT" ${ARGN})
  set(args -S ${PROBE_SOURCE} -B ${WORK}/${name} -DCMAKE_PREFIX_PATH=${STAGE})
  if(P_COMPONENTS)
    string(REPLACE ";" "," comps "${P_COMPONENTS}")
    list(APPEND args -DPROBE_KIND=${P_KIND} "-DPROBE_COMPONENTS=${comps}")
  endif()
  if(env STREQUAL "HIDDEN")
    set(cmd ${CMAKE_COMMAND} -E env PKG_CONFIG_LIBDIR=${hidden_pc} PKG_CONFIG_PATH= ${CMAKE_COMMAND} ${args})
  else()
    set(cmd ${CMAKE_COMMAND} ${args})
  endif()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(all "${out}${err}")
  string(REGEX REPLACE "[ \n]+" " " flat "${all}")   # CMake wraps the NOT_FOUND message
  set(ok TRUE)
  if((outcome STREQUAL "PASS") AND NOT rc EQUAL 0)
    set(ok FALSE)
  elseif((outcome STREQUAL "FAIL") AND rc EQUAL 0)
    set(ok FALSE)
  endif()
  foreach(re IN LISTS P_EXPECT)
    if(NOT flat MATCHES "${re}")
      set(ok FALSE)
      message(STATUS "${name}: missing \"${re}\"")
    endif()
  endforeach()
  foreach(re IN LISTS P_REJECT)
    if(flat MATCHES "${re}")
      set(ok FALSE)
      message(STATUS "${name}: unexpected \"${re}\"")
    endif()
  endforeach()
  string(REGEX MATCHALL "probe: [^\n]*" lines "${all}")
  string(REPLACE ";" ", " lines "${lines}")
  if(ok)
    message(STATUS "ok   ${name} (exit ${rc}): ${lines}")
  else()
    message(STATUS "FAIL ${name} (exit ${rc}; expected ${outcome}):\n${all}")
    math(EXPR f "${failures} + 1")
    set(failures ${f} PARENT_SCOPE)
  endif()
endfunction()

# Every dependency present.
probe(plain FULL PASS
  EXPECT "probe: target ptapi::tspi" "probe: target ptapi::devices" "probe: target ptapi::files" "probe: target ptapi::ptapi")
probe(tspi_only FULL PASS KIND COMPONENTS COMPONENTS tspi
  EXPECT "probe: target ptapi::tspi" "probe: found tspi"
  REJECT "probe: dependency (portaudio|sndfile|samplerate)" "probe: target ptapi::(devices|files|ptapi)")
probe(devices_files FULL PASS KIND COMPONENTS COMPONENTS devices files dsp   # ptapi::ptapi needs dsp too
  EXPECT "probe: found devices" "probe: found files" "probe: target ptapi::ptapi" "probe: dependency portaudio")
probe(devices_only FULL PASS KIND COMPONENTS COMPONENTS devices
  EXPECT "probe: found devices" "probe: dependency portaudio"
  REJECT "probe: dependency (sndfile|samplerate)" "probe: target ptapi::(files|ptapi)")
probe(unknown FULL FAIL KIND COMPONENTS COMPONENTS gui EXPECT "unknown component gui")
# The dsp component (spandsp): looked for only when asked for (or when no component is named).
probe(tspi_no_dsp FULL PASS KIND COMPONENTS COMPONENTS tspi
  REJECT "probe: dependency spandsp" "probe: target ptapi::dsp")
probe(dsp_only FULL PASS KIND COMPONENTS COMPONENTS dsp
  EXPECT "probe: found dsp" "probe: target ptapi::dsp" "probe: dependency spandsp")
probe(dsp_without HIDDEN FAIL KIND COMPONENTS COMPONENTS dsp
  EXPECT "component dsp needs spandsp \\(neither")

# PortAudio, libsndfile and libsamplerate missing.
probe(plain_without HIDDEN PASS
  EXPECT "probe: target ptapi::mspi" "probe: target ptapi::tspi"
  REJECT "probe: target ptapi::(devices|files|ptapi)")
probe(tspi_without HIDDEN PASS KIND COMPONENTS COMPONENTS mspi tspi EXPECT "probe: found tspi")
probe(devices_without HIDDEN FAIL KIND COMPONENTS COMPONENTS devices
  EXPECT "component devices needs portaudio-2.0 \\(neither" REJECT "component files")
probe(files_without HIDDEN FAIL KIND COMPONENTS COMPONENTS files
  EXPECT "component files needs sndfile, samplerate")
probe(all_without HIDDEN FAIL KIND COMPONENTS COMPONENTS ptapi
  EXPECT "component devices needs portaudio-2.0" "component files needs sndfile")
probe(optional_without HIDDEN PASS KIND OPTIONAL_COMPONENTS COMPONENTS devices files
  EXPECT "probe: found tspi" REJECT "probe: found devices" "probe: found files")

# A package built without the optional components (-DPTAPI_WITH_DEVICES=OFF -DPTAPI_WITH_FILES=OFF, as the
# vcpkg port without its features): configured and installed here without PortAudio & co. in sight.
if(DEFINED PTAPI_SOURCE_DIR)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_LIBDIR=${hidden_pc} PKG_CONFIG_PATH=
      ${CMAKE_COMMAND} -S ${PTAPI_SOURCE_DIR} -B ${WORK}/core-build -DPTAPI_BUILD_TESTS=OFF -DPTAPI_BUILD_EXAMPLES=OFF
      -DPTAPI_BUILD_BENCHMARKS=OFF -DPTAPI_WITH_DEVICES=OFF -DPTAPI_WITH_FILES=OFF -DPTAPI_WITH_DSP=OFF
    COMMAND_ERROR_IS_FATAL ANY OUTPUT_QUIET)
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${WORK}/core-build --prefix ${WORK}/core-stage
    COMMAND_ERROR_IS_FATAL ANY OUTPUT_QUIET)
  if(EXISTS ${WORK}/core-stage/share/pkgconfig/ptapi-devices.pc OR NOT EXISTS ${WORK}/core-stage/share/pkgconfig/ptapi.pc)
    message(STATUS "FAIL core-only install: wrong .pc files")
    math(EXPR failures "${failures} + 1")
  endif()
  set(STAGE ${WORK}/core-stage)
  probe(core_plain FULL PASS EXPECT "probe: target ptapi::tspi" REJECT "probe: target ptapi::(devices|files|ptapi)")
  probe(core_devices FULL FAIL KIND COMPONENTS COMPONENTS devices
    EXPECT "component devices needs to be installed: this ptapi was built without it")
endif()

if(failures)
  message(FATAL_ERROR "${failures} component probe(s) failed")
endif()
message(STATUS "every component probe passed")
