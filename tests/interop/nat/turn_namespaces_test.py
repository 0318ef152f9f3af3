#!/usr/bin/env python3
"""Two softphones in network namespaces that cannot reach each other talk through TURN with ICE (issue 9).

    turn_namespaces_test.py --softphone build/bin/softphone --wav-match build/bin/wav_match --workdir DIR
                            [--port 7830] [--callee softphone|linphone]

Network (names carry this process's id; everything is deleted at the end, even on failure):

    namespace A                 namespace M (the middle: no forwarding)              namespace B
    10.77.1.2/24 --veth-- 10.77.1.1   10.77.0.1 (lo): Kamailio, coturn   10.77.2.1 --veth-- 10.77.2.2/24
    default via 10.77.1.1                                                     default via 10.77.2.1

A and B each reach the middle's 10.77.0.1, but the middle does not forward (net.ipv4.ip_forward=0), so
nothing from A reaches B nor back: a UDP probe from A to B (and B to A) must get no answer while the same
probe to the middle does; the test asserts both before any call. In the middle run Kamailio
(examples/kamailio/registrar.cfg, a registrar and record-routing proxy on 10.77.0.1:P) and coturn (TURN over
UDP on 10.77.0.1:P+10, long-term credentials, relay ports P+11..P+19). Bob (`softphone listen` in B) and Alice
(`softphone call` in A) register with Kamailio, both with `--ice --turn 10.77.0.1:P+10`; Alice calls Bob
through Kamailio; both play speech and record what they hear.

Asserts, from both phones' JSON reports: the call connected and ended normally; each got a TURN relayed
address and labels its advertised address "server-reflexive (TURN)"; ICE connected on both sides; on each
side the selected pair goes through TURN (its local candidate is our relayed one, or its remote candidate
is the other side's relayed address: a host candidate can reach the far end's relay, never the far end);
TURN relayed datagrams were counted; and wav_match finds each side's speech in the other's recording
(1-second windows, median >= 0.6; the speech sent before ICE selected a pair is lost, so a softphone's
recording starts that far into it and is judged with 1 s of silence put before it).
With --callee linphone, Bob is linphonec 5.1 (linphone-cli) instead, registered at Kamailio with ICE and
TURN on the same coturn (`[nat_policy_0] protocols=ice,turn`, its TURN credentials in an auth_info), playing
and recording through `soundcard use files`: Alice's report must show the same, linphone's answer must
carry a relayed candidate, and linphone's log must say ICE completed on a relayed pair
(IceStateRelayConnection); its recording is judged the same way (it needs no padding).
Prints the figures (ICE completion time, selected pairs, correlations) and PASS, or FAIL: why.
Exit 0 / 1; 77 (skipped) when not root, when `ip netns` does not work here, or when kamailio, coturn
(turnserver), sox (or with --callee linphone, linphonec) is missing. Bounded: every process has a deadline;
the run takes about 15 s.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import Network, Processes, exit_on_sigterm, last_json, make_speech, read, skip_reason, wait_for, which  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = os.path.join(HERE, "..", "..", "..", "examples", "kamailio", "registrar.cfg")
PASSWORD = "s3cret"  # SIP Digest (Kamailio)
TURN_USER, TURN_PASSWORD, TURN_REALM = "phone", "turn-s3cret", "ptapi.test"
DOMAIN = "example.test"
MIDDLE, A_IP, B_IP = "10.77.0.1", "10.77.1.2", "10.77.2.2"


def make_network(net):
    net.link("m", "10.77.1.1/24", "a", f"{A_IP}/24")
    net.link("m", "10.77.2.1/24", "b", f"{B_IP}/24")
    net.run("m", "sysctl", "-qw", "net.ipv4.ip_forward=0", check=True)  # IPv4 settings may be inherited from the root's
    ip_m = ["ip", "-n", net.names["m"]]
    subprocess.run(ip_m + ["addr", "add", f"{MIDDLE}/32", "dev", "lo"], check=True, timeout=10)
    for ns, gw in (("a", "10.77.1.1"), ("b", "10.77.2.1")):
        subprocess.run(["ip", "-n", net.names[ns], "route", "add", "default", "via", gw], check=True, timeout=10)


LINPHONERC = """[sip]
bind_address={ip}
sip_port={port}
sip_tcp_port=0
sip_tls_port=0
default_proxy=0
[rtp]
bind_address={ip}
audio_rtp_port={rtp}
rtcp_mux=1
[net]
nat_policy_ref=ptapi-turn
[nat_policy_0]
ref=ptapi-turn
protocols=ice,turn
stun_server={middle}:{turn}
stun_server_username={turn_user}
[proxy_0]
reg_proxy=<sip:{middle}:{sip}>
reg_identity=sip:bob@{domain}
reg_expires=600
reg_sendregister=1
nat_policy_ref=ptapi-turn
[auth_info_0]
username=bob
passwd={password}
realm={domain}
domain={domain}
[auth_info_1]
username={turn_user}
passwd={turn_password}
realm={turn_realm}
"""


def start_linphone(procs, workdir, sip, turn, port, speech, heard, tools):
    """linphonec as Bob in namespace B: registered at Kamailio, ICE with TURN on coturn, auto-answer, playing
    `speech` and recording to `heard` (soundcard use files). Its commands come on stdin, kept open."""
    home = os.path.join(workdir, "home")
    os.makedirs(os.path.join(home, ".local", "share", "linphone"))  # without it linphonec never listens
    rc = os.path.join(workdir, "linphonerc")
    with open(rc, "w") as f:
        f.write(LINPHONERC.format(ip=B_IP, port=port, rtp=port + 2, middle=MIDDLE, turn=turn, sip=sip, domain=DOMAIN,
                                  password=PASSWORD, turn_user=TURN_USER, turn_password=TURN_PASSWORD,
                                  turn_realm=TURN_REALM))
    bob, out, _ = procs.spawn("b", "bob", [tools["linphonec"], "-a", "-c", rc, "-d", "6", "-l",
                                           os.path.join(workdir, "linphone.log")], 40, stdin=subprocess.PIPE,
                              env=dict(os.environ, HOME=home))
    bob.stdin.write(f"soundcard use files\nplay {speech}\nrecord {heard}\n".encode())
    bob.stdin.flush()
    return bob, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--wav-match", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=7830)
    ap.add_argument("--callee", choices=("softphone", "linphone"), default="softphone")
    args = ap.parse_args()
    programs = ["kamailio", "turnserver", "sox"] + (["linphonec"] if args.callee == "linphone" else [])
    why = skip_reason(programs)
    if why:
        print(f"SKIP: {why} (Debian: iproute2, kamailio, coturn, sox, linphone-cli)")
        return 77
    tools = {n: which(n) for n in programs}
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    sip, turn = args.port, args.port + 10
    alice_port, bob_port, probe_port = args.port + 1, args.port + 2, args.port + 9
    net = Network("abm")
    procs = Processes(net, args.workdir)
    try:
        make_network(net)
        # Isolation: A and B reach the middle, not each other.
        reach = {(s, d): net.probe(s, d, h, probe_port)
                 for s, d, h in (("a", "m", MIDDLE), ("b", "m", MIDDLE), ("a", "b", B_IP), ("b", "a", A_IP))}
        print("UDP probes:", ", ".join(f"{s}->{d} {'reached' if ok else 'no answer'}" for (s, d), ok in reach.items()))
        if not (reach[("a", "m")] and reach[("b", "m")]):
            return fail("the phones' namespaces cannot reach the middle one", args.workdir)
        if reach[("a", "b")] or reach[("b", "a")]:
            return fail("namespaces A and B reach each other: the test would prove nothing", args.workdir)

        speech = {}
        # About 4.3 s each: 4 one-second windows to judge, within the call's 6 s.
        for side, parts in (("alice", ("Front_Left", "Front_Right", "Side_Left")),
                            ("bob", ("Front_Center", "Rear_Center", "Rear_Left"))):
            speech[side] = os.path.join(args.workdir, f"{side}-speech.wav")
            make_speech(tools["sox"], parts, 48000, speech[side])

        run = os.path.join(args.workdir, "kamailio-run")
        os.makedirs(run)
        kam, kam_out, kam_err = procs.spawn("m", "kamailio", [
            tools["kamailio"], "-f", CFG, "-DD", "-E", "-w", args.workdir, "-Y", run, "-P", os.path.join(run, "pid"),
            "-m", "32", "-M", "4", "-A", f"LISTEN=udp:{MIDDLE}:{sip}", "-A", f'PASSWORD="{PASSWORD}"',
            "-A", f'CTL_SOCKET="unix:{run}/kamailio_ctl"'], 50)
        coturn, _, _ = procs.spawn("m", "coturn", [
            tools["turnserver"], "-n", f"--listening-ip={MIDDLE}", f"--relay-ip={MIDDLE}", f"--listening-port={turn}",
            f"--min-port={turn + 1}", f"--max-port={turn + 9}", "--no-tls", "--no-dtls", "--no-tcp", "--no-cli",
            "--lt-cred-mech", f"--user={TURN_USER}:{TURN_PASSWORD}", f"--realm={TURN_REALM}",
            f"--pidfile={args.workdir}/turn.pid", f"--userdb={args.workdir}/turndb", "--log-file=stdout"], 50)
        if not wait_for(lambda: "listening on" in read(kam_out).lower() or kam.poll() is not None, 5) or kam.poll():
            return fail("Kamailio did not start", args.workdir)
        time.sleep(0.5)  # its workers bind after the main process logs
        if coturn.poll() is not None:
            return fail("coturn did not start", args.workdir)

        common = ["--password", PASSWORD, "--registrar", f"{MIDDLE}:{sip}", "--json", "--t1-ms", "100", "--ice",
                  "--turn", f"{MIDDLE}:{turn}", "--turn-user", TURN_USER, "--turn-password", TURN_PASSWORD]
        heard = {side: os.path.join(args.workdir, f"{side}-heard.wav") for side in ("alice", "bob")}
        if args.callee == "softphone":
            bob, bob_out, _ = procs.spawn("b", "bob", [
                args.softphone, "listen", "--bind", f"{B_IP}:{bob_port}", "--account", f"sip:bob@{DOMAIN}",
                "--auto-answer", "--calls", "1", "--seconds", "25", "--play", speech["bob"], "--record", heard["bob"]]
                + common, 35)
            registered = lambda: "registered" in read(bob_out)  # noqa: E731
        else:
            bob, bob_out = start_linphone(procs, args.workdir, sip, turn, bob_port, speech["bob"], heard["bob"], tools)
            registered = lambda: f"sip:bob@{B_IP}:{bob_port}" in read(kam_err)  # noqa: E731  (Kamailio's REGISTER line)
        if not wait_for(lambda: registered() or bob.poll() is not None, 8) or bob.poll() is not None:
            return fail("Bob did not register within 8 s", args.workdir)
        started = time.monotonic()
        alice, alice_out, alice_err = procs.spawn("a", "alice", [
            args.softphone, "call", f"sip:bob@{MIDDLE}:{sip}", "--bind", f"{A_IP}:{alice_port}", "--account",
            f"sip:alice@{DOMAIN}", "--seconds", "6", "--play", speech["alice"], "--record", heard["alice"], "--sip-trace"]
            + common, 25)
        try:
            alice_rc = alice.wait(30)
            if args.callee == "linphone":
                bob.stdin.write(b"quit\n")
                bob.stdin.close()
            bob_rc = bob.wait(15)
        except subprocess.TimeoutExpired:
            return fail("a phone did not finish in time", args.workdir)
        print(f"call placed and ended in {time.monotonic() - started:.1f} s")
        problems = []
        if alice_rc != 0 or bob_rc != 0:
            problems.append(f"exit codes alice={alice_rc} bob={bob_rc}")
        reports = {"alice": last_json(alice_out)}
        print(f"--- alice:\n{read(alice_out).strip()}")
        if args.callee == "softphone":
            reports["bob"] = last_json(bob_out)
            print(f"--- bob:\n{read(bob_out).strip()}")
        if not all(reports.values()):
            return fail("; ".join(problems + ["a softphone printed no JSON report"]), args.workdir)
        relayed = {side: r.get("relayed_address") for side, r in reports.items()}
        if args.callee == "linphone":
            # linphone's relayed candidate, from its answer (the SDP Alice received), and its ICE outcome.
            received = "\n".join(m for m in re.split(r"\n(?=(?:<--|-->) )", read(alice_err)) if m.startswith("<--"))
            relay = re.search(r"^a=candidate:\S+ 1 UDP \d+ (\S+) (\d+) typ relay", received, re.M)
            relayed["bob"] = f"{relay.group(1)}:{relay.group(2)}" if relay else None
            log = read(os.path.join(args.workdir, "linphone.log"))
            lp_states = sorted(set(re.findall(r"ICE state is (IceState\w+)", log)))
            print(f"bob (linphone): relayed candidate {relayed['bob']}; ICE states {lp_states}")
            if not relayed["bob"]:
                problems.append("linphone offered no relayed candidate")
            if "Finished ICE check list" not in log or "IceStateRelayConnection" not in lp_states:
                problems.append("linphone's log does not say ICE completed on a relayed pair")
        for side, r in reports.items():
            other = "bob" if side == "alice" else "alice"
            if not (r["connected"] and r["normal_end"]):
                problems.append(f"{side}: the call did not connect or end normally")
            if not relayed[side] or not relayed[side].startswith(MIDDLE + ":"):
                problems.append(f"{side}: no TURN relayed address ({r.get('turn_error')})")
            if r["media_address_kind"] != "server-reflexive (TURN)":  # the Allocate's XOR-MAPPED-ADDRESS (no NAT here)
                problems.append(f"{side}: media address kind {r['media_address_kind']}, not server-reflexive (TURN)")
            if r["ice_state"] != "connected":
                problems.append(f"{side}: ICE {r['ice_state']}")
            through_turn = r["ice_relayed"] or (relayed[other] is not None and r["ice_remote"] == relayed[other])
            if not through_turn:
                problems.append(f"{side}: the selected pair (to {r['ice_remote']}) does not go through TURN")
            print(f"{side}: ICE connected after {r['ice_connect_ms']} ms, pair to {r['ice_remote']}"
                  f"{' from our relayed candidate ' + relayed[side] if r['ice_relayed'] else ''}; "
                  f"{r['relayed_datagrams']} datagrams through its own relay; media address {r['media_address']} "
                  f"({r['media_address_kind']}); {r['packets_received']} RTP packets received")
        if args.callee == "softphone" and reports["alice"]["relayed_datagrams"] + reports["bob"]["relayed_datagrams"] == 0:
            problems.append("no datagram went through a TURN allocation")
        for talker, listener in (("alice", "bob"), ("bob", "alice")):
            # Judged by 1-second windows that follow the lag (median): an adaptive jitter buffer shifts the lag
            # mid-call, which one whole-file correlation punishes (0.54 in 1 of 12 runs). A softphone's
            # recording starts with the first packet, after ICE selected a pair: the speech sent before went
            # to the default candidate, which the far end cannot be reached at, so its recording begins that
            # far into the speech (a negative lag, which the windows do not search); it is judged with 1 s of
            # silence put before it. linphone's recording starts before the media (a positive lag).
            recording = heard[listener]
            if not (listener == "bob" and args.callee == "linphone"):
                recording = os.path.join(args.workdir, f"{listener}-heard-padded.wav")
                subprocess.run([tools["sox"], heard[listener], recording, "pad", "1", "0"], check=True, timeout=20)
            m = subprocess.run([args.wav_match, speech[talker], recording, "--windows", "--min-correlation", "0.6"],
                               capture_output=True, text=True, timeout=30)
            print(f"{talker} -> {listener}: {m.stdout.strip()} {m.stderr.strip()}")
            if m.returncode != 0:
                problems.append(f"{listener}'s recording does not match what {talker} played")
        if problems:
            return fail("; ".join(problems), args.workdir)
        print("PASS")
        return 0
    finally:
        procs.stop_all()
        net.delete()


def fail(why, workdir):
    print(f"FAIL: {why} (logs in {workdir})")
    return 1


if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(main())
