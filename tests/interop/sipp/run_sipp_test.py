#!/usr/bin/env python3
"""Runs one SIPp interop test: SIPp (a built-in scenario or one of this directory's XML files) against
sip_peer, the small TAPI application of tests/interop/sip_peer.cpp (sip_tsp + rtp_opus_msp).

    run_sipp_test.py --peer build/bin/ptapi_sip_peer [--workdir DIR] TEST
    run_sipp_test.py --list

Passes (exit 0) when SIPp exits 0 (every SIPp call succeeded), sip_peer prints `result ok` and exits 0,
and the test's own checks of SIPp's message log hold. Exit 77 (ctest SKIP_RETURN_CODE) only when `sipp`
is not installed; 1 on failure. Every process is bounded by `timeout` and by SIPp's -m; everything runs
on 127.0.0.1, SIP ports 5700-5799 (a block of ten per test), SIPp media ports 6000-6399 (four per SIPp port);
the early media / 100rel / UPDATE tests use SIP and SIPp media ports 7200-7299 (a block of twenty per test);
the session timer and REFER-to-us tests SIP ports 7300-7399 and SIPp media 12400-12799 (four per SIPp port);
the consultation transfer, Replaces and forwarding tests SIP ports 8160-8189 and SIPp media 12600-12699.
"""
import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import struct
import threading
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL = "127.0.0.1"


class Peer:
    """sip_peer in the background; its stdout lines are collected as they come."""

    def __init__(self, exe, args, workdir, seconds):
        self.lines = []
        self.cond = threading.Condition()
        cmd = ["timeout", "-k", "2", str(seconds + 10), exe, "--seconds", str(seconds)] + args
        self.cmd = cmd
        self.err = open(os.path.join(workdir, "peer.stderr"), "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True, cwd=workdir)
        self.log = open(os.path.join(workdir, "peer.stdout"), "w")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.log.write(line + "\n")
            self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # EOF
            self.cond.notify_all()

    def wait_line(self, pattern, timeout):
        """The first line matching `pattern` (a regex), or None at EOF / timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if line is not None and rx.search(line):
                        return line
                if None in self.lines:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def finish(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.thread.join(5)
        self.err.close()
        self.log.close()
        return rc

    def result(self):
        with self.cond:
            for line in self.lines:
                if line and line.startswith("result "):
                    return line
        return None


def sipp_cmd(args, port, workdir, calls, extra=(), limit=60, media=None):
    """SIPp bounded by `timeout` and -m, with its control port (port + 1) and media port fixed, and
    every trace a test may need in `workdir`."""
    if media is None:  # SIPp binds the media port and the next three (audio and video RTP/RTCP)
        media = 6000 + (port - 5700) * 4  # (ports 7300-7399 thus get media 12400-12799)
    return (["timeout", "-k", "2", str(limit), "sipp"] + list(args) +
            ["-i", LOCAL, "-mi", LOCAL, "-p", str(port), "-cp", str(port + 1), "-mp", str(media),
             "-m", str(calls), "-nostdin",
             "-trace_err", "-error_file", os.path.join(workdir, "sipp_err.log"),
             "-trace_msg", "-message_file", os.path.join(workdir, "sipp_msg.log"),
             "-trace_stat", "-stf", os.path.join(workdir, "sipp_stat.csv"),
             "-trace_screen", "-screen_file", os.path.join(workdir, "sipp_screen.log")] + list(extra))


def run_sipp(cmd, workdir, background=False):
    out = open(os.path.join(workdir, "sipp.stdout"), "w")
    print("$ " + " ".join(c if len(c) < 80 else c[:20] + "...(%d chars)" % len(c) for c in cmd), flush=True)
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    if background:
        return p
    rc = p.wait()
    out.close()
    return rc


def wait_port_bound(port, timeout=5.0):
    """Waits until something has bound UDP `port` on 127.0.0.1 (SIPp as UAS must listen before the
    library calls it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((LOCAL, port))
        except OSError:
            return True
        finally:
            s.close()
        time.sleep(0.05)
    return False


def sipp_stats(workdir):
    """Last row of SIPp's -stf CSV as a dict."""
    path = os.path.join(workdir, "sipp_stat.csv")
    if not os.path.exists(path):
        return {}
    rows = [r.split(";") for r in open(path).read().splitlines() if r.strip()]
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1]))


def sipp_messages(workdir):
    """SIPp's -trace_msg log as a list of (direction 'sent'|'received', message text)."""
    path = os.path.join(workdir, "sipp_msg.log")
    if not os.path.exists(path):
        return []
    text = open(path, errors="replace").read()
    out = []
    for block in re.split(r"^-{20,} .*$", text, flags=re.M):
        m = re.match(r"\s*(?:UDP|TCP) message (sent|received)[^\n]*\n\n?(.*)", block, flags=re.S)
        if m:
            out.append((m.group(1), m.group(2).strip("\n")))
    return out


def cut_pcap(src, dst, seconds):
    """Writes the first `seconds` of the libpcap file `src` (by capture time) to `dst`; returns the
    number of packets kept."""
    data = open(src, "rb").read()
    end = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    out, off, kept, first = [data[:24]], 24, 0, None
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        t = sec + usec / 1e6
        first = t if first is None else first
        if t - first >= seconds:
            break
        out.append(data[off:off + 16 + incl])
        off += 16 + incl
        kept += 1
    open(dst, "wb").write(b"".join(out))
    return kept


def loud_seconds(samples, rate):
    """Seconds of 16-bit `samples` at `rate` Hz louder than -40 dBFS, in 20 ms blocks."""
    block = rate // 50
    loud = 0
    for i in range(0, len(samples) - block + 1, block):
        part = samples[i:i + block]
        loud += (sum(x * x for x in part) / block) ** 0.5 > 32768 * 0.01
    return loud * 0.02


def wav_loudness(path):
    """(seconds, seconds louder than -40 dBFS) of a mono 16-bit WAV."""
    with wave.open(path) as w:
        rate, n = w.getframerate(), w.getnframes()
        pcm = w.readframes(n)
    return n / float(rate), loud_seconds(struct.unpack("<%dh" % (len(pcm) // 2), pcm), rate)


def pcap_alaw_loudness(path):
    """Seconds louder than -40 dBFS of the G.711 A-law RTP payloads (Ethernet/IPv4/UDP, 12-byte RTP
    header) of a libpcap file, decoded (ITU-T G.711) at 8 kHz."""
    def alaw(b):
        b ^= 0x55
        exp, man = (b >> 4) & 7, b & 0x0F
        v = (man << 4) + 8 if exp == 0 else ((man << 4) + 0x108) << (exp - 1)
        return v if b & 0x80 else -v
    data = open(path, "rb").read()
    end = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, pcm = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        pcm += [alaw(x) for x in data[off + 16 + 14 + 20 + 8 + 12:off + 16 + incl]]
        off += 16 + incl
    return loud_seconds(pcm, 8000)


def header(msg, name):
    m = re.search(r"^%s\s*:\s*(.*)$" % re.escape(name), msg, flags=re.M | re.I)
    return m.group(1).strip() if m else None


def start_line(msg):
    return msg.split("\n", 1)[0].strip()


def digest_ok(msg, method, password):
    """Recomputes the Digest response of `msg`'s Authorization (RFC 2617 / RFC 8760: MD5 or SHA-256,
    with or without qop=auth). Returns (ok, algorithm, detail)."""
    auth = header(msg, "Authorization")
    if not auth or not auth.lower().startswith("digest "):
        return False, None, "no Digest Authorization"
    params = dict((k.lower(), v.strip('"')) for k, v in re.findall(r'(\w+)\s*=\s*("[^"]*"|[^,\s]+)', auth[7:]))
    alg = params.get("algorithm", "MD5")
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}.get(alg.upper())
    if not h:
        return False, alg, "unknown algorithm"
    H = lambda s: h(s.encode()).hexdigest()
    ha1 = H("%s:%s:%s" % (params.get("username"), params.get("realm"), password))
    ha2 = H("%s:%s" % (method, params.get("uri")))
    if params.get("qop"):
        expect = H(":".join([ha1, params.get("nonce", ""), params.get("nc", ""), params.get("cnonce", ""),
                             params["qop"], ha2]))
    else:
        expect = H("%s:%s:%s" % (ha1, params.get("nonce"), ha2))
    return expect == params.get("response"), alg, "response %s, expected %s" % (params.get("response"), expect)


class Test:
    def __init__(self, peer_exe, workdir):
        self.peer_exe = peer_exe
        self.workdir = workdir
        self.failures = []
        self.peer = None

    def check(self, cond, what):
        print(("  ok    " if cond else "  FAIL  ") + what, flush=True)
        if not cond:
            self.failures.append(what)

    def start_peer(self, args, seconds=30):
        self.peer = Peer(self.peer_exe, args, self.workdir, seconds)
        ready = self.peer.wait_line(r"^ready ", 10)
        self.check(ready is not None, "sip_peer is ready (%s)" % (ready or "no ready line"))
        return ready is not None

    def finish_peer(self, timeout=60, expect_result=r"^result ok"):
        rc = self.peer.finish(timeout)
        result = self.peer.result()
        self.check(result is not None and re.search(expect_result, result) is not None,
                   "sip_peer: %s" % (result or "no result line"))
        self.check(rc == 0, "sip_peer exit status %d" % rc)
        return result or ""

    def check_sipp(self, rc, successful=None):
        self.check(rc == 0, "SIPp exit status %d (0 = every call succeeded)" % rc)
        st = sipp_stats(self.workdir)
        if successful is not None:
            self.check(st.get("SuccessfulCall(C)") == str(successful) and st.get("FailedCall(C)") == "0",
                       "SIPp counters: SuccessfulCall(C)=%s FailedCall(C)=%s (expected %d / 0)" %
                       (st.get("SuccessfulCall(C)"), st.get("FailedCall(C)"), successful))

    # ---- library as UAS ----------------------------------------------------------------------------
    def uac_builtin(self):
        """SIPp's built-in uac places 10 calls (PCMU SDP, 500 ms each) at 5 cps; the library answers all."""
        if not self.start_peer(["--listen", "5700", "--auto-answer", "--calls", "10",
                                "--expect-states", "offering,connected,disconnected"], 40):
            return
        rc = run_sipp(sipp_cmd(["-sn", "uac", "%s:5700" % LOCAL, "-s", "service", "-r", "5", "-d", "500"],
                               5701, self.workdir, 10), self.workdir)
        self.check_sipp(rc, successful=10)
        self.finish_peer()

    def cancel(self):
        """SIPp INVITEs, waits for 180, CANCELs: 200 to the CANCEL, 487, ACK; the call ends cancelled."""
        if not self.start_peer(["--listen", "5720", "--ring", "--calls", "1", "--expect-cause", "cancelled",
                                "--expect-states", "offering,disconnected"], 20):
            return
        rc = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, "cancel.xml"), "%s:5720" % LOCAL, "-s", "service"],
                               5721, self.workdir, 1), self.workdir)
        self.check_sipp(rc, successful=1)
        self.finish_peer()
        msgs = sipp_messages(self.workdir)
        got = [start_line(m) for d, m in msgs if d == "received"]
        self.check(any(s.startswith("SIP/2.0 487") for s in got), "the INVITE was answered 487 (%s)" % ", ".join(got))

    def retransmitted_invite(self):
        """The same INVITE twice (same branch): one call, the same 180 (To tag) to both copies."""
        if not self.start_peer(["--listen", "5770", "--auto-answer", "--answer-after", "1500", "--calls", "1",
                                "--expect-states", "offering,connected,disconnected"], 20):
            return
        rc = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, "retransmitted_invite.xml"), "%s:5770" % LOCAL,
                                "-s", "service", "-nr"], 5771, self.workdir, 1), self.workdir)
        self.check_sipp(rc, successful=1)
        result = self.finish_peer()
        self.check("offered=1 " in result, "exactly one call offered")
        msgs = sipp_messages(self.workdir)
        invites = [m for d, m in msgs if d == "sent" and start_line(m).startswith("INVITE ")]
        self.check(len(invites) == 2 and invites[0] == invites[1], "SIPp sent the identical INVITE twice")
        ringing = [m for d, m in msgs if d == "received" and start_line(m).startswith("SIP/2.0 180")]
        tags = set(re.search(r"tag=([^;>\s]*)", header(m, "To") or "").group(1) for m in ringing
                   if re.search(r"tag=", header(m, "To") or ""))
        self.check(len(ringing) >= 2 and len(tags) == 1,
                   "each INVITE copy got the same 180 (%d x 180, To tags %s)" % (len(ringing), sorted(tags)))

    def malformed(self):
        """Garbage, a non-SIP datagram, an oversized INVITE and an INVITE without Call-ID (400) while a
        call is up: the call stays up (in-dialog OPTIONS 200, BYE 200)."""
        if not self.start_peer(["--listen", "5790", "--auto-answer", "--calls", "1",
                                "--expect-states", "offering,connected,disconnected"], 30):
            return
        big = "x" * 10000
        sipp = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, "malformed.xml"), "%s:5790" % LOCAL, "-s", "service",
                                  "-key", "big", big], 5791, self.workdir, 1), self.workdir, background=True)
        connected = self.peer.wait_line(r"^call 1 connected", 10)
        self.check(connected is not None, "the call is up before the bad input")
        time.sleep(1.0)  # SIPp has sent garbage, the non-SIP datagram and the oversized INVITE by now
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((LOCAL, 5795))
        s.settimeout(3)
        no_call_id = ("INVITE sip:service@127.0.0.1:5790 SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:5795;branch=z9hG4bK-nocallid-1\r\n"
                      "From: <sip:raw@127.0.0.1:5795>;tag=raw1\r\n"
                      "To: <sip:service@127.0.0.1:5790>\r\n"
                      "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        s.sendto(no_call_id.encode(), (LOCAL, 5790))
        try:
            reply = s.recv(65536).decode(errors="replace")
        except socket.timeout:
            reply = ""
        s.close()
        open(os.path.join(self.workdir, "no_call_id_reply.txt"), "w").write(reply)
        self.check(reply.startswith("SIP/2.0 400"), "an INVITE without Call-ID is answered 400 (%s)" %
                   (start_line(reply) if reply else "no reply in 3 s"))
        try:
            rc = sipp.wait(timeout=40)
        except subprocess.TimeoutExpired:
            sipp.kill()
            rc = sipp.wait()
        self.check_sipp(rc, successful=1)
        result = self.finish_peer()
        self.check("offered=1 " in result, "no call was made of the bad input")
        got = [start_line(m) for d, m in sipp_messages(self.workdir) if d == "received"]
        self.check("SIP/2.0 200 OK" in got and not any(g.startswith("SIP/2.0 481") for g in got),
                   "in-dialog OPTIONS and BYE answered in the surviving dialog (%s)" % ", ".join(got))

    # ---- library as UAC ----------------------------------------------------------------------------
    def _uas(self, port, scenario, calls=1, extra=()):
        args = ["-sn", "uas"] if scenario == "uas" else ["-sf", os.path.join(HERE, scenario)]
        p = run_sipp(sipp_cmd(args + list(extra), port, self.workdir, calls), self.workdir, background=True)
        if not wait_port_bound(port):
            self.check(False, "SIPp listens on %d" % port)
        return p

    def _wait_sipp(self, p, timeout=60):
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    def uas_builtin(self):
        """The library calls SIPp's built-in uas 5 times (180, 200, ACK) and hangs up each after 500 ms."""
        sipp = self._uas(5711, "uas", calls=5)
        if self.start_peer(["--listen", "5710", "--call", "sip:service@127.0.0.1:5711", "--calls", "5",
                            "--hangup-after", "500", "--expect-states", "in_progress,connected,disconnected"], 40):
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp), successful=5)

    def busy_486(self):
        """SIPp answers 486 and expects the ACK; the library reports busy."""
        sipp = self._uas(5731, "busy_486.xml")
        if self.start_peer(["--listen", "5730", "--call", "sip:service@127.0.0.1:5731", "--calls", "1",
                            "--expect-cause", "busy", "--expect-states", "in_progress,disconnected"], 20):
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp), successful=1)

    def _auth_invite(self, port, algorithm):
        sipp = self._uas(port + 1, "auth_invite.xml",
                         extra=["-key", "algorithm", algorithm, "-key", "verify", "1" if algorithm == "MD5" else "0"])
        if self.start_peer(["--listen", str(port), "--account", "sip:alice@127.0.0.1", "--password", "secret",
                            "--realm", "sipp.test", "--call", "sip:service@127.0.0.1:%d" % (port + 1), "--calls", "1", "--hangup-after", "500",
                            "--expect-states", "in_progress,connected,disconnected"], 20):
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp), successful=1)
        invites = [m for d, m in sipp_messages(self.workdir) if d == "received" and start_line(m).startswith("INVITE ")]
        self.check(len(invites) == 2, "two INVITEs: the challenged one and the authorized one (%d)" % len(invites))
        if len(invites) == 2:
            ok, alg, detail = digest_ok(invites[1], "INVITE", "secret")
            self.check(ok and alg.upper() == algorithm, "the Digest %s response is right (%s: %s)" % (algorithm, alg, detail))
            self.check(header(invites[0], "Call-ID") == header(invites[1], "Call-ID"), "the retry keeps the Call-ID")

    def auth_invite(self):
        """401 (Digest MD5, qop=auth) to the first INVITE; the second carries credentials SIPp verifies."""
        self._auth_invite(5740, "MD5")

    def auth_invite_sha256(self):
        """401 with algorithm=SHA-256 (RFC 8760); the runner recomputes the response from SIPp's log."""
        self._auth_invite(5745, "SHA-256")

    def register_auth(self):
        """REGISTER, 401, REGISTER with verified credentials, 200; address in service; un-REGISTER at shutdown."""
        sipp = self._uas(5751, "register_auth.xml")
        if self.start_peer(["--listen", "5750", "--account", "sip:alice@127.0.0.1", "--password", "secret",
                            "--registrar", "127.0.0.1:5751", "--register-only", "--calls", "0"], 20):
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp), successful=1)
        regs = [m for d, m in sipp_messages(self.workdir) if d == "received" and start_line(m).startswith("REGISTER ")]
        self.check(len(regs) >= 2, "REGISTER retried with credentials (%d REGISTERs)" % len(regs))
        if len(regs) >= 2:
            ok, alg, detail = digest_ok(regs[1], "REGISTER", "secret")
            self.check(ok, "the REGISTER Digest response is right (%s: %s)" % (alg, detail))

    def hold(self):
        """hold: re-INVITE a=sendonly (SIPp answers recvonly); unhold: a=sendrecv; then BYE."""
        sipp = self._uas(5761, "hold.xml")
        if self.start_peer(["--listen", "5760", "--call", "sip:service@127.0.0.1:5761", "--calls", "1",
                            "--hold-after", "500", "--unhold-after", "1500", "--hangup-after", "2500",
                            "--expect-states", "in_progress,connected,hold,connected,disconnected"], 20):
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp), successful=1)

    def remote_bye(self):
        """SIPp answers, then hangs up with BYE: the library answers 200 and reports disconnected normal."""
        sipp = self._uas(5781, "remote_bye.xml")
        if self.start_peer(["--listen", "5780", "--call", "sip:service@127.0.0.1:5781", "--calls", "1",
                            "--expect-cause", "normal", "--expect-states", "in_progress,connected,disconnected"], 20):
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp), successful=1)

    # ---- extensions: REFER to us (RFC 3515), session timers (RFC 4028) ------------------------------
    def refer_transferee(self):
        """SIPp answers, then transfers the library with REFER to a second SIPp: 202, NOTIFY 100 and
        200 sipfrags, a new call (reason transfer, Referred-By) answered by the target; SIPp's BYE ends
        the old call; the library hangs up the new one."""
        target_dir = os.path.join(self.workdir, "target")
        os.makedirs(target_dir, exist_ok=True)
        target = run_sipp(sipp_cmd(["-sn", "uas"], 7305, target_dir, 1), target_dir, background=True)
        wait_port_bound(7305)
        sipp = self._uas(7301, "refer_transferee.xml", extra=["-key", "target", "sip:target@127.0.0.1:7305"])
        if self.start_peer(["--listen", "7300", "--call", "sip:service@127.0.0.1:7301", "--calls", "1",
                            "--transfers", "1", "--hangup-after", "1500", "--t1", "100",
                            "--expect-states", "in_progress,connected,disconnected"], 15):
            placed = self.peer.wait_line(r"^call 2 placed ", 10)
            self.check(placed is not None and "reason=transfer" in placed and "to=sip:target@127.0.0.1:7305" in placed,
                       "the REFER's call is a new call with reason transfer (%s)" % placed)
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp, 20), successful=1)
        rc = self._wait_sipp(target, 20)
        self.check(rc == 0, "the target SIPp took the new call (exit status %d)" % rc)
        invites = [m for d, m in sipp_messages(target_dir) if d == "received" and start_line(m).startswith("INVITE ")]
        self.check(len(invites) == 1 and header(invites[0], "Referred-By") == "<sip:transferor@127.0.0.1:7301>",
                   "the new INVITE carries the REFER's Referred-By (%s)" % (header(invites[0], "Referred-By") if invites else "no INVITE"))

    def session_timer(self):
        """SIPp answers 422 (Min-SE 2) and the library retries with Session-Expires 2; SIPp's 200 requires
        timer with refresher=uac, and the library refreshes with a re-INVITE before the interval ends."""
        sipp = self._uas(7321, "session_timer.xml")
        if self.start_peer(["--listen", "7320", "--call", "sip:service@127.0.0.1:7321", "--calls", "1",
                            "--session-expires", "1", "--min-se", "1", "--hangup-after", "1800",
                            "--expect-states", "in_progress,connected,disconnected"], 15):
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp, 20), successful=1)
        invites = [m for d, m in sipp_messages(self.workdir) if d == "received" and start_line(m).startswith("INVITE ")]
        self.check(len(invites) == 3, "INVITE, INVITE after the 422, refresh re-INVITE (%d INVITEs)" % len(invites))

    def session_timer_update(self):
        """SIPp's 200 allows UPDATE and requires timer with refresher=uac (Session-Expires 2): the library
        refreshes twice by UPDATE without an offer (RFC 4028 §9), never by re-INVITE, then hangs up.
        SIP 7836 (library) and 7837 (SIPp, control 7838), SIPp media 7844-7847."""
        sipp = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, "session_timer_update.xml")], 7837, self.workdir, 1,
                                 media=7844), self.workdir, background=True)
        if not wait_port_bound(7837):
            self.check(False, "SIPp listens on 7837")
        if self.start_peer(["--listen", "7836", "--call", "sip:service@127.0.0.1:7837", "--calls", "1",
                            "--session-expires", "1", "--min-se", "1", "--hangup-after", "2500",
                            "--expect-states", "in_progress,connected,disconnected"], 15):
            self.finish_peer()
        self.check_sipp(self._wait_sipp(sipp, 20), successful=1)
        received = [m for d, m in sipp_messages(self.workdir) if d == "received"]
        invites = [m for m in received if start_line(m).startswith("INVITE ")]
        updates = [m for m in received if start_line(m).startswith("UPDATE ")]
        self.check(len(invites) == 1 and len(updates) == 2,
                   "one INVITE and two refresh UPDATEs (%d INVITEs, %d UPDATEs)" % (len(invites), len(updates)))

    def redirect(self):
        """SIPp answers 302 with two Contacts (q=0.1 and q=0.9); the library ACKs it and calls the q=0.9
        target with a new INVITE (CSeq 2) whose History-Info records the retargeting (RFC 7044), which SIPp
        answers; the call's detail names the redirection."""
        self._call_scenario("redirect.xml", 7260, ["--hangup-after", "300"])
        invites = [m for d, m in sipp_messages(self.workdir) if d == "received" and start_line(m).startswith("INVITE ")]
        self.check(len(invites) == 2 and start_line(invites[1]).startswith("INVITE sip:moved@"),
                   "INVITE, then INVITE to the q=0.9 Contact (%s)" % [start_line(m) for m in invites])
        hi = header(invites[1], "History-Info") if len(invites) == 2 else None
        self.check(hi == "<sip:service@127.0.0.1:7261?Reason=SIP%3Bcause%3D302>;index=1, "
                         "<sip:moved@127.0.0.1:7261;cause=302>;index=1.1;mp=1",
                   "the new INVITE's History-Info records the retargeting (RFC 7044: %s)" % hi)
        acks = [m for d, m in sipp_messages(self.workdir) if d == "received" and start_line(m).startswith("ACK ")]
        self.check(len(acks) == 2 and (header(acks[0], "CSeq") or "").split()[0] == "1",
                   "the 302 ACKed in its transaction (CSeq 1), the 200 by the dialog (%d ACKs)" % len(acks))

    # ---- consultation transfer, Replaces, forwarding (issue 11): SIP 8160-8189, SIPp media 12600-12699 ------
    def consult_transfer(self):
        """The library calls SIPp A, then transfers it to SIPp B by consultation (transfer(consult) holds A and
        calls B; finish(as_transfer)): A gets a REFER whose Refer-To is B's Contact with an escaped Replaces
        naming the consultation dialog (RFC 5589 §7.1, RFC 3891: B's Call-ID, to-tag = B's tag, from-tag =
        the library's) and a Referred-By; A's NOTIFY with the sipfrag "SIP/2.0 200 OK" ends both calls of
        the library (BYE to A and to B), disconnected normal."""
        target_dir = os.path.join(self.workdir, "target")
        os.makedirs(target_dir, exist_ok=True)
        target = run_sipp(sipp_cmd(["-sn", "uas"], 8165, target_dir, 1, media=12604), target_dir, background=True)
        self.check(wait_port_bound(8165), "SIPp B (the transfer target) listens on 8165")
        sipp = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, "consult_transferee.xml")], 8161, self.workdir, 1,
                                 media=12600), self.workdir, background=True)
        self.check(wait_port_bound(8161), "SIPp A (the transferee) listens on 8161")
        if self.start_peer(["--listen", "8160", "--call", "sip:service@127.0.0.1:8161", "--calls", "1",
                            "--consult", "sip:target@127.0.0.1:8165", "--finish-after", "300", "--t1", "100"], 15):
            self.finish_peer()
            lines = [l for l in self.peer.lines if l]
            self.check("call 1 transfer ok" in lines and "call 2 finish ok" in lines,
                       "transfer(consult) and finish(as_transfer) completed")
            states = lambda n: [l.split()[2] for l in lines if re.match(r"^call %d (in_progress|connected|hold|disconnected)" % n, l)]
            self.check(states(1) == ["in_progress", "connected", "hold", "disconnected"],
                       "the primary call: in_progress, connected, hold, disconnected (%s)" % states(1))
            self.check(states(2) == ["in_progress", "connected", "disconnected"],
                       "the consultation call: in_progress, connected, disconnected (%s)" % states(2))
            self.check("call 1 disconnected normal" in lines and "call 2 disconnected normal" in lines,
                       "both calls disconnected normal after the NOTIFY's 200 sipfrag")
        self.check_sipp(self._wait_sipp(sipp, 20), successful=1)
        rc = self._wait_sipp(target, 20)
        self.check(rc == 0, "SIPp B took the consultation call and the library's BYE (exit status %d)" % rc)
        a_msgs = sipp_messages(self.workdir)
        b_msgs = sipp_messages(target_dir)
        refers = [m for d, m in a_msgs if d == "received" and start_line(m).startswith("REFER ")]
        b_invite = next((m for d, m in b_msgs if d == "received" and start_line(m).startswith("INVITE ")), None)
        b_ok = next((m for d, m in b_msgs if d == "sent" and start_line(m).startswith("SIP/2.0 200")
                     and "INVITE" in (header(m, "CSeq") or "")), None)
        self.check(len(refers) == 1 and b_invite is not None and b_ok is not None,
                   "one REFER at A, the consultation INVITE and its 200 at B")
        if len(refers) != 1 or b_invite is None or b_ok is None:
            return
        refer_to = header(refers[0], "Refer-To") or ""
        m = re.match(r"^<([^?>]*)\?([^>]*)>", refer_to)
        self.check(m is not None and m.group(1) == re.search(r"<([^>]*)>", header(b_ok, "Contact")).group(1),
                   "Refer-To is B's Contact with URI headers (%s)" % refer_to)
        fields = dict(f.split("=", 1) for f in (m.group(2) if m else "").split("&") if "=" in f)
        raw = fields.get("Replaces", "")
        self.check(";" not in raw and "%3B" in raw.upper(), "the Replaces value is escaped in the URI (%s)" % raw)
        value = re.sub(r"%([0-9A-Fa-f]{2})", lambda x: chr(int(x.group(1), 16)), raw)
        parts = value.split(";")
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        tag = lambda h: (re.search(r"tag=([^;>\s]+)", h or "") or [None, None])[1]
        expect = (header(b_invite, "Call-ID"), tag(header(b_ok, "To")), tag(header(b_invite, "From")))
        got = (parts[0], params.get("to-tag"), params.get("from-tag"))
        self.check(got == expect and None not in expect,
                   "Replaces names the consultation dialog: call-id, to-tag (B's), from-tag (ours) %s == %s" % (got, expect))
        self.check(bool(header(refers[0], "Referred-By")), "the REFER has a Referred-By (%s)" % header(refers[0], "Referred-By"))
        byes = [m for d, m in a_msgs if d == "received" and start_line(m).startswith("BYE ")]
        b_byes = [m for d, m in b_msgs if d == "received" and start_line(m).startswith("BYE ")]
        self.check(len(byes) == 1 and len(b_byes) == 1, "the library sent BYE to A and to B (%d, %d)" % (len(byes), len(b_byes)))

    def invite_replaces(self):
        """SIPp A calls the library (answered). SIPp B then sends INVITEs with Replaces: naming an unknown
        Call-ID, then A's Call-ID with a wrong to-tag: 481 each (RFC 3891 §3); then A's dialog exactly: the
        library answers it at once (200, no 180), reports the new call with reason transfer, ends A's call
        with BYE (disconnected normal); B hangs up the new call."""
        if not self.start_peer(["--listen", "8170", "--auto-answer", "--calls", "2", "--trace", "--t1", "100",
                                "--expect-states", "offering,connected,disconnected"], 15):
            return
        original = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, "replaces_original.xml"), "%s:8170" % LOCAL,
                                      "-s", "service", "-cid_str", "orig-%u@sipp"], 8171, self.workdir, 1, media=12608),
                            self.workdir, background=True)
        try:
            self._replace(original)
        finally:
            if original.poll() is None:  # an early failure: do not leave SIPp A on its ports
                original.kill()

    def _replace(self, original):
        self.check(self.peer.wait_line(r"^call 1 connected", 10) is not None, "A's call is connected")
        ok = None
        deadline = time.monotonic() + 5
        while ok is None and time.monotonic() < deadline:  # the library's 200 to A, from its --trace output
            text = open(os.path.join(self.workdir, "peer.stderr"), errors="replace").read()
            for block in text.split("---- sent\n")[1:]:
                if block.startswith("SIP/2.0 200") and "orig-1@sipp" in (header(block, "Call-ID") or "") \
                        and "INVITE" in (header(block, "CSeq") or ""):
                    ok = block
            time.sleep(0.05)
        self.check(ok is not None, "the library's 200 to A is in its trace")
        to_tag = re.search(r"tag=([^;>\s]+)", header(ok or "", "To") or "")
        if not to_tag:
            return self.check(False, "the 200 to A has a To tag")
        bdir = os.path.join(self.workdir, "replacing")
        os.makedirs(bdir, exist_ok=True)
        rc = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, "replaces_invite.xml"), "%s:8170" % LOCAL, "-s", "service",
                                "-key", "replaced", "orig-1@sipp", "-key", "to_tag", to_tag.group(1),
                                "-key", "from_tag", "orig-1"], 8173, bdir, 1, media=12612), bdir)
        self.check(rc == 0, "SIPp B: 481, 481, then 200 to the INVITE with the right Replaces (exit status %d)" % rc)
        self.finish_peer()
        lines = [l for l in self.peer.lines if l]
        self.check("call 2 replacing reason=transfer" in lines, "the replacing call is reported with reason transfer")
        self.check("call 1 disconnected normal" in lines and "call 2 disconnected normal" in lines,
                   "the replaced call and the new one both ended normal")
        self.check_sipp(self._wait_sipp(original, 20), successful=1)
        got = [start_line(m) for d, m in sipp_messages(bdir) if d == "received"]
        self.check([g.split()[1] for g in got if g.startswith("SIP/2.0") and g.split()[1] != "100"] == ["481", "481", "200", "200"],
                   "B got 481, 481, 200 (INVITE), 200 (BYE) (%s)" % got)

    def forward_302(self):
        """address::forward in the three modes, one SIPp call each: unconditional (302 at once, no call
        offered), busy (the application's rejection becomes a 302) and no answer (180, then the 302 after 2
        rings of 100 ms). Each 302's Contact is the forward target with the RFC 4458 cause (302, 486, 408),
        and its Diversion (RFC 5806 §4) names the forwarding address with the reason and counter=1."""
        target = "sip:elsewhere@127.0.0.1:8189"
        modes = [("unconditional", [], "302", "unconditional", 0),
                 ("busy", ["--reject", "486"], "486", "user-busy", 1),
                 ("no_answer", ["--ring", "--forward-rings", "2", "--ring-period", "100"], "408", "no-answer", 1)]
        for mode, extra, cause, reason, calls in modes:
            print("  --    %s" % mode, flush=True)
            if not self.start_peer(["--listen", "8180", "--account", "sip:bob@127.0.0.1", "--forward", target,
                                    "--forward-mode", mode, "--forwards", "1", "--calls", str(calls),
                                    "--linger", "100"] + extra, 15):
                return
            d = os.path.join(self.workdir, mode)
            os.makedirs(d, exist_ok=True)
            rc = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, "forward_302.xml"), "%s:8180" % LOCAL, "-s", "bob"],
                                   8181, d, 1, media=12616), d)
            self.check(rc == 0, "%s: SIPp got the 302 it expected (exit status %d)" % (mode, rc))
            self.finish_peer()
            got = [m for dd, m in sipp_messages(d) if dd == "received" and not start_line(m).startswith("SIP/2.0 100")]
            self.check([start_line(m).split()[1] for m in got] == (["302"] if mode == "unconditional" else ["180", "302"]),
                       "%s: the responses (%s)" % (mode, [start_line(m) for m in got]))
            moved = got[-1] if got else ""
            self.check(header(moved, "Contact") == "<%s;cause=%s>" % (target, cause),
                       "%s: Contact is the target with cause=%s (%s)" % (mode, cause, header(moved, "Contact")))
            self.check(header(moved, "Diversion") == "<sip:bob@127.0.0.1>;reason=%s;counter=1" % reason,
                       "%s: Diversion names bob, reason %s (%s)" % (mode, reason, header(moved, "Diversion")))

    # ---- early media, 100rel, UPDATE (ports 7200-7299) -----------------------------------------------
    def _call_scenario(self, scenario, port, peer_args):
        """SIPp plays `scenario` as UAS on port + 1 (media ports port + 10...); sip_peer on `port` calls it
        once with `peer_args`, expecting in_progress, connected, disconnected."""
        p = run_sipp(sipp_cmd(["-sf", os.path.join(HERE, scenario)], port + 1, self.workdir, 1, media=port + 10),
                     self.workdir, background=True)
        self.check(wait_port_bound(port + 1), "SIPp listens on %d" % (port + 1))
        started = self.start_peer(["--listen", str(port), "--call", "sip:service@127.0.0.1:%d" % (port + 1),
                                   "--calls", "1", "--expect-states", "in_progress,connected,disconnected"] +
                                  list(peer_args), 20)
        if started:
            self.finish_peer()
        self.check_sipp(self._wait_sipp(p), successful=1)
        return started

    def early_media(self):
        """183 with SDP and 2 s of G.711 RTP before the 200: the call is in progress, its render stream is
        active and the recording gets the early audio before `connected`; the 200's SDP is the same."""
        pcap = os.path.join(self.workdir, "early.pcap")
        kept = cut_pcap("/usr/share/sip-tester/g711a.pcap", pcap, 2.0)
        self.check(kept > 50, "early.pcap cut from sip-tester's g711a.pcap (%d packets)" % kept)
        rec = os.path.join(self.workdir, "early.wav")
        if not self._call_scenario("early_media.xml", 7200, ["--hangup-after", "300", "--record", rec]):
            return
        lines = [l for l in self.peer.lines if l]
        idx = lambda rx: next((i for i, l in enumerate(lines) if re.search(rx, l)), None)
        a, c = idx(r"^call 1 stream_active render"), idx(r"^call 1 connected")
        self.check(a is not None and c is not None and a < c,
                   "the render stream became active before the call was connected (lines %s, %s)" % (a, c))
        recorded = lines[idx(r"^call 1 recorded ")] if idx(r"^call 1 recorded ") is not None else ""
        self.check("before_connected=1" in recorded, "the first recorded sample came before connected (%s)" % recorded)
        if not os.path.exists(rec):
            return self.check(False, "no recording at %s" % rec)
        secs, loud = wav_loudness(rec)
        sent = pcap_alaw_loudness(pcap)
        print("  info  sent %.2f s above -40 dBFS; recorded %.2f s, %.2f s above -40 dBFS" % (sent, secs, loud), flush=True)
        # SIPp sends RTP only before the 200; the call lasts 0.3 s after it.
        self.check(sent > 0.5 and loud >= 0.8 * sent,
                   "the recording holds the early audio (%.2f s loud; %.2f s sent)" % (loud, sent))

    def prack_required(self):
        """SIPp requires 100rel: the INVITE says Supported: 100rel; the reliable 183 (resent after the PRACK)
        is PRACKed once with the right RAck; the 200 without SDP takes the answer of the 183."""
        self._call_scenario("prack.xml", 7220, ["--hangup-after", "500"])
        pracks = [m for d, m in sipp_messages(self.workdir) if d == "received" and start_line(m).startswith("PRACK ")]
        self.check(len(pracks) == 1, "one PRACK for the 183 sent twice (%d)" % len(pracks))

    def update(self):
        """UPDATE with an offer in the confirmed dialog: 200 with the library's answer and Contact; UPDATE
        without SDP: 200; the call stays up until the library hangs up."""
        self._call_scenario("update.xml", 7240, ["--hangup-after", "2000"])
        ok = [m for d, m in sipp_messages(self.workdir) if d == "received" and start_line(m).startswith("SIP/2.0 200")
              and "UPDATE" in (header(m, "CSeq") or "")]
        self.check(len(ok) == 2 and "m=audio" in ok[0], "both UPDATEs answered 200, the first with SDP (%d)" % len(ok))


TESTS = ["uac_builtin", "uas_builtin", "cancel", "busy_486", "auth_invite", "auth_invite_sha256", "register_auth",
         "hold", "retransmitted_invite", "remote_bye", "malformed", "early_media", "prack_required", "update",
         "refer_transferee", "session_timer", "session_timer_update", "redirect", "consult_transfer",
         "invite_replaces", "forward_302"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", help="path of ptapi_sip_peer")
    ap.add_argument("--workdir", help="directory for logs (default: /tmp/ptapi-sipp-TEST)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("test", nargs="?", choices=TESTS)
    a = ap.parse_args()
    if a.list:
        print("\n".join(TESTS))
        return 0
    if not a.test or not a.peer:
        ap.error("TEST and --peer are required")
    if shutil.which("sipp") is None:
        print("SKIP: sipp is not installed (Debian: apt-get install sip-tester)")
        return 77
    workdir = a.workdir or "/tmp/ptapi-sipp-" + a.test
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    t = Test(os.path.abspath(a.peer), workdir)
    print("== %s: %s" % (a.test, getattr(Test, a.test).__doc__.strip()), flush=True)
    getattr(t, a.test)()
    if t.failures:
        print("FAILED (%d checks); logs in %s" % (len(t.failures), workdir))
        for name in ("peer.stdout", "sipp_err.log"):
            path = os.path.join(workdir, name)
            if os.path.exists(path) and os.path.getsize(path):
                print("---- %s (last 40 lines)" % name)
                print("\n".join(open(path, errors="replace").read().splitlines()[-40:]))
        return 1
    print("PASSED; logs in %s" % workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
