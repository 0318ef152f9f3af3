#!/bin/sh
# softphone -> softphone over 127.0.0.1 (a ctest of examples/softphone/CMakeLists.txt).
#   sip_pair.sh SOFTPHONE WAV_MATCH WORKDIR PORT speech|dtmf|tone|stun|ice|tls [STUN_PORT]
# speech: `listen --auto-answer --calls 1 --record` in the background, `call --play --seconds 4 --json`
#         (the 3 s of speech and a second to spare); both exit 0, the caller's JSON says connected/normal
#         end/200, and the listener's recording holds what the caller played (wav_match, 1-second windows
#         that follow the lag: median correlation >= 0.6).
# dtmf:   `call --dtmf 123#`; the listener's JSON has "digits_received":"123#".
# tone:   `call --tone busy` (3 s of US busy, 0.5 s bursts); the listener's JSON lists 2 to 3 "busy" in tones_received.
# stun:   speech, with coturn (Debian) as STUN server on 127.0.0.1:STUN_PORT (relay range: the next 3) and `call --stun` to it; the
#         caller's JSON says its media address is server-reflexive. Exit 77 (skip) without coturn.
# ice:    speech, both phones with --ice; both JSONs say ICE connected.
# tls:    speech over SIP over TLS only (--tls-only, certificates made here with `openssl`, the caller
#         verifying the listener's against the test CA) with SDES-SRTP mandatory; both JSONs say "tls":true
#         and "srtp":"sdes". The listener's TLS port is PORT+1, the caller binds PORT+2 (TLS PORT+3).
# The listener listens on PORT, the caller binds PORT+1. Every process is bounded by `timeout`.
set -u
phone=$1 match=$2 dir=$3 port=$4 mode=$5 sport=${6:-}
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
json_get() {  # json_get FILE EXPR: evaluates EXPR (python) on the last line's JSON object `j`
  tail -n 1 "$1" | python3 -c "import json,sys; j=json.load(sys.stdin); print($2)"
}

speech=$dir/speech.wav
if command -v sox >/dev/null; then
  sox /usr/share/sounds/alsa/Front_Left.wav /usr/share/sounds/alsa/Front_Right.wav -r 48000 -c 1 -b 16 "$speech" || exit 1
else
  cp /usr/share/sounds/alsa/Front_Left.wav "$speech" || exit 1
fi

target="sip:ptapi@127.0.0.1:$port" call_bind="127.0.0.1:$((port + 1))"
if [ "$mode" = dtmf ]; then
  listen_media="" call_extra="--dtmf 123#"
elif [ "$mode" = tone ]; then
  listen_media="" call_extra="--tone busy"
else
  listen_media="--record $dir/heard.wav" call_extra="--play $speech"
fi
spid="" listen_extra=""
if [ "$mode" = ice ]; then
  listen_extra="--ice" call_extra="$call_extra --ice"
fi
if [ "$mode" = stun ]; then
  turnserver=$(command -v turnserver || ls /usr/bin/turnserver /usr/sbin/turnserver 2>/dev/null | head -n 1)
  [ -n "$turnserver" ] || { echo "SKIP: coturn (turnserver) is not installed"; exit 77; }
  "$turnserver" -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port=$sport \
    --min-port=$((sport + 1)) --max-port=$((sport + 3)) --no-tls --no-dtls --no-tcp --no-cli --stun-only \
    --pidfile="$dir/turn.pid" --userdb="$dir/turndb" --log-file=stdout > "$dir/turn.out" 2>&1 &
  spid=$!
  trap 'kill $spid 2>/dev/null' EXIT
  port_hex=$(printf '%04X' $sport)
  i=0
  until grep -q ":$port_hex " /proc/net/udp 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "coturn did not start"
    sleep 0.05
  done
  call_extra="$call_extra --stun 127.0.0.1:$sport"
fi
if [ "$mode" = tls ]; then
  command -v openssl >/dev/null || { echo "SKIP: openssl (the command) is not installed"; exit 77; }
  key="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
  openssl req -x509 $key -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 2 -subj /CN=softphone-test-ca 2>/dev/null &&
    openssl req $key -keyout "$dir/phone.key" -out "$dir/phone.csr" -subj /CN=localhost 2>/dev/null &&
    echo "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$dir/ext.cnf" &&
    openssl x509 -req -in "$dir/phone.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
      -out "$dir/phone.crt" -extfile "$dir/ext.cnf" 2>/dev/null || fail "openssl could not make the test certificates"
  tls="--tls-only --tls-cert $dir/phone.crt --tls-key $dir/phone.key --tls-ca $dir/ca.crt --srtp sdes --srtp-required"
  listen_media="$listen_media $tls" call_extra="$call_extra $tls"
  target="sips:ptapi@localhost:$((port + 1))" call_bind="127.0.0.1:$((port + 2))"
fi
timeout -k 5 40 "$phone" listen --bind "127.0.0.1:$port" --auto-answer --calls 1 --seconds 30 $listen_media $listen_extra --json \
  > "$dir/listen.out" 2> "$dir/listen.err" </dev/null &
lpid=$!
i=0
until grep -q 'listening as' "$dir/listen.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 200 ] && { kill "$lpid"; cat "$dir/listen.err"; fail "the listener did not start"; }
  sleep 0.05
done
timeout -k 5 30 "$phone" call "$target" --bind "$call_bind" --seconds 4 $call_extra --json \
  > "$dir/call.out" 2> "$dir/call.err" </dev/null
crc=$?
wait "$lpid"
lrc=$?
echo "--- call (exit $crc)"; cat "$dir/call.out" "$dir/call.err"
echo "--- listen (exit $lrc)"; cat "$dir/listen.out" "$dir/listen.err"
[ $crc -eq 0 ] || fail "call exited $crc"
[ $lrc -eq 0 ] || fail "listen exited $lrc"
[ "$(json_get "$dir/call.out" "j['connected'] and j['normal_end'] and j['role']=='caller'")" = True ] || fail "caller JSON: not connected/normal"
[ "$(json_get "$dir/call.out" "200 in j['sip_responses'] and j['remote']=='$target'")" = True ] || fail "caller JSON: sip_responses/remote"
if [ "$mode" = tls ]; then
  for side in call listen; do
    [ "$(json_get "$dir/$side.out" "j['tls'] and j['srtp']=='sdes'")" = True ] || fail "$side JSON: not TLS with SDES-SRTP"
  done
fi
[ "$(json_get "$dir/listen.out" "j['role']=='callee' and j['connected'] and j['packets_received']>100")" = True ] || fail "listener JSON: not connected or too few packets"
echo "caller sip_responses: $(json_get "$dir/call.out" "j['sip_responses']"), listener: $(json_get "$dir/listen.out" "j['sip_responses']")"
if [ "$mode" = stun ]; then
  [ "$(json_get "$dir/call.out" "j['media_address_kind']=='server-reflexive (STUN)' and j['stun_error'] is None and j['media_address'].startswith('127.0.0.1:')")" = True ] \
    || fail "caller JSON: the media address is not server-reflexive"
  echo "caller media address: $(json_get "$dir/call.out" "j['media_address']") ($(json_get "$dir/call.out" "j['media_address_kind']"))"
fi
if [ "$mode" = ice ]; then
  for side in call listen; do
    [ "$(json_get "$dir/$side.out" "j['ice_state']")" = connected ] || fail "$side JSON: ICE not connected"
  done
  echo "ICE connected on both sides"
fi
if [ "$mode" = dtmf ]; then
  got=$(json_get "$dir/listen.out" "j['digits_received']")
  [ "$got" = "123#" ] || fail "the listener received digits '$got', not '123#'"
  echo "PASS: digits_received $got"
elif [ "$mode" = tone ]; then
  got=$(json_get "$dir/listen.out" "' '.join(j['tones_received'])")
  case "$got" in "busy busy"|"busy busy busy") ;; *) fail "the listener heard tones '$got', not 2 or 3 busy bursts" ;; esac
  echo "PASS: tones_received $got"
else
  "$match" "$speech" "$dir/heard.wav" --windows --min-correlation 0.6 || fail "the listener's recording does not match what the caller played"
  echo "PASS"
fi
