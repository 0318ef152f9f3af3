#!/bin/sh
# scripts/docs.sh [build dir, default build]: the API reference with Doxygen (docs/Doxyfile) into
# <build dir>/docs/html/index.html. Prints the warnings grouped by file and their count; exits non-zero
# on any warning (FAIL_ON_WARNINGS) or when Doxygen fails. `cmake --build build --target docs` runs it.
set -eu
cd "$(dirname "$0")/.."
out=${1:-build}/docs
doxygen=${DOXYGEN:-doxygen}
mkdir -p "$out"
log=$out/warnings.log
rc=0
{ cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $out"; echo "WARN_LOGFILE = $log"; } | "$doxygen" - || rc=$?
root=$(pwd)/
count=$(grep -c ': \(warning\|error\): ' "$log" || true)
if [ "$count" -gt 0 ]; then
  echo "Doxygen warnings by file:"
  sed -n "s#^$root##; s#^\([^:]*\):[0-9]*: \(warning\|error\): .*#\1#p" "$log" | sort | uniq -c | sort -rn
  sed "s|^$root||" "$log"
fi
echo "docs: $count warning(s); HTML in $out/html/index.html"
[ "$count" -eq 0 ] && exit "$rc"
exit 1
