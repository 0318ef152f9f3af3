# vcpkg port of ptapi (header-only). As an overlay port inside a ptapi checkout it builds that checkout:
#   vcpkg install ptapi --overlay-ports=<checkout>/ports          (classic mode)
#   vcpkg.json "dependencies": ["ptapi"] + --overlay-ports           (manifest mode)
# Copied into a registry, set PTAPI_REPO/PTAPI_REF/PTAPI_SHA512 below to a release of ptapi.
set(VCPKG_BUILD_TYPE release)   # header-only: one configuration is enough

set(PTAPI_REPO "")   # owner/name of ptapi on GitHub, for a port outside a ptapi checkout
set(PTAPI_REF "v${VERSION}")
set(PTAPI_SHA512 0)
get_filename_component(_ptapi_checkout "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(EXISTS "${_ptapi_checkout}/include/tspi/tapi.hpp" AND EXISTS "${_ptapi_checkout}/CMakeLists.txt")
  set(SOURCE_PATH "${_ptapi_checkout}")
elseif(PTAPI_REPO)
  vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO "${PTAPI_REPO}" REF "${PTAPI_REF}" SHA512 "${PTAPI_SHA512}"
                    HEAD_REF main)
else()
  message(FATAL_ERROR "ptapi port: not inside a ptapi checkout; set PTAPI_REPO, PTAPI_REF and PTAPI_SHA512 in ${CMAKE_CURRENT_LIST_FILE}")
endif()

# Features "devices", "files" and "dsp" are the CMake package's optional components.
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    devices PTAPI_WITH_DEVICES
    files   PTAPI_WITH_FILES
    dsp     PTAPI_WITH_DSP
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DPTAPI_BUILD_TESTS=OFF
    -DPTAPI_BUILD_EXAMPLES=OFF
    -DPTAPI_BUILD_BENCHMARKS=OFF
    -DPTAPI_BUILD_FUZZERS=OFF
    -DPTAPI_INSTALL=ON
    ${FEATURE_OPTIONS}
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/ptapi)
vcpkg_fixup_pkgconfig()

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
