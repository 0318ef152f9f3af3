#!/bin/sh
# pkg-config-build.sh <installed ptapi prefix> <main.cpp> <work dir> [c++ compiler] [compiler launcher, e.g. ccache]
# Builds and runs a program with nothing but `pkg-config --cflags --libs ptapi` (plus -std=c++20, which
# pkg-config modules leave to the user): checks that ptapi.pc names every library the core needs.
set -eu
stage=$1 src=$2 work=$3 cxx=${4:-c++} launcher=${5:-}
mkdir -p "$work"
export PKG_CONFIG_PATH="$stage/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
flags=$(pkg-config --cflags --libs ptapi)
echo "pkg-config --cflags --libs ptapi: $flags"
pkg-config --modversion ptapi ptapi-devices ptapi-files
pkg-config --modversion ptapi-dsp
# shellcheck disable=SC2086 # word splitting of the flags is meant
$launcher "$cxx" -std=c++20 -O0 -o "$work/test_package" "$src" $flags
"$work/test_package"
