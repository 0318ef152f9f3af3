#include "report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace softphone {

namespace {

std::string delay_text(const direction_report& d) {
  return d.mouth_to_ear_ms ? fmt::format("{:.1f} ms (correlation {:.3f})", *d.mouth_to_ear_ms, d.correlation)
                           : std::string("n/a (not recorded from a file)");
}

void print_direction(std::ostream& out, const char* name, const direction_report& d) {
  out << fmt::format("  {}: {} sent, {} received, {} lost, {} late, {} concealed; jitter {:.2f} ms, buffer {} ms\n",
                     name, d.packets_sent, d.packets_received, d.packets_lost, d.late, d.concealed, d.jitter_ms,
                     d.jitter_buffer_ms);
  const std::string indent(std::string_view(name).size(), ' ');
  if (!d.recorded) {
    out << fmt::format("  {}  played on the speakers, not recorded\n", indent);
    return;
  }
  out << fmt::format("  {}  mouth-to-ear {}, {:.1f} s recorded{}\n", indent, delay_text(d), d.recorded_seconds,
                     d.audible ? "" : " (silent)");
}

nlohmann::json direction_json(const direction_report& d) {
  nlohmann::json j{{"packets_sent", d.packets_sent},         {"packets_received", d.packets_received},
                   {"packets_lost", d.packets_lost},         {"jitter_ms", d.jitter_ms},
                   {"concealed", d.concealed},               {"late", d.late},
                   {"jitter_buffer_ms", d.jitter_buffer_ms},               {"correlation", d.correlation}, {"lag_samples", d.lag_samples},
                   {"recorded_seconds", d.recorded_seconds}, {"audible", d.audible},                   {"recorded", d.recorded}};
  j["mouth_to_ear_ms"] = d.mouth_to_ear_ms ? nlohmann::json(*d.mouth_to_ear_ms) : nlohmann::json(nullptr);
  return j;
}

void print_sip_report(std::ostream& out, const demo_report& r) {
  const auto& s = *r.sip;
  const auto& d = r.forward;
  out << fmt::format("{} {}: codec {} at {} ms packets{}{}; states {}; ended {}\n", s.role, s.remote, r.codec, r.ptime_ms,
                     r.srtp_suite ? fmt::format("; SRTP ({}) {}", r.srtp_keying == "dtls" ? "DTLS" : "SDES", *r.srtp_suite) : std::string("; plain RTP"), s.tls ? "; SIP over TLS" : "",
                     fmt::join(r.states, " "), r.end_cause);
  out << fmt::format("  sent:     {} packets; the far end reports {} lost, jitter {:.2f} ms\n", d.packets_sent,
                     r.reverse.packets_lost, r.reverse.jitter_ms);
  out << fmt::format("  received: {} packets, {} lost, {} late, {} concealed; jitter {:.2f} ms, buffer {} ms\n",
                     d.packets_received, d.packets_lost, d.late, d.concealed, d.jitter_ms, d.jitter_buffer_ms);
  out << fmt::format("  RTCP{}: {} sent, {} received; round trip {}{}\n", r.rtcp.mux ? " (rtcp-mux)" : "", r.rtcp.sent,
                     r.rtcp.received, r.rtcp.round_trip_ms ? fmt::format("{:.1f} ms", *r.rtcp.round_trip_ms) : "n/a",
                     r.rtcp.dtls_handshake_ms ? fmt::format("; own DTLS handshake {:.0f} ms", *r.rtcp.dtls_handshake_ms)
                                              : "");
  if (d.recorded)
    out << fmt::format("  recorded {:.1f} s{} to {}\n", d.recorded_seconds, d.audible ? "" : " (silent)", r.record);
  out << fmt::format("  SIP responses: {}{}\n", fmt::join(s.sip_responses, " "),
                     s.digits_received.empty() ? "" : "; digits received: " + s.digits_received);
  if (!s.tones_received.empty()) out << fmt::format("  tones received: {}\n", fmt::join(s.tones_received, " "));
  if (!r.media_address.empty())
    out << fmt::format("  media at {} ({}){}{}\n", r.media_address, r.media_address_kind,
                       r.stun_error.empty() ? "" : "; STUN failed: " + r.stun_error,
                       r.ice_state.empty() ? "" : "; ICE " + r.ice_state);
  if (!r.ice_remote.empty())
    out << fmt::format("  ICE pair selected after {:.0f} ms: to {}{}\n", r.ice_connect_ms.value_or(-1), r.ice_remote,
                       r.ice_relayed ? " through our TURN relay" : "");
  if (!r.relayed_address.empty() || !r.turn_error.empty())
    out << fmt::format("  TURN: {}; {} datagrams relayed\n",
                       r.turn_error.empty() ? "relayed address " + r.relayed_address : "allocation failed: " + r.turn_error,
                       r.relayed_datagrams);
}

}  // namespace

void print_report(std::ostream& out, const demo_report& r) {
  if (r.sip) return print_sip_report(out, r);
  out << fmt::format("codec {} at {} ms packets\n", r.codec, r.ptime_ms);
  print_direction(out, "alice -> bob", r.forward);
  print_direction(out, "bob -> alice", r.reverse);
  out << fmt::format("played   {}{}\nrecorded {}\n", r.play, r.play_temporary ? " (temporary)" : "", r.record);
}

nlohmann::json to_json(const demo_report& r) {
  // The forward direction's figures sit at the top level; the reverse direction is nested.
  auto j = direction_json(r.forward);
  j["codec"] = r.codec;
  j["ptime_ms"] = r.ptime_ms;
  j["srtp"] = r.srtp_suite ? nlohmann::json(r.srtp_keying) : nlohmann::json(nullptr);  // the key exchange
  j["srtp_suite"] = r.srtp_suite ? nlohmann::json(*r.srtp_suite) : nlohmann::json(nullptr);
  j["media_address"] = r.media_address.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.media_address);
  j["media_address_kind"] = r.media_address.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.media_address_kind);
  j["stun_error"] = r.stun_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.stun_error);
  j["ice_state"] = r.ice_state.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.ice_state);
  j["ice_connect_ms"] = r.ice_connect_ms ? nlohmann::json(*r.ice_connect_ms) : nlohmann::json(nullptr);
  j["ice_remote"] = r.ice_remote.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.ice_remote);
  j["ice_relayed"] = r.ice_relayed;
  j["relayed_address"] = r.relayed_address.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.relayed_address);
  j["turn_error"] = r.turn_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.turn_error);
  j["relayed_datagrams"] = r.relayed_datagrams;
  auto optional_ms = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  j["rtcp"] = {{"mux", r.rtcp.mux},
               {"sent", r.rtcp.sent},
               {"received", r.rtcp.received},
               {"round_trip_ms", optional_ms(r.rtcp.round_trip_ms)},
               {"dtls_handshake_ms", optional_ms(r.rtcp.dtls_handshake_ms)}};
  j["states"] = r.states;
  j["end_cause"] = r.end_cause;
  j["reverse"] = direction_json(r.reverse);
  j["play"] = r.play;
  j["play_temporary"] = r.play_temporary;
  j["record"] = r.record;
  j["connected"] = r.connected;
  j["both_ways"] = r.both_ways;
  j["normal_end"] = r.normal_end;
  if (r.sip) {
    j["role"] = r.sip->role;
    j["local"] = r.sip->local;
    j["remote"] = r.sip->remote;
    j["sip_responses"] = r.sip->sip_responses;
    j["digits_received"] = r.sip->digits_received;
    j["tones_received"] = r.sip->tones_received;
    j["reason"] = r.sip->reason;
    j["tls"] = r.sip->tls;
  }
  return j;
}

direction_report measure(const mspi::stream_ptr& tx, const mspi::stream_ptr& rx) {
  direction_report d;
  const auto sent = tx ? tx->statistics() : mspi::stream_statistics{};
  const auto received = rx ? rx->statistics() : mspi::stream_statistics{};
  d.packets_sent = sent.packets;
  d.packets_received = received.packets;
  d.packets_lost = received.packets_lost;
  d.jitter_ms = received.jitter_ms;
  d.concealed = received.concealed;
  d.late = received.late;
  d.jitter_buffer_ms = received.jitter_buffer_ms;
  return d;
}

}  // namespace softphone
