#!/usr/bin/env python3
"""ptapi servers behind a real SIP load balancer: Kamailio's dispatcher module (issue 8, "Scaling past one machine").

    dispatcher_test.py --softphone build/bin/softphone --workdir DIR [--port 5900]

Three `softphone listen --auto-answer` instances (SIP on 127.0.0.1:P+1..P+3) sit behind Kamailio
(examples/kamailio/kamailio.cfg on 127.0.0.1:P+10, destinations from a copy of examples/kamailio/dispatcher.list
with the instances' ports). SIPp (127.0.0.1:P+20, media P+700, control P+25) places calls at Kamailio with
uac_record_route.xml (the built-in `uac` that follows Record-Route).

  1. spread    60 calls at 10 calls/s, 300 ms each: every call succeeds and each instance answered
               >= 20 % of them (counted from the instance's own JSON call reports).
  2. failover  60 more calls; after 2 s one instance gets SIGKILL. The failure_route (an INVITE that times
               out) or the OPTIONS probing (every 1 s; one failed probe takes a destination out) marks it down
               within 5 s. Every call whose INVITE left after the kill succeeds (the failure_route moves
               INVITEs that time out to the next instance); the only calls allowed to fail are those the killed
               instance had already rung or answered (their BYE, or their final reply, has nowhere to go or
               come from: no proxy can save those).
  3. probing   the killed instance is restarted: the probes bring it back up, and 60 calls spread over all
               three again; then another instance is killed with no calls running: the probes alone must
               take it out within 5 s, and `kamcmd dispatcher.list` must show it inactive, the others active.

Prints the figures (calls per instance, detection time, calls failed over and failed), then `PASS` or
`FAIL: why`; exit 0 / 1, 77 when kamailio or sipp is not installed. Bounded: every process has a deadline and
the whole run takes about 25 s.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

LOCAL = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "hardening"))
from attacks import Listener  # noqa: E402  (the same `softphone listen` wrapper as the attack tests)

EXAMPLES = os.path.join(HERE, "..", "..", "..", "examples", "kamailio")
SCENARIO = os.path.join(HERE, "uac_record_route.xml")
CALLS, RATE, HOLD_MS = 60, 10, 300
# A call the killed instance had rung (180) but not answered when it died waits this long for its final
# reply, then fails with 408 (the cfg does not move calls that got a provisional reply).
FR_INV_TIMER_MS = 3000


def which(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def listen(softphone, workdir, port, tag=""):
    """One `softphone listen --auto-answer --json` instance in its own directory (attacks.py's Listener)."""
    d = os.path.join(workdir, f"listen-{port}{tag}")
    os.makedirs(d)
    listener = Listener(softphone, d, port, ["--json"])
    listener.port = port
    return listener


def connected_reports(listener):
    """How many calls the instance itself reports as connected (its JSON report lines)."""
    return sum(1 for r in listener.reports() if r.get("connected"))


def calls_up(listener):
    """Call numbers the instance reports offering or connected and not yet disconnected."""
    up = set()
    for m in re.finditer(r"^call (\d+) \S+: (offering|connected|disconnected)", open(listener.out_path).read(), re.M):
        (up.discard if m.group(2) == "disconnected" else up.add)(int(m.group(1)))
    return up


class Kamailio:
    """Kamailio in the foreground (-DD -E) in its own session; its stderr lines are kept with arrival times."""

    def __init__(self, workdir, port, ds_list, cfg):
        self.run = os.path.join(workdir, "kamailio-run")
        os.makedirs(self.run)
        self.ctl = f"unix:{self.run}/kamailio_ctl"
        self.lines = []  # (time.time(), line)
        self.log = open(os.path.join(workdir, "kamailio.err"), "w")
        self.proc = subprocess.Popen(
            [which("kamailio"), "-f", cfg, "-DD", "-E", "-w", workdir, "-Y", self.run,
             "-P", os.path.join(self.run, "kamailio.pid"), "-m", "32", "-M", "4",
             "-A", f"LISTEN=udp:{LOCAL}:{port}", "-A", f'DS_LIST="{ds_list}"', "-A", f'CTL_SOCKET="{self.ctl}"',
             "-A", f"FR_INV_TIMER_MS={FR_INV_TIMER_MS}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append((time.time(), line.rstrip("\n")))
            self.log.write(line)
            self.log.flush()

    def matching(self, pattern):
        return [(t, l) for t, l in list(self.lines) if re.search(pattern, l)]

    def rpc(self, *args):
        kamcmd = which("kamcmd")
        if not kamcmd:
            return None
        r = subprocess.run([kamcmd, "-s", self.ctl] + list(args), capture_output=True, text=True, timeout=10)
        return r.stdout if r.returncode == 0 else None

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.reader.join(5)
        self.log.close()


def options_ok(port, timeout=0.5):
    """Does 127.0.0.1:port answer an OPTIONS with 200? (kamailio.cfg answers OPTIONS to itself.)"""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((LOCAL, 0))
        s.settimeout(timeout)
        me = s.getsockname()[1]
        s.sendto((f"OPTIONS sip:{LOCAL}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {LOCAL}:{me};branch=z9hG4bKready{me}\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:test@{LOCAL}>;tag=ready\r\nTo: <sip:{LOCAL}:{port}>\r\n"
                  f"Call-ID: ready-{me}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), (LOCAL, port))
        return s.recv(65535).startswith(b"SIP/2.0 200")
    except OSError:
        return False
    finally:
        s.close()


def wait_for(pred, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def start_sipp(workdir, name, base, kamailio_port, calls=CALLS):
    d = os.path.join(workdir, name)
    os.makedirs(d)
    cmd = ["timeout", "-k", "5", "40", "sipp", "-sf", SCENARIO, "-r", str(RATE), "-m", str(calls), "-l", "50",
           "-d", str(HOLD_MS), "-i", LOCAL, "-p", str(base + 20), "-mp", str(base + 700), "-cp", str(base + 25),
           "-s", "ptapi", "-nostdin", "-timeout", "30", "-trace_msg", "-message_file", os.path.join(d, "messages.log"),
           "-trace_err", "-error_file", os.path.join(d, "errors.log"), "-trace_stat", "-stf", os.path.join(d, "stat.csv"),
           f"{LOCAL}:{kamailio_port}"]
    out = open(os.path.join(d, "sipp.out"), "w")
    return subprocess.Popen(cmd, cwd=d, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), d


def sipp_calls(d):
    """Per Call-ID from SIPp's message log: INVITE send time, the instance that first replied (Contact port of
    the first 18x/200 from a server) and when, the instance that answered (200's Contact), and whether the BYE
    got its 200 (the call succeeded)."""
    calls = {}
    text = open(os.path.join(d, "messages.log"), errors="replace").read()
    for block in re.split(r"^-{20,} ", text, flags=re.M)[1:]:
        stamp, _, rest = block.partition("\n")
        try:
            t = datetime.datetime.strptime(stamp.strip()[:26], "%Y-%m-%d %H:%M:%S.%f").timestamp()
        except ValueError:
            continue
        sent = rest.startswith("UDP message sent")
        msg = rest.split("\n", 2)[-1]
        cid = re.search(r"^Call-ID:\s*(\S+)", msg, re.M | re.I)
        cseq = re.search(r"^CSeq:\s*\d+\s+(\w+)", msg, re.M | re.I)
        if not cid or not cseq:
            continue
        c = calls.setdefault(cid.group(1), {"invite": None, "reached_by": None, "reached": None,
                                            "answered_by": None, "ok": False})
        first = msg.split("\n", 1)[0]
        contact = re.search(r"^Contact:.*?:(\d+)>?", msg, re.M | re.I)
        if sent and first.startswith("INVITE") and c["invite"] is None:
            c["invite"] = t
        elif not sent and cseq.group(1) == "INVITE" and re.match(r"SIP/2.0 (18\d|200) ", first) and contact:
            if c["reached"] is None:
                c["reached_by"], c["reached"] = int(contact.group(1)), t
            if first.startswith("SIP/2.0 200") and c["answered_by"] is None:
                c["answered_by"] = int(contact.group(1))
        elif not sent and first.startswith("SIP/2.0 200") and cseq.group(1) == "BYE":
            c["ok"] = True
    return calls


def fail(msg):
    print("FAIL: " + msg)
    return 1


def down_or_up(kam, what, port, since):
    """Times of Kamailio's `destination down|up` lines (event_route[dispatcher:dst-*]) for `port` after `since`."""
    return [t for t, _ in kam.matching(rf"dispatcher: destination {what}: sip:(\S+@)?{re.escape(LOCAL)}:{port}\b")
            if t >= since]


def spread(a, kam, listeners, name):
    """CALLS calls through Kamailio: all must succeed, and each listener must take >= 20 % of them."""
    before = [connected_reports(l) for l in listeners]
    t0 = time.monotonic()
    sipp, d = start_sipp(a.workdir, name, a.port, a.port + 10)
    rc = sipp.wait()
    time.sleep(0.5)  # the instances print each call's report right after its BYE
    counts = [connected_reports(l) - b for l, b in zip(listeners, before)]
    ok = sum(c["ok"] for c in sipp_calls(d).values())
    print(f"{name}: SIPp exit {rc}, {ok}/{CALLS} calls succeeded in {time.monotonic() - t0:.1f} s; calls per "
          f"instance (their own reports) " + ", ".join(f"{l.port}: {n}" for l, n in zip(listeners, counts)))
    if rc != 0 or ok != CALLS:
        return f"{name}: calls failed through the dispatcher"
    if sum(counts) != CALLS or min(counts) < 0.2 * CALLS:
        return f"{name}: the load did not spread (each instance must take >= 20 % of the calls)"
    return None


def failover(a, kam, listeners, victim):
    """CALLS calls; SIGKILL `victim` a.kill_after s in. Only calls the victim had already rung/answered may fail."""
    ports = [l.port for l in listeners]
    sipp, d = start_sipp(a.workdir, "failover", a.port, a.port + 10)
    time.sleep(a.kill_after)
    victim.proc.send_signal(signal.SIGKILL)
    t_kill = time.time()
    victim.proc.wait()
    up_at_kill = calls_up(victim)
    rc = sipp.wait()
    time.sleep(0.5)
    calls = sipp_calls(d)
    downs = down_or_up(kam, "down", victim.port, t_kill)
    by_route = kam.matching(rf"dispatcher: sip:(\S+@)?{re.escape(LOCAL)}:{victim.port} failed")
    moved = kam.matching(r"dispatcher: failover of ")
    t_down = downs[0] if downs else None
    after_kill = [c for c in calls.values() if c["invite"] and c["invite"] >= t_kill]
    after_down = [c for c in after_kill if t_down and c["invite"] >= t_down]
    failed = [c for c in calls.values() if not c["ok"]]
    unsaveable = [c for c in failed if c["reached_by"] == victim.port and c["reached"] < t_kill]
    by_port = {p: sum(1 for c in calls.values() if c["answered_by"] == p) for p in ports}
    print(f"failover: SIPp exit {rc}; {sum(c['ok'] for c in calls.values())}/{len(calls)} calls succeeded; "
          f"answered per instance (SIPp's view) " + ", ".join(f"{p}: {n}" for p, n in by_port.items()))
    print(f"failover: instance {victim.port} killed {a.kill_after:.2f} s in with {len(up_at_kill)} of its calls ringing or up; "
          + (f"Kamailio marked it down {t_down - t_kill:.2f} s later "
             f"({'failure_route' if by_route and by_route[0][0] <= t_down else 'OPTIONS probing'} first)"
             if t_down else "Kamailio never marked it down"))
    print(f"failover: {len(after_kill)} calls placed after the kill, {len(after_down)} after detection; "
          f"{len(moved)} INVITEs failed over to the next instance; {len(failed)} calls failed "
          f"({len(unsaveable)} of them already taken by the killed instance, which no proxy can save)")
    if not t_down:
        return "Kamailio did not take the killed instance out"
    if t_down - t_kill > 5:
        return "detection took more than 5 s"
    if len(failed) != len(unsaveable):
        return "calls failed that the failure_route should have saved"
    if len(unsaveable) > len(up_at_kill):
        return "more calls failed than the killed instance had ringing or up"
    if len(after_down) < CALLS // 4 or not all(c["ok"] for c in after_down):
        return "calls placed after the detection failed (or too few were placed)"
    if any(c["answered_by"] == victim.port for c in after_kill):
        return "the killed instance answered after its death?"
    return None


def probing(a, kam, listeners, index):
    """Probing alone: restart the killed instance (it must come back up and take calls), then kill another
    one with no calls running (the OPTIONS probes must take it out). Returns (error, listeners)."""
    port = listeners[index].port
    t0 = time.time()
    listeners[index] = listen(a.softphone, a.workdir, port, "-restarted")
    if not wait_for(lambda: down_or_up(kam, "up", port, t0), 8):
        return f"probing did not bring the restarted instance {port} back", listeners
    print(f"probing: restarted instance {port} marked up {down_or_up(kam, 'up', port, t0)[0] - t0:.2f} s after its start")
    err = spread(a, kam, listeners, "recovered")
    if err:
        return err, listeners
    idle = listeners[0]
    idle.proc.send_signal(signal.SIGKILL)
    t_kill = time.time()
    idle.proc.wait()
    if not wait_for(lambda: down_or_up(kam, "down", idle.port, t_kill), 5):
        return f"probing did not take the idle instance {idle.port} out within 5 s", listeners
    print(f"probing: idle instance {idle.port} killed with no calls; marked down "
          f"{down_or_up(kam, 'down', idle.port, t_kill)[0] - t_kill:.2f} s later")
    ds = kam.rpc("dispatcher.list")
    if ds is not None:
        flags = dict(re.findall(r"URI: sip:[\d.]+:(\d+)\s+FLAGS: (\w+)", ds))
        print("probing: kamcmd dispatcher.list flags " + ", ".join(f"{p}: {f}" for p, f in sorted(flags.items())))
        if not (flags.get(str(idle.port), "").startswith("I")
                and all(flags.get(str(l.port), "").startswith("A") for l in listeners if l is not idle)):
            return "dispatcher.list does not show the idle-killed instance inactive and the others active", listeners
    return None, listeners


def run(a):
    base = a.port
    ports = [base + 1, base + 2, base + 3]
    with open(a.ds_list) as f:  # the shipped list, its destinations moved to the instances' ports
        shipped = [l for l in f.read().splitlines() if l.strip() and not l.lstrip().startswith("#")]
    if len(shipped) != len(ports):
        return fail(f"{a.ds_list} should list {len(ports)} destinations")
    uris = iter(ports)
    ds_list = os.path.join(a.workdir, "dispatcher.list")
    with open(ds_list, "w") as f:
        for line in shipped:
            f.write(re.sub(r"sip:[^ ]+", lambda m: f"sip:{LOCAL}:{next(uris)}", line, count=1) + "\n")

    listeners, kam = [], None
    try:
        for p in ports:
            listeners.append(listen(a.softphone, a.workdir, p))
        kam = Kamailio(a.workdir, base + 10, ds_list, a.cfg)
        if not wait_for(lambda: options_ok(base + 10), 10):
            return fail("Kamailio did not answer OPTIONS: " + "\n".join(l for _, l in kam.lines[-15:]))
        err = spread(a, kam, listeners, "spread") or failover(a, kam, listeners, listeners[1])
        if not err:
            err, listeners = probing(a, kam, listeners, 1)
        if err:
            return fail(err)
        for l in listeners[1:]:
            if l.proc.poll() is not None:
                return fail(f"instance {l.port} died")
    except RuntimeError as e:  # a listener did not start
        return fail(str(e))
    finally:
        if kam:
            kam.stop()
        for l in listeners:
            l.stop()
    print("PASS")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--softphone", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--port", type=int, default=5900)
    p.add_argument("--kill-after", type=float, default=2.0, help="seconds into the failover run (default 2)")
    p.add_argument("--cfg", default=os.path.join(EXAMPLES, "kamailio.cfg"))
    p.add_argument("--ds-list", default=os.path.join(EXAMPLES, "dispatcher.list"))
    a = p.parse_args()
    a.softphone, a.workdir, a.cfg, a.ds_list = (os.path.abspath(x) for x in (a.softphone, a.workdir, a.cfg, a.ds_list))
    for tool in ("kamailio", "sipp"):
        if not which(tool):
            print(f"{tool} is not installed")
            return 77
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    version = subprocess.run([which("kamailio"), "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    print(version.strip())
    start = time.monotonic()
    rc = run(a)
    print(f"run time {time.monotonic() - start:.1f} s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
