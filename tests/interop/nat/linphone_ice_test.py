#!/usr/bin/env python3
"""ICE (RFC 8445) between the softphone and linphone-cli 5.1 (linphonec), both ways (issue 9).

    linphone_ice_test.py --softphone build/bin/softphone --wav-match build/bin/wav_match --workdir DIR
                         --direction softphone-calls|linphone-calls [--linphone-rtcp-mux on|off] [--port 7850]

linphonec gathers its ICE host candidates from the interfaces (in the root namespace of these machines
eth0's 192.0.2.2 and fd00::2, even with `[rtp] bind_address=127.0.0.1`, where its RTP socket is bound: no
check can reach it), so each phone runs in a network namespace of its own, joined by one veth pair:
linphonec in L (10.77.3.1, SIP P, RTP P+2), the softphone in S (10.77.3.2, SIP P+6). linphonec has ICE on
(`[nat_policy_0] protocols=ice`, what `firewall ice` writes), plays speech and records through
`soundcard use files`, and answers with -a (softphone-calls) or dials `call sip:ptapi@10.77.3.2:P+6`
(linphone-calls); the softphone runs `call` or `listen --auto-answer` with `--ice`, playing other speech and
recording.

With `--linphone-rtcp-mux on` (`[rtp] rtcp_mux=1`) asserts: linphone's SDP (seen in the softphone's
--sip-trace) has `a=ice-ufrag` and `a=candidate` lines; the softphone's report says ICE connected, with the
selected pair's remote candidate at linphone's address; linphone's log says its check list finished
successfully; and each recording holds the other side's speech (wav_match, 1-second windows, median >= 0.6).
With `off` (linphone's default: ICE with two components and no rtcp-mux, which the softphone's ICE, RTP
and RTCP multiplexed on one component, does not run) asserts that the call still carries speech both ways
(plain RTP to the `c=`/`m=` default candidates) and prints the ICE state each side reached.
Prints figures and PASS, or FAIL: why. Exit 0 / 1; 77 (skipped) when not root, without `ip netns`,
linphonec or sox. Bounded: every process has a deadline; about 12 s.
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

L_IP, S_IP = "10.77.3.1", "10.77.3.2"

RC = """[sip]
bind_address={ip}
sip_port={sip}
sip_tcp_port=0
sip_tls_port=0
[rtp]
bind_address={ip}
audio_rtp_port={rtp}
rtcp_mux={mux}
[net]
nat_policy_ref=ptapi-ice
[nat_policy_0]
ref=ptapi-ice
protocols=ice
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--wav-match", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--direction", choices=("softphone-calls", "linphone-calls"), required=True)
    ap.add_argument("--linphone-rtcp-mux", choices=("on", "off"), default="on")
    ap.add_argument("--port", type=int, default=7850)
    args = ap.parse_args()
    why = skip_reason(["linphonec", "sox"])
    if why:
        print(f"SKIP: {why} (Debian: iproute2, linphone-cli, sox)")
        return 77
    shutil.rmtree(args.workdir, ignore_errors=True)
    home = os.path.join(args.workdir, "home")
    os.makedirs(os.path.join(home, ".local", "share", "linphone"))  # without it linphonec never listens
    lp_sip, lp_rtp, sp_sip = args.port, args.port + 2, args.port + 6
    rc = os.path.join(args.workdir, "linphonerc")
    with open(rc, "w") as f:
        f.write(RC.format(ip=L_IP, sip=lp_sip, rtp=lp_rtp, mux=1 if args.linphone_rtcp_mux == "on" else 0))
    speech = {"softphone": os.path.join(args.workdir, "softphone-speech.wav"),
              "linphone": os.path.join(args.workdir, "linphone-speech.wav")}
    make_speech(which("sox"), ("Front_Left", "Front_Right"), 48000, speech["softphone"])
    make_speech(which("sox"), ("Front_Center", "Rear_Center"), 48000, speech["linphone"])
    heard = {side: os.path.join(args.workdir, f"{side}-heard.wav") for side in ("softphone", "linphone")}
    lp_log = os.path.join(args.workdir, "linphone.log")

    net = Network("ls")
    procs = Processes(net, args.workdir)
    try:
        net.link("l", f"{L_IP}/24", "s", f"{S_IP}/24")
        softphone_cmd = [args.softphone, "--bind", f"{S_IP}:{sp_sip}", "--ice", "--play", speech["softphone"],
                         "--record", heard["softphone"], "--json", "--sip-trace"]
        # linphonec reads its commands from a pipe we keep open until the call is over.
        lp_cmds = ["soundcard use files", f"play {speech['linphone']}", f"record {heard['linphone']}"]
        env = dict(os.environ, HOME=home)
        lp_args = [which("linphonec"), "-c", rc, "-d", "6", "-l", lp_log]
        if args.direction == "softphone-calls":
            lp, lp_out, _ = procs.spawn("l", "linphonec", lp_args + ["-a"], 30, stdin=subprocess.PIPE, env=env)
            lp.stdin.write(("\n".join(lp_cmds) + "\n").encode())
            lp.stdin.flush()
            if not wait_for(lambda: f"{L_IP}:{lp_sip}" in read(lp_log) or lp.poll() is not None, 10):
                return fail("linphonec did not listen", args.workdir)
            time.sleep(0.3)
            softphone_cmd[1:1] = ["call", f"sip:linphone@{L_IP}:{lp_sip}", "--seconds", "6"]
            sp, sp_out, sp_err = procs.spawn("s", "softphone", softphone_cmd, 25)
        else:
            softphone_cmd[1:1] = ["listen", "--auto-answer", "--calls", "1", "--seconds", "20"]
            sp, sp_out, sp_err = procs.spawn("s", "softphone", softphone_cmd, 25)
            if not wait_for(lambda: "listening as" in read(sp_out) or sp.poll() is not None, 10):
                return fail("the softphone did not start listening", args.workdir)
            lp, lp_out, _ = procs.spawn("l", "linphonec", lp_args, 30, stdin=subprocess.PIPE, env=env)
            lp.stdin.write(("\n".join(lp_cmds + [f"call sip:ptapi@{S_IP}:{sp_sip}"]) + "\n").encode())
            lp.stdin.flush()
            # linphone hangs up after 6 s of call (the softphone's listen ends with the call).
            if wait_for(lambda: "connected" in read(sp_out) or sp.poll() is not None, 10):
                time.sleep(6)
            lp.stdin.write(b"terminate\n")
            lp.stdin.flush()
        try:
            sp_rc = sp.wait(25)
        except subprocess.TimeoutExpired:
            return fail("the softphone did not finish in time", args.workdir)
        lp.stdin.write(b"quit\n")
        lp.stdin.close()
        try:
            lp.wait(10)
        except subprocess.TimeoutExpired:
            pass  # stopped below
        report = last_json(sp_out)
        print("--- softphone:\n" + "\n".join(l for l in read(sp_out).splitlines() if not l.startswith("{")))
        if sp_rc != 0 or not report:
            return fail(f"the softphone exited {sp_rc}" + ("" if report else " without a JSON report"), args.workdir)
        trace, log = read(sp_err), read(lp_log)
        # linphone's SDP: the offer or answer it sent, as the softphone received it.
        received = "\n".join(m for m in re.split(r"\n(?=(?:<--|-->) )", trace) if m.startswith("<--"))
        lp_candidates = re.findall(r"^a=candidate:.*$", received, re.M)
        lp_ice = "Finished ICE check list" in log and "processing successfully" in log
        lp_states = sorted(set(re.findall(r"ICE state is (IceState\w+)", log)))
        print(f"linphone's SDP: {len(lp_candidates)} candidates " + "; ".join(c.strip() for c in lp_candidates[:4]))
        print(f"linphone's ICE: check list {'finished successfully' if lp_ice else 'not finished'}; states {lp_states}")
        print(f"softphone's ICE: {report['ice_state']}, after {report['ice_connect_ms']} ms, pair to {report['ice_remote']}")
        problems = []
        if not (report["connected"] and report["normal_end"]):
            problems.append("the softphone's call did not connect or end normally")
        if not lp_candidates or "a=ice-ufrag:" not in received:
            problems.append("linphone's SDP has no ICE attributes")
        if args.linphone_rtcp_mux == "on":
            if report["ice_state"] != "connected":
                problems.append(f"the softphone's ICE is {report['ice_state']}, not connected")
            elif not (report["ice_remote"] or "").startswith(L_IP + ":"):
                problems.append(f"the selected pair's remote candidate {report['ice_remote']} is not linphone's")
            if not lp_ice:
                problems.append("linphone's log does not say its ICE check list finished successfully")
        for talker, listener in (("softphone", "linphone"), ("linphone", "softphone")):
            m = subprocess.run([args.wav_match, speech[talker], heard[listener], "--windows", "--min-correlation", "0.6"],
                               capture_output=True, text=True, timeout=30)
            print(f"{talker} -> {listener}: {m.stdout.strip()} {m.stderr.strip()}")
            if m.returncode != 0:
                problems.append(f"{listener}'s recording does not hold what {talker} played")
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
