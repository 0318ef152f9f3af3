// ptapi - portable TAPI
// mspi/ice/ice.hpp: NAT traversal for media (issue 9): ICE (RFC 8445) over the RTP socket, the pieces every
// part of it shares: telling STUN from RTP/RTCP/DTLS on one socket (RFC 7983) and candidate priorities
// (RFC 8445 §5.1.2). STUN itself is mspi/stun/.
//
// DECISION (session 6, measured): ptapi implements ICE itself on its own Asio sockets; it does not use
// libnice (Debian libnice-dev 0.1.21), although the issue prefers a well-kept library.
//
// Why. libnice owns the sockets and runs them on a GLib GMainContext. With it, every received datagram
// arrives on the GLib thread (nice_agent_attach_recv's callback) and must be copied and posted to the call's
// media thread (an Asio strand); a send goes through nice_agent_send (thread-safe, takes the agent's lock).
// Measured by benchmarks/bench_ice_transport.cpp (172-byte datagrams, 50/s per stream, an echo sent for
// each, one libnice agent per stream on one GMainContext thread, ICE completed over 127.0.0.1 first;
// against one Asio UDP socket per stream on the media thread, demultiplexing by first byte as below),
// GCC 12 -O2, 2 cores shared with other builds (load average 2.4-3.4), three runs, ranges:
//
//                             Asio socket (own ICE)        libnice + post to the media strand
//   CPU per datagram, paced,  17-31 µs                     98-117 µs (59-71 µs of it on the GLib thread)
//     24 streams (recv+echo)
//   CPU per datagram, burst   6.7-7.5 µs                   8.3-10.9 µs
//     of 20000 on one stream
//   latency to the handler,   median 23-29 µs,             median 78-85 µs, p99 1.0-2.4 ms
//     paced, 24 streams       p99 0.8 ms
//   heap allocations per      0                            3 (paced; 1.1 in a burst), all on the GLib
//     datagram                                             thread: GLib/libnice's receive and Asio's
//                                                          handler posted from a foreign thread
//   threads                   the media pool's             + 1 GLib thread (per process), + GLib's
//                                                          locking between it, the agent and media
// (paced CPU is mostly the cost of waking an idle thread per datagram, which libnice pays twice.)
// Command: `build/bin/ptapi_bench_ice_transport 24 10 20000` (benchmarks/, built when libnice-dev is
// installed); the figures are in NOTES-ice.md of the `ice` branch.
//
// Integration cost beyond the figures: libnice's sockets are GSockets it creates, so the media path's
// zero-allocation steady state (tests/mspi/zero_alloc.cpp), its SRTP in place, symmetric-RTP latching, the
// per-source checks of rtp_media.hpp and any socket option (DSCP/TOS, buffer sizes) would have to go
// through libnice (nice_agent_get_selected_socket exists only once a pair is selected, and is another
// socket after a TURN relay is chosen); GLib becomes a runtime dependency on every platform (Conan,
// vcpkg), and one more thread has to be started, stopped and kept off the media threads' deadlines.
// libnice's facts that were weighed: one GMainContext per agent (any thread may run it);
// nice_agent_attach_recv delivers on that context, nice_agent_recv_messages blocks (meant for a thread of
// its own); candidate gathering is asynchronous ("candidate-gathering-done", or trickle with
// NICE_AGENT_OPTION_ICE_TRICKLE); STUN server by the "stun-server"/"stun-server-port" properties; TURN over
// UDP/TCP/TLS by nice_agent_set_relay_info; compatibility NICE_COMPATIBILITY_RFC5245 (no RFC 8445 mode;
// regular or aggressive nomination, NICE_AGENT_OPTION_REGULAR_NOMINATION), ICE-lite by
// NICE_AGENT_OPTION_LITE_MODE, RFC 7675 consent freshness by NICE_AGENT_OPTION_CONSENT_FRESHNESS; its STUN
// codec (stun/stunmessage.h) is usable alone but is tied to its StunAgent. What ICE needs from us instead
// is small and telephony-core (RFC 8445's checklist for one audio stream with RTP/RTCP mux, RFC 8489
// messages, RFC 8656 Allocate/Refresh/Send/Data/ChannelBind): the STUN codec is mspi/stun/, its crypto
// is OpenSSL's HMAC-SHA1 and MD5 and Boost.CRC's CRC-32, never our own.
#pragma once

#include <cstdint>

namespace mspi::ice {

/// What a datagram on a socket shared by STUN, ZRTP, DTLS, TURN channels and RTP/RTCP is, by its first
/// byte (RFC 7983 §7 as updated by RFC 9443 §3).
enum class datagram_kind : std::uint8_t {
  stun,          ///< 0..3: a STUN message (RFC 8489); check it with mspi::stun::looks_like_stun and parse.
  zrtp,          ///< 16..19: ZRTP (RFC 6189).
  dtls,          ///< 20..63: DTLS (RFC 9147), e.g. DTLS-SRTP (RFC 5764).
  turn_channel,  ///< 64..79: TURN ChannelData (RFC 8656 §12.4).
  rtp_rtcp,      ///< 128..191: RTP or RTCP (RFC 3550; told apart by RFC 5761 §4).
  unknown,       ///< Anything else: drop it.
};

/// Classifies a datagram by its first byte (RFC 7983 §7, RFC 9443 §3). Cheap enough for every packet of
/// the media path. Thread safety: pure.
[[nodiscard]] constexpr datagram_kind classify(std::uint8_t first_byte) noexcept {
  if (first_byte <= 3) return datagram_kind::stun;
  if (first_byte >= 16 && first_byte <= 19) return datagram_kind::zrtp;
  if (first_byte >= 20 && first_byte <= 63) return datagram_kind::dtls;
  if (first_byte >= 64 && first_byte <= 79) return datagram_kind::turn_channel;
  if (first_byte >= 128 && first_byte <= 191) return datagram_kind::rtp_rtcp;
  return datagram_kind::unknown;
}

/// The kinds of candidate (RFC 8445 §5.1.1).
enum class candidate_type : std::uint8_t {
  host,              ///< An address of a local interface.
  server_reflexive,  ///< The NAT's public mapping, learned from a STUN server (Binding).
  peer_reflexive,    ///< A mapping learned from the peer's connectivity check.
  relayed,           ///< An address allocated on a TURN server (RFC 8656).
};

/// The type preference RFC 8445 §5.1.2.2 recommends: host 126, peer-reflexive 110, server-reflexive 100,
/// relayed 0.
[[nodiscard]] constexpr std::uint32_t type_preference(candidate_type t) noexcept {
  switch (t) {
    case candidate_type::host: return 126;
    case candidate_type::peer_reflexive: return 110;
    case candidate_type::server_reflexive: return 100;
    case candidate_type::relayed: return 0;
  }
  return 0;
}

/// A candidate's priority (RFC 8445 §5.1.2.1): 2^24 × type preference + 2^8 × `local_preference`
/// (0..65535; 65535 when the agent has one address) + (256 − `component`) (component 1 RTP, 2 RTCP;
/// 1..256). Thread safety: pure.
[[nodiscard]] constexpr std::uint32_t candidate_priority(candidate_type t, std::uint16_t local_preference,
                                                         std::uint16_t component) noexcept {
  return (type_preference(t) << 24) + (std::uint32_t{local_preference} << 8) + (256U - component);
}

}  // namespace mspi::ice
