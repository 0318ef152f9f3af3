// ptapi - portable TAPI
// tspi/sip/session/update.hpp: UPDATE in sip_tsp (RFC 3311): the peer's, in an early or confirmed dialog,
// with or without an offer; and ours (`send_update`, for parts of the TSP that refresh or renegotiate a
// confirmed session without re-INVITE, e.g. session timers).
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/session/early_media.hpp>
#include <tspi/sip/transaction.hpp>

#include <mspi/channel.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace tspi::sip {

inline bool sip_tsp::in_early_dialog(detail::session& s, const message& m) {
  using P = detail::session_phase;
  auto from = parse_name_addr(m.header("From").value_or(""));
  auto to = parse_name_addr(m.header("To").value_or(""));
  if (!from || !to || to->tag() != s.local_tag) return false;
  if (s.incoming) {  // the caller's request before our 2xx: From tag = the INVITE's
    auto invite_from = parse_name_addr(s.invite.header("From").value_or(""));
    return (s.phase == P::offered || s.phase == P::answering) && invite_from && invite_from->tag() == from->tag();
  }
  return s.phase == P::inviting && early_dialog_of(s, from->tag()) != nullptr;  // a callee's early dialog
}

inline void sip_tsp::on_update(std::shared_ptr<server_transaction> tx, const message& m) {
  using P = detail::session_phase;
  auto it = by_call_id_.find(std::string(m.header("Call-ID").value_or("")));
  auto s = it == by_call_id_.end() ? nullptr : find(it->second);
  if (!s) return respond(*tx, 481);
  const bool confirmed = s->phase == P::confirmed && s->dialog && s->dialog->matches_request(m);
  if (!confirmed && !in_early_dialog(*s, m)) return respond(*tx, 481);
  if (confirmed && !s->dialog->accept_remote_cseq(m)) return respond(*tx, 500);
  if (confirmed)  // §5.2: UPDATE is a target refresh request
    if (auto c = parse_name_addr(m.header("Contact").value_or(""))) s->dialog->remote_target = c->address;
  if (m.body.empty()) return respond(*tx, 200, s->local_tag);
  if (!detail::iequals(detail::trim(m.header("Content-Type").value_or("")), "application/sdp")) return respond(*tx, 415);
  // §5.2: an offer while ours is unanswered: 491 (glare); while one to us is unanswered (the INVITE's,
  // until our 2xx, or an earlier re-INVITE's or UPDATE's): 500 with Retry-After 0-10 s.
  const bool our_offer_pending = s->update_pending || s->reinvite != detail::reinvite_kind::none ||
                                 (!s->incoming && s->phase == P::inviting && s->early_sdp.empty());
  if (our_offer_pending) return respond(*tx, 491, s->local_tag);
  if (s->remote_reinvite || (s->incoming && s->phase != P::confirmed)) {
    std::array<std::byte, 1> b{};
    detail::pooled_random_bytes(b);
    auto r = response_for(*tx, 500, s->local_tag);
    r.add("Retry-After", std::to_string(std::to_integer<unsigned>(b[0]) % 11));
    return send_response(*tx, std::move(r));
  }
  s->remote_reinvite = std::move(tx);
  send_msp(s->call, mspi::channel_message_type::remote_offer, m.body);  // the answer goes in our 200
}

inline void sip_tsp::send_update(const session_ptr& s, std::string sdp, transaction_layer::response_handler done) {
  if (!s->dialog || s->phase != detail::session_phase::confirmed || (!sdp.empty() && s->update_pending)) {
    if (done) done(nullptr, std::make_error_code(std::errc::operation_not_permitted));
    return;
  }
  auto m = s->dialog->make_request("UPDATE");
  add_common(m, s->remote.protocol, s->address_id);
  if (s->session_interval.count() > 0) add_session_timer_request(m, *s);  // RFC 4028 §7.4, §9: a refresh
  const bool offer = !sdp.empty();
  if (offer) {
    m.add("Content-Type", "application/sdp");
    m.body = std::move(sdp);
    s->update_pending = true;
  }
  send_request(s, std::move(m), [this, s, offer, done = std::move(done)](const message* r, std::error_code ec) {
    if (r && r->status < 200) return;
    if (offer) s->update_pending = false;
    if (r && r->status < 300 && s->dialog) {
      if (auto c = parse_name_addr(r->header("Contact").value_or(""))) s->dialog->remote_target = c->address;
      if (offer && s->call && s->phase == detail::session_phase::confirmed)
        send_msp(s->call, mspi::channel_message_type::remote_answer, r->body);
    }
    if (done) done(r, ec);
  });
}

}  // namespace tspi::sip
