#!/bin/bash
# bench_calls.sh - concurrent full-duplex calls from one TAPI object to an RTP echo (benchmarks/README.md).
#
#   benchmarks/bench_calls.sh [BUILD_DIR=build]
#   env: CODECS="opus pcmu"  OPUS_STEPS=20,40,60,80,100,120  PCMU_STEPS=200,400,600,800,1000,1500,2000
#        SECONDS_PER_N=10  MEDIA_THREADS=(hardware concurrency)  RAMP_CPS=200
#        ECHO=process|sipp  EXTRA="--playout-lead-ms 40" (more ptapi_bench_calls options)
#
# Per codec: starts SIPp as the SIP UAS (benchmarks/sipp_uas_echo.xml: answers that one codec) on
# 127.0.0.1:5890 and runs ptapi_bench_calls against it: for each N of the step list, N calls placed at
# RAMP_CPS, 2 s to settle, SECONDS_PER_N s measured (process CPU, late/concealed frames, packets sent and
# received, the echo's CPU, kernel UDP drops), hang-up; it stops at the second N in a row that is not clean.
# The RTP echo: ECHO=process (default) a child process of ptapi_bench_calls on port 6891 (recvmmsg/
# sendmmsg); ECHO=sipp SIPp's own -rtp_echo on 6890 (one thread, one datagram per system call: it drops
# datagrams from about 400 PCMU calls on the loaded 2-core VM).
# Every process is bounded by timeout; SIPp is stopped by its pid.
set -uo pipefail
BUILD=${1:-build}
BIN=$BUILD/bin/ptapi_bench_calls
HERE=$(cd "$(dirname "$0")" && pwd)
SECONDS_PER_N=${SECONDS_PER_N:-10}
RAMP_CPS=${RAMP_CPS:-200}
ECHO=${ECHO:-process}
SIPP_PORT=5890 SIPP_CTRL=5889 SIPP_MEDIA=6890 PROCESS_ECHO=6891 UAC_PORT=5891
command -v sipp >/dev/null || { echo "sipp not installed (apt-get install sip-tester)"; exit 77; }
[ -x "$BIN" ] || { echo "no $BIN: build the ptapi_bench_calls target"; exit 1; }
W=$(mktemp -d /tmp/ptapi-bench-calls.XXXXXX)
ulimit -n "$(ulimit -Hn)" 2>/dev/null

for CODEC in ${CODECS:-opus pcmu}; do
  if [ "$CODEC" = opus ]; then KEYS=(-key pt 111 -key rtpmap opus/48000/2); STEPS=${OPUS_STEPS:-20,40,60,80,100,120}
  else KEYS=(-key pt 0 -key rtpmap PCMU/8000); STEPS=${PCMU_STEPS:-200,400,600,800,1000,1500,2000}; fi
  if [ "$ECHO" = sipp ]; then KEYS+=(-key echo_port $SIPP_MEDIA -rtp_echo -rtp_buffsize 8388608)
  else KEYS+=(-key echo_port $PROCESS_ECHO); fi
  timeout -k 2 900 sipp -sf "$HERE/sipp_uas_echo.xml" "${KEYS[@]}" -i 127.0.0.1 -mi 127.0.0.1 -p $SIPP_PORT \
    -cp $SIPP_CTRL -mp $SIPP_MEDIA -nostdin -bg -trace_err -error_file "$W/sipp_err_$CODEC.log" > "$W/sipp_$CODEC.out" 2>&1
  SIPP=$(pgrep -f "sipp -sf $HERE/sipp_uas_echo.xml" | head -1)
  [ -n "$SIPP" ] || { echo "SIPp did not start:"; cat "$W/sipp_$CODEC.out"; exit 1; }
  ARGS=(--codec "$CODEC" --far "sip:echo@127.0.0.1:$SIPP_PORT" --port $UAC_PORT --steps "$STEPS"
        --seconds "$SECONDS_PER_N" --ramp-cps "$RAMP_CPS")
  if [ "$ECHO" = sipp ]; then
    echo "== $CODEC: SIPp uas + -rtp_echo, pid $SIPP, on 127.0.0.1:$SIPP_PORT (media $SIPP_MEDIA)"
    ARGS+=(--far-pid "$SIPP" --far-media-port $SIPP_MEDIA)
  else
    echo "== $CODEC: SIPp uas, pid $SIPP, on 127.0.0.1:$SIPP_PORT; RTP echo: ptapi_bench_calls' child on $PROCESS_ECHO"
    ARGS+=(--echo-port $PROCESS_ECHO)
  fi
  [ -n "${MEDIA_THREADS:-}" ] && ARGS+=(--media-threads "$MEDIA_THREADS")
  [ -n "${EXTRA:-}" ] && read -r -a extra <<< "$EXTRA" && ARGS+=("${extra[@]}")
  echo "\$ $BIN ${ARGS[*]}"
  timeout -k 2 900 "$BIN" "${ARGS[@]}"
  kill -TERM "$SIPP" 2>/dev/null
  sleep 1
done
echo "logs: $W"
