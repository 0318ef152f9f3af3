#!/usr/bin/env bash
# Compile time of a ptapi program against a unit that includes only <boost/asio.hpp> (issue 8's target:
# hello_call's unit at most 2.0x the Asio-only one). Compiles each unit ROUNDS times (default 3),
# interleaved so that machine load hits both alike, with the compiler alone (no ccache), and prints the
# fastest wall time of each and the ratios:
#   asio_only        a main() that includes <boost/asio.hpp> and runs an io_context;
#   hello_call       examples/hello_call/main.cpp with PTAPI_SEPARATE_COMPILATION (the library compiled
#                    once elsewhere, by ptapi_src.cpp);
#   hello_call (header-only)  the same unit without it: every provider compiled in the unit;
#   ptapi_src        examples/hello_call/ptapi_src.cpp: the library itself, once per program.
# Usage: benchmarks/compile_time.sh [CXX] (default g++), from anywhere. Flags: -std=c++20 -O2.
# QUICK=1: only asio_only and hello_call, the target's ratio (what CI prints: ~20 s instead of ~2.5 min).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cxx=${1:-g++}
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-std=c++20 -O2 -I"$root/include" $(pkg-config --cflags opus) -DPTAPI_WITH_FILES=1)
cat >"$work/asio_only.cpp" <<'CPP'
#include <boost/asio.hpp>
int main() {
  boost::asio::io_context io;
  io.run();
}
CPP

time_of() {  # prints the wall time in seconds of compiling $@
  local t0 t1
  t0=$(date +%s.%N)
  "$cxx" "${flags[@]}" "$@" -c -o "$work/out.o"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
min() { printf '%s\n' "$@" | sort -g | head -1; }

declare -a asio hello header src
for ((i = 0; i < rounds; i++)); do
  asio+=("$(time_of "$work/asio_only.cpp")")
  hello+=("$(time_of -DPTAPI_SEPARATE_COMPILATION "$root/examples/hello_call/main.cpp")")
  if [ -z "${QUICK:-}" ]; then header+=("$(time_of "$root/examples/hello_call/main.cpp")"); fi
done
if [ -z "${QUICK:-}" ]; then src+=("$(time_of -DPTAPI_SEPARATE_COMPILATION "$root/examples/hello_call/ptapi_src.cpp")"); fi

a=$(min "${asio[@]}"); h=$(min "${hello[@]}")
printf 'compiler: %s; flags: -std=c++20 -O2; fastest of %d rounds; load average %s\n' \
  "$("$cxx" --version | head -1)" "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %6.2f s\n' "asio_only (<boost/asio.hpp> only)" "$a"
printf '%-44s %6.2f s   ratio %.2f (target <= 2.0)\n' "hello_call (PTAPI_SEPARATE_COMPILATION)" "$h" "$(awk -v x="$h" -v y="$a" 'BEGIN { print x / y }')"
if [ -n "${QUICK:-}" ]; then exit 0; fi
o=$(min "${header[@]}"); s=$(min "${src[@]}")
printf '%-44s %6.2f s   ratio %.2f\n' "hello_call (header-only)" "$o" "$(awk -v x="$o" -v y="$a" 'BEGIN { print x / y }')"
printf '%-44s %6.2f s   (once per program)\n' "ptapi_src.cpp (the compiled library)" "$s"
