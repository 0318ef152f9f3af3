// ptapi - portable TAPI
// tspi/sip/session/outgoing_invite.hpp: the outgoing INVITE session of sip_tsp (UAC, RFC 3261 §13.2): the
// INVITE with the MSP's offer, provisional and final responses, the ACK of a 2xx (§13.2.2.4). Early media,
// PRACK and extra forks: session/early_media.hpp.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/causes.hpp>
#include <tspi/sip/detail/call_information.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/user_to_user.hpp>
#include <tspi/sip/dialog.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/session/early_media.hpp>
#include <tspi/sip/transaction.hpp>

#include <mspi/channel.hpp>

#include <fmt/format.h>
#include <mspi/error.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tspi::sip {

inline void sip_tsp::make_call(request_id req, std::size_t address_id, call_id call, std::string_view destination, mspi::media_type,
                               const call_params& params) {
  if (address_id >= accounts_.size() || address_id >= msp_open_.size() || !msp_open_[address_id]) {
    sink().completion(req, mspi::tapi_errc::no_driver);
    return;
  }
  auto s = std::make_shared<detail::session>();
  s->call = call;
  s->address_id = address_id;
  sessions_[call] = s;
  sink().completion(req, {});
  sink().call_state(call, line_call_state::dialing);
  auto target = parse_destination(destination);
  if (!target) return end(*s, line_disconnect_mode::badaddress);
  s->params = params;
  if (!params.calling_party_id.empty() && !parse_destination(params.calling_party_id)) {
    s->info.provider_detail = fmt::format("the calling party ID {} is not a SIP URI", params.calling_party_id);
    report_info(*s);
    return end(*s, line_disconnect_mode::badaddress);
  }
  s->target = *target;
  s->tried_uris.push_back(target->to_string());
  s->local_tag = random_token(10);
  route_call(s, [this](const session_ptr& s) {  // INVITE goes out with the offer, to the resolved first hop
    send_msp(s->call, mspi::channel_message_type::request_offer);
  });
}

inline void sip_tsp::on_local_offer(const session_ptr& s, std::string sdp) {
  if (s->phase == detail::session_phase::preparing) return send_invite(s, std::move(sdp));
  if (s->phase == detail::session_phase::confirmed && s->reinvite != detail::reinvite_kind::none) return send_reinvite(s, std::move(sdp));
  if (s->incoming && s->late_offer) {  // our offer goes in the 2xx
    s->local_sdp = std::move(sdp);
    if (s->phase == detail::session_phase::answering) send_2xx(*s);
  }
}

inline void sip_tsp::send_invite(const session_ptr& s, std::string sdp) {
  const auto& acct = accounts_[s->address_id];
  message m;
  m.method = "INVITE";
  m.request_uri = s->target.to_string();
  name_addr from{acct.config.display_name, acct.aor, {}};
  from.set_param("tag", s->local_tag);
  m.add("From", from.to_string());
  m.add("To", name_addr{s->params.called_party_name, s->target, {}}.to_string());  // CIS_CALLEDPARTYFRIENDLYNAME
  m.add("Call-ID", random_token(20) + "@" + cfg_.listen_address);
  m.add("CSeq", "1 INVITE");
  add_common(m, s->remote.protocol, s->address_id, &s->remote);
  add_route(m, s->address_id);
  m.add("Allow", std::string(allow));
  m.add("Supported", "100rel");  // RFC 3262 §4: the UAS may send its 1xx reliably
  add_session_timer_request(m, *s);
  add_referral_headers(*s, m);
  if (!s->params.comment.empty()) m.add("Subject", s->params.comment);  // CIS_COMMENT (RFC 3261 §20.36)
  if (auto id = s->params.calling_party_id.empty() ? std::nullopt : parse_destination(s->params.calling_party_id))
    m.add("P-Preferred-Identity", name_addr{{}, *id, {}}.to_string());  // CIS_CALLINGPARTYID (RFC 3325 §9.2)
  if (!s->params.user_user_info.empty())  // CIB_USERUSERINFO (RFC 7433 §4.1)
    m.add("User-to-User", detail::user_to_user_value(s->params.user_user_info));
  m.add("Content-Type", "application/sdp");
  m.body = std::move(sdp);
  s->invite = m;
  by_call_id_[std::string(*m.header("Call-ID"))] = s->call;
  s->info.provider_call_id = std::string(*m.header("Call-ID"));
  report_info(*s);
  s->phase = detail::session_phase::inviting;
  send_invite_tx(s);
}

inline void sip_tsp::send_invite_tx(const session_ptr& s) {
  trace(s->invite, true);
  s->invite_tx = layer_->send_request(s->invite, s->remote, [this, s](const message* r, std::error_code ec) {
    if (r) trace(*r, false);
    on_invite_response(s, r, ec);
    if (s->phase == detail::session_phase::confirmed) report_to_referrer(*s);  // a REFER's call connected
  });
}

inline void sip_tsp::on_invite_response(const session_ptr& s, const message* r, std::error_code ec) {
  using P = detail::session_phase;
  if (!r) {  // Timer B or a transport error (RFC 3261 §8.1.3.1: as 408 / 503): the next target (RFC 3263 §4.3)
    if (fail_over(s)) return;
    if (s->phase != P::inviting) return;
    if (ec) {  // e.g. a TLS certificate not trusted or naming another host: say which and why
      s->info.provider_detail = fmt::format("cannot reach {}: {}", s->remote.to_string(), ec.message());
      report_info(*s);
    }
    end(*s, ec == std::errc::timed_out ? line_disconnect_mode::noanswer : line_disconnect_mode::unreachable);
    return;
  }
  const bool initial = s->phase == P::inviting && s->call;  // a response to the call's initial INVITE
  if (r->status < 200) {
    if (!initial || !on_provisional(s, *r)) return;  // a reliable 1xx again or out of order: ignored
    note_response(*s, *r, false);
    if (r->status == 180 || r->status == 183) sink().call_state(s->call, line_call_state::ringback);
    else if (r->status == 100) sink().call_state(s->call, line_call_state::proceeding);
    return;
  }
  if (r->status < 300) {
    if (initial) {
      detail::note_connected(s->info, *r);
      const bool proxied = s->address_id < accounts_.size() && accounts_[s->address_id].proxy;
      s->info.signalling_secured = detail::signalling_secured(s->remote, s->target, *r, false, proxied);
      note_response(*s, *r, true);
    }
    return on_invite_2xx(s, *r);
  }
  if (r->status == 422 && s->phase == P::inviting && !s->cancel_pending && retry_session_interval(s, *r)) {
    if (initial) note_response(*s, *r, false);  // RFC 4028 §7.4: again with the larger Min-SE
    return;
  }
  if ((r->status == 401 || r->status == 407) && s->phase == P::inviting && !s->cancel_pending) {
    if (retry_with_credentials(s, *r)) {
      if (initial) note_response(*s, *r, false);
      return;
    }
    const auto& acct = accounts_[s->address_id];
    s->info.provider_detail = detail::challenge_refusal(*r, s->target.to_string(), !acct.config.password.empty(),
                                                        s->auth_attempts > 0, acct.auth.policy());
  }
  if ((r->status == 503 && fail_over(s)) || (r->status < 400 && follow_redirect(s, *r))) {
    if (initial) note_response(*s, *r, false);
    return;
  }
  if (initial) note_response(*s, *r, true);
  if (s->phase == P::inviting) end(*s, disconnect_mode_for_status(r->status));
}

inline void sip_tsp::on_invite_2xx(const session_ptr& s, const message& r) {
  if (s->ack && !is_winning_dialog(*s, r)) return end_fork(s, r);  // another fork's 2xx: ACK + BYE
  if (s->ack) {  // a retransmitted 2xx: the same ACK again (RFC 3261 §13.2.2.4)
    trace(*s->ack, true);
    layer_->send_ack(*s->ack, s->remote);
    return;
  }
  if (s->dialog) return;  // a retransmission while the next hop's name resolves: the ACK follows
  auto d = dialog::as_uac(s->invite, r);
  if (!d) {  // no Contact or To tag: unusable; end it
    if (s->phase == detail::session_phase::inviting) end(*s, line_disconnect_mode::unavail);
    return;
  }
  s->dialog = std::move(*d);
  route_in_dialog(s, [this, r](const session_ptr& s) { send_ack_and_connect(s, r); });
}

inline void sip_tsp::send_ack_and_connect(const session_ptr& s, const message& r) {
  auto cs = parse_cseq(s->invite.header("CSeq").value_or(""));
  auto ack = s->dialog->make_request("ACK", cs ? cs->number : 1);
  s->dialog->local_cseq = cs ? cs->number : 1;
  continue_early_dialog(*s);  // CSeq after its PRACKs
  s->ack = ack;
  trace(ack, true);
  layer_->send_ack(std::move(ack), s->remote);
  if (s->cancel_pending || !s->call || s->phase != detail::session_phase::inviting) {
    send_in_dialog(*s, "BYE");  // dropped meanwhile: the dialog is ended at once
    return;
  }
  s->phase = detail::session_phase::confirmed;
  take_final_answer(*s, r);
  sink().call_state(s->call, line_call_state::connected);
  start_media(*s);
  on_session_timer_answer(s, r);
}

}  // namespace tspi::sip
