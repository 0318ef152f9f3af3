// ptapi - portable TAPI
// tspi/sip/session/prack.hpp: reliable provisional responses on the UAS side of sip_tsp (RFC 3262 §3): an
// INVITE that requires 100rel gets its 1xx with Require: 100rel and RSeq, retransmitted until PRACKed,
// and the PRACK gets 200. (The UAC side, PRACKing a reliable 1xx, is in session/early_media.hpp.)
//
// Our 1xx carry no SDP, so a 2xx may go before the PRACK (§3) and offer/answer never happens in PRACK:
// a PRACK's body is ignored.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/reliable_provisional.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/session/early_media.hpp>
#include <tspi/sip/transaction.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tspi::sip {

inline std::string sip_tsp::unsupported_extensions(const message& m) const {
  std::string out;
  for (auto v : m.headers_named("Require"))
    for (auto t : detail::split_top_level(v, ',')) {
      t = detail::trim(t);
      bool known = cfg_.session_expires.count() > 0 && detail::iequals(t, "timer");  // RFC 4028 (session_timer.hpp)
      for (auto k : detail::split_top_level(supported, ','))
        known = known || detail::iequals(detail::trim(k), t);
      if (!known && !t.empty()) out += (out.empty() ? "" : ", ") + std::string(t);
    }
  return out;
}

inline void sip_tsp::send_provisional(detail::session& s, int status) {
  if (!s.reliable_provisional) return respond(*s.invite_server, status, s.local_tag);
  if (s.unacked_provisional) return;  // §3: no second reliable 1xx until the first is PRACKed
  if (s.local_rseq == 0) {  // §3: the first RSeq is chosen at random in 1..2^31-1
    std::array<std::byte, 4> b{};
    detail::pooled_random_bytes(b);
    s.local_rseq = (std::to_integer<std::uint32_t>(b[0]) << 24 | std::to_integer<std::uint32_t>(b[1]) << 16 |
                    std::to_integer<std::uint32_t>(b[2]) << 8 | std::to_integer<std::uint32_t>(b[3])) % 0x7fffffffU + 1;
  } else {
    ++s.local_rseq;
  }
  auto r = response_for(*s.invite_server, status, s.local_tag);
  r.add("Require", "100rel");
  r.add("RSeq", std::to_string(s.local_rseq));
  s.unacked_provisional = r;
  send_response(*s.invite_server, std::move(r));
  retransmit_provisional(s, cfg_.timers.t1, {});
}

inline void sip_tsp::retransmit_provisional(detail::session& s, std::chrono::steady_clock::duration interval,
                                            std::chrono::steady_clock::duration spent) {
  arm_timer(s.provisional_timer, s, interval, [this, interval, spent](detail::session& p) {
    if (!p.unacked_provisional || !p.invite_server || p.invite_server->status() >= 200 ||
        p.phase == detail::session_phase::ended)
      return;  // PRACKed, answered or ended meanwhile
    const auto total = spent + interval;
    if (total >= 64 * cfg_.timers.t1) {  // §3: no PRACK within 64*T1: the INVITE is rejected with a 5xx
      p.unacked_provisional.reset();
      respond(*p.invite_server, 500, p.local_tag);
      return end(p, line_disconnect_mode::unavail);
    }
    trace(*p.unacked_provisional, true);
    p.invite_server->respond(*p.unacked_provisional);
    // §3: T1, doubling each time (no T2 cap); the last wait ends exactly at 64*T1.
    retransmit_provisional(p, std::min<std::chrono::steady_clock::duration>(2 * interval, 64 * cfg_.timers.t1 - total), total);
  });
}

inline void sip_tsp::on_prack(server_transaction& tx, const message& m) {
  auto it = by_call_id_.find(std::string(m.header("Call-ID").value_or("")));
  auto s = it == by_call_id_.end() ? nullptr : find(it->second);
  auto rack = detail::parse_rack(m.header("RAck").value_or(""));
  auto from = parse_name_addr(m.header("From").value_or(""));
  auto to = parse_name_addr(m.header("To").value_or(""));
  if (!s || !s->incoming || !rack || !from || !to || !s->unacked_provisional) return respond(tx, 481);
  auto invite_from = parse_name_addr(s->invite.header("From").value_or(""));
  auto invite_cseq = parse_cseq(s->invite.header("CSeq").value_or(""));
  // §3: the PRACK must name the unacknowledged 1xx: its RSeq, the INVITE's CSeq, in the early dialog.
  if (to->tag() != s->local_tag || !invite_from || from->tag() != invite_from->tag() || !invite_cseq ||
      rack->rseq != s->local_rseq || rack->request.number != invite_cseq->number || rack->request.method != "INVITE")
    return respond(tx, 481);
  s->unacked_provisional.reset();
  if (s->provisional_timer) s->provisional_timer->cancel();
  respond(tx, 200);
}

}  // namespace tspi::sip
