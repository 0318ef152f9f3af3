#!/bin/bash
# bench_calls.sh - concurrent full-duplex calls from one TAPI object to SIPp's RTP echo (benchmarks/README.md).
#
#   benchmarks/bench_calls.sh [BUILD_DIR=build]
#   env: CODECS="opus pcmu"  OPUS_STEPS=40,80,120,140,160,180  PCMU_STEPS=250,500,1000,1500,2000,2500
#        SECONDS_PER_N=10  MEDIA_THREADS=(hardware concurrency)  RAMP_CPS=200
#
# Per codec: starts SIPp as a UAS (benchmarks/sipp_uas_echo.xml: answers that one codec; -rtp_echo echoes
# every RTP packet to its sender) on 127.0.0.1:5890, media port 6890, and runs ptapi_bench_calls against
# it: for each N of the step list, N calls placed at RAMP_CPS, 2 s to settle, SECONDS_PER_N s measured
# (process CPU, late/concealed frames, SIPp's CPU), hang-up; it stops at the second N in a row that is not clean.
# Every process is bounded by timeout; SIPp is stopped by its pid.
set -uo pipefail
BUILD=${1:-build}
BIN=$BUILD/bin/ptapi_bench_calls
HERE=$(cd "$(dirname "$0")" && pwd)
SECONDS_PER_N=${SECONDS_PER_N:-10}
RAMP_CPS=${RAMP_CPS:-200}
SIPP_PORT=5890 SIPP_CTRL=5889 MEDIA_PORT=6890 UAC_PORT=5891
command -v sipp >/dev/null || { echo "sipp not installed (apt-get install sip-tester)"; exit 77; }
[ -x "$BIN" ] || { echo "no $BIN: build the ptapi_bench_calls target"; exit 1; }
W=$(mktemp -d /tmp/ptapi-bench-calls.XXXXXX)
ulimit -n "$(ulimit -Hn)" 2>/dev/null

for CODEC in ${CODECS:-opus pcmu}; do
  if [ "$CODEC" = opus ]; then KEYS=(-key pt 111 -key rtpmap opus/48000/2); STEPS=${OPUS_STEPS:-40,80,120,140,160,180}
  else KEYS=(-key pt 0 -key rtpmap PCMU/8000); STEPS=${PCMU_STEPS:-250,500,1000,1500,2000,2500}; fi
  timeout -k 2 900 sipp -sf "$HERE/sipp_uas_echo.xml" "${KEYS[@]}" -i 127.0.0.1 -mi 127.0.0.1 -p $SIPP_PORT \
    -cp $SIPP_CTRL -mp $MEDIA_PORT -rtp_echo -rtp_buffsize 8388608 -nostdin -bg -trace_err \
    -error_file "$W/sipp_err_$CODEC.log" > "$W/sipp_$CODEC.out" 2>&1
  SIPP=$(pgrep -f "sipp -sf $HERE/sipp_uas_echo.xml" | head -1)
  [ -n "$SIPP" ] || { echo "SIPp did not start:"; cat "$W/sipp_$CODEC.out"; exit 1; }
  echo "== $CODEC: SIPp uas + rtp_echo pid $SIPP on 127.0.0.1:$SIPP_PORT (media $MEDIA_PORT)"
  ARGS=(--codec "$CODEC" --far "sip:echo@127.0.0.1:$SIPP_PORT" --port $UAC_PORT --steps "$STEPS"
        --seconds "$SECONDS_PER_N" --ramp-cps "$RAMP_CPS" --far-pid "$SIPP" --far-media-port $MEDIA_PORT)
  [ -n "${MEDIA_THREADS:-}" ] && ARGS+=(--media-threads "$MEDIA_THREADS")
  echo "\$ $BIN ${ARGS[*]}"
  timeout -k 2 900 "$BIN" "${ARGS[@]}"
  kill -TERM "$SIPP" 2>/dev/null
  sleep 1
done
echo "logs: $W"
