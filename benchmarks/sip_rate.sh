#!/bin/bash
# sip_rate.sh - SIP call rate and memory per call of the TAPI object + sip_tsp (benchmarks/README.md).
#
#   benchmarks/sip_rate.sh [BUILD_DIR=build]
#   env: RATES="250 500 1000 1500 2000"  DURATION=10 (s per rate)  RATE_ACCOUNTS="1 8"
#        MEM_CALLS=2000  MEM_RTP_CALLS=200  SKIP_RATE=1 / SKIP_MEM=1 to run one part only
#
# 1. Call rate: starts ptapi_bench_sip_rate (UAS, signalling-only MSP, auto-answer, release on
#    disconnected) and runs SIPp's built-in uac against it at each rate for DURATION s (calls of no
#    duration: INVITE/100/180/200/ACK/BYE/200). Prints per rate SIPp's achieved CallRate(C), successful
#    and failed calls, retransmissions, and the UAS's CPU (% of one core) and RSS; then the highest rate
#    with zero failed calls. Done once per RATE_ACCOUNTS value: with 1 account SIPp's built-in uac calls
#    it; with K > 1 accounts, sipp_uac_accounts.xml spreads the calls over sip:u0@ .. sip:u{K-1}@ (each
#    SIP address admits 64 active calls; beyond, the TAPI object answers 480).
# 2. Memory per established call: holds MEM_CALLS calls (-d 20000) spread over enough accounts (each SIP
#    address admits 64 active calls), samples the UAS's RSS when all are connected, and prints
#    (RSS with calls - RSS idle) / calls in KiB; once with the signalling-only MSP and once with the real
#    rtp_opus_msp (MEM_RTP_CALLS calls: each runs media, sending RTP to SIPp's media port).
#
# Every process is bounded (timeout, SIPp -m); SIP on 127.0.0.1:5797-5799, SIPp media port 6990.
# SIPp exit codes: 0 every call succeeded, 1 some failed, 97/99 internal/abnormal.
set -uo pipefail
BUILD=${1:-build}
BIN=$BUILD/bin/ptapi_bench_sip_rate
HERE=$(cd "$(dirname "$0")" && pwd)
RATES=${RATES:-"250 500 1000 1500 2000"}
DURATION=${DURATION:-10}
MEM_CALLS=${MEM_CALLS:-2000}
MEM_RTP_CALLS=${MEM_RTP_CALLS:-200}
UAS_PORT=5798 SIPP_PORT=5799 CTRL_PORT=5797 MEDIA_PORT=6990
command -v sipp >/dev/null || { echo "sipp not installed (apt-get install sip-tester)"; exit 77; }
[ -x "$BIN" ] || { echo "no $BIN: build the ptapi_bench_sip_rate target"; exit 1; }
W=$(mktemp -d /tmp/ptapi-sip-rate.XXXXXX)
TCK=$(getconf CLK_TCK)
UAS_WRAPPER= UAS=

start_uas() {  # start_uas MSP ACCOUNTS LOG
  timeout -k 2 900 "$BIN" --port $UAS_PORT --msp "$1" --accounts "$2" --status-ms 200 > "$3" 2>&1 &
  UAS_WRAPPER=$!
  for _ in $(seq 100); do grep -q '^ready' "$3" 2>/dev/null && break; sleep 0.05; done
  UAS=$(pgrep -P "$UAS_WRAPPER" -f ptapi_bench_sip_rate | head -1)
  [ -n "$UAS" ] && grep -q '^ready' "$3" || { echo "UAS did not start:"; cat "$3"; exit 1; }
}
stop_uas() {
  kill -TERM "$UAS" 2>/dev/null
  wait "$UAS_WRAPPER" 2>/dev/null
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
csv_last() {  # csv_last FILE COLUMN...
  python3 - "$@" <<'PY'
import sys
rows = [r.split(";") for r in open(sys.argv[1]).read().splitlines() if r.strip()]
h, last = rows[0], rows[-1]
def fmt(k, v):  # SIPp times are HH:MM:SS:mmmuuu; response times printed in ms
    if k.startswith("ResponseTime") and v.count(":") == 3:
        hh, mm, ss, f = v.split(":")
        return "%.3f" % ((int(hh) * 3600 + int(mm) * 60 + int(ss)) * 1000 + int(f) / 1000)
    return v
print(" ".join(fmt(k, last[h.index(k)]) for k in sys.argv[2:]))
PY
}
active_calls() { grep '^status' "$1" | tail -1 | sed -E 's/.* active=([0-9-]+) .*/\1/'; }

users_file() {  # users_file ACCOUNTS FILE: SIPp injection file naming the accounts u0..u{ACCOUNTS-1}
  { echo SEQUENTIAL; for i in $(seq 0 $(($1 - 1))); do echo "u$i;"; done; } > "$2"
}

rate_run() {  # rate_run ACCOUNTS
  local accounts=$1 scenario
  if [ "$accounts" -gt 1 ]; then
    users_file "$accounts" "$W/users_rate_$accounts.csv"
    scenario=(-sf "$HERE/sipp_uac_accounts.xml" -inf "$W/users_rate_$accounts.csv")
  else
    scenario=(-sn uac -s service)
  fi
  start_uas signalling "$accounts" "$W/uas_rate_$accounts.log"
  echo "UAS pid $UAS: signalling-only MSP, $accounts account(s), idle RSS $(rss_kib "$UAS") KiB; SIPp ${scenario[*]:0:2}"
  printf "%-8s %-10s %-10s %-8s %-8s %-9s %-9s %-9s %-8s %s\n" target achieved successful failed retrans resp_ms uas_cpu% uas_rss sipp_rc elapsed
  local best=0
  for R in $RATES; do
    M=$((R * DURATION))
    c0=$(cpu_ticks "$UAS"); t0=$(date +%s.%N)
    timeout -k 2 $((DURATION * 4 + 30)) sipp "${scenario[@]}" 127.0.0.1:$UAS_PORT -i 127.0.0.1 -mi 127.0.0.1 \
      -p $SIPP_PORT -cp $CTRL_PORT -mp $MEDIA_PORT -r "$R" -m "$M" -l $((R * 4)) -nostdin \
      -trace_stat -stf "$W/uac_${accounts}_$R.csv" -fd 1 -trace_err -error_file "$W/uac_err_${accounts}_$R.log" >/dev/null 2>&1
    rc=$?
    t1=$(date +%s.%N); c1=$(cpu_ticks "$UAS"); rss=$(rss_kib "$UAS")
    read -r rate ok failed retrans resp elapsed < <(csv_last "$W/uac_${accounts}_$R.csv" "CallRate(C)" "SuccessfulCall(C)" \
      "FailedCall(C)" "Retransmissions(C)" "ResponseTime1(C)" "ElapsedTime(C)")
    cpu=$(python3 -c "print(f'{($c1 - $c0) / $TCK / ($t1 - $t0) * 100:.0f}')")
    printf "%-8s %-10s %-10s %-8s %-8s %-9s %-9s %-9s %-8s %s\n" "$R" "$rate" "$ok" "$failed" "$retrans" \
      "$resp" "$cpu" "$rss" "$rc" "$elapsed"
    if [ "$failed" != 0 ] && [ -s "$W/uac_err_${accounts}_$R.log" ]; then
      echo "         failures: $(grep -o "received 'SIP/2.0 [0-9]* [A-Za-z ]*" "$W/uac_err_${accounts}_$R.log" | sort | uniq -c | sed -E "s/received 'SIP\/2.0 //" | tr -s ' ' | paste -sd, -)"
    fi
    [ "$failed" = 0 ] && [ "$rc" = 0 ] && [ "$R" -gt "$best" ] && best=$R
    sleep 2
  done
  echo "highest rate with zero failed calls, $accounts account(s): $best cps"
  grep '^status' "$W/uas_rate_$accounts.log" | tail -1
  stop_uas
}
if [ -z "${SKIP_RATE:-}" ]; then
  for a in ${RATE_ACCOUNTS:-1 8}; do rate_run "$a"; done
fi

mem_run() {  # mem_run MSP CALLS
  local msp=$1 n=$2 accounts=$(( $2 / 64 + 1 ))
  local users="$W/users_$msp.csv"
  users_file "$accounts" "$users"
  start_uas "$msp" "$accounts" "$W/uas_mem_$msp.log"
  sleep 1
  local idle; idle=$(rss_kib "$UAS")
  local rate=$(( n >= 1000 ? 200 : 50 ))
  timeout -k 2 120 sipp -sf "$HERE/sipp_uac_accounts.xml" 127.0.0.1:$UAS_PORT -inf "$users" -i 127.0.0.1 -mi 127.0.0.1 \
    -p $SIPP_PORT -cp $CTRL_PORT -mp $MEDIA_PORT -r $rate -m "$n" -l $((n + 100)) -d 20000 -nostdin \
    -trace_stat -stf "$W/mem_$msp.csv" -trace_err -error_file "$W/mem_err_$msp.log" >/dev/null 2>&1 &
  local sipp_pid=$! peak=0 full=0
  for _ in $(seq 300); do  # up to 30 s for every call to be up
    sleep 0.1
    local a; a=$(active_calls "$W/uas_mem_$msp.log")
    [ "${a:-0}" -gt "$peak" ] && peak=$a
    if [ "${a:-0}" -ge "$n" ]; then full=1; break; fi
  done
  sleep 0.5
  local busy; busy=$(rss_kib "$UAS")
  local a; a=$(active_calls "$W/uas_mem_$msp.log")
  wait $sipp_pid; local rc=$?
  read -r ok failed < <(csv_last "$W/mem_$msp.csv" "SuccessfulCall(C)" "FailedCall(C)")
  echo "memory, $msp MSP: $a calls up over $accounts accounts (all up: $full): idle RSS $idle KiB, with calls $busy KiB" \
       "-> $(python3 -c "print(f'{($busy - $idle) / max($a, 1):.1f}')") KiB per call; SIPp rc $rc, $ok ok / $failed failed"
  stop_uas
}
if [ -z "${SKIP_MEM:-}" ]; then
  mem_run signalling "$MEM_CALLS"
  mem_run rtp "$MEM_RTP_CALLS"
fi
echo "logs: $W"
