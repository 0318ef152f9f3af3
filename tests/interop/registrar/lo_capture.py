"""A packet capture on the loopback interface and what a test checks in it: TCP streams made of TLS records and
SRTP packets (RFC 3711) checked against their SDES keys. Root only (AF_PACKET). No packages beyond Python and
the `openssl` command (AES for the SRTP key derivation and keystream).

    cap = Capture(keep=lambda proto, sport, dport: ...); cap.start(); ...; cap.stop()
    cap.packets: [(proto, src, sport, dst, dport, seq, payload)], proto 6 (TCP) or 17 (UDP), seq TCP's (0 for UDP)
    cap.times: the kernel's arrival time of each (seconds, CLOCK_REALTIME; SO_TIMESTAMPNS), as cap.packets

Every frame is parsed with bounds checks (a malformed one is skipped); at most MAX_PACKETS are kept.
"""
import base64
import collections
import hashlib
import hmac
import math
import socket
import struct
import subprocess
import threading
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # on lo every packet is seen leaving and arriving: the leaving copy is skipped (as libpcap does)
SOL_PACKET, PACKET_STATISTICS = 263, 6
SO_TIMESTAMPNS = 35  # Linux: each frame's kernel receive time as a struct timespec in the ancillary data
MAX_PACKETS = 200000


def parse_frame(frame):
    """An Ethernet frame (lo has a zeroed Ethernet header) -> (proto, src, sport, dst, dport, seq, payload) or None."""
    if len(frame) < 14:
        return None
    ethertype, ip = struct.unpack_from("!H", frame, 12)[0], frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20 and ip[0] >> 4 == 4:
        ihl, total = (ip[0] & 15) * 4, struct.unpack_from("!H", ip, 2)[0]
        proto, src, dst = ip[9], socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET,
                                                                                                   ip[16:20])
        if ihl < 20 or total > len(ip) or total < ihl or struct.unpack_from("!H", ip, 6)[0] & 0x3fff:
            return None  # bad header or a fragment (none on lo with its 64 KiB MTU)
        l4 = ip[ihl:total]
    elif ethertype == 0x86DD and len(ip) >= 40 and ip[0] >> 4 == 6:
        proto, total = ip[6], 40 + struct.unpack_from("!H", ip, 4)[0]  # extension headers: not on these tests' packets
        src, dst = socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40])
        if total > len(ip):
            return None
        l4 = ip[40:total]
    else:
        return None
    if proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack_from("!HH", l4)
        return 17, src, sport, dst, dport, 0, bytes(l4[8:])
    if proto == 6 and len(l4) >= 20:
        sport, dport, seq = struct.unpack_from("!HHI", l4)
        offset = (l4[12] >> 4) * 4
        if offset < 20 or offset > len(l4):
            return None
        return 6, src, sport, dst, dport, seq, bytes(l4[offset:])
    return None


class Capture:
    """Captures lo in a thread from start() to stop(); keeps the TCP/UDP packets `keep(proto, sport, dport)` wants."""

    def __init__(self, keep):
        self.keep, self.packets, self.times, self.frames, self.drops = keep, [], [], 0, 0
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._sock.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE (root): 32 MiB, no drops in a burst
        self._sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)  # times that a busy capture thread does not skew
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                frame, ancillary, _, addr = self._sock.recvmsg(70000, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            stamp = next((struct.unpack_from("qq", data) for level, kind, data in ancillary
                          if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16), None)
            if addr[2] == PACKET_OUTGOING:
                continue
            self.frames += 1
            p = parse_frame(frame)
            if p and len(self.packets) < MAX_PACKETS and self.keep(p[0], p[2], p[4]):
                self.packets.append(p)
                self.times.append(stamp[0] + stamp[1] / 1e9 if stamp else time.time())

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.drops = struct.unpack("II", self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]
        self._sock.close()


def tcp_streams(packets):
    """TCP payloads reassembled per direction ((src, sport, dst, dport) -> bytes), by sequence number relative to
    the first segment seen (retransmitted or overlapping bytes taken once). A gap leaves the bytes after it out."""
    segments = collections.defaultdict(dict)
    for proto, src, sport, dst, dport, seq, payload in packets:
        if proto == 6 and payload:
            segments[(src, sport, dst, dport)].setdefault(seq, payload)
    streams = {}
    for flow, by_seq in segments.items():
        first = next(iter(by_seq))
        data, end = bytearray(), 0
        for rel, payload in sorted(((s - first) % (1 << 32), p) for s, p in by_seq.items()):
            if rel > end:
                break  # a gap: what follows cannot be placed
            data += payload[end - rel:]
            end = max(end, rel + len(payload))
        streams[flow] = bytes(data)
    return streams


def tls_records(stream):
    """Walks `stream` as TLS records (RFC 8446 §5.1): returns (counts by content type, None) or (counts, why not)
    at the first byte that is not a record header. A last record cut by the end of the capture is accepted."""
    counts, at = collections.Counter(), 0
    while at + 5 <= len(stream):
        kind, major, length = stream[at], stream[at + 1], struct.unpack_from("!H", stream, at + 3)[0]
        if kind not in (20, 21, 22, 23) or major != 3 or length > 16384 + 2048:
            return counts, f"byte {at}: {stream[at:at + 5].hex()} is not a TLS record header"
        counts[kind] += 1
        at += 5 + length
    return counts, None


def entropy(data):
    """Shannon entropy of the bytes of `data`, in bits per byte (8: uniform)."""
    counts = collections.Counter(data)
    return -sum(c / len(data) * math.log2(c / len(data)) for c in counts.values()) if data else 0.0


def aes_blocks(key, blocks):
    """AES-128 of each 16-byte block (`openssl enc -aes-128-ecb`, one process for all of them)."""
    out = subprocess.run(["openssl", "enc", "-aes-128-ecb", "-nopad", "-K", key.hex()], input=b"".join(blocks),
                         capture_output=True, check=True, timeout=20).stdout
    return [out[i:i + 16] for i in range(0, len(out), 16)]


def keystream_blocks(iv, length):
    """The counter blocks of AES-CM (RFC 3711 §4.1.1) from the 128-bit integer `iv` for `length` bytes."""
    return [((iv + j) % (1 << 128)).to_bytes(16, "big") for j in range((length + 15) // 16)]


class SrtpKey:
    """The session keys of one SDES master key (AES_CM_128_HMAC_SHA1_80, `inline:` base64 of key || salt),
    derived with key_derivation_rate 0 (RFC 3711 §4.3.1, §4.3.3)."""

    def __init__(self, inline):
        raw = base64.b64decode(inline)
        if len(raw) != 30:
            raise ValueError("not an AES_CM_128 master key and salt")
        self.master, salt = raw[:16], int.from_bytes(raw[16:], "big")
        ivs = {label: (salt ^ (label << 48)) << 16 for label in range(6)}
        lengths = {0: 16, 1: 20, 2: 14, 3: 16, 4: 20, 5: 14}
        order = [(label, b) for label in range(6) for b in keystream_blocks(ivs[label], lengths[label])]
        out = aes_blocks(self.master, [b for _, b in order])
        derived = collections.defaultdict(bytes)
        for (label, _), block in zip(order, out):
            derived[label] += block
        self.rtp_enc, self.rtp_auth, self.rtp_salt = derived[0][:16], derived[1][:20], derived[2][:14]
        self.rtcp_auth = derived[4][:20]

    def rtp_tag_ok(self, packet, roc):
        """The last 10 bytes of `packet` are its HMAC-SHA1-80 tag (RFC 3711 §4.2) with rollover counter `roc`."""
        mac = hmac.new(self.rtp_auth, packet[:-10] + roc.to_bytes(4, "big"), hashlib.sha1).digest()[:10]
        return len(packet) > 22 and hmac.compare_digest(mac, packet[-10:])

    def rtcp_tag_ok(self, packet):
        """SRTCP (RFC 3711 §3.4): the tag covers the packet up to and with the E flag and SRTCP index."""
        mac = hmac.new(self.rtcp_auth, packet[:-10], hashlib.sha1).digest()[:10]
        return len(packet) > 22 and hmac.compare_digest(mac, packet[-10:])

    def decrypt_rtp(self, packets):
        """[(header, encrypted payload, ssrc, index)] -> clear payloads (AES-CM, RFC 3711 §4.1.1)."""
        blocks, spans = [], []
        salt = int.from_bytes(self.rtp_salt, "big")
        for _, payload, ssrc, index in packets:
            iv = ((salt << 16) ^ (ssrc << 64) ^ (index << 16)) % (1 << 128)
            spans.append((len(blocks), len(payload)))
            blocks += keystream_blocks(iv, len(payload))
        stream = aes_blocks(self.rtp_enc, blocks) if blocks else []
        return [bytes(a ^ b for a, b in zip(payload, b"".join(stream[start:start + (n + 15) // 16])))
                for (_, payload, _, _), (start, n) in zip(packets, spans)]


def rtp_header_length(packet):
    """Length of the RTP header (fixed part, CSRCs, extension: RFC 3550 §5.1, §5.3.1); None when it does not fit."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    n = 12 + 4 * (packet[0] & 15)
    if packet[0] & 0x10:
        if len(packet) < n + 4:
            return None
        n += 4 + 4 * struct.unpack_from("!H", packet, n + 2)[0]
    return n if n <= len(packet) else None


def rtp_timing(flows, clock_rate=48000):
    """How steadily each RTP flow was sent, from the capture's arrival times (on lo: the send times) and the packets'
    RTP headers (in clear in SRTP too). `flows`: {name: [(arrival time, RTP packet bytes)]} in capture order.
    Returns one line per flow: packets, how many came at once at the start (within 5 ms of each other), the largest gap between arrivals (and when, in s from the flow's first
    packet), the median of arrival - RTP timestamp / clock_rate in each second of the flow relative to the first
    second's (a sender that stalled shows a step there, which stays if it did not catch up; a steady one stays
    within a few ms), and the RTP timestamp jumps of more than 100 ms (a sender that skipped media)."""
    lines = []
    for name, packets in sorted(flows.items()):
        stamped = [(t, struct.unpack_from("!I", data, 4)[0]) for t, data in packets if len(data) >= 12]
        if len(stamped) < 2:
            lines.append(f"{name}: {len(stamped)} RTP packets")
            continue
        first = stamped[0][0]
        burst = next((i for i in range(1, len(stamped)) if stamped[i][0] - stamped[i - 1][0] > 0.005), len(stamped))
        gap, gap_at = max((b[0] - a[0], a[0] - first) for a, b in zip(stamped, stamped[1:]))
        media_time, offset, last, jumps = [], 0, stamped[0][1], []
        for t, ts in stamped:
            step = (ts - last + (1 << 31)) % (1 << 32) - (1 << 31)
            if abs(step) > clock_rate // 10:
                jumps.append(f"{step * 1000 // clock_rate:+d} ms at {t - first:.2f} s")
            offset, last = offset + step, ts
            media_time.append(offset / clock_rate)
        by_second = collections.defaultdict(list)
        for (t, _), m in zip(stamped, media_time):
            by_second[int(t - first)].append(t - first - m)
        medians = [sorted(v)[len(v) // 2] for _, v in sorted(by_second.items())]
        lines.append(f"{name}: {len(stamped)} RTP packets over {stamped[-1][0] - first:.2f} s, the first {burst} at once "
                     f"(media held back before the first could go: a DTLS handshake), largest arrival gap "
                     f"{gap * 1000:.0f} ms at {gap_at:.2f} s; arrival - RTP time by second, ms from the first second's: "
                     + " ".join(f"{(m - medians[0]) * 1000:+.0f}" for m in medians)
                     + "; RTP timestamp jumps > 100 ms: " + (", ".join(jumps[:5]) or "none"))
    return lines
