#!/bin/bash
# Runs every target of ptapi_fuzz (the names it lists) for SECONDS each, from the seeds of
# make-corpus.sh in CORPUS/<target>/, with tests/fuzz/<target>.dict when there is one.
# Exits non-zero when any target found a crash, a sanitizer report, a broken property (trap), a leak, a
# timeout (an input slower than 10 s) or an OOM (RSS over 2 GB); the reproducer is left as
# CORPUS/../fuzz-artifacts/<target>-crash-* (or leak-*, timeout-*, oom-*), and every target still runs.
# Usage: [FUZZ_JOBS=N] tests/fuzz/run-fuzzers.sh BIN CORPUS SECONDS
set -u
bin=${1:?usage: run-fuzzers.sh BIN CORPUS SECONDS}
corpus=${2:?usage: run-fuzzers.sh BIN CORPUS SECONDS}
seconds=${3:?usage: run-fuzzers.sh BIN CORPUS SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
artifacts=$(dirname "$corpus")/fuzz-artifacts
mkdir -p "$artifacts"
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-16/bin/llvm-symbolizer}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

targets=$(PTAPI_FUZZ_TARGET=list "$bin") || { echo "run-fuzzers: $bin does not list its targets" >&2; exit 2; }
# One target per core at a time (FUZZ_JOBS, default: the number of processors); each still gets SECONDS.
jobs=${FUZZ_JOBS:-$(nproc)}
run_target() {
  local t=$1
  mkdir -p "$corpus/$t"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$artifacts/$t-")
  [ -f "$here/$t.dict" ] && args+=(-dict="$here/$t.dict")
  case $t in   # largest input worth trying: a UDP datagram for SIP, 64 KiB files, the SDP limit
    sip) args+=(-max_len=70000) ;;
    wav) args+=(-max_len=65536) ;;
    sdp) args+=(-max_len=17000) ;;
  esac
  PTAPI_FUZZ_TARGET=$t "$bin" "${args[@]}" "$corpus/$t" >"$artifacts/$t.log" 2>&1
  echo $? >"$artifacts/$t.status"
}
for t in $targets; do
  rm -f "$artifacts/$t.status"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  echo "-- fuzz target $t: ${seconds} s"
  run_target "$t" &
done
wait
failed=()
for t in $targets; do   # the results in the targets' order
  log=$artifacts/$t.log
  if [ "$(cat "$artifacts/$t.status" 2>/dev/null)" = 0 ]; then
    echo "$t: $(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' "$log" | tr '\n' ' ')"
  else
    failed+=("$t")
    echo "FAILED: fuzz target $t (log: $log)"
    grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$log" | tail -60
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets failed: ${failed[*]}"
  exit 1
fi
