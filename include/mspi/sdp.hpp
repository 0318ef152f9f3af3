// ptapi - portable TAPI
// mspi/sdp.hpp: the subset of SDP (RFC 4566) that RTP audio offer/answer (RFC 3264) needs.
#pragma once

#include <mspi/ice/candidate.hpp>
#include <mspi/sdp_crypto.hpp>
#include <mspi/sdp_dtls.hpp>

#include <fmt/format.h>

#include <charconv>
#include <iterator>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mspi {

/// One payload format of an m-line: its `a=rtpmap` (RFC 4566 §6) and `a=fmtp`. The SDP structs are plain
/// values (thread safety as for any aggregate).
struct sdp_format {
  int payload_type = 0;     ///< RTP payload type, 0-127.
  std::string encoding;     ///< "opus", "PCMU", "telephone-event" (case as received).
  int clock_rate = 8000;    ///< RTP clock rate in Hz (48000 for Opus, RFC 7587 §7).
  int channels = 1;         ///< Channels in the rtpmap (2 for Opus, RFC 7587 §7).
  std::string fmtp;         ///< Format parameters, verbatim ("useinbandfec=1"), empty if none.
};

/// RFC 3264 §5.1 / RFC 4566 §6 media direction attributes.
enum class media_direction : std::uint8_t {
  sendrecv,  ///< a=sendrecv (the default when absent).
  sendonly,  ///< a=sendonly: the describing party only sends.
  recvonly,  ///< a=recvonly: the describing party only receives.
  inactive,  ///< a=inactive: no media either way.
};

/// One media description (m-line and its attributes, RFC 4566 §5.14).
struct sdp_media {
  std::string media = "audio";       ///< Media type of the m-line.
  std::uint16_t port = 0;            ///< RTP port; 0 means the stream is rejected (RFC 3264 §6).
  std::string protocol = "RTP/AVP";  ///< Transport protocol.
  std::string address;               ///< Connection address (media-level c= or the session's).
  std::vector<sdp_format> formats;   ///< In preference order.
  int ptime_ms = 0;                  ///< `a=ptime` in ms, 0 if absent.
  std::uint16_t rtcp_port = 0;       ///< `a=rtcp` (RFC 3605), 0 if absent (then RTP port + 1).
  media_direction direction = media_direction::sendrecv;  ///< The last direction attribute, sendrecv if none.
  /// SDES `a=crypto` lines we can use (RFC 4568 §9.1; see `parse_crypto_attribute`), in order: the
  /// offerer's preference. Holds key material.
  std::vector<sdp_crypto> crypto;
  /// Why each other `a=crypto` line of the m-line was not usable (static strings of
  /// `parse_crypto_attribute`), in order; for error messages. Not written by `to_string`.
  std::vector<std::string_view> crypto_refused;
  /// DTLS-SRTP (RFC 5763 §5): the `a=fingerprint` lines we can use (RFC 8122 §5; see
  /// `parse_fingerprint_attribute`), of the m-line, else the session level's; at most `sdp_max_fingerprints`,
  /// lines that do not parse (an unsupported hash) and those beyond the bound are skipped.
  std::vector<sdp_fingerprint> fingerprints;
  /// `a=setup` (RFC 4145 §4) of the m-line, else the session level's; nullopt when absent or not one of the
  /// four roles.
  std::optional<sdp_setup> setup;
  // ---- ICE (RFC 8445; its SDP, RFC 8839) and RTP/RTCP multiplexing (RFC 5761) ----
  /// `a=ice-ufrag` / `a=ice-pwd` of the m-line, else the session level's (RFC 8839 §5.4); empty if none.
  std::string ice_ufrag;
  std::string ice_pwd;  ///< `a=ice-pwd` of the m-line, else the session level's; empty if none.
  /// The `a=candidate` lines we can use (UDP, IP literals; see `ice::parse_candidate`), in order, at most
  /// `sdp_max_candidates`; lines that do not parse and those beyond the bound are skipped.
  std::vector<ice::candidate> candidates;
  bool rtcp_mux = false;  ///< `a=rtcp-mux` (RFC 5761 §5.1.1): RTP and RTCP on one port.
};

/// A session description: origin, connection and media (RFC 4566 §5).
struct session_description {
  std::uint64_t session_id = 0;       ///< o= sess-id
  std::uint64_t session_version = 0;  ///< o= sess-version (incremented on every new offer)
  std::string origin_address = "127.0.0.1";  ///< o= unicast-address (IPv4 or IPv6).
  std::string session_name = "ptapi";        ///< s= (written as "-" when empty).
  std::string connection_address;     ///< Session-level c=, may be empty when every m-line has one.
  std::vector<sdp_media> media;       ///< The m-lines, in order.
};

namespace detail {
inline const char* address_type(const std::string& a) { return a.find(':') == std::string::npos ? "IP4" : "IP6"; }

template <class Int>
bool parse_int(std::string_view s, Int& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

// Splits at the first space; returns the head and leaves the rest in `s`.
inline std::string_view next_token(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  auto p = s.find(' ');
  auto head = s.substr(0, p);
  s = p == std::string_view::npos ? std::string_view{} : s.substr(p + 1);
  return head;
}
}  // namespace detail

/// Writes `sd` as SDP text with CRLF line ends (RFC 4566 §5): v, o, s, c (session, if set), t=0 0, then
/// per m-line m, c (if it differs), rtpmap/fmtp, crypto (RFC 4568), fingerprint and setup (RFC 5763), ptime, rtcp (RFC 3605) and the direction attribute.
/// Nothing is validated. Throws only std::bad_alloc. Thread safety: pure function.
inline std::string to_string(const session_description& sd) {
  std::string out;
  out.reserve(512);
  auto put = [&out](std::string_view l) {
    out.append(l);
    out.append("\r\n");
  };
  auto o = std::back_inserter(out);
  put("v=0");
  fmt::format_to(o, "o=- {} {} IN {} {}\r\n", sd.session_id, sd.session_version, detail::address_type(sd.origin_address),
                 sd.origin_address);
  fmt::format_to(o, "s={}\r\n", sd.session_name.empty() ? std::string_view("-") : std::string_view(sd.session_name));
  if (!sd.connection_address.empty())
    fmt::format_to(o, "c=IN {} {}\r\n", detail::address_type(sd.connection_address), sd.connection_address);
  put("t=0 0");
  for (const auto& m : sd.media) {
    fmt::format_to(o, "m={} {} {}", m.media, m.port, m.protocol);
    for (const auto& f : m.formats) fmt::format_to(o, " {}", f.payload_type);
    put("");
    if (!m.address.empty() && m.address != sd.connection_address)
      fmt::format_to(o, "c=IN {} {}\r\n", detail::address_type(m.address), m.address);
    for (const auto& f : m.formats) {
      fmt::format_to(o, "a=rtpmap:{} {}/{}", f.payload_type, f.encoding, f.clock_rate);
      if (f.channels != 1) fmt::format_to(o, "/{}", f.channels);
      put("");
      if (!f.fmtp.empty()) fmt::format_to(o, "a=fmtp:{} {}\r\n", f.payload_type, f.fmtp);
    }
    for (const auto& c : m.crypto) fmt::format_to(o, "a=crypto:{}\r\n", to_string(c));
    for (const auto& f : m.fingerprints) fmt::format_to(o, "a=fingerprint:{}\r\n", to_string(f));
    if (m.setup) fmt::format_to(o, "a=setup:{}\r\n", to_string(*m.setup));
    if (!m.ice_ufrag.empty()) fmt::format_to(o, "a=ice-ufrag:{}\r\n", m.ice_ufrag);
    if (!m.ice_pwd.empty()) fmt::format_to(o, "a=ice-pwd:{}\r\n", m.ice_pwd);
    for (const auto& c : m.candidates) fmt::format_to(o, "a=candidate:{}\r\n", ice::to_string(c));
    if (m.rtcp_mux) put("a=rtcp-mux");
    if (m.ptime_ms > 0) fmt::format_to(o, "a=ptime:{}\r\n", m.ptime_ms);
    if (m.rtcp_port != 0) fmt::format_to(o, "a=rtcp:{}\r\n", m.rtcp_port);
    switch (m.direction) {
      case media_direction::sendrecv: put("a=sendrecv"); break;
      case media_direction::sendonly: put("a=sendonly"); break;
      case media_direction::recvonly: put("a=recvonly"); break;
      case media_direction::inactive: put("a=inactive"); break;
    }
  }
  return out;
}

// Limits that keep a hostile description from costing unbounded memory.
inline constexpr std::size_t sdp_max_bytes = 16 * 1024;   ///< Longest accepted SDP body in bytes.
inline constexpr std::size_t sdp_max_media = 8;           ///< Most m-lines accepted.
inline constexpr std::size_t sdp_max_formats = 32;        ///< Most payload types per m-line.
inline constexpr std::size_t sdp_max_crypto = 16;         ///< Most `a=crypto` lines per m-line (usable or not).
inline constexpr std::size_t sdp_max_candidates = 16;     ///< Most `a=candidate` lines kept per m-line (ICE checklist bound).
inline constexpr std::size_t sdp_max_fingerprints = 4;    ///< Most `a=fingerprint` lines kept per m-line (RFC 8122 §5 allows several).

/// Parses SDP text (LF or CRLF line ends; RFC 4566 §5). Returns nullopt for malformed input: a line not
/// of the form `x=...`, a missing or bad v=, o= or m= line, a bad c= line, a port or payload type out of
/// range, an `a=ptime` outside 0..1000 ms, a bad `a=rtcp` port, an `a=rtpmap` without a positive
/// rate/channels, an m-line without a connection address, or a body over the limits above (including
/// more than `sdp_max_crypto` `a=crypto` lines in one m-line). An `a=crypto` line we cannot use (unknown
/// suite, MKI...) does not fail the parse: it goes to `crypto_refused` with its reason. An `a=candidate`
/// we cannot use, or one beyond `sdp_max_candidates`, is skipped; likewise an `a=fingerprint` (beyond
/// `sdp_max_fingerprints`) and an unknown `a=setup` role. Unknown lines and attributes are ignored; of the
/// session-level `a=` lines only `a=ice-ufrag`, `a=ice-pwd`, `a=fingerprint` and `a=setup` are used
/// (each for the m-lines without their own). Throws only std::bad_alloc.
/// Thread safety: pure function.
inline std::optional<session_description> parse_sdp(std::string_view text) {
  if (text.size() > sdp_max_bytes) return std::nullopt;
  session_description sd;
  bool have_v = false, have_o = false;
  sdp_media* m = nullptr;
  std::string_view session_ufrag, session_pwd;
  std::vector<sdp_fingerprint> session_fingerprints;
  std::optional<sdp_setup> session_setup;
  auto add_fingerprint = [](std::vector<sdp_fingerprint>& to, std::string_view value) {
    if (to.size() < sdp_max_fingerprints)
      if (auto f = parse_fingerprint_attribute(value)) to.push_back(*f);
  };
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto l = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;
    if (l.size() < 2 || l[1] != '=') return std::nullopt;
    const char key = l[0];
    std::string_view v = l.substr(2);
    switch (key) {
      case 'v':
        if (v != "0") return std::nullopt;
        have_v = true;
        break;
      case 'o': {
        detail::next_token(v);  // username
        if (!detail::parse_int(detail::next_token(v), sd.session_id)) return std::nullopt;
        if (!detail::parse_int(detail::next_token(v), sd.session_version)) return std::nullopt;
        detail::next_token(v);  // IN
        detail::next_token(v);  // IP4/IP6
        sd.origin_address = std::string(detail::next_token(v));
        have_o = true;
        break;
      }
      case 's': sd.session_name = std::string(v); break;
      case 'c': {
        if (detail::next_token(v) != "IN") return std::nullopt;
        auto type = detail::next_token(v);
        if (type != "IP4" && type != "IP6") return std::nullopt;
        auto addr = detail::next_token(v);
        if (auto slash = addr.find('/'); slash != std::string_view::npos) addr = addr.substr(0, slash);
        if (addr.empty()) return std::nullopt;
        (m ? m->address : sd.connection_address) = std::string(addr);
        break;
      }
      case 'm': {
        if (sd.media.size() >= sdp_max_media) return std::nullopt;
        sdp_media md;
        md.media = std::string(detail::next_token(v));
        auto port = detail::next_token(v);
        if (auto slash = port.find('/'); slash != std::string_view::npos) port = port.substr(0, slash);
        if (!detail::parse_int(port, md.port)) return std::nullopt;
        md.protocol = std::string(detail::next_token(v));
        if (md.media.empty() || md.protocol.empty()) return std::nullopt;
        while (!v.empty()) {
          auto tok = detail::next_token(v);
          if (tok.empty()) break;
          int pt = 0;
          if (!detail::parse_int(tok, pt) || pt < 0 || pt > 127) return std::nullopt;
          if (md.formats.size() >= sdp_max_formats) return std::nullopt;
          md.formats.push_back({pt, {}, 8000, 1, {}});
        }
        sd.media.push_back(std::move(md));
        m = &sd.media.back();
        break;
      }
      case 'a': {
        auto colon = v.find(':');
        auto name = v.substr(0, colon);
        auto value = colon == std::string_view::npos ? std::string_view{} : v.substr(colon + 1);
        if (!m) {  // session level: ICE's credentials (RFC 8839 §5.4), DTLS-SRTP's (RFC 8122 §5, RFC 4145 §4)
          if (name == "ice-ufrag") session_ufrag = value;
          else if (name == "ice-pwd") session_pwd = value;
          else if (name == "fingerprint") add_fingerprint(session_fingerprints, value);
          else if (name == "setup") session_setup = parse_setup_attribute(value);
          break;
        }
        if (name == "ice-ufrag") m->ice_ufrag = std::string(value);
        else if (name == "fingerprint") add_fingerprint(m->fingerprints, value);
        else if (name == "setup") m->setup = parse_setup_attribute(value);
        else if (name == "ice-pwd") m->ice_pwd = std::string(value);
        else if (name == "rtcp-mux") m->rtcp_mux = true;
        else if (name == "candidate") {
          if (m->candidates.size() < sdp_max_candidates)
            if (auto c = ice::parse_candidate(value)) m->candidates.push_back(std::move(*c));
        } else if (name == "sendrecv") m->direction = media_direction::sendrecv;
        else if (name == "sendonly") m->direction = media_direction::sendonly;
        else if (name == "recvonly") m->direction = media_direction::recvonly;
        else if (name == "inactive") m->direction = media_direction::inactive;
        else if (name == "ptime") {
          if (!detail::parse_int(value, m->ptime_ms) || m->ptime_ms < 0 || m->ptime_ms > 1000) return std::nullopt;
        } else if (name == "crypto") {
          if (m->crypto.size() + m->crypto_refused.size() >= sdp_max_crypto) return std::nullopt;
          auto c = parse_crypto_attribute(value);
          if (c.crypto) m->crypto.push_back(*c.crypto);
          else m->crypto_refused.push_back(c.error);
        } else if (name == "rtcp") {
          if (!detail::parse_int(detail::next_token(value), m->rtcp_port)) return std::nullopt;
        } else if (name == "rtpmap" || name == "fmtp") {
          int pt = 0;
          if (!detail::parse_int(detail::next_token(value), pt)) return std::nullopt;
          for (auto& f : m->formats) {
            if (f.payload_type != pt) continue;
            if (name == "fmtp") {
              f.fmtp = std::string(value);
              break;
            }
            auto enc = detail::next_token(value);  // encoding/rate[/channels]
            auto s1 = enc.find('/');
            if (s1 == std::string_view::npos) return std::nullopt;
            f.encoding = std::string(enc.substr(0, s1));
            auto rest = enc.substr(s1 + 1);
            auto s2 = rest.find('/');
            if (!detail::parse_int(rest.substr(0, s2), f.clock_rate) || f.clock_rate <= 0) return std::nullopt;
            if (s2 != std::string_view::npos && (!detail::parse_int(rest.substr(s2 + 1), f.channels) || f.channels <= 0))
              return std::nullopt;
            break;
          }
        }
        break;
      }
      default: break;
    }
  }
  if (!have_v || !have_o || sd.media.empty()) return std::nullopt;
  for (auto& md : sd.media) {
    if (md.address.empty()) md.address = sd.connection_address;
    if (md.address.empty()) return std::nullopt;
    if (md.ice_ufrag.empty()) md.ice_ufrag = std::string(session_ufrag);
    if (md.ice_pwd.empty()) md.ice_pwd = std::string(session_pwd);
    if (md.fingerprints.empty()) md.fingerprints = session_fingerprints;
    if (!md.setup) md.setup = session_setup;
  }
  return sd;
}

}  // namespace mspi
