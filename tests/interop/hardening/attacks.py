#!/usr/bin/env python3
"""Attacks on `softphone listen`, as a hostile network and a long-running server would try them (issue 7).

    attacks.py --softphone build/bin/softphone --wav-match build/bin/wav_match --workdir DIR [--port P] SCENARIO

Scenarios (each prints its figures, then `PASS` or `FAIL: why`; exit 0 / 1; 77 when a tool is missing):
  fd_exhaustion  the listener runs under RLIMIT_NOFILE 1024; 1020 idle TCP connections (from 40 loopback
                 source addresses) are opened to its SIP port, then one INVITE arrives over UDP: the
                 listener must answer it and stay alive, and after the connections close a real call
                 (`softphone call`) must connect.
  invite_flood   a live call (the listener plays speech, the caller records it, and the other way round)
                 while 1000 INVITEs that are never ACKed arrive in 2 s: the live call's median 1 s window
                 correlation must stay >= 0.90 both ways and its loss <= 1 %; the listener's RSS 30 s after
                 the flood must be within 15 MB of its idle RSS.
  voice_hammer   10 INVITEs whose SDP names a third address (a socket of ours) reach an auto-answering
                 listener that plays speech; nobody ACKs: not one datagram may reach the third address.
  sipp_calls     2000 SIPp calls (built-in uac, 100 calls/s) through `listen --auto-answer`: the listener's
                 RSS after all of them must be within 8 MB of its RSS after the first 100 (each sampled
                 once the calls' SIP transactions have ended).

Everything runs on 127.0.0.1 (and 127.0.0.2-41 as TCP source addresses); every process and loop is
bounded in count and time. Speech comes from Debian's alsa-utils (/usr/share/sounds/alsa), joined by sox.
"""
import argparse
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

LOCAL = "127.0.0.1"
# Under AddressSanitizer (CI sets ASAN_OPTIONS for that stage) freed memory sits in ASan's quarantine, so
# RSS says nothing about leaks: the figures are printed but not judged (LeakSanitizer judges leaks there).
JUDGE_RSS = "ASAN_OPTIONS" not in os.environ
SOUNDS = "/usr/share/sounds/alsa"
SPEECH_FILES = ["Front_Center.wav", "Front_Left.wav", "Front_Right.wav", "Rear_Center.wav", "Rear_Left.wav",
                "Rear_Right.wav", "Side_Left.wav", "Side_Right.wav"]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def make_speech(workdir, repeats=1):
    """About 11 s of real speech per repeat, 48 kHz mono 16-bit."""
    out = os.path.join(workdir, "speech.wav")
    files = [os.path.join(SOUNDS, f) for f in SPEECH_FILES] * repeats
    subprocess.run(["sox"] + files + ["-r", "48000", "-c", "1", "-b", "16", out], check=True)
    return out


class Listener:
    """`softphone listen` in the background (no `timeout` wrapper: its pid is the phone's, for RSS)."""

    def __init__(self, softphone, workdir, port, extra, nofile=None, seconds=120):
        self.out_path = os.path.join(workdir, "listen.out")
        self.err_path = os.path.join(workdir, "listen.err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        cmd = [softphone, "listen", "--bind", f"{LOCAL}:{port}", "--auto-answer", "--seconds", str(seconds)] + extra

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL,
                                     preexec_fn=limit, cwd=workdir)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "listening as" in open(self.out_path).read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("the listener did not start: " + open(self.err_path).read())

    def alive(self):
        return self.proc.poll() is None

    def rss(self):
        return rss_kib(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        return self.proc.returncode

    def reports(self):
        """The JSON report lines the listener printed (one per ended call)."""
        out = []
        for line in open(self.out_path):
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


def call(softphone, workdir, port, extra, seconds, name="call"):
    """`softphone call` to the listener; returns (exit code, its JSON report or None)."""
    out = os.path.join(workdir, name + ".out")
    with open(out, "w") as o, open(os.path.join(workdir, name + ".err"), "w") as e:
        rc = subprocess.run(["timeout", "-k", "5", str(seconds + 30), softphone, "call", f"sip:ptapi@{LOCAL}:{port}",
                             "--bind", f"{LOCAL}:{port + 1}", "--seconds", str(seconds), "--json"] + extra,
                            stdout=o, stderr=e, stdin=subprocess.DEVNULL).returncode
    report = None
    for line in open(out):
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except ValueError:
                pass
    return rc, report


def windows(wav_match, reference, recording):
    """wav_match --windows: median and worst tenth of 1 s windows that follow the lag."""
    r = subprocess.run([wav_match, reference, recording, "--windows", "--json", "--max-lag-ms", "1500"],
                       capture_output=True, text=True)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"windows": 0, "median_correlation": 0, "worst_tenth_correlation": 0, "error": r.stderr.strip()}


def invite(port, src_port, sink_port, call_id, branch, tag):
    sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           f"m=audio {sink_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
           "a=sendrecv\r\n")
    return (f"INVITE sip:ptapi@{LOCAL}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {LOCAL}:{src_port};branch=z9hG4bK{branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:attacker@{LOCAL}>;tag={tag}\r\n"
            f"To: <sip:ptapi@{LOCAL}:{port}>\r\n"
            f"Call-ID: {call_id}@attacker\r\n"
            "CSeq: 1 INVITE\r\n"
            f"Contact: <sip:attacker@{LOCAL}:{src_port}>\r\n"
            "Content-Type: application/sdp\r\n"
            f"Content-Length: {len(sdp)}\r\n\r\n" + sdp).encode()


class UdpReceiver:
    """A UDP socket on 127.0.0.1 whose datagrams a thread hands to `on_datagram` until `close`."""

    def __init__(self, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((LOCAL, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop_flag = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.stop_flag:
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.on_datagram(data)

    def on_datagram(self, data):
        raise NotImplementedError

    def close(self):
        self.stop_flag = True
        self.thread.join(2)
        self.sock.close()


class Flooder(UdpReceiver):
    """Sends INVITEs from one UDP socket and never ACKs; counts the final responses by status."""

    def __init__(self, port, sink_port, seed):
        self.target_port, self.sink_port = port, sink_port
        self.rng = random.Random(seed)
        self.statuses = {}
        self.final = set()
        super().__init__(rcvbuf=4 << 20)

    def on_datagram(self, data):
        line = data.split(b"\r\n", 1)[0].split()
        if len(line) >= 2 and line[0] == b"SIP/2.0" and line[1].isdigit():
            code = int(line[1])
            cid = next((h.split(b":", 1)[1].strip() for h in data.split(b"\r\n") if h.lower().startswith(b"call-id:")), b"")
            if code >= 200 and (cid, code) not in self.final:
                self.final.add((cid, code))
                self.statuses[code] = self.statuses.get(code, 0) + 1

    def send(self, count, seconds):
        tok = lambda: "%016x" % self.rng.getrandbits(64)
        start = time.monotonic()
        for i in range(count):
            self.sock.sendto(invite(self.target_port, self.port, self.sink_port, tok(), tok(), tok()),
                             (LOCAL, self.target_port))
            delay = start + seconds * (i + 1) / count - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return time.monotonic() - start


class Sink(UdpReceiver):
    """A UDP socket that counts what reaches it (the 'third address' of the voice hammer)."""

    def __init__(self):
        self.datagrams = self.bytes = 0
        super().__init__()

    def on_datagram(self, data):
        self.datagrams += 1
        self.bytes += len(data)


def fail(msg):
    print("FAIL: " + msg)
    return 1


# ---- scenarios ----

def fd_exhaustion(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    listener = Listener(a.softphone, a.workdir, a.port, [], nofile=1024)
    conns, refused = [], 0
    try:
        for i in range(1020):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((f"127.0.0.{2 + i % 40}", 0))
            s.settimeout(2)
            try:
                s.connect((LOCAL, a.port))
                conns.append(s)
            except OSError:
                refused += 1
                s.close()
        time.sleep(1)
        open_now = 0
        for s in conns:  # how many the listener still keeps open (closed ones read EOF)
            s.setblocking(False)
            try:
                open_now += 0 if s.recv(1) == b"" else 1
            except BlockingIOError:
                open_now += 1
            except OSError:
                pass
        sink = Sink()
        flooder = Flooder(a.port, sink.port, 1)
        flooder.send(1, 0.01)
        deadline = time.monotonic() + 10
        while not flooder.statuses and time.monotonic() < deadline:
            time.sleep(0.05)
        statuses = dict(flooder.statuses)
        flooder.close()
        sink.close()
        alive = listener.alive()
        print(f"connections: {len(conns)} opened, {refused} refused, {open_now} still open after 1 s; "
              f"INVITE answered {statuses or 'nothing'}; listener alive: {alive}")
        for s in conns:
            s.close()
        conns = []
        if not alive:
            return fail("the listener died: " + open(listener.err_path).read()[-2000:])
        if not statuses:
            return fail("the INVITE got no final response")
        time.sleep(0.5)
        rc, report = call(a.softphone, a.workdir, a.port, [], 1)
        print(f"later call: exit {rc}, connected {report and report.get('connected')}")
        if rc != 0 or not report or not report.get("connected"):
            return fail("a later call did not connect")
    finally:
        for s in conns:
            s.close()
        listener.stop()
    print("PASS")
    return 0


def invite_flood(a):
    speech = make_speech(a.workdir)
    listener = Listener(a.softphone, a.workdir, a.port, ["--play", speech, "--record",
                                                         os.path.join(a.workdir, "heard-by-listener.wav")])
    try:
        time.sleep(1)
        idle = listener.rss()
        sink = Sink()
        result = {}
        caller = threading.Thread(target=lambda: result.update(
            zip(("rc", "report"), call(a.softphone, a.workdir, a.port,
                                       ["--play", speech, "--record", os.path.join(a.workdir, "heard-by-caller.wav")],
                                       14))))
        caller.start()
        time.sleep(3)  # the live call is up and talking
        flooder = Flooder(a.port, sink.port, 7)
        took = flooder.send(1000, 2.0)
        flood_end = time.monotonic()
        peak = listener.rss()
        caller.join(60)
        statuses = dict(flooder.statuses)
        flooder.close()
        time.sleep(max(0.0, flood_end + 30 - time.monotonic()))
        after = listener.rss()
        alive = listener.alive()
        sink.close()
        report = result.get("report") or {}
        got = windows(a.wav_match, speech, os.path.join(a.workdir, "heard-by-caller.wav"))
        heard = windows(a.wav_match, speech, os.path.join(a.workdir, "heard-by-listener.wav"))
        received, lost = report.get("packets_received", 0), report.get("packets_lost", 0)
        loss = 100.0 * lost / max(1, received + lost)
        print(f"flood: 1000 INVITEs in {took:.2f} s; final responses {statuses}; RTP to the flood's SDP address: "
              f"{sink.datagrams} datagrams")
        print(f"live call: exit {result.get('rc')}, connected {report.get('connected')}, caller received {received} "
              f"packets, lost {lost} ({loss:.2f} %)")
        print(f"live call, listener -> caller: {got}")
        print(f"live call, caller -> listener: {heard}")
        print(f"listener RSS: idle {idle / 1024:.1f} MB, end of flood {peak / 1024:.1f} MB, 30 s after the flood "
              f"{after / 1024:.1f} MB (+{(after - idle) / 1024:.1f} MB); alive {alive}")
        if not alive:
            return fail("the listener died")
        if result.get("rc") != 0 or not report.get("connected"):
            return fail("the live call failed")
        if got["median_correlation"] < 0.90 or heard["median_correlation"] < 0.90:
            return fail("the live call's speech was garbled (median window correlation < 0.90)")
        if loss > 1.0:
            return fail("the live call lost more than 1 % of its packets")
        if JUDGE_RSS and after - idle > 15 * 1024:
            return fail("RSS 30 s after the flood is more than 15 MB above idle")
    finally:
        listener.stop()
    print("PASS")
    return 0


def voice_hammer(a):
    speech = make_speech(a.workdir)
    listener = Listener(a.softphone, a.workdir, a.port, ["--play", speech])
    try:
        sink = Sink()
        flooder = Flooder(a.port, sink.port, 3)
        flooder.send(10, 0.5)
        time.sleep(5)
        statuses = dict(flooder.statuses)
        flooder.close()
        sink.close()
        print(f"10 INVITEs naming a third address: final responses {statuses}; that address received "
              f"{sink.datagrams} datagrams ({sink.bytes} bytes) in 5 s; listener alive {listener.alive()}")
        if not listener.alive():
            return fail("the listener died")
        if sink.datagrams:
            return fail("media went to an address no ACK confirmed")
    finally:
        listener.stop()
    print("PASS")
    return 0


def sipp_calls(a):
    if not shutil.which("sipp"):
        print("sipp is not installed")
        return 77
    # T1 = 100 ms: transactions end 64*T1 = 6.4 s after their last message (RFC 3261 timers H, J, L), so
    # the RSS samples below, taken 8 s after each batch, measure what calls leave behind, not what the
    # transaction layer legitimately keeps for a while (with the default T1 it keeps 32 s of calls).
    listener = Listener(a.softphone, a.workdir, a.port, ["--t1-ms", "100"], seconds=600)
    # At most 16 calls at a time (-l 16): below the MSP's 24 calls even when a loaded machine frees a call's
    # media a little after SIPp saw its BYE answered (with -l 200, a CI machine busy with other tests had more
    # than 24 calls up and got 503s). The test is about what 2000 calls leave behind, not about overload.

    def sipp(count, name):
        d = os.path.join(a.workdir, name)
        os.makedirs(d, exist_ok=True)
        r = subprocess.run(["timeout", "-k", "5", "300", "sipp", "-sn", "uac", "-r", "100", "-m", str(count),
                            "-d", "100", "-l", "16", "-i", LOCAL, "-p", str(a.port + 2), "-mp", str(a.port + 700),
                            "-s", "ptapi", "-nostdin", "-timeout", "240", "-trace_err",
                            f"{LOCAL}:{a.port}"], cwd=d, capture_output=True, text=True)
        with open(os.path.join(d, "sipp.out"), "w") as f:
            f.write(r.stdout + r.stderr)
        if r.returncode != 0:
            print(f"SIPp ({name}) exited {r.returncode}; last lines:\n" + "\n".join((r.stdout + r.stderr).splitlines()[-15:]))
        return r.returncode

    try:
        rc1 = sipp(100, "first")
        time.sleep(8)
        after_100 = listener.rss()
        rc2 = sipp(1900, "rest")
        time.sleep(8)
        after_2000 = listener.rss()
        alive = listener.alive()
        print(f"SIPp: first 100 calls exit {rc1}, next 1900 exit {rc2}; listener RSS after 100 calls "
              f"{after_100 / 1024:.1f} MB, after 2000 {after_2000 / 1024:.1f} MB "
              f"(+{(after_2000 - after_100) / 1024:.1f} MB); alive {alive}")
        if not alive:
            return fail("the listener died")
        if rc1 != 0 or rc2 != 0:
            return fail("SIPp calls failed")
        if JUDGE_RSS and after_2000 - after_100 > 8 * 1024:
            return fail("RSS grew by more than 8 MB over 1900 calls")
    finally:
        listener.stop()
    print("PASS")
    return 0


SCENARIOS = {"fd_exhaustion": fd_exhaustion, "invite_flood": invite_flood, "voice_hammer": voice_hammer,
             "sipp_calls": sipp_calls}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--softphone", required=True)
    p.add_argument("--wav-match", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--port", type=int, default=5800)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    a = p.parse_args()
    a.softphone, a.wav_match, a.workdir = (os.path.abspath(x) for x in (a.softphone, a.wav_match, a.workdir))
    if not shutil.which("sox"):
        print("sox is not installed")
        return 77
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    return SCENARIOS[a.scenario](a)


if __name__ == "__main__":
    sys.exit(main())
