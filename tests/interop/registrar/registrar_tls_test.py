#!/usr/bin/env python3
"""Two softphones registered at Kamailio over TLS only, calling each other through it with SDES-SRTP (issue 10).

    registrar_tls_test.py --softphone build/bin/softphone --workdir DIR [--port 7620]
                          [--wav-match build/bin/wav_match]

Certificates are made here with the `openssl` command (a throwaway CA; one certificate for Kamailio and the
phones naming localhost and 127.0.0.1). Kamailio (examples/kamailio/registrar.cfg with -A WITH_TLS, the
tls module of Debian's kamailio-tls-modules) listens on tls:127.0.0.1:P+1 (and UDP P, unused). Bob
(`softphone listen --tls-only`, TLS port P+3) and Alice (`softphone call --tls-only`, TLS port P+5) register
with sips:localhost:P+1 (Digest), verifying Kamailio's certificate against the CA; Alice calls
sips:bob@localhost:P+1 with `--srtp sdes --srtp-required` (allowed without --allow-insecure-sdes because
all signalling is TLS). Asserts: both phones exit 0 with the call connected, RTP both ways, "tls": true and
"srtp": "sdes" in their JSON; Kamailio relayed the INVITE and the BYE; no message in the phones' SIP traces
has a UDP Via (with --tls-only they have no UDP or TCP socket at all). With --wav-match (and sox), both hear
each other: each phone plays 3-4 s of speech and records, and wav_match finds each side's speech in the other's
recording (1-second windows, median >= 0.6). registrar_tls_capture_test.py runs the same call under a capture.
Prints PASS or FAIL: why; exit 0 / 1, 77 when kamailio, its tls module or openssl is not installed.
Bounded: every process has a deadline; the run takes about 8 s (10 s with speech).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = os.path.join(HERE, "..", "..", "..", "examples", "kamailio", "registrar.cfg")
PASSWORD = "s3cret"
DOMAIN = "example.test"
LOCAL = "127.0.0.1"
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "dispatcher"))
sys.path.insert(0, HERE)
from dispatcher_test import wait_for, which  # noqa: E402
from registrar_test import fail, read, stop  # noqa: E402


def make_certificates(d):
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    steps = [
        ["openssl", "req", "-x509"] + key + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=interop-ca"],
        ["openssl", "req"] + key + ["-keyout", "host.key", "-out", "host.csr", "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", "host.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "2", "-out", "host.crt", "-extfile", "ext.cnf"],
    ]
    for s in steps:
        subprocess.run(s, cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


SPEECH = {"alice": ("Front_Left", "Front_Right", "Side_Left"), "bob": ("Front_Center", "Rear_Center", "Rear_Left")}


def prepare_speech(directory, sox):
    """Makes (emptied first) `directory` with each phone's speech (3-4 s of alsa-utils' spoken channel names, 48 kHz
    mono; Alice's and Bob's differ). Returns (speech, heard, extra): per phone the WAV it plays, the WAV it records
    and the softphone options that do both."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    speech, heard, extra = {}, {}, {}
    for side, parts in SPEECH.items():
        speech[side], heard[side] = (os.path.join(directory, f"{side}-{what}.wav") for what in ("speech", "heard"))
        subprocess.run([sox, *(f"/usr/share/sounds/alsa/{p}.wav" for p in parts), "-r", "48000", "-c", "1", "-b", "16",
                        speech[side]], check=True, timeout=20)
        extra[side] = ["--play", speech[side], "--record", heard[side]]
    return speech, heard, extra


def judge_speech(wav_match, speech, heard, problems):
    """Both hear each other: wav_match finds each side's speech in the other's recording (1-second windows that
    follow the lag, median correlation >= 0.6); appends to `problems` what does not match."""
    for talker, listener in (("alice", "bob"), ("bob", "alice")):
        m = subprocess.run([wav_match, speech[talker], heard[listener], "--windows", "--min-correlation", "0.6"],
                           capture_output=True, text=True, timeout=30)
        print(f"{talker} -> {listener}: {m.stdout.strip()} {m.stderr.strip()}")
        if m.returncode != 0:
            problems.append(f"{listener}'s recording does not match what {talker} played")


def call_through_kamailio(softphone, d, port, bob_extra=(), alice_extra=(), bob_seconds=6, alice_seconds=3,
                          srtp="sdes", require_client_certificates=False, before_stop=None):
    """Kamailio over TLS on `port`+1, Bob listening, Alice calling him with SRTP keyed by `srtp` ("sdes" as the
    module doc says, or "dtls": DTLS-SRTP); every process stopped on return. Returns (problems, info): `problems` lists what failed (empty: the call went
    as asserted above), `info` has the ports ("tls", "bob_tls", "alice_tls") and the phones' stdout/stderr paths
    ("alice_out", "alice_err", "bob_out", "bob_err"). `*_extra`: more options for each phone (--play, --record...).
    With `require_client_certificates` Kamailio's TLS server asks for and verifies the phones' certificates
    (verify_certificate and require_certificate = yes, ca_list the CA). `before_stop(d, info)`, when given, runs after
    the call while Kamailio still runs and returns more problems (a list).
    Returns (None, why) when kamailio, its tls module or openssl is missing (the caller skips)."""
    kamailio = which("kamailio")
    tls_module = "/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so"
    if not kamailio or not shutil.which("openssl") or not any(
            os.path.exists(p) for p in (tls_module, "/usr/lib/kamailio/modules/tls.so", "/usr/local/lib64/kamailio/modules/tls.so")):
        return None, "kamailio, its tls module (Debian: kamailio-tls-modules) or openssl is not installed"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    make_certificates(d)
    tls_cfg = os.path.join(d, "tls.cfg")
    with open(tls_cfg, "w") as f:
        mutual = "yes" if require_client_certificates else "no"
        f.write(f"[server:default]\nmethod = TLSv1.2+\nverify_certificate = {mutual}\nrequire_certificate = {mutual}\n"
                f"private_key = {d}/host.key\ncertificate = {d}/host.crt\n"
                + (f"ca_list = {d}/ca.crt\n" if require_client_certificates else "") + "\n"
                f"[client:default]\nmethod = TLSv1.2+\nverify_certificate = yes\nrequire_certificate = yes\n"
                f"ca_list = {d}/ca.crt\n")
    udp, tls, bob_port, alice_port = port, port + 1, port + 2, port + 4
    info = {"tls": tls, "bob_tls": bob_port + 1, "alice_tls": alice_port + 1}
    for name in ("alice", "bob"):
        info[name + "_out"], info[name + "_err"] = os.path.join(d, name + ".out"), os.path.join(d, name + ".err")
    run = os.path.join(d, "kamailio-run")
    os.makedirs(run)
    kam_log = os.path.join(d, "kamailio.err")
    procs = []

    def spawn(cmd, name):
        out, err = os.path.join(d, name + ".out"), os.path.join(d, name + ".err")
        p = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=open(err, "w"), stdin=subprocess.DEVNULL,
                             start_new_session=True)
        procs.append(p)
        return p, out, err

    try:
        kam, _, _ = spawn([kamailio, "-f", CFG, "-DD", "-E", "-w", d, "-Y", run, "-P", os.path.join(run, "kamailio.pid"),
                           "-m", "32", "-M", "4", "-A", f"LISTEN=udp:{LOCAL}:{udp}", "-A", f'PASSWORD="{PASSWORD}"',
                           "-A", f'CTL_SOCKET="unix:{run}/kamailio_ctl"', "-A", "WITH_TLS",
                           "-A", f"TLS_LISTEN=tls:{LOCAL}:{tls}", "-A", f'TLS_CONFIG="{tls_cfg}"'], "kamailio")
        wait_for(lambda: "listening on" in read(kam_log).lower() or kam.poll() is not None, 5)
        if kam.poll() is not None:
            return ["kamailio did not start: " + read(kam_log)[-400:]], info
        wait_for(lambda: False, 0.7)  # the workers bind after the main process logs
        tls_args = ["--tls-only", "--tls-cert", f"{d}/host.crt", "--tls-key", f"{d}/host.key", "--tls-ca", f"{d}/ca.crt",
                    "--srtp", srtp, "--srtp-required"]
        common = ["--password", PASSWORD, "--registrar", f"sips:localhost:{tls}", "--json", "--t1-ms", "100"] + tls_args
        bob, bob_out, _ = spawn([softphone, "listen", "--bind", f"{LOCAL}:{bob_port}", "--account", f"sips:bob@{DOMAIN}",
                                 "--auto-answer", "--seconds", str(bob_seconds), "--calls", "1", "--sip-trace"]
                                + common + list(bob_extra), "bob")
        if not wait_for(lambda: "registered" in read(bob_out) or bob.poll() is not None, 5):
            return ["Bob did not register within 5 s"], info
        alice, alice_out, _ = spawn([softphone, "call", f"sips:bob@localhost:{tls}", "--bind", f"{LOCAL}:{alice_port}",
                                     "--account", f"sips:alice@{DOMAIN}", "--seconds", str(alice_seconds), "--sip-trace"]
                                    + common + list(alice_extra), "alice")
        try:
            alice_rc = alice.wait(20)
            bob_rc = bob.wait(10)
        except subprocess.TimeoutExpired:
            return ["a softphone did not finish in time"], info
        extra_problems = before_stop(d, info) if before_stop else []
        stop(kam)
        log = read(kam_log)
        relayed = re.findall(r"RELAY (\S+) (\d+) (\S+) (\S+) (\S+)", log)
        print("requests relayed (method, CSeq, Call-ID, From tag, source):")
        for r in relayed:
            print("  ", *r)
        problems = list(extra_problems)
        if alice_rc != 0 or bob_rc != 0:
            problems.append(f"exit codes alice={alice_rc} bob={bob_rc}")
        for name, path in (("alice", alice_out), ("bob", bob_out)):
            text = read(path).replace(" ", "")
            if '"connected":true' not in text or '"tls":true' not in text or f'"srtp":"{srtp}"' not in text:
                problems.append(f"{name}'s report: not connected over TLS with SRTP keyed by {srtp}")
        methods = [r[0] for r in relayed]
        if "INVITE" not in methods or "BYE" not in methods:
            problems.append(f"the INVITE and the BYE were not both relayed: {methods}")
        if "SIP/2.0/UDP" in read(info["alice_err"]) + read(info["bob_err"]):
            problems.append("a SIP message with a UDP Via crossed a phone")
        return problems, info
    finally:
        for p in procs:
            stop(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=7620)
    ap.add_argument("--wav-match", help="with it (and sox), both phones play and record speech, judged by wav_match")
    args = ap.parse_args()
    sox = shutil.which("sox")
    if args.wav_match and sox:
        # The WAVs in <workdir>/speech, the call's logs in <workdir>/call (call_through_kamailio empties it): one
        # directory holds the whole run (a failed run's is kept whole, tests/interop/keep_failed_logs.py).
        shutil.rmtree(args.workdir, ignore_errors=True)
        speech, heard, extra = prepare_speech(os.path.join(args.workdir, "speech"), sox)
        problems, info = call_through_kamailio(args.softphone, os.path.join(args.workdir, "call"), args.port,
                                               bob_extra=extra["bob"],
                                               alice_extra=extra["alice"], bob_seconds=10, alice_seconds=5)
        if problems is not None:
            judge_speech(args.wav_match, speech, heard, problems)
    else:
        print("speech not checked: " + ("sox is not installed" if args.wav_match else "no --wav-match"))
        problems, info = call_through_kamailio(args.softphone, args.workdir, args.port)
    if problems is None:
        print("SKIP: " + info)
        return 77
    if problems:
        return fail("; ".join(problems), args.workdir)
    print("PASS")
    return 0

if __name__ == "__main__":
    sys.exit(main())
