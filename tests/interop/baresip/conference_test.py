#!/usr/bin/env python3
"""The ptapi softphone hosts a three-way conference with two baresip 1.0.0 peers (issue 11's proof).

  conference_test.py --softphone BIN --wav-match BIN --workdir DIR [--port 7960] [--seconds 20] [--codec pcmu|opus]
                     [--min-correlation 0.8] [--max-own 0.5] [--opus-bitrate 64000]

baresip A (SIP PORT, ctrl_tcp PORT+2, RTP PORT+10..+13) and baresip B (SIP PORT+4, ctrl_tcp PORT+6, RTP
PORT+14..+17) answer automatically and each loops its own speech (alsa-utils sounds, different files). The
softphone (PORT+8, RTP ephemeral, silent: no --play) runs `conference A B --no-hold`: it calls A, then B
as a call of its own, then joins them with ITBasicCallControl::Conference + Finish(FM_ASCONFERENCE), and mixes
locally. (--no-hold: baresip 1.0 stops writing its sndfile dump of what it receives once it has been held,
even after the unhold, so A is never held here; softphone.sip_conference covers the held variant.) Checks: both baresips connect
and see their call closed by the host; the softphone says "three-way conference" and exits 0; each
baresip's sndfile dump of what it received holds the other's speech (wav_match --windows: 1-second windows
following the lag; median >= --min-correlation and worst tenth printed) and not its own (median of its own
speech below --max-own). Every leg uses --codec only. Measured (2026-12-05, loaded 2-core machine): PCMU
medians 0.996-0.997 (worst tenth 0.91-0.96), own speech 0.25; Opus (VOIP, SILK/hybrid) 0.80-0.81 (worst
tenth 0.68-0.74) at 24 or 64 kbit/s alike: each Opus hop alone scores ~0.94 and the speech is coded twice
(party -> host, host's mix -> other party). Exit 0 pass, 1 fail, 77 skip (baresip not installed). Every process is bounded
(timeout / baresip -t) and stopped by its control channel or by PID as a fallback. About 25 s.
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baresip_peer  # noqa: E402

SPEECH = {"A": ["Front_Left", "Front_Right", "Front_Center"],  # ~4.4 s, looped by A
          "B": ["Rear_Left", "Rear_Right", "Side_Left"]}       # ~4.0 s, looped by B

ap = argparse.ArgumentParser()
ap.add_argument("--softphone", required=True)
ap.add_argument("--wav-match", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--port", type=int, default=7960, help="first of the 18 ports used (SIP, ctrl_tcp, baresip RTP)")
ap.add_argument("--seconds", type=float, default=20, help="how long the host keeps the conference up")
ap.add_argument("--min-correlation", type=float, default=0.8)
ap.add_argument("--codec", choices=["opus", "pcmu"], default="opus", help="the one codec every leg uses")
ap.add_argument("--opus-bitrate", type=int, default=64000,
                help="Opus bits/s of every encoder (the speech is coded twice: party, then the host's mix)")
ap.add_argument("--max-own", type=float, default=0.5, help="a party's own speech in what it hears: median below this")
a = ap.parse_args()

if not baresip_peer.have_baresip():
    print("SKIP: baresip is not installed (Debian: apt-get install baresip-core)")
    sys.exit(77)
if shutil.which("sox") is None:
    sys.exit("FAIL: sox is needed to make the speech fixtures (apt-get install sox)")

work = baresip_peer.fresh_workdir(a.workdir)
check = baresip_peer.Checks()
ports = {"A": (a.port, a.port + 2, a.port + 10), "B": (a.port + 4, a.port + 6, a.port + 14)}  # SIP, ctrl, RTP base
host_port = a.port + 8
speech, reference, dirs = {}, {}, {}
for k in ("A", "B"):
    speech[k] = baresip_peer.speech(SPEECH[k], os.path.join(work, f"speech_{k}.wav"))
    # Two loops of the speech: the windows judged (the recordings are long enough for any phase + 2 loops).
    reference[k] = os.path.join(work, f"reference_{k}.wav")
    baresip_peer.make_source(speech[k], reference[k], repeat=1)
    source = os.path.join(work, f"source_{k}_looped.wav")
    baresip_peer.make_source(speech[k], source)
    sip, ctrl, rtp = ports[k]
    dirs[k] = baresip_peer.write_config(os.path.join(work, f"baresip_{k}"), sip, ctrl, rtp, source, user=f"party{k}",
                                        auto_answer=True, codecs=(a.codec,), rtp_count=4,
                                        opus_bitrate=a.opus_bitrate)

out_path, err_path = os.path.join(work, "host.out"), os.path.join(work, "host.err")
cmd = ["timeout", "-k", "5", str(int(a.seconds + 20)), a.softphone, "conference",
       f"sip:partyA@127.0.0.1:{ports['A'][0]}", f"sip:partyB@127.0.0.1:{ports['B'][0]}",
       "--bind", f"127.0.0.1:{host_port}", "--seconds", str(a.seconds), "--no-hold",
       "--opus-bitrate", str(a.opus_bitrate), "--codec", a.codec]
limit = int(a.seconds + 40)
with baresip_peer.Peer(dirs["A"], ports["A"][1], limit, os.path.join(work, "baresip_A.log")) as peer_a, \
     baresip_peer.Peer(dirs["B"], ports["B"][1], limit, os.path.join(work, "baresip_B.log")) as peer_b:
    print("  $ " + " ".join(cmd), flush=True)
    with open(out_path, "w") as out, open(err_path, "w") as err:
        host = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        while host.poll() is None:
            peer_a.poll(0.05)
            peer_b.poll(0.05)
    for k, peer in (("A", peer_a), ("B", peer_b)):
        check(peer.wait_event("CALL_ESTABLISHED", 1), f"baresip {k}: CALL_ESTABLISHED")
        check(peer.wait_event("CALL_CLOSED", 5), f"baresip {k}: CALL_CLOSED (the host hung up)")

host_out = open(out_path).read()
print(host_out, end="")
err = open(err_path).read()
if err:
    print("softphone stderr:\n" + err, end="")
check(host.returncode == 0, f"softphone conference exit code 0 (got {host.returncode})")
check("three-way conference" in host_out, "softphone: three-way conference established")

for k, other, peer in (("A", "B", peer_a), ("B", "A", peer_b)):
    dec = peer.dumps("dec")
    check(len(dec) == 1, f"baresip {k} dumped what it received ({dec})")
    if not dec:
        continue
    rc, heard = baresip_peer.wav_match(a.wav_match, reference[other], dec[-1], a.min_correlation,
                                       ["--windows", "--max-lag-ms", "7000"])
    check(rc == 0 and heard.get("windows", 0) >= 6,
          f"baresip {k} hears {other}: median {heard.get('median_correlation')} >= {a.min_correlation} over "
          f"{heard.get('windows')} windows (worst tenth {heard.get('worst_tenth_correlation')})")
    _, own = baresip_peer.wav_match(a.wav_match, reference[k], dec[-1], a.max_own, ["--windows", "--max-lag-ms", "7000"])
    check(own.get("median_correlation", 1) < a.max_own,
          f"baresip {k} does not hear itself: median {own.get('median_correlation')} < {a.max_own} "
          f"(worst tenth {own.get('worst_tenth_correlation')})")

check.finish()
