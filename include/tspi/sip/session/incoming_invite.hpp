// ptapi - portable TAPI
// tspi/sip/session/incoming_invite.hpp: the incoming INVITE session of sip_tsp (UAS, RFC 3261 §13.3): a new
// call offered to TAPI, lineAnswer, the 200 with the MSP's answer, media only after the ACK.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/call_info_buffer.hpp>
#include <tspi/sip/detail/call_information.hpp>
#include <tspi/sip/detail/diversion.hpp>
#include <tspi/sip/history_info.hpp>
#include <tspi/sip/detail/reliable_provisional.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/detail/user_to_user.hpp>
#include <tspi/sip/dialog.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/session/early_media.hpp>
#include <tspi/sip/session/forwarding.hpp>
#include <tspi/sip/session/prack.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/uri.hpp>

#include <mspi/channel.hpp>
#include <mspi/error.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace tspi::sip {

inline void sip_tsp::answer(request_id req, call_id call) {
  auto s = find(call);
  if (!s || !s->incoming || s->phase != detail::session_phase::offered) {
    sink().completion(req, mspi::tapi_errc::invalid_call_state);
    return;
  }
  s->phase = detail::session_phase::answering;
  s->answer_request = req;
  if (!s->local_sdp.empty()) send_2xx(*s);
}

inline void sip_tsp::on_invite(std::shared_ptr<server_transaction> tx, const message& m) {
  if (auto unsupported = unsupported_extensions(m); !unsupported.empty()) {
    auto r = make_response(m, 420);
    r.add("Unsupported", unsupported);
    trace(r, true);
    return tx->respond(std::move(r));
  }
  if (!m.body.empty() && !detail::iequals(detail::trim(m.header("Content-Type").value_or("")), "application/sdp"))
    return respond(*tx, 415);
  const auto cid = std::string(m.header("Call-ID").value_or(""));
  if (by_call_id_.count(cid)) return respond(*tx, 482);  // a second INVITE of a call we have (merged/forked)
  if (session_interval_too_small(*tx, m)) return;          // 422 (RFC 4028 §9)
  auto ruri = parse_uri(m.request_uri);
  if (!ruri) return respond(*tx, 416);
  auto address_id = find_account(*ruri);
  if (!address_id) return respond(*tx, 404);
  if (*address_id >= msp_open_.size() || !msp_open_[*address_id]) return respond(*tx, 480);
  // RFC 3891 §3: an INVITE replacing a confirmed dialog of ours (we are a consultation transfer's target).
  const auto replaces = m.headers_named("Replaces");
  if (replaces.size() > 1) return respond(*tx, 400);
  auto replaced = replaces.empty() ? nullptr : replaced_session(replaces.front());
  if (!replaces.empty() && !replaced) return respond(*tx, 481);
  if (auto rule = forward_rule(*address_id, m, forward_trigger::unconditional); rule && !replaced)  // TSPI_lineForward
    return respond_forwarded(*tx, *rule, *address_id, forward_trigger::unconditional);
  auto from = parse_name_addr(m.header("From").value_or(""));
  // A call forwarded to us (RFC 5806 Diversion, else RFC 7044 History-Info): its reason (CIL_REASON) and who
  // forwarded it (CIS_REDIRECTINGID). A History-Info that does not parse is ignored, as if absent.
  const auto diversion = parse_name_addr(m.header("Diversion").value_or(""));
  const auto history = parse_history_info(m.headers_named("History-Info"));
  const auto retargeted = diversion || !history ? std::nullopt : redirection_of(*history);
  incoming_call_info info;
  if (diversion) info.reason = detail::reason_of_diversion(diversion->param("reason").value_or(""));
  if (retargeted) info.reason = reason_of_history_cause(retargeted->cause);
  if (replaced) {
    info.reason = call_reason::transfer;
    info.replaces = replaced->call;
  }
  info.address_id = *address_id;
  info.caller_id = from ? from->address.to_string() : std::string();
  info.caller_name = from ? from->display_name : std::string();
  info.called_id = ruri->to_string();
  info.comment = std::string(m.header("Subject").value_or(""));  // RFC 3261 §20.36 (bounded by the message limits)
  info.user_user_info = detail::parse_user_to_user(m.headers_named("User-to-User"), max_user_user_info_size).value_or("");
  if (diversion) {
    info.redirecting_id = diversion->address.to_string();
    info.redirecting_name = diversion->display_name;
  } else if (retargeted) {
    info.redirecting_id = retargeted->redirecting.to_string();
    info.redirecting_name = retargeted->redirecting_name;
  }
  std::error_code refused;
  const call_id call = sink().new_call(info, refused);
  if (!call) {
    if (refused == mspi::tapi_errc::not_owner) return respond(*tx, 480);  // TAPI's unowned-call rule
    if (auto rule = forward_rule(*address_id, m, forward_trigger::busy); rule && refused == mspi::tapi_errc::call_unavailable)
      return respond_forwarded(*tx, *rule, *address_id, forward_trigger::busy);
    return respond_unavailable(*tx);  // no room (max_active_calls, MSP capacity) or no resource
  }
  auto s = std::make_shared<detail::session>();
  s->call = call;
  s->address_id = *address_id;
  s->incoming = true;
  s->phase = detail::session_phase::offered;
  s->invite = m;
  s->invite_server = tx;
  accept_session_timer(*s, m);
  s->local_tag = random_token(10);
  s->remote = tx->source();
  s->reliable_provisional = detail::lists_option(m, "Require", "100rel");  // RFC 3262 §3
  sessions_[call] = s;
  by_call_id_[cid] = call;
  s->info.provider_call_id = cid;
  if (auto to = parse_name_addr(m.header("To").value_or(""))) s->info.called_name = to->display_name;
  detail::record_response(s->info, 100);  // the transaction layer's 100 Trying (RFC 3261 §17.2.1)
  s->info.dev_specific = detail::header_section(m);
  s->info.redirecting_id = info.redirecting_id;
  s->info.redirecting_name = info.redirecting_name;
  s->info.signalling_secured = detail::signalling_secured(s->remote, *ruri, m, true, false);
  report_info(*s);
  std::weak_ptr<detail::session> weak = s;
  tx->on_cancel = [this, weak] {
    auto s = weak.lock();
    if (!s || (s->phase != detail::session_phase::offered && s->phase != detail::session_phase::answering)) return;
    respond(*s->invite_server, 487, s->local_tag);
    end(*s, line_disconnect_mode::cancelled);
  };
  if (!replaced) send_provisional(*s, 180);
  sink().call_state(call, line_call_state::offering);
  if (replaced) {  // answered at once, without ringing (RFC 3891 §3); the 200 goes when the MSP's answer is there
    s->replaced_call = replaced->call;
    s->phase = detail::session_phase::answering;
  } else if (auto rule = forward_rule(*address_id, m, forward_trigger::no_answer)) {  // after the rings: 302
    arm(*s, no_answer_forward_delay(*address_id), [this, rule = *rule](detail::session& p) {
      if (p.phase != detail::session_phase::offered || !p.invite_server) return;
      respond_forwarded(*p.invite_server, rule, p.address_id, forward_trigger::no_answer, p.local_tag);
      end(p, line_disconnect_mode::forwarded);
    });
  } else if (cfg_.no_answer_timeout.count() > 0) {
    arm(*s, cfg_.no_answer_timeout, [this](detail::session& p) {
      if (p.phase != detail::session_phase::offered || !p.invite_server) return;
      respond(*p.invite_server, 480, p.local_tag);
      end(p, line_disconnect_mode::noanswer);
    });
  }
  if (m.body.empty()) {
    s->late_offer = true;
    send_msp(call, mspi::channel_message_type::request_offer);
  } else {
    send_msp(call, mspi::channel_message_type::remote_offer, m.body);
  }
}

inline std::optional<std::size_t> sip_tsp::find_account(const uri& ruri) const {
  for (std::size_t i = 0; i < accounts_.size(); ++i)
    if (accounts_[i].aor.user == ruri.user) return i;
  if (accounts_.size() == 1) return 0;  // one account: it takes every call sent here
  return std::nullopt;
}

inline void sip_tsp::on_local_answer(detail::session& s, std::string sdp) {
  if (s.remote_reinvite) {  // the peer's re-INVITE: answer it
    auto tx = std::exchange(s.remote_reinvite, nullptr);
    respond(*tx, 200, s.local_tag, std::move(sdp), "application/sdp");
    return;
  }
  if (!s.incoming || (s.phase != detail::session_phase::offered && s.phase != detail::session_phase::answering)) return;
  s.local_sdp = std::move(sdp);
  if (s.phase == detail::session_phase::answering) send_2xx(s);
}

inline void sip_tsp::on_media_error(detail::session& s) {
  if (s.remote_reinvite) return respond(*std::exchange(s.remote_reinvite, nullptr), 488, s.local_tag);
  using P = detail::session_phase;
  if (s.incoming && (s.phase == P::offered || s.phase == P::answering)) {
    respond(*s.invite_server, 488, s.local_tag);
    return end(s, line_disconnect_mode::incompatible);
  }
  if (s.phase == P::preparing) return end(s, line_disconnect_mode::incompatible);
  if (s.phase == P::inviting && !s.early_sdp.empty()) {  // early media unusable: wait for the 2xx's answer
    s.early_sdp.clear();
    s.media_started = false;
    return;
  }
  if (s.phase == P::inviting) {
    s.cancel_pending = true;
    if (auto tx = s.invite_tx.lock()) layer_->cancel(tx, [](const message*, std::error_code) {});
    return end(s, line_disconnect_mode::incompatible);
  }
  if (s.phase == P::confirmed) {  // the answer was unusable (RFC 3264 §6 gives no way back): hang up
    send_in_dialog(s, "BYE");
    end(s, line_disconnect_mode::incompatible);
  }
}

inline void sip_tsp::send_2xx(detail::session& s) {
  auto d = dialog::as_uas(s.invite, s.local_tag);
  if (!d) {
    respond(*s.invite_server, 400, s.local_tag);
    return end(s, line_disconnect_mode::unavail);
  }
  s.dialog = std::move(*d);
  const auto protocol = s.invite_server->source().protocol;  // next hop: RFC 3263 for a host name (routing.hpp)
  if (auto self = find(s.call)) route_in_dialog(self, [protocol](const session_ptr& p) { p->remote.protocol = protocol; });
  std::weak_ptr<detail::session> weak = find(s.call);
  s.invite_server->on_ack = [this, weak](const message& ack) {
    trace(ack, false);
    auto s = weak.lock();
    if (!s || !s->call || s->phase != detail::session_phase::confirmed) return;
    if (s->late_offer && !ack.body.empty()) send_msp(s->call, mspi::channel_message_type::remote_answer, ack.body);
    start_media(*s);  // only now: the peer has shown it receives at the dialog's address
  };
  s.invite_server->on_ack_timeout = [this, weak] {
    auto s = weak.lock();
    if (!s || s->phase != detail::session_phase::confirmed) return;
    send_in_dialog(*s, "BYE");  // RFC 3261 §13.3.1.4: no ACK, the dialog ends
    end(*s, line_disconnect_mode::unavail);
  };
  respond(*s.invite_server, 200, s.local_tag, s.local_sdp, "application/sdp");
  s.phase = detail::session_phase::confirmed;
  if (s.answer_request) sink().completion(std::exchange(s.answer_request, 0), {});
  sink().call_state(s.call, line_call_state::connected);
  if (s.timer) s.timer->cancel();  // answered: no no-answer expiry
  start_session_timer(s);
  if (auto old = s.replaced_call ? find(std::exchange(s.replaced_call, 0)) : nullptr;
      old && old->phase == detail::session_phase::confirmed) {  // RFC 3891 §3: the replaced dialog ends
    send_in_dialog(*old, "BYE");
    end(*old, line_disconnect_mode::normal);
  }
  // No start_media here: media waits for the ACK (on_ack), for every incoming call.
}

}  // namespace tspi::sip
