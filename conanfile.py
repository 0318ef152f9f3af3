"""Conan 2 recipe of ptapi, a header-only C++20 TAPI 3 / TSPI / MSPI library.

    conan create . -o "ptapi/*:with_devices=False"     # test_package/ places a loopback call

Components (the CMake package's components, cmake/ptapi-config.cmake.in, under the same target names):
    ptapi::mspi     media core: Boost (headers), fmt, Opus, OpenSSL libcrypto, libsrtp (SRTP)
    ptapi::tspi     telephony, uses mspi
    ptapi::devices  option with_devices: PortAudio terminals (+ speexdsp AEC), defines PTAPI_WITH_DEVICES=1
    ptapi::files    option with_files: WAV file terminals (libsndfile, libsamplerate), PTAPI_WITH_FILES=1
    ptapi::dsp      option with_dsp: in-band DTMF and tones (spandsp), PTAPI_WITH_DSP=1
    ptapi::ptapi    every component of the package
scripts/check-packaging.py checks that these lists agree with the CMake package, ports/ptapi/vcpkg.json
and the ptapi*.pc files.
"""
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class PtapiConan(ConanFile):
    name = "ptapi"
    description = "portable TAPI: TAPI 3 object model, TSPI and MSPI in header-only C++20"
    license = "BSL-1.0"
    topics = ("telephony", "tapi", "sip", "rtp", "opus", "voip", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_devices": [True, False],
        "with_files": [True, False],
        "with_dsp": [True, False],
    }
    default_options = {
        "with_devices": True,
        "with_files": True,
        "with_dsp": True,
        "boost/*:header_only": True,  # ptapi uses header-only Boost libraries only (Asio, Signals2, Lockfree)
    }
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        cmakelists = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        self.version = self.version or re.search(r"project\(ptapi VERSION ([0-9.]+)", cmakelists).group(1)

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        # Headers of these appear in ptapi's public headers: transitive_headers for all of them.
        self.requires("boost/[>=1.81.0 <2]", transitive_headers=True)
        self.requires("fmt/[>=9 <12]", transitive_headers=True)
        self.requires("opus/[>=1.3.1 <2]", transitive_headers=True)
        self.requires("openssl/[>=3 <4]", transitive_headers=True)
        self.requires("libsrtp/[>=2.4 <3]", transitive_headers=True)
        self.requires("c-ares/[>=1.18.1 <2]", transitive_headers=True)
        if self.options.with_devices:
            self.requires("portaudio/[>=19.7.0 <20]", transitive_headers=True)
            self.requires("speexdsp/[>=1.2.0 <2]", transitive_headers=True)
        if self.options.with_files:
            self.requires("libsndfile/[>=1.0.31 <2]", transitive_headers=True)
            self.requires("libsamplerate/[>=0.2.2 <1]", transitive_headers=True)
        if self.options.with_dsp:
            self.requires("spandsp/[>=0.0.6 <1]", transitive_headers=True)

    def validate(self):
        check_min_cppstd(self, 20)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))
        copy(self, "*.ipp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))

    def _component(self, name, requires, defines=(), pkg_config_name=None):
        """Declares ptapi::<name>, header-only: no libraries, the package's include directory."""
        component = self.cpp_info.components[name]
        component.set_property("cmake_target_name", f"ptapi::{name}")
        component.set_property("pkg_config_name", pkg_config_name or f"ptapi-{name}")
        component.bindirs = []
        component.libdirs = []
        component.requires = list(requires)
        component.defines = list(defines)
        return component

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "ptapi")
        self.cpp_info.set_property("cmake_target_name", "ptapi::ptapi")
        self.cpp_info.set_property("pkg_config_name", "ptapi-all")
        mspi = self._component("mspi", ["boost::headers", "fmt::fmt", "opus::opus", "openssl::crypto",
                                "libsrtp::libsrtp"])
        if self.settings.os in ("Linux", "FreeBSD"):
            mspi.system_libs = ["pthread", "dl"]
        # pkg-config name "ptapi" as the installed ptapi.pc (mspi + tspi).
        self._component("tspi", ["mspi", "openssl::crypto", "openssl::ssl", "c-ares::cares"], pkg_config_name="ptapi")
        if self.options.with_devices:
            self._component("devices", ["mspi", "portaudio::portaudio", "speexdsp::speexdsp"], defines=["PTAPI_WITH_DEVICES=1"])
        if self.options.with_files:
            self._component("files", ["mspi", "libsndfile::libsndfile", "libsamplerate::libsamplerate"],
                            defines=["PTAPI_WITH_FILES=1"])
        if self.options.with_dsp:
            self._component("dsp", ["mspi", "spandsp::spandsp"], defines=["PTAPI_WITH_DSP=1"])
