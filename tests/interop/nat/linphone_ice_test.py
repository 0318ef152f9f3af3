#!/usr/bin/env python3
"""ICE (RFC 8445) between the softphone and linphone-cli 5.1 (linphonec), both ways (issue 9).

    linphone_ice_test.py --softphone build/bin/softphone --wav-match build/bin/wav_match --workdir DIR
                         --direction softphone-calls|linphone-calls [--linphone-rtcp-mux on|off] [--port 7850]

linphonec gathers its ICE host candidates from the interfaces, so each phone runs in a network namespace of its
own (linphone.py): linphonec in L (10.77.3.1, SIP P, RTP P+2), the softphone in S (10.77.3.2, SIP P+6).
linphonec has ICE on (`[nat_policy_0] protocols=ice`, what `firewall ice` writes); the softphone runs with `--ice`.

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
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linphone import Failure, Setup, run_call, speech_problems  # noqa: E402
from netns import Network, Processes, exit_on_sigterm, read, skip_reason  # noqa: E402

L_IP, S_IP = "10.77.3.1", "10.77.3.2"

# [sip] and [rtp] lines beside linphone.RC's.
NET_RC = """[net]
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
    mux = 1 if args.linphone_rtcp_mux == "on" else 0
    setup = Setup(args.workdir, L_IP, args.port, rtp_extra=f"rtcp_mux={mux}\n" + NET_RC)
    net = Network("ls")
    procs = Processes(net, args.workdir)
    try:
        net.link("l", f"{L_IP}/24", "s", f"{S_IP}/24")
        report, trace = run_call(procs, args.softphone, setup, args.direction, f"{L_IP}:{args.port}",
                                 f"{S_IP}:{args.port + 6}", ["--ice"])
        log = read(setup.lp_log)
        # linphone's SDP: the offer or answer it sent, as the softphone received it.
        received = "\n".join(m for m in re.split(r"\n(?=(?:<--|-->) )", trace) if m.startswith("<--"))
        lp_candidates = re.findall(r"^a=candidate:.*$", received, re.M)
        lp_ice = "Finished ICE check list" in log and "processing successfully" in log
        lp_states = sorted(set(re.findall(r"ICE state is (IceState\w+)", log)))
        print(f"linphone's SDP: {len(lp_candidates)} candidates " + "; ".join(c.strip() for c in lp_candidates[:4]))
        print(f"linphone's ICE: check list {'finished successfully' if lp_ice else 'not finished'}; states {lp_states}")
        print(f"softphone's ICE: {report['ice_state']}, after {report['ice_connect_ms']} ms, "
              f"pair to {report['ice_remote']}")
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
        problems += speech_problems(args.wav_match, setup)
        if problems:
            raise Failure("; ".join(problems))
        print("PASS")
        return 0
    except Failure as e:
        print(f"FAIL: {e} (logs in {args.workdir})")
        return 1
    finally:
        procs.stop_all()
        net.delete()


if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(main())
