// ptapi - portable TAPI
// tspi/sip/session/reinvite.hpp: re-INVITE in sip_tsp: ours for hold/unhold (RFC 3264 §8.4, RFC 3261 §14.1)
// and the peer's (§14.2), whose offer goes to the MSP.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>

#include <mspi/channel.hpp>
#include <mspi/error.hpp>

#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace tspi::sip {

inline void sip_tsp::on_reinvite(const session_ptr& s, std::shared_ptr<server_transaction> tx, const message& m) {
  if (s->reinvite != detail::reinvite_kind::none || s->remote_reinvite) return respond(*tx, 491);  // RFC 3261 §14.2
  if (m.body.empty()) return respond(*tx, 488);  // an offerless re-INVITE is not supported
  if (session_interval_too_small(*tx, m)) return;
  accept_session_timer(*s, m);  // RFC 4028 §9: a refresh (or, without Session-Expires, the timer's end)
  start_session_timer(*s);
  if (auto hop = parse_name_addr(m.header("Contact").value_or(""))) s->dialog->remote_target = hop->address;
  s->remote_reinvite = std::move(tx);
  send_msp(s->call, mspi::channel_message_type::remote_offer, m.body);
}

inline void sip_tsp::reinvite(request_id req, call_id call, detail::reinvite_kind kind) {
  auto s = find(call);
  if (!s || s->phase != detail::session_phase::confirmed || s->reinvite != detail::reinvite_kind::none ||
      s->remote_reinvite) {
    sink().completion(req, mspi::tapi_errc::invalid_call_state);
    return;
  }
  s->reinvite = kind;
  s->reinvite_request = req;
  send_msp(call, mspi::channel_message_type::request_offer, kind == detail::reinvite_kind::hold ? "sendonly" : "sendrecv");
}

inline void sip_tsp::send_reinvite(const session_ptr& s, std::string sdp) {
  auto m = s->dialog->make_request("INVITE");
  add_common(m, s->remote.protocol, s->address_id, &s->remote);
  if (s->session_interval.count() > 0) add_session_timer_request(m, *s);  // every re-INVITE refreshes (RFC 4028 §7.4)
  m.add("Content-Type", "application/sdp");
  m.body = std::move(sdp);
  const auto number = s->dialog->local_cseq;
  send_request(s, std::move(m), [this, s, number](const message* r, std::error_code ec) {
    if (r && r->status < 200) return;
    const auto kind = std::exchange(s->reinvite, detail::reinvite_kind::none);
    const auto req = std::exchange(s->reinvite_request, 0);
    if (r && r->status < 300) {
      auto ack = s->dialog->make_request("ACK", number);
      trace(ack, true);
      layer_->send_ack(std::move(ack), s->remote);
      if (!s->call || s->phase != detail::session_phase::confirmed) return;
      send_msp(s->call, mspi::channel_message_type::remote_answer, r->body);
      if (kind != detail::reinvite_kind::refresh) {
        s->on_hold = kind == detail::reinvite_kind::hold;
        sink().call_state(s->call, s->on_hold ? line_call_state::onhold : line_call_state::connected);
      }
      if (s->session_interval.count() > 0) on_session_timer_answer(s, *r);
      if (req) sink().completion(req, {});
      return;
    }
    if (req && s->call) sink().completion(req, ec ? mspi::tapi_errc::timeout : mspi::tapi_errc::request_failed);
    if (!r || r->status == 481 || r->status == 408) {  // RFC 3261 §14.1: the dialog is gone
      send_in_dialog(*s, "BYE");
      end(*s, line_disconnect_mode::unavail);
    }
  });
}

}  // namespace tspi::sip
