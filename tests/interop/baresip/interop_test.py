#!/usr/bin/env python3
"""ptapi softphone <-> baresip 1.0.0 over 127.0.0.1, with speech both ways, checked by correlation.

  interop_test.py --softphone BIN --wav-match BIN --workdir DIR --direction softphone-calls|baresip-calls
                  [--codec opus|pcmu] [--sip-port P] [--ctrl-port P] [--rtp-base P] [--seconds S] [--srtp|--dtls]

softphone-calls: baresip (auto-answer) plays speech B from aufile; `softphone call --play A --record out.wav`.
baresip-calls:   `softphone listen --auto-answer --play A --record out.wav`; baresip dials it over ctrl_tcp.
Checks: both ends connected and ended cleanly; the softphone's JSON (codec, SIP responses, packets);
baresip's sndfile dump of what it received holds A, and the softphone's recording B (`wav_match --windows`:
the median of 1-second windows that follow the lag reaches --min-correlation; built from tools/measure/ptapi_measure/delay_estimate.hpp). --srtp: SRTP with SDES keys
mandatory on both sides (baresip `srtp.so`, account `mediaenc=srtp-mand`; softphone `--srtp sdes
--srtp-required --allow-insecure-sdes`), and the softphone's JSON must say `"srtp": "sdes"`. --dtls: the same
with DTLS-SRTP keys (baresip `dtls_srtp.so`, `mediaenc=dtls_srtp`, UDP/TLS/RTP/SAVP; softphone `--srtp dtls
--srtp-required`), JSON `"srtp": "dtls"`; and RTCP must be sane both ways (the RTCP half of DTLS-SRTP:
rtcp-mux, or SRTCP keyed by a DTLS association of its own on the RTCP port): the softphone took in baresip's
SRTCP (JSON `rtcp.received`), measured the round trip from it, and baresip's RTCP-reported loss and jitter
of its own stream (read from our reports; garbage if it could not decrypt them) are in range. --inband-dtmf
DIGITS: baresip's source is DTMF as audio instead of speech B (each digit's two sines made with `sox synth`,
100 ms on, 100 ms off, after 1 s of silence, played once), the codec G.711 (PCMU) and the softphone runs with
--inband-dtmf: its JSON must list exactly DIGITS as `digits_received` (in-band detection, issue 11).
Exit 0 pass, 1 fail, 77 skip (baresip not installed).
Every process is bounded (timeout / baresip -t) and stopped by its control channel or by PID as a fallback.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baresip_peer  # noqa: E402

SPEECH_A = ["Front_Left", "Front_Right", "Front_Center"]  # what the softphone says (~4.4 s)
SPEECH_B = ["Rear_Left", "Rear_Right", "Side_Left"]       # what baresip says (~4.0 s, looped)

ap = argparse.ArgumentParser()
ap.add_argument("--softphone", required=True)
ap.add_argument("--wav-match", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--direction", choices=["softphone-calls", "baresip-calls"], required=True)
ap.add_argument("--codec", choices=["opus", "pcmu"], default="opus")
ap.add_argument("--sip-port", type=int, default=5630, help="baresip's SIP port (it also takes +1 for TLS); the softphone uses +5")
ap.add_argument("--ctrl-port", type=int, default=5639)
ap.add_argument("--rtp-base", type=int, default=22000)
ap.add_argument("--seconds", type=float, default=6)
ap.add_argument("--min-correlation", type=float, default=0.5)
ap.add_argument("--rtp-count", type=int, default=100, help="baresip's RTP ports from --rtp-base")
ap.add_argument("--srtp", action="store_true", help="SRTP (SDES) mandatory on both sides")
ap.add_argument("--dtls", action="store_true", help="SRTP keyed by DTLS-SRTP mandatory on both sides")
ap.add_argument("--inband-dtmf", metavar="DIGITS", help="baresip sends DIGITS as in-band DTMF audio (PCMU)")
a = ap.parse_args()
if a.inband_dtmf:
    a.codec = "pcmu"

# DTMF frequencies (ITU-T Q.23): row and column of each key.
DTMF = {k: (r, c) for row, r in zip(("123A", "456B", "789C", "*0#D"), (697, 770, 852, 941))
        for k, c in zip(row, (1209, 1336, 1477, 1633))}


def dtmf_source(digits, seconds, out):
    """A 48 kHz mono WAV of 1 s of silence, then each of `digits` as its two sines for 100 ms and 100 ms of
    silence, then silence to `seconds` (sox). Played once: a looped source would send the digits again."""
    parts = [os.path.join(work, "dtmf_lead.wav")]
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", parts[0], "trim", "0", "1"], check=True)
    for i, d in enumerate(digits):
        tone = os.path.join(work, f"dtmf_{i}.wav")
        r, c = DTMF[d]
        subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", tone, "synth", "0.1", "sine", str(r), "sine",
                        str(c), "channels", "1", "gain", "-3", "pad", "0", "0.1"], check=True)
        parts.append(tone)
    subprocess.run(["sox"] + parts + [out, "pad", "0", str(seconds)], check=True)
    return out

if not baresip_peer.have_baresip():
    print("SKIP: baresip is not installed (Debian: apt-get install baresip-core)")
    sys.exit(77)
for tool in ("sox",):
    if shutil.which(tool) is None:
        sys.exit(f"FAIL: {tool} is needed to make the speech fixtures (apt-get install sox)")

work = baresip_peer.fresh_workdir(a.workdir)
check = baresip_peer.Checks()


def speech(names, out):
    return baresip_peer.speech(names, out)


def wav_match(reference, recording, what):
    """Judged by 1-second windows that follow the lag (a jitter buffer legitimately steps the delay): the
    median window correlation must reach --min-correlation."""
    rc, result = baresip_peer.wav_match(a.wav_match, reference, recording, a.min_correlation, ["--windows"])
    check(rc == 0, f"{what} (median 1-s window correlation >= {a.min_correlation})")
    return result


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


speech_a = speech(SPEECH_A, os.path.join(work, "speech_a.wav"))
speech_b = speech(SPEECH_B, os.path.join(work, "speech_b.wav"))
source_b = os.path.join(work, "source_b_looped.wav")
if a.inband_dtmf:
    dtmf_source(a.inband_dtmf, a.seconds + 40, source_b)
else:
    baresip_peer.make_source(speech_b, source_b)
recording = os.path.join(work, "softphone_heard.wav")
b_port, s_port = a.sip_port, a.sip_port + 5  # baresip also binds SIP port + 1 (TLS)
codecs = ["opus", "pcmu", "pcma"] if a.codec == "opus" else ["pcmu"]
bdir = baresip_peer.write_config(os.path.join(work, "baresip"), b_port, a.ctrl_port, a.rtp_base, source_b,
                                 user="peer", auto_answer=(a.direction == "softphone-calls"), codecs=codecs,
                                 mediaenc="dtls_srtp" if a.dtls else "srtp-mand" if a.srtp else None,
                                 rtp_count=a.rtp_count)
srtp_args = (["--srtp", "dtls", "--srtp-required"] if a.dtls else
             ["--srtp", "sdes", "--srtp-required", "--allow-insecure-sdes"] if a.srtp else [])
if a.inband_dtmf:
    srtp_args += ["--inband-dtmf", "--codec", "pcmu"]
limit = int(a.seconds + 40)
softphone_out = os.path.join(work, "softphone.out")
softphone_err = os.path.join(work, "softphone.err")
print(f"workdir {work}; baresip sip:peer@127.0.0.1:{b_port}, softphone on 127.0.0.1:{s_port}, codec {a.codec}", flush=True)

with baresip_peer.Peer(bdir, a.ctrl_port, limit, os.path.join(work, "baresip.log")) as peer:
    if a.direction == "softphone-calls":
        cmd = ["timeout", "-k", "5", str(int(a.seconds + 30)), a.softphone, "call", f"sip:peer@127.0.0.1:{b_port}",
               "--bind", f"127.0.0.1:{s_port}", "--play", speech_a, "--record", recording, "--seconds", str(a.seconds),
               "--json"] + srtp_args
        print("  $ " + " ".join(cmd), flush=True)
        with open(softphone_out, "w") as out, open(softphone_err, "w") as err:
            sp = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            while sp.poll() is None:
                peer.poll(0.1)
        peer.wait_event("CALL_CLOSED", 5)
        check(sp.returncode == 0, f"softphone call exit code 0 (got {sp.returncode})")
    else:
        cmd = ["timeout", "-k", "5", str(int(a.seconds + 30)), a.softphone, "listen", "--bind", f"127.0.0.1:{s_port}",
               "--auto-answer", "--calls", "1", "--seconds", str(int(a.seconds + 20)), "--play", speech_a,
               "--record", recording, "--json"] + srtp_args
        print("  $ " + " ".join(cmd), flush=True)
        with open(softphone_out, "w") as out, open(softphone_err, "w") as err:
            sp = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            deadline = time.time() + 10
            while "listening as" not in open(softphone_out).read() and time.time() < deadline and sp.poll() is None:
                time.sleep(0.05)
            peer.send("dial", f"sip:ptapi@127.0.0.1:{s_port}")
            established = peer.wait_event("CALL_ESTABLISHED", 10)
            check(established, "baresip: CALL_ESTABLISHED")
            end = time.time() + a.seconds
            while time.time() < end:
                peer.poll(0.1)
            peer.send("hangup")
            check(peer.wait_event("CALL_CLOSED", 5), "baresip: CALL_CLOSED after its hang-up")
            try:
                sp.wait(timeout=15)
            except subprocess.TimeoutExpired:
                sp.kill()
                sp.wait()
        check(sp.returncode == 0, f"softphone listen exit code 0 (got {sp.returncode})")

print(open(softphone_out).read(), end="")
err = open(softphone_err).read()
if err:
    print("softphone stderr:\n" + err, end="")
with open(os.path.join(work, "baresip.log")) as f:
    log = f.read()
for line in log.splitlines():
    if any(k in line for k in ("audio: Set audio", "packets:", "lost:", "jitter:", "avg. bitrate", "rtp: ")):
        print("  baresip.log: " + line.strip())

report = last_json(open(softphone_out).read())
check(report is not None, "softphone printed a JSON report")
if report:
    check(report.get("connected") is True, "softphone: connected")
    check(report.get("normal_end") is True, f"softphone: ended normally ({report.get('end_cause')})")
    check(report.get("codec") == a.codec, f"softphone: codec {a.codec} (got {report.get('codec')})")
    if a.dtls:
        check(report.get("srtp") == "dtls", f"softphone: media protected by SRTP with DTLS-SRTP keys (srtp {report.get('srtp')}, "
                                            f"suite {report.get('srtp_suite')})")
    if a.srtp:
        check(report.get("srtp") == "sdes", f"softphone: media protected by SRTP with SDES keys (srtp {report.get('srtp')}, "
                                            f"suite {report.get('srtp_suite')})")
    check(200 in report.get("sip_responses", []), f"softphone: a 200 among sip_responses {report.get('sip_responses')}")
    check(report.get("packets_sent", 0) >= 25 * a.seconds, f"softphone: sent {report.get('packets_sent')} RTP packets")
    check(report.get("packets_received", 0) >= 25 * a.seconds, f"softphone: received {report.get('packets_received')} RTP packets")
    print(f"  softphone: remote {report.get('remote')}, states {report.get('states')}, lost {report.get('packets_lost')}, "
          f"jitter {report.get('jitter_ms')} ms")
    if a.inband_dtmf:
        got = report.get("digits_received", "")
        check(got == a.inband_dtmf, f"softphone: in-band digits received {got!r} == {a.inband_dtmf!r}")

# baresip's end-of-call table: the Transmit column's lost/jitter come from our RTCP receiver reports on its stream.
tx_lost = tx_jitter = None
for line in log.splitlines():
    f = line.split()
    if len(f) >= 3 and f[0] == "lost:":
        tx_lost = int(f[1])
    if len(f) >= 3 and f[0] == "jitter:":
        tx_jitter = float(f[1])
print(f"  baresip's view from our RTCP: lost {tx_lost}, jitter {tx_jitter} ms; "
      f"softphone RTCP {report.get('rtcp') if report else None}")
if a.dtls and report:
    rtcp = report.get("rtcp") or {}
    check(rtcp.get("sent", 0) >= 1, f"softphone: sent RTCP ({rtcp.get('sent')})")
    check(rtcp.get("received", 0) >= 1, f"softphone: took in baresip's SRTCP ({rtcp.get('received')} compound packets)")
    rtt = rtcp.get("round_trip_ms")
    check(rtt is not None and 0 <= rtt < 500, f"softphone: round trip measured from baresip's reports ({rtt} ms)")
    lost = report.get("reverse", {}).get("packets_lost")
    check(lost is not None and 0 <= lost <= 25, f"softphone: baresip reports {lost} of our packets lost (0..25)")
    check(tx_lost is not None and 0 <= tx_lost <= 25, f"baresip: our reports say {tx_lost} of its packets lost (0..25)")
    check(tx_jitter is not None and tx_jitter < 40, f"baresip: our reports say jitter {tx_jitter} ms (< 40)")

dec = peer.dumps("dec")
check(len(dec) >= 1, f"baresip dumped what it received ({dec})")
if dec:
    wav_match(speech_a, dec[-1], "baresip heard the softphone's speech")
check(os.path.exists(recording), "softphone recorded")
if os.path.exists(recording) and not a.inband_dtmf:  # baresip sent tones, not speech
    wav_match(speech_b, recording, "the softphone heard baresip's speech")

check.finish()
