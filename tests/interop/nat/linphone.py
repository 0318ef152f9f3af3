"""linphone-cli 5.1 (linphonec) and the softphone in a call, each in a network namespace of its own
(linphone_ice_test.py, linphone_srtp_test.py).

linphonec offers the addresses of the interfaces it finds (in the root namespace of these machines eth0's
192.0.2.2 and fd00::2, even with `[rtp] bind_address=127.0.0.1`, where its RTP socket is bound), so each phone
runs in a namespace of its own, joined by one veth pair: linphonec in L (SIP P, RTP P+2), the softphone in S
(SIP P+6). What linphonec needs to run headless: `$HOME/.local/share/linphone/` must exist (without it it never
listens), `[sip] bind_address`, `[rtp] bind_address`, `sip_tcp_port=0`, and `soundcard use files` with
`play`/`record` on its command pipe. It answers with -a (softphone-calls) or dials the softphone
(linphone-calls); the softphone runs `call` or `listen --auto-answer`, playing other speech and recording.
"""
import os
import shutil
import subprocess
import time

from netns import last_json, make_speech, read, wait_for, which

RC = """[sip]
bind_address={ip}
sip_port={sip}
sip_tcp_port=0
sip_tls_port=0
{sip_extra}[rtp]
bind_address={ip}
audio_rtp_port={rtp}
{rtp_extra}"""

CALL_SECONDS = 6  # how long each call lasts once connected


class Failure(Exception):
    """A step of the call failed: the message says which."""


class Setup:
    """The files of one call in `workdir` (made afresh): linphonec's HOME, its linphonerc (RC with `ip`,
    ports P and P+2 and the extra lines of [sip] and [rtp]), each side's speech (48 kHz) and recording, linphone's
    log."""

    def __init__(self, workdir, ip, port, sip_extra="", rtp_extra=""):
        shutil.rmtree(workdir, ignore_errors=True)
        self.workdir, self.home = workdir, os.path.join(workdir, "home")
        os.makedirs(os.path.join(self.home, ".local", "share", "linphone"))  # without it linphonec never listens
        self.rc = os.path.join(workdir, "linphonerc")
        with open(self.rc, "w") as f:
            f.write(RC.format(ip=ip, sip=port, rtp=port + 2, sip_extra=sip_extra, rtp_extra=rtp_extra))
        self.speech = {"softphone": os.path.join(workdir, "softphone-speech.wav"),
                       "linphone": os.path.join(workdir, "linphone-speech.wav")}
        make_speech(which("sox"), ("Front_Left", "Front_Right"), 48000, self.speech["softphone"])
        make_speech(which("sox"), ("Front_Center", "Rear_Center"), 48000, self.speech["linphone"])
        self.heard = {side: os.path.join(workdir, f"{side}-heard.wav") for side in ("softphone", "linphone")}
        self.lp_log = os.path.join(workdir, "linphone.log")


def run_call(procs, softphone, setup, direction, lp_addr, sp_addr, softphone_args):
    """One call between linphonec (started with `procs`) in namespace "l" at lp_addr ("IP:PORT") and the
    softphone (path `softphone`) in "s" at sp_addr, placed by either side (direction "softphone-calls" or
    "linphone-calls"), CALL_SECONDS long; softphone_args are added to the softphone's command line (which has
    --play, --record, --json and --sip-trace). Returns (report, sip_trace): the softphone's JSON report and its
    --sip-trace. Raises Failure."""
    softphone_cmd = [softphone, "--bind", sp_addr, *softphone_args, "--play", setup.speech["softphone"],
                     "--record", setup.heard["softphone"], "--json", "--sip-trace"]
    # linphonec reads its commands from a pipe we keep open until the call is over.
    lp_cmds = ["soundcard use files", f"play {setup.speech['linphone']}", f"record {setup.heard['linphone']}"]
    env = dict(os.environ, HOME=setup.home)
    lp_args = [which("linphonec"), "-c", setup.rc, "-d", "6", "-l", setup.lp_log]
    if direction == "softphone-calls":
        lp, _, _ = procs.spawn("l", "linphonec", lp_args + ["-a"], 30, stdin=subprocess.PIPE, env=env)
        lp.stdin.write(("\n".join(lp_cmds) + "\n").encode())
        lp.stdin.flush()
        if not wait_for(lambda: lp_addr in read(setup.lp_log) or lp.poll() is not None, 10):
            raise Failure("linphonec did not listen")
        time.sleep(0.3)
        softphone_cmd[1:1] = ["call", f"sip:linphone@{lp_addr}", "--seconds", str(CALL_SECONDS)]
        sp, sp_out, sp_err = procs.spawn("s", "softphone", softphone_cmd, 25)
    else:
        softphone_cmd[1:1] = ["listen", "--auto-answer", "--calls", "1", "--seconds", "20"]
        sp, sp_out, sp_err = procs.spawn("s", "softphone", softphone_cmd, 25)
        if not wait_for(lambda: "listening as" in read(sp_out) or sp.poll() is not None, 10):
            raise Failure("the softphone did not start listening")
        lp, _, _ = procs.spawn("l", "linphonec", lp_args, 30, stdin=subprocess.PIPE, env=env)
        lp.stdin.write(("\n".join(lp_cmds + [f"call sip:ptapi@{sp_addr}"]) + "\n").encode())
        lp.stdin.flush()
        # linphone hangs up after CALL_SECONDS of call (the softphone's listen ends with the call).
        if wait_for(lambda: "connected" in read(sp_out) or sp.poll() is not None, 10):
            time.sleep(CALL_SECONDS)
        lp.stdin.write(b"terminate\n")
        lp.stdin.flush()
    try:
        sp_rc = sp.wait(25)
    except subprocess.TimeoutExpired:
        raise Failure("the softphone did not finish in time") from None
    lp.stdin.write(b"quit\n")
    lp.stdin.close()
    try:
        lp.wait(10)
    except subprocess.TimeoutExpired:
        pass  # stopped by procs.stop_all()
    report = last_json(sp_out)
    print("--- softphone:\n" + "\n".join(l for l in read(sp_out).splitlines() if not l.startswith("{")))
    if sp_rc != 0 or not report:
        raise Failure(f"the softphone exited {sp_rc}" + ("" if report else " without a JSON report"))
    return report, read(sp_err)


def speech_problems(wav_match, setup):
    """Checks each recording for the other side's speech (wav_match, 1-second windows that follow the lag,
    median >= 0.6); prints wav_match's figures. Returns the problems found (empty: speech went both ways)."""
    problems = []
    for talker, listener in (("softphone", "linphone"), ("linphone", "softphone")):
        m = subprocess.run([wav_match, setup.speech[talker], setup.heard[listener], "--windows",
                            "--min-correlation", "0.6"], capture_output=True, text=True, timeout=30)
        print(f"{talker} -> {listener}: {m.stdout.strip()} {m.stderr.strip()}")
        if m.returncode != 0:
            problems.append(f"{listener}'s recording does not hold what {talker} played")
    return problems
