// ptapi - portable TAPI
// tspi/sip/session/session_timer.hpp: session timers in sip_tsp (RFC 4028): Session-Expires / Min-SE in
// our INVITEs and re-INVITEs, the UAS's choice of interval and refresher, 422 sent and retried, the
// refresher's refresh at half the interval (an UPDATE without offer when the peer allows UPDATE, RFC 4028
// §9, else a re-INVITE), and the BYE when the session expires unrefreshed.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/session_expires.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>

#include <mspi/channel.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tspi::sip {

inline void sip_tsp::add_session_timer_request(message& m, const detail::session& s) const {
  if (cfg_.session_expires.count() == 0) return;
  m.add_to_list("Supported", "timer");
  if (s.session_interval.count() == 0) {  // the initial INVITE: our wish; the UAS picks the refresher
    m.add("Session-Expires", std::to_string(cfg_.session_expires.count()));
  } else {  // a re-INVITE keeps the negotiated interval and roles (§7.4); we are its UAC
    m.add("Session-Expires", std::to_string(s.session_interval.count()) + ";refresher=" + (s.refresher ? "uac" : "uas"));
  }
  m.add("Min-SE", std::to_string(cfg_.min_se.count()));
}

inline bool sip_tsp::retry_session_interval(const session_ptr& s, const message& r) {
  if (cfg_.session_expires.count() == 0 || s->interval_retries >= cfg_.session_interval_retries) return false;
  auto min_se = detail::parse_session_expires(r.header("Min-SE").value_or(""));
  auto asked = detail::parse_session_expires(s->invite.header("Session-Expires").value_or(""));
  if (!min_se || (asked && min_se->interval <= asked->interval)) return false;  // nothing larger to offer
  ++s->interval_retries;
  auto cs = parse_cseq(s->invite.header("CSeq").value_or(""));
  s->invite.set("CSeq", std::to_string((cs ? cs->number : 1) + 1) + " INVITE");
  s->invite.set("Session-Expires", std::to_string(min_se->interval.count()));
  s->invite.set("Min-SE", std::to_string(min_se->interval.count()));  // §7.4: the larger Min-SE
  s->invite.remove("Via");
  send_invite_tx(s);
  return true;
}

inline bool sip_tsp::session_interval_too_small(server_transaction& tx, const message& m) {
  if (cfg_.session_expires.count() == 0) return false;
  auto se = detail::parse_session_expires(m.header("Session-Expires").value_or(""));
  if (!se || se->interval >= cfg_.min_se) return false;
  auto r = make_response(m, 422);  // §9: Session Interval Too Small, with our Min-SE
  r.add("Min-SE", std::to_string(cfg_.min_se.count()));
  if (!cfg_.user_agent.empty()) r.add("Server", cfg_.user_agent);
  trace(r, true);
  tx.respond(std::move(r));
  return true;
}

inline void sip_tsp::accept_session_timer(detail::session& s, const message& m) {
  s.session_interval = std::chrono::seconds(0);
  if (m.header("Allow")) s.peer_allows_update = detail::lists_option(m, "Allow", "UPDATE");
  if (cfg_.session_expires.count() == 0) return;
  auto se = detail::parse_session_expires(m.header("Session-Expires").value_or(""));
  if (!se) return;  // §9: no Session-Expires, no session timer (a re-INVITE without one turns it off)
  auto their_min = detail::parse_session_expires(m.header("Min-SE").value_or(""));
  // §9: we may shorten the interval, never below the request's Min-SE (nor ours).
  const auto floor = std::max(cfg_.min_se, their_min ? their_min->interval : cfg_.min_se);
  s.session_interval = std::max(std::min(se->interval, cfg_.session_expires), floor);
  s.peer_supports_timer = detail::lists_option(m, "Supported", "timer");
  // The refresher: as asked; else the UAC when it supports timers, else us (§9).
  if (detail::iequals(se->refresher, "uas")) s.refresher = true;
  else if (detail::iequals(se->refresher, "uac")) s.refresher = false;
  else s.refresher = !s.peer_supports_timer;
}

inline void sip_tsp::add_session_timer_response(const server_transaction& tx, message& r) {
  if (cfg_.session_expires.count() == 0 || r.status < 200 || r.status >= 300) return;
  r.add_to_list("Supported", "timer");
  auto it = by_call_id_.find(std::string(tx.request().header("Call-ID").value_or("")));
  auto s = it == by_call_id_.end() ? nullptr : find(it->second);
  if (!s || s->session_interval.count() == 0) return;
  if (s->peer_supports_timer) r.add("Require", "timer");  // §9
  r.add("Session-Expires", std::to_string(s->session_interval.count()) + ";refresher=" + (s->refresher ? "uas" : "uac"));
}

inline void sip_tsp::on_session_timer_answer(const session_ptr& s, const message& r) {
  if (cfg_.session_expires.count() == 0) return;
  if (r.header("Allow")) s->peer_allows_update = detail::lists_option(r, "Allow", "UPDATE");
  auto se = detail::parse_session_expires(r.header("Session-Expires").value_or(""));
  // §7.2: none in the 2xx, no timer. Never shorter than our Min-SE: a peer's tiny interval would have us
  // re-INVITE many times a second.
  s->session_interval = se ? std::max(se->interval, cfg_.min_se) : std::chrono::seconds(0);
  s->refresher = se && !detail::iequals(se->refresher, "uas");        // we sent the request: uac = us
  start_session_timer(*s);
}

inline void sip_tsp::start_session_timer(detail::session& s) {
  if (s.refresh_timer) s.refresh_timer->cancel();
  if (s.expiry_timer) s.expiry_timer->cancel();
  if (s.session_interval.count() == 0 || s.phase != detail::session_phase::confirmed) return;
  using P = detail::session_phase;
  if (s.refresher)
    arm_timer(s.refresh_timer, s, detail::session_refresh_after(s.session_interval), [this](detail::session& p) {
      if (p.phase != P::confirmed || p.reinvite != detail::reinvite_kind::none || p.remote_reinvite) return;
      if (p.peer_allows_update) return refresh_by_update(find(p.call));
      refresh_by_reinvite(p);
    });
  arm_timer(s.expiry_timer, s, detail::session_expiry_after(s.session_interval), [this](detail::session& p) {
    if (p.phase != P::confirmed) return;
    send_in_dialog(p, "BYE");  // §10: the session expired without a refresh
    end(p, line_disconnect_mode::tempfailure);
  });
}

inline void sip_tsp::refresh_by_reinvite(detail::session& s) {
  s.reinvite = detail::reinvite_kind::refresh;  // the same session: the MSP offers the current direction
  send_msp(s.call, mspi::channel_message_type::request_offer, s.on_hold ? "sendonly" : "sendrecv");
}

inline void sip_tsp::refresh_by_update(const session_ptr& s) {
  // RFC 4028 §9: an UPDATE without offer (send_update adds Supported, Session-Expires and Min-SE); its 2xx
  // renews the interval and restarts the timers. A 405 or 501 (the peer's Allow was wrong): a re-INVITE
  // now, and from then on. Any other failure leaves the expiry timer to end the session (§10).
  std::weak_ptr<detail::session> weak = s;
  send_update(s, {}, [this, weak](const message* r, std::error_code) {
    auto p = weak.lock();
    if (!p || !r || p->phase != detail::session_phase::confirmed) return;
    if (r->status < 300) return on_session_timer_answer(p, *r);
    if ((r->status == 405 || r->status == 501) && p->reinvite == detail::reinvite_kind::none && !p->remote_reinvite) {
      p->peer_allows_update = false;
      refresh_by_reinvite(*p);
    }
  });
}

}  // namespace tspi::sip
