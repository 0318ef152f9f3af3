#!/usr/bin/env python3
"""A headless baresip 1.0.0 (Debian `baresip-core`) peer on 127.0.0.1, for ptapi's interop tests.

Python 3 standard library only. `write_config` writes a config directory with no audio device module:
the `aufile` module is the audio source (a 48 kHz mono WAV, looped by sox so that it never ends mid-call),
the `sndfile` filter dumps what baresip sends and receives to DIR/rec/dump-<time>-{enc,dec}.wav, Opus and
G.711 are the codecs, and `ctrl_tcp` (netstring-framed JSON) is the control channel. `Peer` starts it
bounded by `-t`, talks to ctrl_tcp, and stops it with `quit` (killing it by PID only as a fallback).

Run as a script to start one peer by hand:
  baresip_peer.py DIR --sip-port 5080 --ctrl-port 4444 --rtp-base 22000 --source speech.wav [--auto-answer]
"""
import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time

CODECS = {"opus": "opus/48000/2", "pcmu": "pcmu", "pcma": "pcma"}


def have_baresip():
    return shutil.which("baresip") is not None and os.path.isdir("/usr/lib/baresip/modules")


def fresh_workdir(path):
    """`path` made absolute, emptied and created."""
    path = os.path.abspath(path)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


class Checks:
    """A test's checks: `check(ok, what)` prints each as it is made; `finish()` prints the verdict and exits
    0 (all held) or 1."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            self.failures.append(what)

    def finish(self):
        print("PASS" if not self.failures else f"FAILED: {len(self.failures)} check(s): " + "; ".join(self.failures))
        sys.exit(0 if not self.failures else 1)


def make_source(src_wav, out_wav, repeat=30):
    """aufile needs the WAV at ausrc_srate/ausrc_channels (48 kHz mono); loop it so it outlasts the call."""
    subprocess.run(["sox", src_wav, "-r", "48000", "-c", "1", "-b", "16", out_wav, "repeat", str(repeat)],
                   check=True)


ALSA_SOUNDS = "/usr/share/sounds/alsa"


def speech(names, out):
    """A speech fixture: the alsa-utils sounds `names` (e.g. "Front_Left") joined into `out`, 48 kHz mono
    16-bit (sox). Returns `out`."""
    subprocess.run(["sox"] + [f"{ALSA_SOUNDS}/{n}.wav" for n in names] + ["-r", "48000", "-c", "1", "-b", "16", out],
                   check=True)
    return out


def wav_match(tool, reference, recording, min_correlation, extra=()):
    """Runs the `wav_match` tool (examples/softphone/wav_match.cpp) with --json: (exit code, parsed JSON or
    {}). Prints the outcome. Exit 0: correlation (median of the windows with --windows) >= min_correlation."""
    r = subprocess.run([tool, reference, recording, "--json", "--min-correlation", str(min_correlation)] + list(extra),
                       capture_output=True, text=True, timeout=60)
    print(f"  wav_match {os.path.basename(reference)} {os.path.basename(recording)}: {r.stdout.strip()} {r.stderr.strip()}",
          flush=True)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {}


def write_config(d, sip_port, ctrl_port, rtp_base, source_wav, user="peer", auto_answer=False, codecs=("opus", "pcmu", "pcma"),
                 mediaenc=None, rtp_count=100, opus_bitrate=32000):
    """mediaenc: None, or a baresip media encryption for the account, e.g. "srtp-mand" (SDES, RTP/SAVP;
    loads srtp.so) or "dtls_srtp" (DTLS-SRTP, UDP/TLS/RTP/SAVP; loads dtls_srtp.so). rtp_count: RTP/RTCP
    ports from rtp_base. opus_bitrate: bits/s."""
    d = os.path.abspath(d)
    rec = os.path.join(d, "rec")
    os.makedirs(rec, exist_ok=True)
    srtp_module = f"module\t\t\t{'dtls_srtp.so' if mediaenc.startswith('dtls') else 'srtp.so'}\n" if mediaenc else ""
    config = f"""# baresip 1.0.0 headless peer for ptapi's interop tests: loopback only, no audio device
poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{sip_port}
net_interface\t\t127.0.0.1
dns_server\t\t127.0.0.1:53
call_local_timeout\t120
call_max_calls\t\t4
audio_path\t\t/usr/share/baresip
audio_source\t\taufile,{os.path.abspath(source_wav)}
ausrc_srate\t\t48000
ausrc_channels\t\t1
audio_level\t\tno
rtp_ports\t\t{rtp_base}-{rtp_base + rtp_count - 1}
rtp_stats\t\tyes
jitter_buffer_delay\t5-10
statmode_default\toff
ringback_disabled\tyes
module_path\t\t/usr/lib/baresip/modules
module\t\t\topus.so
module\t\t\tg711.so
module\t\t\taufile.so
module\t\t\tsndfile.so
module_tmp\t\taccount.so
module_app\t\tmenu.so
module_app\t\tctrl_tcp.so
{srtp_module}ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}
snd_path\t\t{rec}
opus_bitrate\t\t{opus_bitrate}
opus_application\tvoip
"""
    with open(os.path.join(d, "config"), "w") as f:
        f.write(config)
    answer = (";answermode=auto" if auto_answer else "") + (f";mediaenc={mediaenc}" if mediaenc else "")
    with open(os.path.join(d, "accounts"), "w") as f:
        f.write(f"<sip:{user}@127.0.0.1:{sip_port}>;regint=0{answer};audio_codecs={','.join(CODECS[c] for c in codecs)}\n")
    return d


class Peer:
    """A running baresip: `with Peer(dir, ctrl_port, max_seconds) as p: p.send('dial', 'sip:...')`."""

    def __init__(self, d, ctrl_port, max_seconds, log_path):
        self.dir, self.ctrl_port = d, ctrl_port
        self.events = []
        self.buf = b""
        self.sock = None
        self.token = 0
        self.log = open(log_path, "w")
        # -t bounds the process even if nothing below gets to stop it.
        self.proc = subprocess.Popen(["baresip", "-f", d, "-t", str(int(max_seconds))], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        while self.sock is None:
            try:
                self.sock = socket.create_connection(("127.0.0.1", ctrl_port), timeout=1)
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"baresip did not open ctrl_tcp on {ctrl_port} (see {log_path})")
                time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def send(self, command, params=""):
        self.token += 1
        b = json.dumps({"command": command, "params": params, "token": str(self.token)}).encode()
        self.sock.sendall(str(len(b)).encode() + b":" + b + b",")

    def poll(self, timeout):
        """Reads what arrived within `timeout` s; keeps events; returns the messages."""
        out = []
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
            if chunk:
                self.buf += chunk
        except (socket.timeout, OSError):
            pass
        while b":" in self.buf:
            n, rest = self.buf.split(b":", 1)
            if len(rest) < int(n) + 1:
                break
            m = json.loads(rest[:int(n)])
            self.buf = rest[int(n) + 1:]
            out.append(m)
            if m.get("event"):
                self.events.append(m)
                print(f"  baresip: {m.get('type')} {m.get('param', '')}", flush=True)
        return out

    def wait_event(self, kind, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(e.get("type") == kind for e in self.events):
                return True
            self.poll(0.1)
        return any(e.get("type") == kind for e in self.events)

    def stop(self):
        if self.proc.poll() is None and self.sock is not None:
            try:
                self.send("quit")
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # fallback: by PID
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.log.close()

    def dumps(self, kind):
        """The sndfile dumps: kind 'dec' (what baresip received) or 'enc' (what it sent)."""
        return sorted(glob.glob(os.path.join(self.dir, "rec", f"dump-*-{kind}.wav")))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Start a headless baresip peer on 127.0.0.1 (by hand).")
    ap.add_argument("dir")
    ap.add_argument("--sip-port", type=int, default=5080)
    ap.add_argument("--ctrl-port", type=int, default=4444)
    ap.add_argument("--rtp-base", type=int, default=22000)
    ap.add_argument("--source", default="/usr/share/sounds/alsa/Front_Center.wav")
    ap.add_argument("--codecs", default="opus,pcmu,pcma")
    ap.add_argument("--auto-answer", action="store_true")
    ap.add_argument("--seconds", type=int, default=300)
    a = ap.parse_args()
    if not have_baresip():
        sys.exit("baresip is not installed (apt-get install baresip-core)")
    os.makedirs(a.dir, exist_ok=True)
    src = os.path.join(os.path.abspath(a.dir), "source_48k_mono.wav")
    make_source(a.source, src)
    d = write_config(a.dir, a.sip_port, a.ctrl_port, a.rtp_base, src, auto_answer=a.auto_answer,
                     codecs=a.codecs.split(","))
    print(f"config in {d}; running: baresip -f {d} -t {a.seconds}  (SIP sip:peer@127.0.0.1:{a.sip_port}, "
          f"ctrl_tcp 127.0.0.1:{a.ctrl_port})", flush=True)
    os.execvp("baresip", ["baresip", "-f", d, "-t", str(a.seconds)])
