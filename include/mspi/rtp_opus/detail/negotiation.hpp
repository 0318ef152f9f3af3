// ptapi - portable TAPI
// mspi/rtp_opus/detail/negotiation.hpp: SDP offer/answer for one Opus audio stream (RFC 3264, RFC 7587).
#pragma once

#include <mspi/rtp_opus/config.hpp>
#include <mspi/sdp.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mspi::detail {

/// What offer/answer decided for the audio stream.
struct negotiated_media {
  std::string remote_address;   ///< Where to send RTP.
  std::uint16_t remote_rtp_port = 0;
  std::uint16_t remote_rtcp_port = 0;
  int payload_type = 111;       ///< Opus payload type both sides use (the offerer's, RFC 3264 §6.1).
  bool send = true;             ///< We may send (remote is sendrecv or recvonly).
  bool receive = true;          ///< We may receive (remote is sendrecv or sendonly).
};

inline bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

/// Our description of the audio stream: one m-line offering Opus (RFC 7587 §7: `opus/48000/2`).
inline session_description local_description(const rtp_opus_config& cfg, std::uint64_t session_id, std::uint64_t version,
                                              std::uint16_t rtp_port, std::uint16_t rtcp_port, int payload_type,
                                              media_direction direction) {
  session_description sd;
  sd.session_id = session_id;
  sd.session_version = version;
  sd.origin_address = cfg.local_address;
  sd.connection_address = cfg.local_address;
  sdp_media m;
  m.port = rtp_port;
  m.rtcp_port = rtcp_port;
  m.address = cfg.local_address;
  m.ptime_ms = cfg.ptime_ms;
  m.direction = direction;
  std::string fmtp = "minptime=10";
  if (cfg.opus.inband_fec) fmtp += ";useinbandfec=1";
  if (cfg.opus.dtx) fmtp += ";usedtx=1";
  m.formats.push_back({payload_type, "opus", 48000, 2, fmtp});
  sd.media.push_back(std::move(m));
  return sd;
}

/// Reads the remote description: the first audio m-line with Opus. nullopt when there is none, or when
/// the stream is rejected (port 0).
inline std::optional<negotiated_media> negotiate(const session_description& remote) {
  for (const auto& m : remote.media) {
    if (m.media != "audio" || m.port == 0) continue;
    for (const auto& f : m.formats) {
      if (!iequals(f.encoding, "opus") || f.clock_rate != 48000) continue;
      negotiated_media n;
      n.remote_address = m.address;
      n.remote_rtp_port = m.port;
      n.remote_rtcp_port = m.rtcp_port ? m.rtcp_port : static_cast<std::uint16_t>(m.port + 1);
      n.payload_type = f.payload_type;
      n.send = m.direction == media_direction::sendrecv || m.direction == media_direction::recvonly;
      n.receive = m.direction == media_direction::sendrecv || m.direction == media_direction::sendonly;
      return n;
    }
  }
  return std::nullopt;
}

/// The direction we answer with, given what the remote offered (RFC 3264 §6.1).
constexpr media_direction answer_direction(const negotiated_media& n) noexcept {
  if (n.send && n.receive) return media_direction::sendrecv;
  if (n.send) return media_direction::sendonly;
  if (n.receive) return media_direction::recvonly;
  return media_direction::inactive;
}

}  // namespace mspi::detail
