#!/usr/bin/env python3
"""The call of registrar_tls_test.py (two softphones, Kamailio over TLS, SDES- or DTLS-SRTP) under a packet
capture of the loopback interface, with speech both ways (issue 10: "a capture shows nothing in clear", "both
hear each other").

    registrar_tls_capture_test.py --softphone build/bin/softphone --wav-match build/bin/wav_match --workdir DIR
                                  [--port 7614] [--srtp sdes|dtls]

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
- With --srtp dtls (DTLS-SRTP, RFC 5764, through the same Kamailio over TLS) the keys never leave the phones, so
  no tag is checked and nothing decrypted: the media ports carry DTLS handshake records both ways (RFC 7983
  demultiplexing), then at least 100 RTP packets each way whose payloads pass the same randomness checks.
- Speech: wav_match finds each side's speech in the other's recording (1-second windows, median >= 0.6).
Prints the figures, then PASS or FAIL: why; exit 0 / 1, 77 when not root or a tool is missing. About 12 s.
"""
import argparse
import collections
import os
import re
import shutil
import signal
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "nat"))  # netns.last_json
from lo_capture import Capture, SrtpKey, entropy, rtp_header_length, rtp_timing, tcp_streams, tls_records  # noqa: E402
from netns import last_json  # noqa: E402
from registrar_test import fail, read  # noqa: E402
from registrar_tls_test import LOCAL, call_through_kamailio, judge_speech, prepare_speech  # noqa: E402

SIP_WORDS = (b"INVITE", b"REGISTER", b"ACK sip", b"BYE sip", b"SIP/2.0", b"Call-ID", b"CSeq")
OPUS_20MS_CONFIGS = {1, 5, 9, 13, 15, 19, 23, 27, 31}  # RFC 6716 §3.1: SILK, Hybrid and CELT at 20 ms


def sdp_media(traces):
    """The SDP media ports (RTP and RTCP, RFC 3605) and the AES_CM_128_HMAC_SHA1_80 a=crypto keys (their inline:
    base64) in the phones' SIP traces."""
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


def media_packets(packets, media_ports):
    """The UDP payloads between two of the phones' SDP media ports, as ((sport, dport), payload), in capture order."""
    return [((p[2], p[4]), p[6]) for p in packets
            if p[0] == 17 and p[2] in media_ports and p[4] in media_ports and p[1] == LOCAL and p[3] == LOCAL]


def is_rtcp(data):
    return len(data) >= 2 and 200 <= data[1] <= 204  # RFC 5761 §4


def check_rtp_flows(flows, what, problems):
    for flow, n in sorted(flows.items()):
        print(f"UDP {flow[0]} -> {flow[1]}: {n} {what}")
        if n < 100:
            problems.append(f"only {n} {what} from port {flow[0]} to {flow[1]}")
    if len(flows) < 2:
        problems.append(f"{what} in {len(flows)} direction(s), not both")


def check_sdes(media, keys, seen, problems):
    """Checks every RTP packet's tag under the SDP keys, decrypts it and looks for the clear payloads in `seen`
    (the captured bytes). Returns the captured payloads without their tags."""
    keys = [SrtpKey(k) for k in keys]
    rtp = collections.defaultdict(list)  # (sport, dport) -> [(packet, ssrc, index, key)]
    highest, rtcp, bad = {}, collections.Counter(), collections.Counter()
    for flow, data in media:
        if is_rtcp(data):
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
        key = next((k for k in keys if k.rtp_tag_ok(data, roc)), None)
        if key is None:
            bad["tag not valid under any SDP key"] += 1
            continue
        rtp[flow].append((data, ssrc, (roc << 16) | seq, key))
    payloads, clear = [], []
    for flow, items in rtp.items():
        by_key = collections.defaultdict(list)
        for data, ssrc, index, key in items:
            n = rtp_header_length(data)
            by_key[key].append((data[:n], data[n:-10], ssrc, index))
        for key, group in by_key.items():
            clear += key.decrypt_rtp(group)
            payloads += [g[1] for g in group]
    check_rtp_flows({f: len(i) for f, i in rtp.items()}, "SRTP packets with a valid 80-bit tag", problems)
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
    # The control: in clear, the first payload byte (Opus' TOC) repeats; main() asserts it does not once encrypted.
    clear_share = first_byte_share(clear)
    print(f"commonest first byte of the decrypted payloads: {clear_share:.1%}")
    if clear_share <= 0.2:
        problems.append(f"the first-byte check would not tell clear Opus ({clear_share:.1%}) from encrypted bytes")
    long_clear = [c for c in clear if len(c) >= 16]
    in_clear = sum(1 for c in long_clear if c[:16] in seen)
    print(f"{len(long_clear)} decrypted payloads of 16+ bytes; {in_clear} of them found in the capture")
    if not long_clear or in_clear:
        problems.append(f"{in_clear} of {len(long_clear)} clear payloads appear in the capture")
    print(f"entropy of the decrypted payloads (clear Opus): {entropy(b''.join(clear)):.3f} bits/byte")
    return payloads


def dtls_records(data):
    """The content types of the DTLS records (RFC 6347 §4.1) filling datagram `data`, or None when it is not that."""
    kinds, at = [], 0
    while at < len(data):
        if at + 13 > len(data) or data[at] not in (20, 21, 22, 23) or data[at + 1] != 0xfe:
            return None
        kinds.append(data[at])
        at += 13 + struct.unpack_from("!H", data, at + 11)[0]
    return kinds if at == len(data) else None


def check_dtls(media, problems):
    """DTLS handshakes both ways on the media ports (RFC 7983 §7 demultiplexing by the first byte), then RTP
    packets whose payloads main() checks look encrypted (the keys never leave the phones: no tag is checked).
    Returns the captured payloads after their RTP header (tag included)."""
    handshakes, rtp, rtcp, bad = collections.Counter(), collections.Counter(), 0, collections.Counter()
    payloads = []
    for flow, data in media:
        if data and 20 <= data[0] <= 63:
            kinds = dtls_records(data)
            if kinds is None:
                bad["not DTLS"] += 1
            handshakes[flow] += (kinds or []).count(22)
        elif is_rtcp(data):
            rtcp += 1
        elif rtp_header_length(data) is not None and data[0] >> 6 == 2:
            rtp[flow] += 1
            payloads.append(data[rtp_header_length(data):])
        else:
            bad["neither DTLS nor RTP"] += 1
    print(f"DTLS handshake records per direction {dict(handshakes)}; {rtcp} RTCP packets")
    if len(handshakes) < 2:
        problems.append(f"DTLS handshake records in {len(handshakes)} direction(s), not both")
    check_rtp_flows(dict(rtp), "SRTP packets (DTLS keys)", problems)
    if bad:
        problems.append(f"media packets that are neither DTLS nor RTP: {dict(bad)}")
    return payloads


def media_timing(cap, media_ports, info):
    """Prints how steadily each phone sent RTP (lo_capture.rtp_timing: arrival gaps and the spread of arrival -
    RTP timestamp, from the kernel's capture times) and what each phone's report says of what it received (late
    and concealed packets, its jitter buffer): when the speech judge finds the lag jumping, these say whether a
    sender stalled (a gap, then a burst) or a receiver fell behind (steady arrivals, late or concealed packets)."""
    flows = collections.defaultdict(list)
    for p, t in zip(cap.packets, cap.times):
        if p[0] == 17 and p[2] in media_ports and p[4] in media_ports and p[1] == LOCAL and p[3] == LOCAL:
            data = p[6]
            if data and 128 <= data[0] <= 191 and not is_rtcp(data) and rtp_header_length(data) is not None:
                flows[f"RTP {p[2]} -> {p[4]}"].append((t, data))
    for line in rtp_timing(flows):
        print(line)
    for name in ("alice", "bob"):
        report = last_json(info[name + "_out"]) or {}
        print(f"{name} received: " + ", ".join(f"{k} {report.get(k)}" for k in (
            "media_address", "packets_received", "packets_lost", "late", "concealed", "jitter_ms", "jitter_buffer_ms",
            "recorded_seconds")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softphone", required=True)
    ap.add_argument("--wav-match", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=7614)
    ap.add_argument("--srtp", choices=("sdes", "dtls"), default="sdes")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: capturing packets needs root")
        return 77
    sox = shutil.which("sox")
    if not sox or not shutil.which("openssl"):
        print("SKIP: sox or openssl is not installed")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # ctest's timeout: the `finally` blocks still run
    # The WAVs in <workdir>/speech, the call's logs in <workdir>/call (call_through_kamailio empties it).
    shutil.rmtree(args.workdir, ignore_errors=True)
    speech, heard, extra = prepare_speech(os.path.join(args.workdir, "speech"), sox)
    d = os.path.join(args.workdir, "call")
    first, last = args.port, args.port + 5
    cap = Capture(keep=lambda proto, sport, dport: proto == 17 or first <= sport <= last or first <= dport <= last)
    cap.start()
    try:
        problems, info = call_through_kamailio(args.softphone, d, args.port, bob_extra=extra["bob"],
                                               alice_extra=extra["alice"], bob_seconds=10, alice_seconds=5,
                                               srtp=args.srtp)
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
    if len(media_ports) < 2 or (args.srtp == "sdes" and not keys):
        problems.append("no media ports or SDES keys in the SIP traces")
    else:
        media = media_packets(cap.packets, media_ports)
        if args.srtp == "sdes":
            # The call's own datagrams only: lo also carries the tests ctest runs beside this one, and one playing
            # the same WAV through plain Opus sends the very payloads this call encrypts (41 of 468 were found so).
            ours = media_ports | tls_ports
            seen = b"\0".join([p[6] for p in cap.packets if p[0] == 17 and (p[2] in ours or p[4] in ours)] +
                               list(streams.values()))
            payloads = check_sdes(media, keys, seen, problems)
        else:
            payloads = check_dtls(media, problems)
        # Encrypted bytes look random: the first payload byte (Opus' TOC in clear) takes any value, and the bytes'
        # entropy is 8 bits less about 255 / (2 N ln 2) for N bytes (0.01 at 20000); clear Opus has about 7.94.
        share, sealed, size = first_byte_share(payloads), entropy(b"".join(payloads)), sum(map(len, payloads))
        print(f"captured payloads: commonest first byte {share:.1%}, entropy {sealed:.3f} bits/byte over {size} bytes")
        if share > 0.2:
            problems.append(f"{share:.1%} of the captured payloads begin with the same byte")
        if sealed < 7.98 or size < 20000:
            problems.append(f"the captured payloads' entropy is {sealed:.3f} bits/byte over {size} bytes")
        media_timing(cap, media_ports, info)
    judge_speech(args.wav_match, speech, heard, problems)
    if problems and cap.drops:
        problems.append(f"the kernel dropped {cap.drops} frames: the capture may have gaps")
    if problems:
        return fail("; ".join(problems), d)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
