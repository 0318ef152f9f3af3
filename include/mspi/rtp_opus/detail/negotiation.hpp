// ptapi - portable TAPI
// mspi/rtp_opus/detail/negotiation.hpp: SDP offer/answer for one audio stream (RFC 3264) with Opus
// (RFC 7587), G.711 (RFC 3551) and telephone-event (RFC 4733).
#pragma once

#include <mspi/codec/g711.hpp>
#include <mspi/ice/candidate.hpp>
#include <mspi/ice/credentials.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/rtp_opus/detail/dtls_negotiation.hpp>
#include <mspi/rtp_opus/detail/srtp_negotiation.hpp>
#include <mspi/sdp.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mspi::detail {

/// What offer/answer decided for the audio stream.
struct negotiated_media {
  std::string remote_address;   ///< Where to send RTP.
  std::uint16_t remote_rtp_port = 0;
  std::uint16_t remote_rtcp_port = 0;
  audio_codec codec = audio_codec::opus;  ///< The one codec both sides use.
  int payload_type = 111;       ///< Its payload type (the offerer's, RFC 3264 §6.1).
  int telephone_event_payload_type = -1;  ///< RFC 4733 events' payload type; -1 when not negotiated.
  int telephone_event_rate = 8000;        ///< Their clock rate (`a=rtpmap`), Hz.
  int remote_ptime_ms = 0;      ///< The remote's `a=ptime`, 0 if absent.
  bool send = true;             ///< We may send (remote is sendrecv or recvonly).
  bool receive = true;          ///< We may receive (remote is sendrecv or sendonly).
  std::size_t media_index = 0;  ///< The remote description's m-line this was read from.
  std::optional<srtp_keys> srtp;  ///< SRTP keys (SDES, RFC 4568) when the media is protected; nullopt: plain RTP.
  /// DTLS-SRTP (RFC 5763) when negotiated: the keys come from the handshake on the RTP port (`srtp` is nullopt).
  std::optional<dtls_parameters> dtls;
  /// RTCP shares the RTP port (RFC 5761 §4-§5: both descriptions carry `a=rtcp-mux`, or ICE runs): it is
  /// sent to and accepted from the peer's RTP transport address, demultiplexed by packet type 192..223.
  bool rtcp_mux = false;
  /// ICE (RFC 8445) for this stream, when both sides use it; nullopt: plain RTP to the SDP's address.
  struct ice_session {
    ice::credentials local, remote;         ///< Ours (our SDP's) and the peer's.
    std::vector<ice::candidate> candidates; ///< The peer's (at most sdp_max_candidates).
    bool controlling = true;                ///< Our role: the offerer's (RFC 8445 §6.1.1).
    std::uint64_t tie_breaker = 0;          ///< Ours (RFC 8445 §7.1.3).
  };
  std::optional<ice_session> ice;
};

/// The peer's ICE parameters in `m` when we can run ICE with it (RFC 8445, RFC 8839): valid `a=ice-ufrag`
/// and `a=ice-pwd`, at least one usable `a=candidate`, and `a=rtcp-mux` (RFC 5761; we run ICE for one
/// component only). nullopt otherwise: plain RTP.
inline std::optional<negotiated_media::ice_session> remote_ice(const sdp_media& m) {
  ice::credentials remote{m.ice_ufrag, m.ice_pwd};
  if (!ice::valid(remote) || m.candidates.empty() || !m.rtcp_mux) return std::nullopt;
  negotiated_media::ice_session s;
  s.remote = std::move(remote);
  s.candidates = m.candidates;
  return s;
}

inline bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

/// The RTP clock rate of a codec in Hz (RFC 7587 §4.1: 48000 for Opus; RFC 3551: 8000 for G.711).
constexpr int rtp_clock_rate(audio_codec c) noexcept { return c == audio_codec::opus ? 48000 : g711_rate_hz; }

/// The codec's SDP encoding name (`a=rtpmap`): "opus" (RFC 7587 §7), "PCMU" or "PCMA" (RFC 3551 §6).
constexpr std::string_view encoding_name(audio_codec c) noexcept {
  return c == audio_codec::opus ? "opus" : c == audio_codec::pcmu ? "PCMU" : "PCMA";
}

/// The SDP encoding name and the codec's rtpmap line fields (RFC 7587 §7, RFC 3551 §6).
inline sdp_format codec_format(const rtp_opus_config& cfg, audio_codec c, int payload_type) {
  switch (c) {
    case audio_codec::opus: {
      std::string fmtp = "minptime=10";
      if (cfg.opus.inband_fec) fmtp += ";useinbandfec=1";
      if (cfg.opus.dtx) fmtp += ";usedtx=1";
      return {payload_type, std::string(encoding_name(c)), rtp_clock_rate(c), 2, fmtp};
    }
    case audio_codec::pcmu:
    case audio_codec::pcma: return {payload_type, std::string(encoding_name(c)), rtp_clock_rate(c), 1, {}};
  }
  return {};
}

/// The `telephone-event` format (RFC 4733 §7.1.1), with the DTMF events 0-15.
inline sdp_format telephone_event_format(int payload_type, int rate = 8000) {
  return {payload_type, "telephone-event", rate, 1, "0-15"};
}

/// The codec a format of a remote description names, if it is one we can carry. A static payload type
/// without `a=rtpmap` (0, 8) means its RFC 3551 §6 Table 4 encoding.
inline std::optional<audio_codec> codec_of(const sdp_format& f) {
  if (f.encoding.empty()) {
    if (f.payload_type == pcmu_payload_type) return audio_codec::pcmu;
    if (f.payload_type == pcma_payload_type) return audio_codec::pcma;
    return std::nullopt;
  }
  if (iequals(f.encoding, "opus") && f.clock_rate == 48000) return audio_codec::opus;
  if (iequals(f.encoding, "PCMU") && f.clock_rate == g711_rate_hz && f.channels == 1) return audio_codec::pcmu;
  if (iequals(f.encoding, "PCMA") && f.clock_rate == g711_rate_hz && f.channels == 1) return audio_codec::pcma;
  return std::nullopt;
}

/// The formats of our offer: the codecs of `cfg.codecs` in order, each with its payload type (Opus:
/// `cfg.payload_type`; G.711: static), then `telephone-event/8000`. For a re-offer, `current` (the
/// session's codec, with its negotiated payload type) goes first and the negotiated telephone-event
/// payload type is kept (RFC 3264 §8.3.2: a format keeps its payload type in the session); another
/// format whose configured payload type is taken then gets a free dynamic one.
inline std::vector<sdp_format> offer_formats(const rtp_opus_config& cfg, const negotiated_media* current) {
  std::vector<sdp_format> out;
  std::vector<int> used;
  auto take = [&used](int preferred) {
    int pt = preferred;
    for (int candidate = 96; std::find(used.begin(), used.end(), pt) != used.end() && candidate <= 127; ++candidate)
      pt = candidate;
    used.push_back(pt);
    return pt;
  };
  auto configured_pt = [&cfg](audio_codec c) {
    return c == audio_codec::opus ? cfg.payload_type : c == audio_codec::pcmu ? pcmu_payload_type : pcma_payload_type;
  };
  if (current) {
    used.push_back(current->payload_type);
    if (current->telephone_event_payload_type >= 0) used.push_back(current->telephone_event_payload_type);
    out.push_back(codec_format(cfg, current->codec, current->payload_type));
  }
  for (auto c : cfg.codecs)
    if (!current || c != current->codec) out.push_back(codec_format(cfg, c, take(configured_pt(c))));
  if (current && current->telephone_event_payload_type >= 0)
    out.push_back(telephone_event_format(current->telephone_event_payload_type));
  else if (cfg.telephone_event_payload_type >= 0)  // -1: no telephone-event
    out.push_back(telephone_event_format(take(cfg.telephone_event_payload_type)));
  return out;
}

/// The formats of our answer (RFC 3264 §6.1): only the chosen codec, plus telephone-event when the offer
/// had it, with the offerer's payload types and rates.
inline std::vector<sdp_format> answer_formats(const rtp_opus_config& cfg, const negotiated_media& n) {
  std::vector<sdp_format> out{codec_format(cfg, n.codec, n.payload_type)};
  if (n.telephone_event_payload_type >= 0)
    out.push_back(telephone_event_format(n.telephone_event_payload_type, n.telephone_event_rate));
  return out;
}

/// Our description of the audio stream: one m-line with `formats` (see `offer_formats`, `answer_formats`).
inline session_description local_description(const rtp_opus_config& cfg, std::uint64_t session_id, std::uint64_t version,
                                              std::uint16_t rtp_port, std::uint16_t rtcp_port,
                                              std::vector<sdp_format> formats, media_direction direction) {
  session_description sd;
  sd.session_id = session_id;
  sd.session_version = version;
  sd.origin_address = cfg.local_address;
  sd.connection_address = cfg.local_address;
  sdp_media m;
  m.port = rtp_port;
  m.rtcp_port = rtcp_port;
  m.address = cfg.local_address;
  m.ptime_ms = static_cast<int>(cfg.ptime.count());
  m.direction = direction;
  m.formats = std::move(formats);
  sd.media.push_back(std::move(m));
  return sd;
}

/// Reads a remote offer or answer: the first audio m-line (port not 0) with a codec of `supported`; the
/// codec is the first of the m-line's formats that is in `supported` (the offerer's preference, RFC 3264
/// §6.1; in an answer, the one it chose). telephone-event is taken when listed, preferring the one
/// whose rate matches the codec's RTP clock (RFC 4733 §2.1), else the first. nullopt when no audio
/// m-line carries a supported codec.
inline std::optional<negotiated_media> negotiate(const session_description& remote, const std::vector<audio_codec>& supported) {
  for (const auto& m : remote.media) {
    if (m.media != "audio" || m.port == 0) continue;
    const sdp_format* chosen = nullptr;
    audio_codec codec = audio_codec::opus;
    for (const auto& f : m.formats) {
      auto c = codec_of(f);
      if (c && std::find(supported.begin(), supported.end(), *c) != supported.end()) {
        chosen = &f;
        codec = *c;
        break;
      }
    }
    if (!chosen) continue;
    negotiated_media n;
    n.media_index = static_cast<std::size_t>(&m - remote.media.data());
    n.remote_address = m.address;
    n.remote_rtp_port = m.port;
    n.remote_rtcp_port = m.rtcp_port ? m.rtcp_port : static_cast<std::uint16_t>(m.port + 1);
    n.codec = codec;
    n.payload_type = chosen->payload_type;
    n.remote_ptime_ms = m.ptime_ms;
    for (const auto& f : m.formats) {
      if (!iequals(f.encoding, "telephone-event")) continue;
      if (n.telephone_event_payload_type < 0 || f.clock_rate == rtp_clock_rate(codec)) {
        n.telephone_event_payload_type = f.payload_type;
        n.telephone_event_rate = f.clock_rate;
      }
      if (f.clock_rate == rtp_clock_rate(codec)) break;
    }
    n.send = m.direction == media_direction::sendrecv || m.direction == media_direction::recvonly;
    n.receive = m.direction == media_direction::sendrecv || m.direction == media_direction::sendonly;
    return n;
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

/// Whether a direction attribute lets its describer send / receive (RFC 3264 §5.1).
constexpr bool direction_sends(media_direction d) noexcept {
  return d == media_direction::sendrecv || d == media_direction::sendonly;
}
/// See `direction_sends`.
constexpr bool direction_receives(media_direction d) noexcept {
  return d == media_direction::sendrecv || d == media_direction::recvonly;
}

/// The most permissive direction we may describe that stays within `wanted` and mirrors the remote's
/// `n` (we send only if it receives, RFC 3264 §6.1).
constexpr media_direction restrict_direction(media_direction wanted, const negotiated_media& n) noexcept {
  const bool send = direction_sends(wanted) && n.send;
  const bool receive = direction_receives(wanted) && n.receive;
  if (send && receive) return media_direction::sendrecv;
  if (send) return media_direction::sendonly;
  if (receive) return media_direction::recvonly;
  return media_direction::inactive;
}

/// Parses a direction name (`sendrecv`, `sendonly`, `recvonly`, `inactive`; empty = sendrecv).
inline std::optional<media_direction> parse_direction(std::string_view s) {
  if (s.empty() || s == "sendrecv") return media_direction::sendrecv;
  if (s == "sendonly") return media_direction::sendonly;
  if (s == "recvonly") return media_direction::recvonly;
  if (s == "inactive") return media_direction::inactive;
  return std::nullopt;
}

}  // namespace mspi::detail
