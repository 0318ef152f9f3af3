#!/usr/bin/env python3
"""Call transfer (RFC 3515 REFER, RFC 3891 Replaces) between the softphone and linphone-cli 5.1 (linphonec),
each side as the transferor (issue 11).

    linphone_transfer_test.py --softphone BIN --wav-match BIN --workdir DIR
                              --mode softphone-transfers|linphone-transfers [--attended] [--port 8190]
                              [--subnet 10.77.6]

linphonec offers eth0's addresses from the root namespace, so it runs in a namespace of its own (linphone.py):
linphonec in L (SUBNET.1, SIP P, RTP P+2); both softphones in S (SUBNET.2): the transferor or transferee at
SIP P+6 and the transfer target, `softphone listen --auto-answer`, at SIP P+10. Each phone plays its own
alsa-utils speech and records what it hears.

softphone-transfers (linphone is the transferee): the softphone calls linphonec (-a: auto-answer) and 2 s after
it connects runs `--transfer-to sip:target@SUBNET.2:P+10` (with --attended: it holds linphone, calls the target
and completes with REFER + Replaces). Asserts: the softphone's REFER was answered 202 and a NOTIFY carried
`SIP/2.0 200`; it then ended its call with linphone (BYE) normally; linphone's log shows the call Refered and
its new call to the target; the target took one INVITE from linphonec (SUBNET.1) with Referred-By (attended:
and one from the softphone, the consultation call, whose Call-ID linphone's Replaces names); the target's
transferred call connected and ended normally; the target's recording holds linphone's speech and linphone's
the target's (1-second windows, median >= 0.6). Attended (both modes): the target's call 2 names call 1 as the
call it replaces (CIL_RELATEDCALLID).

linphone-transfers (the softphone is the transferee): linphonec calls `softphone listen --auto-answer` and 2 s
after it connects sends `transfer 1 sip:target@...` (a REFER); with --attended it sends `pause 1`, calls the
target (call 2) and sends `transfer 1 --to-call 2` (REFER with Replaces). Linphone writes that Refer-To from
its INVITE's To, without the port (`<sip:target@H?Replaces=...>`), so the target listens on 5060 then.
Asserts: the softphone answered 202, announced call 2 as "transferred to" the target, sent NOTIFYs ending in
`SIP/2.0 200`; linphone's log shows its transfer state reach Connected and linphone ended call 1 (BYE); the
target's INVITE came from the transferee with Referred-By (attended: with Replaces naming linphone's
consultation call's Call-ID); speech both ways between the transferee and the target.

Prints figures and PASS, or FAIL: why. Exit 0 / 1; 77 (skipped) when not root, without `ip netns`, linphonec or
sox. Bounded: every process has a deadline; about 11 s.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linphone import Failure, Setup  # noqa: E402
from netns import Network, Processes, exit_on_sigterm, last_json, make_speech, read, skip_reason, wait_for, which  # noqa: E402

TARGET_SECONDS = 6  # how long the transferred call lasts once connected


def messages(trace, direction):
    """The SIP messages of a --sip-trace sent ("-->") or received ("<--")."""
    return [m for m in re.split(r"\n(?=(?:<--|-->) )", trace) if m.startswith(direction)]


def start_line(m):
    lines = m.splitlines()
    return lines[1] if len(lines) > 1 else ""


def via_host(m):
    """The host of a request's (top) Via: who sent it."""
    via = re.search(r"^(?:Via|v): *SIP/2\.0/\w+ +([^;:\s]+)", m, re.M | re.I)
    return via.group(1) if via else None


def sipfrag_codes(notifies):
    """The status codes of the message/sipfrag bodies of NOTIFYs (the only lines that start with SIP/2.0)."""
    return [f.group(1) for f in (re.search(r"^SIP/2\.0 (\d{3})", m, re.M) for m in notifies) if f]


def judge(wav_match, talker_wav, heard_wav, label):
    m = subprocess.run([wav_match, talker_wav, heard_wav, "--windows", "--min-correlation", "0.6", "--max-lag-ms", "4000"],
                       capture_output=True, text=True, timeout=30)
    print(f"{label}: {m.stdout.strip()} {m.stderr.strip()}")
    return [] if m.returncode == 0 else [f"{label}: the recording does not hold the speech"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--wav-match", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--mode", choices=("softphone-transfers", "linphone-transfers"), required=True)
    ap.add_argument("--attended", action="store_true")
    ap.add_argument("--port", type=int, default=8190)
    ap.add_argument("--subnet", default="10.77.6")
    a = ap.parse_args()
    why = skip_reason(["linphonec", "sox"])
    if why:
        print(f"SKIP: {why} (Debian: iproute2, linphone-cli, sox)")
        return 77
    l_ip, s_ip = f"{a.subnet}.1", f"{a.subnet}.2"
    # linphonec's attended transfer names the target by its own INVITE's To, which it writes without the port
    # (`INVITE sip:target@H:P` carries `To: sip:target@H`): Refer-To `<sip:target@H?Replaces=...>`. So that
    # target listens on 5060 (inside the namespace: no port of this machine's is taken).
    tg_port = 5060 if a.attended and a.mode == "linphone-transfers" else a.port + 10
    lp_addr, sp_addr, tg_addr = f"{l_ip}:{a.port}", f"{s_ip}:{a.port + 6}", f"{s_ip}:{tg_port}"
    target_uri, a.tg_addr = f"sip:target@{tg_addr}", tg_addr
    setup = Setup(a.workdir, l_ip, a.port)
    # Longer speech than linphone.py's (each call hears its peer from its own start).
    for side, parts in (("softphone", ("Front_Left", "Front_Right", "Side_Left", "Side_Right")),
                        ("linphone", ("Front_Center", "Rear_Center", "Rear_Left", "Rear_Right"))):
        make_speech(which("sox"), parts, 48000, setup.speech[side])
    setup.speech["target"] = os.path.join(a.workdir, "target-speech.wav")
    make_speech(which("sox"), ("Noise", "Front_Left", "Rear_Center", "Side_Right"), 48000, setup.speech["target"])
    setup.heard["target"] = os.path.join(a.workdir, "target-heard.wav")
    net = Network("ls")
    procs = Processes(net, a.workdir)
    env = dict(os.environ, HOME=setup.home)
    lp_args = [which("linphonec"), "-c", setup.rc, "-d", "6", "-l", setup.lp_log]
    lp_cmds = ["soundcard use files", f"play {setup.speech['linphone']}", f"record {setup.heard['linphone']}"]
    common = ["--json", "--sip-trace"]

    def lp_send(lp, *cmds):
        lp.stdin.write(("\n".join(cmds) + "\n").encode())
        lp.stdin.flush()

    try:
        net.link("l", f"{l_ip}/24", "s", f"{s_ip}/24")
        tg, tg_out, tg_err = procs.spawn("s", "target", [
            a.softphone, "listen", "--bind", tg_addr, "--auto-answer", "--calls", "2" if a.attended else "1", "--seconds", "30",
            "--play", setup.speech["target"], "--record", setup.heard["target"], *common], 35)
        if not wait_for(lambda: "listening as" in read(tg_out) or tg.poll() is not None, 10):
            raise Failure("the target did not start listening")
        problems = []
        if a.mode == "softphone-transfers":
            lp, _, _ = procs.spawn("l", "linphonec", lp_args + ["-a"], 40, stdin=subprocess.PIPE, env=env)
            lp_send(lp, *lp_cmds)
            if not wait_for(lambda: lp_addr in read(setup.lp_log) or lp.poll() is not None, 10):
                raise Failure("linphonec did not listen")
            time.sleep(0.3)
            sp, sp_out, sp_err = procs.spawn("s", "softphone", [
                a.softphone, "call", f"sip:linphone@{lp_addr}", "--bind", sp_addr, "--seconds", "20",
                "--transfer-to", target_uri, "--transfer-after", "2", *(["--attended"] if a.attended else []),
                "--play", setup.speech["softphone"], "--record", setup.heard["softphone"], *common], 30)
            # linphone calls the target (attended: its INVITE replaces the target's consultation call, call 1);
            # it hangs up TARGET_SECONDS after that call connects.
            last = r"^call 2 .*: connected" if a.attended else r"^call 1 .*: connected"
            if wait_for(lambda: re.search(last, read(tg_out), re.M) or tg.poll() is not None, 20):
                time.sleep(TARGET_SECONDS)
            lp_send(lp, "terminate")
        else:
            sp, sp_out, sp_err = procs.spawn("s", "softphone", [
                a.softphone, "listen", "--bind", sp_addr, "--auto-answer", "--calls", "2", "--seconds", "30",
                "--play", setup.speech["softphone"], "--record", setup.heard["softphone"], *common], 35)
            if not wait_for(lambda: "listening as" in read(sp_out) or sp.poll() is not None, 10):
                raise Failure("the softphone did not start listening")
            lp, _, _ = procs.spawn("l", "linphonec", lp_args, 40, stdin=subprocess.PIPE, env=env)
            lp_send(lp, *lp_cmds, f"call sip:ptapi@{sp_addr}")
            if not wait_for(lambda: re.search(r"^call 1 .*: connected", read(sp_out), re.M) or sp.poll() is not None, 15):
                raise Failure("linphone's call to the softphone did not connect")
            time.sleep(2)
            if a.attended:  # linphonec holds call 1, calls the target (call 2), then REFERs call 1 with Replaces
                lp_send(lp, "pause 1")  # linphonec: "Terminate or hold on the current call first."
                time.sleep(0.5)
                lp_send(lp, f"call {target_uri}")
                if not wait_for(lambda: re.search(r"^call 1 .*: connected", read(tg_out), re.M) or tg.poll() is not None, 15):
                    raise Failure("linphone's consultation call to the target did not connect")
                time.sleep(2)
                lp_send(lp, "transfer 1 --to-call 2")
            else:
                lp_send(lp, f"transfer 1 {target_uri}")
            # The target hangs up TARGET_SECONDS after the transferee's call to it connects.
            last = r"^call 2 .*: connected" if a.attended else r"^call 1 .*: connected"
            if wait_for(lambda: re.search(last, read(tg_out), re.M) or tg.poll() is not None, 15):
                time.sleep(TARGET_SECONDS)
            if tg.poll() is None:
                os.killpg(tg.pid, signal.SIGTERM)  # the target hangs up (softphone listen ends what is left)
        for p, name in ((sp, "softphone"), (tg, "target")):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                problems.append(f"the {name} did not finish in time")
        lp_send(lp, "quit")
        lp.stdin.close()
        try:
            lp.wait(10)
        except subprocess.TimeoutExpired:
            pass  # stopped by procs.stop_all()
        for name, out in (("softphone", sp_out), ("target", tg_out)):
            print(f"--- {name}:\n" + "\n".join(l for l in read(out).splitlines() if not l.startswith("{")))
        sp_trace, tg_trace, log = read(sp_err), read(tg_err), read(setup.lp_log)
        tg_invites = [m for m in messages(tg_trace, "<--") if start_line(m).startswith("INVITE ")]
        if a.mode == "softphone-transfers":
            problems += softphone_transfers(a, sp, sp_out, sp_trace, tg_invites, l_ip, log)
        else:
            problems += linphone_transfers(a, sp, sp_out, sp_trace, tg_invites, l_ip, s_ip, log)
        tg_report = last_json(tg_out)  # the transferred call's (the target's last)
        if tg.returncode != 0 or not tg_report or not tg_report.get("connected") or not tg_report.get("normal_end"):
            problems.append(f"the target's transferred call did not connect and end normally (exit {tg.returncode})")
        # Attended: the target's provider matched the Replaces to its call 1 (CIL_RELATEDCALLID of call 2).
        if a.attended and not re.search(r"^call 2: incoming from .* \(replaces call 1\)$", read(tg_out), re.M):
            problems.append("the target's call 2 does not name call 1 as the call it replaces")
        if a.attended:
            setup.heard["target"] = re.sub(r"\.wav$", "-2.wav", setup.heard["target"])
        if a.mode == "softphone-transfers":
            problems += judge(a.wav_match, setup.speech["linphone"], setup.heard["target"], "linphone -> target")
            problems += judge(a.wav_match, setup.speech["target"], setup.heard["linphone"], "target -> linphone")
        else:
            heard2 = re.sub(r"\.wav$", "-2.wav", setup.heard["softphone"])
            problems += judge(a.wav_match, setup.speech["softphone"], setup.heard["target"], "transferee -> target")
            problems += judge(a.wav_match, setup.speech["target"], heard2, "target -> transferee")
        if problems:
            raise Failure("; ".join(problems))
        print("PASS")
        return 0
    except Failure as e:
        print(f"FAIL: {e} (logs in {a.workdir})")
        return 1
    finally:
        procs.stop_all()
        net.delete()


def busy_heard(sp_out, who):
    """Problems when a call of the softphone's reports (its --json lines) lists a busy tone heard: every call
    of a transfer that works connects, so none hears busy (DetectTones runs on every call)."""
    reports = [json.loads(line) for line in read(sp_out).splitlines() if line.startswith("{")]
    heard = [t for r in reports for t in r.get("tones_received", [])]
    print(f"{who}: {len(reports)} call reports, tones heard {heard}")
    return [f"{who} heard a busy tone"] if "busy" in heard else []


def check_target_invites(tg_invites, transferee_ip, transferee, transferor, attended, need_referred_by):
    """What the target received: one INVITE from the transferee (by its Via host), and when `attended` one more, the
    transferor's consultation call, whose Call-ID the transferee's Replaces must name (RFC 3891 §3). Prints them;
    returns the problems found."""
    problems = []
    ours = [m for m in tg_invites if via_host(m) == transferee_ip]
    print(f"target: {len(tg_invites)} INVITEs, {len(ours)} from {transferee}")
    if len(ours) != 1 or len(tg_invites) != (2 if attended else 1):
        problems.append(f"the target did not receive one INVITE from {transferee}" + (f" and one from {transferor}" if attended else ""))
    if not ours:
        return problems
    inv = ours[0]
    referred_by = re.search(r"^(Referred-By|b):", inv, re.M | re.I)
    print(f"target's INVITE: {start_line(inv)}, Via host {via_host(inv)}, Referred-By: {'yes' if referred_by else 'no'}, "
          f"Replaces: {'yes' if re.search(r'^Replaces:', inv, re.M | re.I) else 'no'}")
    if need_referred_by and not referred_by:
        problems.append(f"{transferee}'s INVITE to the target has no Referred-By")
    if attended:
        rep = re.search(r"^Replaces: *([^;\s]+)", inv, re.M | re.I)
        consult = [m for m in tg_invites if m is not inv]
        cid = re.search(r"^(?:Call-ID|i): *(\S+)", consult[0], re.M | re.I) if consult else None
        if not rep or not cid or rep.group(1) != cid.group(1):
            problems.append(f"{transferee}'s INVITE does not replace {transferor}'s consultation call")
    return problems


def softphone_transfers(a, sp, sp_out, sp_trace, tg_invites, l_ip, log):
    problems = []
    out = read(sp_out)
    report = last_json(sp_out)
    if sp.returncode != 0 or not report or not report.get("connected") or not report.get("normal_end"):
        problems.append(f"the transferor's call did not connect and end normally (exit {sp.returncode})")
    if "transfer accepted" not in out:
        problems.append("the transferor did not report the transfer accepted")
    problems += busy_heard(sp_out, "the transferor")
    sent, got = messages(sp_trace, "-->"), messages(sp_trace, "<--")
    refers = [m for m in sent if start_line(m).startswith("REFER ")]
    accepted = [m for m in got if start_line(m).startswith("SIP/2.0 202") and re.search(r"^CSeq: \d+ REFER", m, re.M | re.I)]
    notifies = [m for m in got if start_line(m).startswith("NOTIFY ")]
    codes = sipfrag_codes(notifies)
    print(f"transferor: {len(refers)} REFER, {len(accepted)} 202, NOTIFY sipfrags {codes}")
    if len(refers) != 1 or not accepted:
        problems.append("the REFER was not answered 202")
    if "200" not in codes:
        problems.append("no NOTIFY carried SIP/2.0 200")
    byes = [m for m in sent if start_line(m).startswith("BYE ")]
    print(f"transferor: {len(byes)} BYE sent to linphone after the transfer")
    if not byes:
        problems.append("the transferor did not end its call with linphone (BYE)")
    refered = "to LinphoneCallRefered" in log
    started = re.search(r"Starting new call to referred address (\S+)", log)
    print(f"linphone's log: call state Refered {'reached' if refered else 'not reached'}; "
          f"new call to {started.group(1) if started else '(none)'}")
    # Blind: the URI we named; attended: the target's Contact with ?Replaces= (RFC 3891 §6.1).
    if not refered or not started or a.tg_addr not in started.group(1):
        problems.append("linphone's log does not show it accepting the REFER and calling the target")
    # The transferee (linphonec) calls the target; attended: replacing the transferor's consultation call.
    problems += check_target_invites(tg_invites, l_ip, "linphonec", "the transferor", a.attended, need_referred_by=False)
    return problems


def linphone_transfers(a, sp, sp_out, sp_trace, tg_invites, l_ip, s_ip, log):
    problems = []
    out = read(sp_out)
    if sp.returncode != 0:
        problems.append(f"the transferee exited {sp.returncode}")
    host, port = a.tg_addr.split(":")  # attended: linphone's Refer-To has no port (5060)
    if not re.search(rf"^call 2: transferred to sip:\w+@{re.escape(host)}(:{port})?$", out, re.M):
        problems.append("the transferee did not announce call 2 as transferred to the target")
    if not re.search(r"^call 1 .*disconnected \(normal\)", out, re.M):
        problems.append("the transferee's call with linphone did not end normally")
    if not re.search(r"^call 2 .*connected$", out, re.M):
        problems.append("the transferee's call to the target did not connect")
    sent, got = messages(sp_trace, "-->"), messages(sp_trace, "<--")
    refers = [m for m in got if start_line(m).startswith("REFER ")]
    accepted = [m for m in sent if start_line(m).startswith("SIP/2.0 202")]
    notifies = [m for m in sent if start_line(m).startswith("NOTIFY ")]
    codes = sipfrag_codes(notifies)
    print(f"transferee: {len(refers)} REFER, {len(accepted)} 202, NOTIFY sipfrags {codes}")
    if refers:
        rt = re.search(r"^(Refer-To|r): *(.*)$", refers[0], re.M | re.I)
        print(f"linphone's REFER: Refer-To {rt.group(2).strip() if rt else '?'}")
    if len(refers) != 1 or not accepted:
        problems.append("linphone's REFER was not answered 202")
    problems += busy_heard(sp_out, "the transferee")
    if "200" not in codes:
        problems.append("no NOTIFY carried SIP/2.0 200")
    # The transferee (the softphone) calls the target; attended: replacing linphone's consultation call.
    problems += check_target_invites(tg_invites, s_ip, "the transferee", "linphonec", a.attended, need_referred_by=True)
    states = re.findall(r"Transfer state for CallSession \S+ changed from \[\w+\] to \[(\w+)\]", log)
    print(f"linphone's transfer states (from the NOTIFYs): {states}")
    if not states or states[-1] != "LinphoneCallConnected":
        problems.append("linphone's log does not show the transfer connected")
    byes = [m for m in got if start_line(m).startswith("BYE ") and via_host(m) == l_ip]
    if not byes:
        problems.append("linphone did not end its call with the transferee (BYE)")
    return problems


if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(main())
