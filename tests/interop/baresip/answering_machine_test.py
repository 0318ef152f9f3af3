#!/usr/bin/env python3
"""examples/answering_machine against baresip 1.0.0 over 127.0.0.1.

  answering_machine_test.py --machine BIN --softphone BIN --wav-match BIN --workdir DIR

Call 1: baresip calls the machine, speaking looped speech B without a pause; the machine answers after one
ring, plays its greeting (speech A), records until its maximum length (--max-seconds 7) and hangs up.
Checks: baresip heard the greeting; the message file holds baresip's speech (correlation); `--list` shows it.
Call 2: baresip presses '#' about 2 s after the greeting; the machine hangs up and keeps that message.
Call 3: baresip calls again and presses '0' (RFC 4733); the machine holds it, calls the softphone that listens
as the forwarding target (consultation call) and REFERs baresip to it with Replaces; the softphone must get a
call from baresip that connects (baresip 1.0 drops the Replaces, so it is a new call, and the machine ends
the consultation call itself). The message of a call forwarded
before speaking holds little or nothing; an empty one is removed.
Ports: machine SIP 7700, softphone 7705, baresip SIP 7710 (+1), ctrl 7719, RTP 22900-22999.
Exit 0 pass, 1 fail, 77 skip (baresip not installed).
"""
import argparse
import glob
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baresip_peer  # noqa: E402

ALSA = "/usr/share/sounds/alsa"
ap = argparse.ArgumentParser()
ap.add_argument("--machine", required=True)
ap.add_argument("--softphone", required=True)
ap.add_argument("--wav-match", required=True)
ap.add_argument("--workdir", required=True)
a = ap.parse_args()

if not baresip_peer.have_baresip():
    print("SKIP: baresip is not installed (Debian: apt-get install baresip-core)")
    sys.exit(77)

work = baresip_peer.fresh_workdir(a.workdir)
check = baresip_peer.Checks()
M_PORT, S_PORT, B_PORT, CTRL = 7700, 7705, 7710, 7719


def sox(names, out):
    subprocess.run(["sox"] + [f"{ALSA}/{n}.wav" for n in names] + ["-r", "48000", "-c", "1", "-b", "16", out], check=True)
    return out


def wav_match(reference, recording, what, extra=()):
    r = subprocess.run([a.wav_match, reference, recording, "--min-correlation", "0.5"] + list(extra),
                       capture_output=True, text=True, timeout=60)
    print(f"  wav_match {os.path.basename(reference)} {os.path.basename(recording)}: {r.stdout.strip()} {r.stderr.strip()}")
    check(r.returncode == 0, f"{what} (correlation >= 0.5)")


def wait_for(path, text, seconds, proc):
    deadline = time.time() + seconds
    while time.time() < deadline and (proc is None or proc.poll() is None):
        if os.path.exists(path) and text in open(path).read():
            return True
        time.sleep(0.05)
    return os.path.exists(path) and text in open(path).read()


greeting = sox(["Front_Center"], os.path.join(work, "greeting.wav"))
speech_b = sox(["Rear_Left", "Rear_Right", "Side_Left"], os.path.join(work, "speech_b.wav"))
source_b = os.path.join(work, "source_b_looped.wav")
baresip_peer.make_source(speech_b, source_b)
messages = os.path.join(work, "messages")
bdir = baresip_peer.write_config(os.path.join(work, "baresip"), B_PORT, CTRL, 22900, source_b, user="peer")

m_out, s_out = os.path.join(work, "machine.out"), os.path.join(work, "softphone.out")
machine_cmd = ["timeout", "-k", "5", "70", a.machine, "--bind", f"127.0.0.1:{M_PORT}", "--greeting", greeting,
               "--messages", messages, "--rings", "1", "--ring-seconds", "0.5", "--max-seconds", "7",
               "--silence-seconds", "5", "--calls", "3", "--forward-to", f"sip:desk@127.0.0.1:{S_PORT}"]
softphone_cmd = ["timeout", "-k", "5", "70", a.softphone, "listen", "--bind", f"127.0.0.1:{S_PORT}", "--auto-answer",
                 "--calls", "1", "--seconds", "60", "--json"]
print("  $ " + " ".join(machine_cmd) + "\n  $ " + " ".join(softphone_cmd), flush=True)
with open(m_out, "w") as mo, open(s_out, "w") as so, \
        baresip_peer.Peer(bdir, CTRL, 70, os.path.join(work, "baresip.log")) as peer:
    machine = subprocess.Popen(machine_cmd, stdout=mo, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    target = subprocess.Popen(softphone_cmd, stdout=so, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    check(wait_for(m_out, "answering on", 10, machine), "the machine is listening")
    check(wait_for(s_out, "listening as", 10, target), "the forwarding target is listening")

    # Call 1: a message, ended by the machine at its maximum length.
    peer.send("dial", f"sip:machine@127.0.0.1:{M_PORT}")
    check(peer.wait_event("CALL_ESTABLISHED", 10), "call 1: baresip: CALL_ESTABLISHED (the machine answered)")
    check(peer.wait_event("CALL_CLOSED", 20), "call 1: baresip: CALL_CLOSED (the machine hung up)")
    check(wait_for(m_out, "maximum length", 5, None), "call 1: the machine hung up at the maximum length")
    dec = peer.dumps("dec")
    check(len(dec) >= 1, "call 1: baresip dumped what it heard")
    if dec:
        wav_match(greeting, dec[-1], "call 1: baresip heard the greeting")

    # Call 2: '#' after the greeting ends the message.
    peer.events.clear()
    time.sleep(0.5)
    peer.send("dial", f"sip:machine@127.0.0.1:{M_PORT}")
    check(peer.wait_event("CALL_ESTABLISHED", 10), "call 2: baresip: CALL_ESTABLISHED")
    end = time.time() + 3.5  # the greeting (1.4 s), then about 2 s of message
    while time.time() < end:
        peer.poll(0.1)
    peer.send("sndcode", "#")
    check(peer.wait_event("CALL_CLOSED", 5), "call 2: baresip: CALL_CLOSED after '#'")
    check(wait_for(m_out, "hanging up ('#' pressed)", 5, None), "call 2: the machine hung up on '#'")

    # Call 3: '0' forwards the caller to the softphone.
    peer.events.clear()
    time.sleep(0.5)
    peer.send("dial", f"sip:machine@127.0.0.1:{M_PORT}")
    check(peer.wait_event("CALL_ESTABLISHED", 10), "call 3: baresip: CALL_ESTABLISHED")
    end = time.time() + 0.5  # within the greeting: nothing recorded yet
    while time.time() < end:
        peer.poll(0.1)
    peer.send("sndcode", "0")
    check(wait_for(m_out, "forwarding to", 5, None), "call 3: the machine saw '0' and forwards")
    check(wait_for(s_out, "incoming from", 10, target), "call 3: the forwarding target got the transferred call")
    check(wait_for(s_out, "connected", 5, target), "call 3: the transferred call connected")
    end = time.time() + 2.0
    while time.time() < end:
        peer.poll(0.1)
    peer.send("hangup")
    for p in (machine, target):
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    check(machine.returncode == 0, f"machine exit code 0 (got {machine.returncode})")
    # The target's first call is the machine's consultation call, which carries no audio from the machine
    # (no terminal on it), so `listen` reports it (exit 1); it must have ended normally once the transfer did.
    check(target.returncode in (0, 1), f"softphone ended by itself (exit {target.returncode})")
    target_out = open(s_out).read()
    check("call 1 sip:ptapi@127.0.0.1:7700: disconnected (normal)" in target_out,
          "call 3: the consultation call from the machine ended normally")

print(open(m_out).read(), end="")
print(open(s_out).read(), end="")
files = sorted(glob.glob(os.path.join(messages, "*.wav")))
check(len(files) == 2, f"two messages kept (calls 1 and 2; call 3 said nothing): {[os.path.basename(f) for f in files]}")
first = [f for f in files if os.path.basename(f).startswith("peer@127.0.0.1_")]
check(len(first) >= 1, "the first message is named after the caller (peer@127.0.0.1_TIME-ID.wav)")
if first:
    # The message starts anywhere in baresip's 4 s loop: its first 2 s must be in the message's first 6 s.
    wav_match(speech_b, first[0], "call 1: the message holds baresip's speech",
              ["--reference-seconds", "2", "--max-lag-ms", "5000"])
listing = subprocess.run([a.machine, "--list", "--messages", messages], capture_output=True, text=True, timeout=20)
print(listing.stdout, end="")
check(listing.returncode == 0 and "peer@127.0.0.1" in listing.stdout and f"{len(files)} message(s)" in listing.stdout,
      "--list shows the messages with their caller")
check.finish()
