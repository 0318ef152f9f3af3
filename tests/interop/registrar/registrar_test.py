#!/usr/bin/env python3
"""Two softphones registered at Kamailio, calling each other through it (issue 9, points 1, 2 and 7).

    registrar_test.py --softphone build/bin/softphone --workdir DIR [--port 7100]

Kamailio (examples/kamailio/registrar.cfg on 127.0.0.1:P+10) is the registrar (Digest with one password,
bindings in memory) and a record-routing proxy. Bob (`softphone listen`, bound on the wildcard address
0.0.0.0:P+11) and Alice (`softphone call`, 127.0.0.1:P+12) register with it; Alice calls
sip:bob@<proxy> (407, then with credentials); Alice puts the call on hold and takes it off (two
re-INVITEs) 1 s and 2 s after it connects, Bob does the same 3 s and 4 s after, and Bob hangs up when
his --seconds end (his BYE). Asserts, from Kamailio's log line per relayed request
and from the phones' output:
  - both REGISTERs have the AOR's domain as Request-URI (RFC 3261 §10.2) and a User-Agent; Bob's Contact
    names 127.0.0.1 (the interface routing to the registrar), not 0.0.0.0;
  - Alice waited for her registration ("registering as", then "registered") before dialling;
  - the proxy relayed the INVITE, an ACK for each 2xx (5), the re-INVITEs of both sides (2 each) and
    the BYE (Bob's): every in-dialog request of both sides went through the proxy (Record-Route copied
    by the callee, used in reverse by the caller);
  - both phones report the call connected with RTP both ways and exit 0.
Prints the relayed requests and PASS, or FAIL: why; exit 0 / 1, 77 when kamailio is not installed.
Bounded: every process has a deadline; the run takes about 10 s.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

LOCAL = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
CFG = os.path.join(HERE, "..", "..", "..", "examples", "kamailio", "registrar.cfg")
PASSWORD = "s3cret"
DOMAIN = "example.test"
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "dispatcher"))
from dispatcher_test import wait_for, which  # noqa: E402  (the same helpers as the dispatcher test)




def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=7100)
    args = ap.parse_args()
    kamailio = which("kamailio")
    if not kamailio:
        print("SKIP: kamailio is not installed (Debian: kamailio)")
        return 77
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    proxy, bob_port, alice_port = args.port + 10, args.port + 11, args.port + 12
    run = os.path.join(args.workdir, "kamailio-run")
    os.makedirs(run)
    kam_log = os.path.join(args.workdir, "kamailio.err")
    procs = []

    def spawn(cmd, name):
        out, err = os.path.join(args.workdir, name + ".out"), os.path.join(args.workdir, name + ".err")
        p = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=open(err, "w"), stdin=subprocess.DEVNULL,
                             start_new_session=True)
        procs.append(p)
        return p, out, err

    try:
        kam, _, _ = spawn([kamailio, "-f", CFG, "-DD", "-E", "-w", args.workdir, "-Y", run,
                           "-P", os.path.join(run, "kamailio.pid"), "-m", "32", "-M", "4",
                           "-A", f"LISTEN=udp:{LOCAL}:{proxy}", "-A", f'PASSWORD="{PASSWORD}"',
                           "-A", f'CTL_SOCKET="unix:{run}/kamailio_ctl"'], "kamailio")
        kam_log = os.path.join(args.workdir, "kamailio.err")
        if not wait_for(lambda: "listening on" in read(kam_log).lower() or kam.poll() is not None, 5) or kam.poll():
            time.sleep(0.3)
        time.sleep(0.5)  # the workers bind after the main process logs
        common = ["--password", PASSWORD, "--registrar", f"{LOCAL}:{proxy}", "--json", "--t1-ms", "100"]
        bob, bob_out, bob_err = spawn([args.softphone, "listen", "--bind", f"0.0.0.0:{bob_port}", "--account",
                                       f"sip:bob@{DOMAIN}", "--auto-answer", "--seconds", "7", "--calls", "1",
                                       "--hold-after", "3", "--hold-for", "1",
                                       "--sip-trace"] + common, "bob")
        if not wait_for(lambda: "registered" in read(bob_out) or bob.poll() is not None, 5):
            return fail("Bob did not register within 5 s", args.workdir)
        alice, alice_out, alice_err = spawn(
            [args.softphone, "call", f"sip:bob@{LOCAL}:{proxy}", "--bind", f"{LOCAL}:{alice_port}", "--account",
             f"sip:alice@{DOMAIN}", "--seconds", "10", "--hold-after", "1", "--hold-for", "1", "--sip-trace"] + common,
            "alice")
        try:
            alice_rc = alice.wait(20)
            bob_rc = bob.wait(10)
        except subprocess.TimeoutExpired:
            return fail("a softphone did not finish in time", args.workdir)
        stop(kam)
        log = read(kam_log)
        relayed = re.findall(r"RELAY (\S+) (\d+) (\S+) (\S+) (\S+)", log)
        registers = re.findall(r"REGISTER (\S+) (.*?) (<\S+>\S*)$", log, re.M)
        print("REGISTERs saved (Request-URI, User-Agent, Contact):")
        for r in registers:
            print("  ", *r)
        print("requests relayed (method, CSeq, Call-ID, From tag, source):")
        for r in relayed:
            print("  ", *r)
        a, b = read(alice_out), read(bob_out)
        problems = []
        if alice_rc != 0 or bob_rc != 0:
            problems.append(f"exit codes alice={alice_rc} bob={bob_rc}")
        if not registers or any(r[0] != f"sip:{DOMAIN}" for r in registers):
            problems.append("REGISTER Request-URI is not the AOR's domain")
        if any("ptapi-softphone" not in r[1] for r in registers):
            problems.append("REGISTER without the softphone's User-Agent")
        bob_contacts = [r[2] for r in registers if "sip:bob@" in r[2]]
        if not bob_contacts or any("0.0.0.0" in c or f"@{LOCAL}:{bob_port}" not in c for c in bob_contacts):
            problems.append(f"Bob's Contact is not the routed interface: {bob_contacts}")
        i_reg, i_ok, i_call = a.find("registering as"), a.find("registered ("), a.find("calling ")
        if not (0 <= i_reg < i_ok < i_call):
            problems.append("Alice did not print registering / registered before calling")
        invites = [r for r in relayed if r[0] == "INVITE"]
        if not invites:
            problems.append("no INVITE relayed")
        else:
            call_id = invites[0][2]
            dialog = [r for r in relayed if r[2] == call_id]
            acks = [r for r in dialog if r[0] == "ACK"]
            alice_tag = invites[0][3]  # in From of Alice's requests; Bob's carry his own tag
            by_alice = [r for r in dialog if r[3] == alice_tag]
            by_bob = [r for r in dialog if r[3] != alice_tag]
            for side, reqs, port in (("Alice", by_alice, alice_port), ("Bob", by_bob, bob_port)):
                reinvites = [r for r in reqs if r[0] == "INVITE" and r is not invites[0]]
                acks = [r for r in reqs if r[0] == "ACK"]
                if len(reinvites) != 2:
                    problems.append(f"{len(reinvites)} re-INVITEs of {side} relayed, expected 2 (hold, resume)")
                if len(acks) != len(reinvites) + (side == "Alice"):
                    problems.append(f"{len(acks)} ACKs of {side} relayed for her/his answered INVITEs")
                if any(r[4] != f"{LOCAL}:{port}" for r in reqs):
                    problems.append(f"a request of {side} came from elsewhere than {side}")
            byes = [r for r in dialog if r[0] == "BYE"]
            if len(byes) != 1 or byes[0] not in by_bob:
                problems.append(f"Bob's BYE not relayed: {byes}")
        for name, text in (("alice", a), ("bob", b)):
            if '"connected":true' not in text.replace(" ", ""):
                problems.append(f"{name} reports no connected call")
        if problems:
            return fail("; ".join(problems), args.workdir)
        print("PASS")
        return 0
    finally:
        for p in procs:
            stop(p)


def fail(why, workdir):
    print(f"FAIL: {why} (logs in {workdir})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
