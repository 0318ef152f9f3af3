#!/usr/bin/env python3
"""The call of registrar_tls_test.py (two softphones, Kamailio over TLS, SDES-SRTP) under a packet capture of the
loopback interface, with speech both ways (issue 10: "a capture shows nothing in clear", "both hear each other").

    registrar_tls_capture_test.py --softphone build/bin/softphone --wav-match build/bin/wav_match --workdir DIR
                                  [--port 7614]

Alice and Bob each play 3-4 s of alsa-utils speech (Alice's and Bob's differ) and record what they hear; the
whole run is captured on lo (AF_PACKET, lo_capture.py). Asserts, besides what registrar_tls_test.py asserts:
- TLS: every TCP stream to or from Kamailio's TLS port or a phone's TLS port parses end to end as TLS records,
  starts with a handshake record (0x16) and carries application data (0x17); at least 4 such streams (each
  phone to Kamailio and back); none holds a SIP method name or "SIP/2.0".
- SRTP: the UDP packets between the phones' SDP media ports: at least 100 RTP packets each way, every one
  with a valid HMAC-SHA1-80 tag (RFC 3711 §4.2: the last 10 bytes) under the a=crypto key its sender put in its
  SDP (read from the phones' --sip-trace); decrypted with that key (AES-CM) >= 95 % of them are one 20 ms mono
  Opus frame by their TOC byte (RFC 6716 §3.1), and not one decrypted payload of 16 bytes or more (what plain
  RTP would have carried) appears in any captured UDP or TCP payload. The captured payloads look random: their
  bytes' entropy is >= 7.98 bits/byte (over >= 20000 bytes) and no first byte (Opus' TOC, encrypted) begins more
  than 20 % of them, while the same check on the decrypted payloads (the control) must find a repeated TOC.
  RTCP packets, if any, are SRTCP with the E flag and a valid tag.
- Speech: wav_match finds each side's speech in the other's recording (1-second windows, median >= 0.6).
Prints the figures, then PASS or FAIL: why; exit 0 / 1, 77 when not root or a tool is missing. About 12 s.
"""
import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
from lo_capture import Capture, SrtpKey, entropy, rtp_header_length, tcp_streams, tls_records  # noqa: E402
from registrar_test import fail, read  # noqa: E402
from registrar_tls_test import LOCAL, call_through_kamailio  # noqa: E402

SIP_WORDS = (b"INVITE", b"REGISTER", b"ACK sip", b"BYE sip", b"SIP/2.0", b"Call-ID", b"CSeq")
OPUS_20MS_CONFIGS = {1, 5, 9, 13, 15, 19, 23, 27, 31}  # RFC 6716 §3.1: SILK, Hybrid and CELT at 20 ms
SPEECH = {"alice": ("Front_Left", "Front_Right", "Side_Left"), "bob": ("Front_Center", "Rear_Center", "Rear_Left")}


def sdp_media(traces):
    """The SDP media ports (RTP and RTCP, RFC 3605) and the a=crypto keys (suite -> set of inline keys) in the phones' SIP traces."""
    ports = {int(p) for p in re.findall(r"^(?:m=audio |a=rtcp:)(\d+)\b", traces, re.M)}
    keys = set(re.findall(r"^a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/=]+)", traces, re.M))
    return ports, keys


def first_byte_share(payloads):
    """How many of `payloads` (as a fraction) begin with their commonest first byte."""
    firsts = collections.Counter(p[0] for p in payloads if p)
    return firsts.most_common(1)[0][1] / sum(firsts.values()) if firsts else 1.0


def check_tls(packets, tls_ports, problems):
    streams = {f: s for f, s in tcp_streams(packets).items() if f[1] in tls_ports or f[3] in tls_ports}
    for flow, data in sorted(streams.items()):
        counts, why = tls_records(data)
        print(f"TCP {flow[0]}:{flow[1]} -> {flow[2]}:{flow[3]}: {len(data)} bytes, TLS records {dict(counts)}")
        if why or not data.startswith(b"\x16") or counts[23] == 0:
            problems.append(f"TCP {flow[1]}->{flow[3]} is not a TLS stream with application data ({why or 'no 0x17'})")
        words = [w.decode() for w in SIP_WORDS if w in data]
        if words:
            problems.append(f"TCP {flow[1]}->{flow[3]} carries {words} in clear")
    if len(streams) < 4:
        problems.append(f"{len(streams)} TLS streams captured (expected each phone to Kamailio and back)")
    return streams


def check_srtp(packets, media_ports, keys, streams, problems):
    """Returns the captured SRTP payloads (for the entropy) after checking every packet's tag and decrypting it."""
    media = [p for p in packets if p[0] == 17 and p[2] in media_ports and p[4] in media_ports
             and p[1] == LOCAL and p[3] == LOCAL]
    keys = [SrtpKey(k) for k in keys]
    rtp = collections.defaultdict(list)  # (sport, dport) -> [(packet, ssrc, index, key)]
    highest, rtcp, bad = {}, collections.Counter(), collections.Counter()
    for p in media:
        data, flow = p[6], (p[2], p[4])
        if len(data) >= 2 and 200 <= data[1] <= 204:  # RTCP (RFC 5761 §4)
            ok = len(data) >= 8 + 14 and data[-14] & 0x80 and any(k.rtcp_tag_ok(data) for k in keys)
            rtcp["srtcp" if ok else "bad"] += 1
            continue
        if rtp_header_length(data) is None:
            bad["not RTP"] += 1
            continue
        seq, ssrc = int.from_bytes(data[2:4], "big"), int.from_bytes(data[8:12], "big")
        roc, last = highest.get(ssrc, (0, seq))
        if last - seq > 32768:
            roc += 1  # the sequence number wrapped (RFC 3711 §3.3.1; lo does not reorder across a wrap)
        if roc > highest.get(ssrc, (0, seq))[0] or seq > last:
            highest[ssrc] = (roc, seq)
        index = (roc << 16) | seq
        key = next((k for k in keys if k.rtp_tag_ok(data, roc)), None)
        if key is None:
            bad["tag not valid under any SDP key"] += 1
            continue
        rtp[flow].append((data, ssrc, index, key))
    payloads, clear = [], []
    for flow, items in sorted(rtp.items()):
        by_key = collections.defaultdict(list)
        for data, ssrc, index, key in items:
            n = rtp_header_length(data)
            by_key[key].append((data[:n], data[n:-10], ssrc, index))
        for key, group in by_key.items():
            clear += key.decrypt_rtp(group)
            payloads += [g[1] for g in group]
        print(f"UDP {flow[0]} -> {flow[1]}: {len(items)} SRTP packets with a valid 80-bit tag")
        if len(items) < 100:
            problems.append(f"only {len(items)} SRTP packets from port {flow[0]} to {flow[1]}")
    if len(rtp) < 2:
        problems.append(f"SRTP seen in {len(rtp)} direction(s), not both")
    if bad:
        problems.append(f"media packets that are not SRTP: {dict(bad)}")
    if rtcp["bad"]:
        problems.append(f"{rtcp['bad']} RTCP packets without the SRTCP E flag and a valid tag")
    toc = collections.Counter(c[0] for c in clear if c)
    opus_20ms = sum(n for b, n in toc.items() if b >> 3 in OPUS_20MS_CONFIGS and b & 7 == 0)
    print(f"RTCP: {dict(rtcp)}; decrypted Opus TOC bytes {dict(toc.most_common(4))}: {opus_20ms} of {len(clear)} "
          f"say one 20 ms mono frame")
    if not clear or opus_20ms < 0.95 * len(clear):
        problems.append("the decrypted payloads are not 20 ms Opus frames: not the SDP's key or suite")
    # The first payload byte is Opus' TOC: a few values in clear, any value once encrypted. The same check on the
    # decrypted payloads (the control) must fail, or it proves nothing.
    sealed_share, clear_share = first_byte_share(payloads), first_byte_share(clear)
    print(f"commonest first payload byte: {sealed_share:.1%} of the captured payloads, {clear_share:.1%} of the "
          f"decrypted ones")
    if sealed_share > 0.2 or clear_share <= 0.2:
        problems.append("the captured payloads' first byte is not spread as encrypted bytes are")
    seen = b"\0".join([p[6] for p in packets if p[0] == 17] + list(streams.values()))
    long_clear = [c for c in clear if len(c) >= 16]
    in_clear = sum(1 for c in long_clear if c[:16] in seen)
    print(f"{len(long_clear)} decrypted payloads of 16+ bytes; {in_clear} of them found in the capture")
    if not long_clear or in_clear:
        problems.append(f"{in_clear} of {len(long_clear)} clear payloads appear in the capture")
    return payloads, clear


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--wav-match", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=7614)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: capturing packets needs root")
        return 77
    sox = shutil.which("sox")
    if not sox or not shutil.which("openssl"):
        print("SKIP: sox or openssl is not installed")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # ctest's timeout: the `finally` blocks still run
    d = args.workdir
    speech_dir = d + "-speech"  # call_through_kamailio empties `d`
    shutil.rmtree(speech_dir, ignore_errors=True)
    os.makedirs(speech_dir)
    speech, heard, extra = {}, {}, {}
    for side, parts in SPEECH.items():
        speech[side], heard[side] = os.path.join(speech_dir, side + "-speech.wav"), os.path.join(speech_dir, side + "-heard.wav")
        subprocess.run([sox, *(f"/usr/share/sounds/alsa/{p}.wav" for p in parts), "-r", "48000", "-c", "1", "-b", "16",
                        speech[side]], check=True, timeout=20)
        extra[side] = ["--play", speech[side], "--record", heard[side]]
    first, last = args.port, args.port + 5
    cap = Capture(keep=lambda proto, sport, dport: proto == 17 or first <= sport <= last or first <= dport <= last)
    cap.start()
    try:
        problems, info = call_through_kamailio(args.softphone, d, args.port, bob_extra=extra["bob"],
                                               alice_extra=extra["alice"], bob_seconds=10, alice_seconds=5)
    finally:
        cap.stop()
    if problems is None:
        print("SKIP: " + info)
        return 77
    print(f"capture: {cap.frames} frames on lo, {len(cap.packets)} kept, {cap.drops} dropped by the kernel")
    tls_ports = {info["tls"], info["bob_tls"], info["alice_tls"]}
    streams = check_tls(cap.packets, tls_ports, problems)
    media_ports, keys = sdp_media(read(info["alice_err"]) + read(info["bob_err"]))
    print(f"SDP media ports {sorted(media_ports)}, {len(keys)} AES_CM_128_HMAC_SHA1_80 keys")
    if len(media_ports) < 2 or not keys:
        problems.append("no media ports or SDES keys in the SIP traces")
    else:
        payloads, clear = check_srtp(cap.packets, media_ports, keys, streams, problems)
        sealed, opened = entropy(b"".join(payloads)), entropy(b"".join(clear))
        print(f"entropy: captured SRTP payloads {sealed:.3f} bits/byte over {len(b''.join(payloads))} bytes, "
              f"decrypted (clear Opus) {opened:.3f}")
        # Encrypted bytes: 8 bits less about 255 / (2 N ln 2) for N bytes (0.01 at 20000); clear Opus: about 7.94.
        if sealed < 7.98 or len(b"".join(payloads)) < 20000:
            problems.append(f"the SRTP payloads' entropy is {sealed:.3f} bits/byte over {len(b''.join(payloads))} bytes")
    for talker, listener in (("alice", "bob"), ("bob", "alice")):
        m = subprocess.run([args.wav_match, speech[talker], heard[listener], "--windows", "--min-correlation", "0.6"],
                           capture_output=True, text=True, timeout=30)
        print(f"{talker} -> {listener}: {m.stdout.strip()} {m.stderr.strip()}")
        if m.returncode != 0:
            problems.append(f"{listener}'s recording does not match what {talker} played")
    if problems:
        return fail("; ".join(problems), d)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
