#!/usr/bin/env python3
"""Mutual TLS at Kamailio (issue 10): its TLS server requires and verifies client certificates.

    registrar_mtls_test.py --softphone build/bin/softphone --workdir DIR [--port 8100]

The call of registrar_tls_test.py (two softphones registered over TLS only, a call through Kamailio with
SDES-SRTP), with Kamailio's tls.cfg saying `verify_certificate = yes` and `require_certificate = yes` (ca_list:
the test's CA): both phones offer their --tls-cert as client certificate, so the call must go through. Then,
with Kamailio still running, a third softphone without --tls-cert (it trusts the CA) calling Bob must fail to
register at sips:localhost:P+1 (exit 1, "registration failed" or "not registered"), and Kamailio's log must say that it refused a TLS
client because it "did not return a certificate". Ports P..P+7. Prints PASS or FAIL: why; exit 0 / 1,
77 when kamailio, its tls module or openssl is not installed. Bounded: every process has a deadline; about 12 s.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
from registrar_tls_test import DOMAIN, LOCAL, PASSWORD, call_through_kamailio  # noqa: E402
from registrar_test import fail, read  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=8100)
    args = ap.parse_args()

    def without_certificate(d, info):
        """A phone without a client certificate registers over TLS: Kamailio must refuse it."""
        cmd = [args.softphone, "call", f"sips:bob@localhost:{info['tls']}", "--bind", f"{LOCAL}:{args.port + 6}",
               "--account", f"sips:carol@{DOMAIN}", "--password", PASSWORD, "--registrar", f"sips:localhost:{info['tls']}",
               "--tls-ca", f"{d}/ca.crt", "--t1-ms", "100", "--seconds", "1"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return ["the phone without a certificate did not finish in time"]
        print("without a client certificate:", p.returncode, (p.stdout + p.stderr).strip().splitlines()[-3:])
        if p.returncode == 0 or "registered (" in p.stdout or "registration failed" not in p.stderr + p.stdout and \
                "not registered" not in p.stderr + p.stdout:
            return ["a phone without a client certificate registered at a Kamailio that requires one"]
        if "peer did not return a certificate" not in read(os.path.join(d, "kamailio.err")):
            return ["Kamailio's log does not say that it refused a TLS client without a certificate"]
        return []

    problems, info = call_through_kamailio(args.softphone, args.workdir, args.port, require_client_certificates=True,
                                           before_stop=without_certificate)
    if problems is None:
        print("SKIP: " + info)
        return 77
    if problems:
        return fail("; ".join(problems), args.workdir)
    print("PASS: phones with client certificates called each other; one without was refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
