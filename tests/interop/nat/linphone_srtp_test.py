#!/usr/bin/env python3
"""SRTP (RFC 3711) between the softphone and linphone-cli 5.1 (linphonec), both ways (issue 10).

    linphone_srtp_test.py --softphone build/bin/softphone --wav-match build/bin/wav_match --workdir DIR
                          --mode sdes|dtls --direction softphone-calls|linphone-calls [--port 7870]
                          [--linphone-rtcp-mux on|off]

Each phone in a network namespace of its own (linphone.py): linphonec in L (10.77.4.1 for sdes, 10.77.5.1 for
dtls; SIP P, RTP P+2), the softphone in S (10.77.4.2 / 10.77.5.2; SIP P+6). linphonec has `[sip]
media_encryption=srtp` (sdes) or `dtls` with `media_encryption_mandatory=1`; the softphone runs with
`--srtp sdes --srtp-required --allow-insecure-sdes` (keys in the SDP over clear SIP: a test-only choice) or
`--srtp dtls --srtp-required`.
Asserts: the call connects and ends normally; the softphone's JSON report says `"srtp":"sdes"` or `"dtls"` with
a suite; linphone's SDP (seen in the softphone's --sip-trace) offers or answers RTP/SAVP with `a=crypto` (sdes) or
UDP/TLS/RTP/SAVP with `a=fingerprint` (dtls); linphone's log says `Negotiated media encryption is
LinphoneMediaEncryptionSRTP` (or `...DTLS` and `DTLS Handshake on RTP channel successful`) and that it set its SRTP
send and receive keys, its SRTCP keys both ways (with DTLS and no rtcp-mux from an association of its own on
the RTCP port, whose handshake it logs; under rtcp-mux the SRTP keys protect RTCP too) and that it received
the softphone's RTCP; the softphone
took in linphone's SRTCP (JSON `rtcp.received`); and each recording holds the other side's speech (wav_match,
1-second windows, median >= 0.6).
With `--linphone-rtcp-mux on` (`[rtp] rtcp_mux=1`, not linphone's default) linphone offers and accepts rtcp-mux
(RFC 5761): the softphone's report must say RTCP went over the RTP port (`rtcp.mux`), keyed with DTLS by the one
association on it.
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

SUBNET = {"sdes": "10.77.4", "dtls": "10.77.5"}
LINPHONE_ENCRYPTION = {"sdes": "srtp", "dtls": "dtls"}  # [sip] media_encryption
SOFTPHONE_ARGS = {"sdes": ["--srtp", "sdes", "--srtp-required", "--allow-insecure-sdes"],
                  "dtls": ["--srtp", "dtls", "--srtp-required"]}
# linphone's log once media is encrypted: the negotiated encryption, SRTP keys set both ways and, with DTLS,
# the handshake done.
LOG_PROOF = {"sdes": ("Negotiated media encryption is LinphoneMediaEncryptionSRTP", "media_stream_set_srtp_send_key",
                      "media_stream_set_srtp_recv_key"),
             "dtls": ("Negotiated media encryption is LinphoneMediaEncryptionDTLS",
                      "DTLS Handshake on RTP channel successful", "media_stream_set_srtp_send_key",
                      "media_stream_set_srtp_recv_key")}
SDP_PROOF = {"sdes": (r"^m=audio \d+ RTP/SAVP ", r"^a=crypto:"),
             "dtls": (r"^m=audio \d+ UDP/TLS/RTP/SAVP ", r"^a=fingerprint:")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--wav-match", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--mode", choices=("sdes", "dtls"), required=True)
    ap.add_argument("--direction", choices=("softphone-calls", "linphone-calls"), required=True)
    ap.add_argument("--port", type=int, default=7870)
    ap.add_argument("--linphone-rtcp-mux", choices=("on", "off"), default="off")
    args = ap.parse_args()
    why = skip_reason(["linphonec", "sox"])
    if why:
        print(f"SKIP: {why} (Debian: iproute2, linphone-cli, sox)")
        return 77
    l_ip, s_ip = SUBNET[args.mode] + ".1", SUBNET[args.mode] + ".2"
    setup = Setup(args.workdir, l_ip, args.port,
                  sip_extra=f"media_encryption={LINPHONE_ENCRYPTION[args.mode]}\nmedia_encryption_mandatory=1\n",
                  rtp_extra="rtcp_mux=1\n" if args.linphone_rtcp_mux == "on" else "")
    net = Network("ls")
    procs = Processes(net, args.workdir)
    try:
        net.link("l", f"{l_ip}/24", "s", f"{s_ip}/24")
        report, trace = run_call(procs, args.softphone, setup, args.direction, f"{l_ip}:{args.port}",
                                 f"{s_ip}:{args.port + 6}", SOFTPHONE_ARGS[args.mode])
        log = read(setup.lp_log)
        # linphone's SDP: the offer or answer it sent, as the softphone received it.
        received = "\n".join(m for m in re.split(r"\n(?=(?:<--|-->) )", trace) if m.startswith("<--"))
        sdp = [re.search(p, received, re.M) for p in SDP_PROOF[args.mode]]
        missing = [line for line in LOG_PROOF[args.mode] if line not in log]
        shown = (m.group(0) if m else f"missing {p}" for m, p in zip(sdp, SDP_PROOF[args.mode]))
        print("linphone's SDP: " + "; ".join(shown))
        print(f"linphone's log: {'; '.join(LOG_PROOF[args.mode]) if not missing else 'missing ' + '; '.join(missing)}")
        # RTCP (the softphone reports after 2.5 s, then every 5 s): linphone keys SRTCP both ways (with DTLS and
        # no rtcp-mux from a DTLS association of its own on the RTCP port, RFC 5764 §4.1) and takes in the
        # softphone's SRTCP (oRTP's "received rtcp N packets" at the end: what passed SRTCP authentication).
        srtcp_keys = [k for k in ("media_stream_set_srtcp_send_key", "media_stream_set_srtcp_recv_key") if k in log]
        received_rtcp = [int(n) for n in re.findall(r"received rtcp\s+(\d+) packets", log)]
        rtcp = report.get("rtcp") or {}
        print(f"linphone's SRTCP: keys set {', '.join(srtcp_keys) or 'none'}; received rtcp {received_rtcp} packets; "
              f"{log.count('receiving RTCP SR')} RTCP SRs received")
        linphone_mux = "on" if "RTCP mux is enabled" in log else "off" if "RTCP mux is disabled" in log else "?"
        if args.mode == "dtls":
            print(f"linphone's DTLS on its RTCP channel: {log.count('DTLS Send RTCP packet')} packets sent, handshake "
                  f"{'done' if 'DTLS RTCP Handshake successful' in log else 'not done'}; "
                  f"rtcp-mux {linphone_mux}")
        print(f"softphone: srtp {report.get('srtp')}, suite {report.get('srtp_suite')}; RTCP {rtcp}")
        problems = []
        if not (report["connected"] and report["normal_end"]):
            problems.append("the softphone's call did not connect or end normally")
        if report.get("srtp") != args.mode or not report.get("srtp_suite"):
            problems.append(f"the softphone's report says srtp {report.get('srtp')}, suite {report.get('srtp_suite')}")
        if not all(sdp):
            problems.append("linphone's SDP does not carry SRTP")
        if missing:
            problems.append("linphone's log does not say the call's media is encrypted")
        # Under rtcp-mux linphone's one SRTP session per direction (the keys above) protects RTCP too.
        if len(srtcp_keys) != 2 and not rtcp.get("mux"):
            problems.append("linphone did not set its SRTCP send and receive keys")
        if not received_rtcp or max(received_rtcp) < 1:
            problems.append("linphone received none of the softphone's RTCP")
        if rtcp.get("sent", 0) < 1:
            problems.append("the softphone sent no RTCP")
        if rtcp.get("received", 0) < 1:
            problems.append("the softphone took in none of linphone's SRTCP")
        if rtcp.get("mux") != (args.linphone_rtcp_mux == "on" and args.mode == "dtls"):
            problems.append(f"the softphone's RTCP went {'over' if rtcp.get('mux') else 'beside'} the RTP port "
                            f"with linphone's rtcp_mux {args.linphone_rtcp_mux}")
        if args.mode == "dtls" and not rtcp.get("mux") and "DTLS RTCP Handshake successful" not in log:
            problems.append("without rtcp-mux, linphone's DTLS handshake on its RTCP port did not complete")
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
