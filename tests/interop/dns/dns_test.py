#!/usr/bin/env python3
"""`softphone call` to SIP URIs by DNS name (RFC 3263), against a real DNS server (dnsmasq) (issue 9).

    dns_test.py --softphone build/bin/softphone --workdir DIR [--port 7070]

dnsmasq answers on 127.0.0.1:P for the zone `test` (nothing else); one `softphone listen --auto-answer`
listens on 127.0.0.1:P+2 (UDP and TCP); nothing listens on P+1 (the "down" target).

  1. srv       sip:alice@single.test: SRV _sip._udp.single.test -> up.test:P+2 only. The call connects.
  2. tcp       sip:alice@tcp.test: NAPTR SIP+D2T -> SRV _sip._tcp.tcp.test -> down.test:P+1 (priority 10),
               up.test:P+2 (priority 20). TCP to P+1 is refused, the INVITE goes to P+2 (RFC 3263 §4.3).
  3. udp       sip:alice@udp.test: SRV _sip._udp.udp.test -> down (10), up (20). The first INVITE gets no
               answer (timer B, 64*T1 with --t1-ms 40 = 2.6 s), then the INVITE goes to P+2.
  4. missing   sip:alice@missing.test: no record; the call fails at once (exit 1) as a bad address.

Failover is proved by the call connecting (only P+2 answers) and by the caller's --sip-trace showing the
INVITE with CSeq 1 (to the down target) and then CSeq 2 (a new transaction to the next one).

Prints PASS or FAIL: why; exit 0 / 1, 77 when dnsmasq is not installed. Bounded: about 8 s.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

LOCAL = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "hardening"))
from attacks import Listener  # noqa: E402  (the same `softphone listen` wrapper as the attack tests)


def dnsmasq_path():
    return shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")


def start_dnsmasq(path, port, workdir):
    down, up = port + 1, port + 2
    args = [path, "--no-daemon", "--conf-file=/dev/null", f"--port={port}", f"--listen-address={LOCAL}",
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--pid-file=", "--local=/test/", "--local-ttl=30",
            "--host-record=down.test,127.0.0.1", "--host-record=up.test,127.0.0.1",
            f"--srv-host=_sip._udp.single.test,up.test,{up},10,0",
            "--naptr-record=tcp.test,10,10,S,SIP+D2T,,_sip._tcp.tcp.test",
            f"--srv-host=_sip._tcp.tcp.test,down.test,{down},10,0",
            f"--srv-host=_sip._tcp.tcp.test,up.test,{up},20,0",
            f"--srv-host=_sip._udp.udp.test,down.test,{down},10,0",
            f"--srv-host=_sip._udp.udp.test,up.test,{up},20,0"]
    log = open(os.path.join(workdir, "dnsmasq.log"), "w")
    proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    needle = f"0100007F:{port:04X}"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # ready once its UDP socket is bound
        if needle in open("/proc/net/udp").read():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("dnsmasq did not start: " + open(os.path.join(workdir, "dnsmasq.log")).read())


def call(softphone, workdir, name, uri, dns_port):
    """`softphone call URI --dns ...`; returns (exit code, seconds, stderr text)."""
    err_path = os.path.join(workdir, name + ".err")
    start = time.monotonic()
    with open(os.path.join(workdir, name + ".out"), "w") as o, open(err_path, "w") as e:
        rc = subprocess.run(["timeout", "-k", "2", "15", softphone, "call", uri, "--dns", f"{LOCAL}:{dns_port}",
                             "--seconds", "0.5", "--t1-ms", "40", "--sip-trace", "--json"],
                            stdout=o, stderr=e, stdin=subprocess.DEVNULL, cwd=workdir).returncode
    return rc, time.monotonic() - start, open(err_path).read()


def invites(trace):
    """The CSeq numbers of the INVITEs the caller sent (its --sip-trace), in order."""
    out = []
    for block in trace.split("--> sent\n")[1:]:
        lines = block.split("<-- received")[0].splitlines()  # the sent message only
        if lines and lines[0].startswith("INVITE "):
            out += [ln.split()[1] for ln in lines if ln.lower().startswith("cseq:")][:1]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=7070)
    a = ap.parse_args()
    path = dnsmasq_path()
    if not path:
        print("SKIP: dnsmasq is not installed (Debian: dnsmasq)")
        return 77
    os.makedirs(a.workdir, exist_ok=True)
    dns = start_dnsmasq(path, a.port, a.workdir)
    listener = None
    failures = []
    try:
        listener = Listener(a.softphone, a.workdir, a.port + 2, ["--json"], seconds=30)
        for name, uri, want_invites in (("srv", "sip:alice@single.test", ["1"]), ("tcp", "sip:alice@tcp.test", ["1", "2"]),
                                        ("udp", "sip:alice@udp.test", ["1", "2"])):
            rc, took, trace = call(a.softphone, a.workdir, name, uri, a.port)
            sent = invites(trace)
            print(f"{name}: {uri} exit {rc} in {took:.1f} s; INVITE CSeqs sent: {' '.join(sent)}")
            if rc != 0:
                failures.append(f"{name}: call exit {rc}: " + trace.strip().splitlines()[-1] if trace.strip() else f"{name}: exit {rc}")
            if sent != want_invites:
                failures.append(f"{name}: INVITEs {sent}, expected {want_invites}")
        rc, took, trace = call(a.softphone, a.workdir, "missing", "sip:alice@missing.test", a.port)
        last = trace.strip().splitlines()[-1] if trace.strip() else ""
        print(f"missing: exit {rc} in {took:.1f} s: {last}")
        if rc != 1 or "bad address" not in last or invites(trace):
            failures.append(f"missing: exit {rc}, {last!r}, INVITEs {invites(trace)}")
    finally:
        if listener:
            listener.stop()
        dns.terminate()
        dns.wait(5)
    if listener:
        answered = len(listener.reports())
        print(f"listener: {answered} call report(s)")
        if answered != 3:
            failures.append(f"listener reported {answered} calls, expected 3")
    print("PASS" if not failures else "FAIL: " + "; ".join(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
