// ptapi - portable TAPI
// tspi/sip/session/early_media.hpp: what the UAC side of sip_tsp does with early dialogs (RFC 3261 §12.1.2,
// §13.2.2.4): early media from a 1xx with SDP, PRACK of a reliable 1xx (RFC 3262 §4), and the 2xx of a
// fork that lost (ACK + BYE).
//
// Early media policy: the SDP of any early dialog's 1xx goes to the MSP as the answer and media starts
// while the call is still in progress (ringback); when several early dialogs send SDP, the last SDP
// received wins until the 2xx. The 2xx's SDP (or, when it has none, the SDP of the winning dialog's 1xx,
// RFC 3262 §5) then takes over: identical to what is playing, nothing changes; different, it is applied.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/reliable_provisional.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/dialog.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>

#include <mspi/channel.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace tspi::sip {

inline detail::early_dialog* sip_tsp::early_dialog_of(detail::session& s, std::string_view remote_tag) {
  for (auto& e : s.early)
    if (e.dialog.remote_tag == remote_tag) return &e;
  return nullptr;
}

inline bool sip_tsp::is_winning_dialog(const detail::session& s, const message& r) {
  auto to = parse_name_addr(r.header("To").value_or(""));
  return !s.dialog || (to && to->tag() == s.dialog->remote_tag);
}

inline bool sip_tsp::on_provisional(const session_ptr& s, const message& r) {
  auto to = parse_name_addr(r.header("To").value_or(""));
  if (r.status == 100 || !to || to->tag().empty()) return true;  // no dialog: progress only
  auto* e = early_dialog_of(*s, to->tag());
  if (!e && s->early.size() < detail::max_early_dialogs)
    if (auto d = dialog::as_uac(s->invite, r)) e = &s->early.emplace_back(detail::early_dialog{std::move(*d), {}, {}, {}});
  if (!e) return true;  // no Contact, or too many forks: reported, not used
  if (detail::lists_option(r, "Require", "100rel")) {
    auto rseq = detail::parse_response_num(r.header("RSeq").value_or(""));
    if (!rseq) return true;  // no RSeq: cannot be PRACKed (RFC 3262 §7.1); taken as unreliable
    // RFC 3262 §4: a retransmission, or one that is not the next in order, is neither PRACKed nor used.
    if (e->rseq && *rseq != *e->rseq + 1) return false;
    e->rseq = *rseq;
    send_prack(*s, *e, *rseq);
  }
  if (!r.body.empty() && detail::iequals(detail::trim(r.header("Content-Type").value_or("")), "application/sdp"))
    take_early_answer(*s, *e, r.body);
  return true;
}

inline void sip_tsp::send_prack(detail::session& s, detail::early_dialog& e, std::uint32_t rseq) {
  auto hop = resolve(e.dialog.next_hop());
  if (!hop) return;
  auto cs = parse_cseq(s.invite.header("CSeq").value_or(""));
  auto m = e.dialog.make_request("PRACK");
  m.add("RAck", std::to_string(rseq) + " " + std::to_string(cs ? cs->number : 1) + " INVITE");
  add_common(m, hop->protocol, s.address_id);
  trace(m, true);
  // Its 2xx needs nothing more; a failure (481, timeout) leaves the INVITE transaction to end the call.
  layer_->send_request(std::move(m), *hop, [this](const message* r, std::error_code) {
    if (r) trace(*r, false);
  });
}

inline void sip_tsp::take_early_answer(detail::session& s, detail::early_dialog& e, std::string_view sdp) {
  e.sdp = std::string(sdp);
  if (s.phase != detail::session_phase::inviting || !s.call || s.cancel_pending) return;
  if (sdp != s.early_sdp) {  // the last SDP received wins until the 2xx
    s.early_sdp = std::string(sdp);
    send_msp(s.call, mspi::channel_message_type::remote_answer, sdp);
  }
  start_media(s);
}

inline void sip_tsp::take_final_answer(detail::session& s, const message& r) {
  std::string_view sdp = r.body;
  if (sdp.empty())  // the answer came in a reliable 1xx of this dialog (RFC 3262 §5)
    if (auto* e = early_dialog_of(s, s.dialog->remote_tag)) sdp = e->sdp;
  // Empty (no answer at all) still goes: the MSP reports media_error and the call is hung up.
  if (sdp.empty() || sdp != s.early_sdp) send_msp(s.call, mspi::channel_message_type::remote_answer, sdp);
  s.early_sdp.clear();
}

inline void sip_tsp::continue_early_dialog(detail::session& s) {
  if (auto* e = early_dialog_of(s, s.dialog->remote_tag))
    s.dialog->local_cseq = std::max(s.dialog->local_cseq, e->dialog.local_cseq);
}

inline void sip_tsp::end_fork(const session_ptr& s, const message& r) {
  auto to = parse_name_addr(r.header("To").value_or(""));
  auto* e = to ? early_dialog_of(*s, to->tag()) : nullptr;
  if (e && e->ack) {  // a retransmission of that fork's 2xx: the same ACK again, no second BYE
    trace(*e->ack, true);
    if (auto hop = resolve(e->dialog.next_hop())) layer_->send_ack(*e->ack, *hop);
    return;
  }
  auto d = dialog::as_uac(s->invite, r);
  auto hop = d ? resolve(d->next_hop()) : std::nullopt;
  if (!d || !hop) return;  // no Contact or To tag: nowhere to send ACK and BYE
  if (e) d->local_cseq = std::max(d->local_cseq, e->dialog.local_cseq);
  auto cs = parse_cseq(s->invite.header("CSeq").value_or(""));
  auto ack = d->make_request("ACK", cs ? cs->number : 1);
  trace(ack, true);
  layer_->send_ack(ack, *hop);
  auto bye = d->make_request("BYE");
  add_common(bye, hop->protocol, s->address_id);
  trace(bye, true);
  layer_->send_request(std::move(bye), *hop, [this](const message* b, std::error_code) {
    if (b) trace(*b, false);
  });
  if (!e && s->early.size() < detail::max_early_dialogs) e = &s->early.emplace_back(detail::early_dialog{*d, {}, {}, {}});
  if (e) e->ack = std::move(ack);
}

}  // namespace tspi::sip
