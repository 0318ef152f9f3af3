#!/usr/bin/env python3
"""baresip 1.0.0 transfers the ptapi softphone (RFC 3515: the softphone is the transferee).

  transfer_test.py --softphone BIN --workdir DIR

baresip (SIP 7350, ctrl_tcp 7359, RTP 22800-22899) dials `softphone listen --auto-answer` (7340), then
sends its `transfer` command (REFER) naming a SIPp built-in uas (7345, media 12580, echoing RTP). Checks: baresip's
call closes as transferred; the softphone reports the new call as "transferred to" the target and both of
its calls end normally; SIPp took one INVITE; the softphone's SIP trace shows 202, the NOTIFYs (100 active,
200 terminated) and the INVITE's Referred-By. Exit 0 pass, 1 fail, 77 skip (baresip or sipp missing).
Every process is bounded by `timeout` or baresip's -t.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baresip_peer  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--softphone", required=True)
ap.add_argument("--workdir", required=True)
a = ap.parse_args()
if not baresip_peer.have_baresip() or shutil.which("sipp") is None:
    print("SKIP: baresip (baresip-core) or sipp (sip-tester) is not installed")
    sys.exit(77)
if shutil.which("sox") is None:
    sys.exit("FAIL: sox is needed for baresip's audio source (apt-get install sox)")

w = baresip_peer.fresh_workdir(a.workdir)
check = baresip_peer.Checks()


subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", os.path.join(w, "tone.wav"), "synth", "20", "sine",
                "440", "vol", "0.5"], check=True)
bdir = baresip_peer.write_config(os.path.join(w, "baresip"), 7350, 7359, 22800, os.path.join(w, "tone.wav"), user="peer")
sipp = subprocess.Popen(["timeout", "-k", "2", "30", "sipp", "-sn", "uas", "-i", "127.0.0.1", "-mi", "127.0.0.1",
                         "-p", "7345", "-cp", "7346", "-mp", "12580", "-rtp_echo", "-m", "1", "-nostdin",
                         "-trace_msg", "-message_file", os.path.join(w, "sipp_msg.log")],
                        stdout=open(os.path.join(w, "sipp.out"), "w"), stderr=subprocess.STDOUT, cwd=w)
out_path, err_path = os.path.join(w, "softphone.out"), os.path.join(w, "softphone.err")
sp = subprocess.Popen(["timeout", "-k", "2", "30", a.softphone, "listen", "--bind", "127.0.0.1:7340", "--auto-answer",
                       "--seconds", "6", "--sip-trace"],
                      stdout=open(out_path, "w"), stderr=open(err_path, "w"), stdin=subprocess.DEVNULL)
deadline = time.time() + 10
while "listening as" not in open(out_path).read() and time.time() < deadline and sp.poll() is None:
    time.sleep(0.05)

with baresip_peer.Peer(bdir, 7359, 30, os.path.join(w, "baresip.log")) as peer:
    peer.send("dial", "sip:ptapi@127.0.0.1:7340")
    check(peer.wait_event("CALL_ESTABLISHED", 10), "baresip: CALL_ESTABLISHED")
    time.sleep(0.5)
    t0 = time.monotonic()
    peer.send("transfer", "sip:target@127.0.0.1:7345")
    closed = peer.wait_event("CALL_CLOSED", 10)
    check(closed, "baresip: its call closed after the transfer (%.2f s after the transfer command)" % (time.monotonic() - t0))
try:
    sp.wait(timeout=20)
except subprocess.TimeoutExpired:
    sp.kill()
    sp.wait()
try:
    sipp_rc = sipp.wait(timeout=10)
except subprocess.TimeoutExpired:
    sipp.kill()
    sipp_rc = sipp.wait()

out = open(out_path).read()
trace = open(err_path).read()
print(out, end="")
check(sp.returncode == 0, "softphone listen exit code 0 (got %s)" % sp.returncode)
check(sipp_rc == 0, "SIPp (the transfer target) took the call and its BYE (exit %s)" % sipp_rc)
check(re.search(r"^call 2: transferred to sip:target@127\.0\.0\.1:7345", out, re.M) is not None,
      "the softphone announced the REFER's call as transferred to the target")
check(re.search(r"^call 1 .*disconnected \(normal\)", out, re.M) is not None, "the transferred call ended normally")
check(re.search(r"^call 2 .*connected$", out, re.M) is not None, "the new call connected")
starts = [l for l in trace.splitlines() if re.match(r"^(INVITE|REFER|NOTIFY|BYE|SIP/2.0 \d+|Subscription-State|Referred-By)", l)]
check("SIP/2.0 202 Accepted" in starts, "REFER answered 202")
check("Subscription-State: active;expires=60" in starts and "Subscription-State: terminated;reason=noresource" in starts,
      "NOTIFYs: active (100 Trying), then terminated (final)")
check(any(l.startswith("INVITE sip:target@127.0.0.1:7345") for l in starts) and any(l.startswith("Referred-By:") for l in starts),
      "the new INVITE goes to the target with Referred-By")
check.finish()
