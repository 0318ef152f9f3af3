// ptapi - portable TAPI
// tspi/sip/session/transferee.hpp: sip_tsp as the transferee of a REFER (RFC 3515 §2.4, RFC 5589 §6):
// 202, a new outgoing TAPI call to the Refer-To target (CIL_REASON = transfer) with Referred-By (RFC 3892),
// NOTIFYs of its implicit subscription with message/sipfrag progress, and the referring call dropped once
// the new call connects.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/replaces.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/uri.hpp>

#include <mspi/channel.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace tspi::sip {

inline void sip_tsp::on_refer(const session_ptr& s, server_transaction& tx, const message& m) {
  const auto refer_to = m.headers_named("Refer-To");
  auto target = refer_to.size() == 1 ? parse_name_addr(refer_to.front()) : std::nullopt;
  if (!target) return respond(tx, 400);  // RFC 3515 §2.4.1: exactly one Refer-To
  if (!cfg_.accept_refer) return respond(tx, 603);
  if (s->refer_active) return respond(tx, 491);  // one transfer at a time
  auto dest = target->address;
  const auto replaces = detail::uri_header(dest.headers, "Replaces");
  dest.headers.clear();
  const auto& acct = accounts_[s->address_id];
  incoming_call_info info;
  info.address_id = s->address_id;
  info.caller_id = acct.aor.to_string();
  info.caller_name = acct.config.display_name;
  info.called_id = dest.to_string();
  info.outgoing = true;
  info.reason = call_reason::transfer;
  std::error_code refused;
  const call_id call = sink().new_call(info, refused);
  if (!call) return respond(tx, 603);  // no owner or no room for the new call: declined
  respond(tx, 202);
  s->refer_active = true;
  send_refer_notify(s, 100, "Trying");  // §2.4.5: the implicit subscription's first NOTIFY
  auto n = std::make_shared<detail::session>();
  n->call = call;
  n->address_id = s->address_id;
  n->referrer = s;
  n->referred_by = std::string(m.header("Referred-By").value_or(""));
  if (n->referred_by.empty()) n->referred_by = "<" + s->dialog->remote_target.to_string() + ">";
  n->replaces = replaces;
  sessions_[call] = n;
  sink().call_state(call, line_call_state::dialing);
  auto hop = resolve(dest);
  if (!hop) return end(*n, line_disconnect_mode::badaddress);
  n->target = dest;
  n->remote = *hop;
  n->local_tag = random_token(10);
  send_msp(call, mspi::channel_message_type::request_offer);  // the INVITE goes out with the MSP's offer
}

inline void sip_tsp::add_referral_headers(const detail::session& s, message& m) {
  if (!s.referred_by.empty()) m.add("Referred-By", s.referred_by);
  if (!s.replaces.empty()) m.add("Replaces", s.replaces);
}

inline void sip_tsp::send_refer_notify(const session_ptr& s, int status, std::string_view reason) {
  if (!s->dialog || s->phase != detail::session_phase::confirmed) return;  // the transferor hung up already
  auto n = s->dialog->make_request("NOTIFY");
  n.add("Event", "refer");
  n.add("Subscription-State", status < 200 ? "active;expires=60" : "terminated;reason=noresource");
  add_common(n, s->remote.protocol, s->address_id);
  n.add("Content-Type", "message/sipfrag;version=2.0");
  n.body = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  send_request(s, std::move(n), [](const message*, std::error_code) {});
}

inline void sip_tsp::report_to_referrer(detail::session& s, line_disconnect_mode mode) {
  auto referrer = s.referrer.lock();
  if (!referrer || s.referral_reported) return;
  s.referral_reported = true;
  referrer->refer_active = false;
  if (s.phase == detail::session_phase::confirmed) {
    send_refer_notify(referrer, 200, "OK");
    // RFC 5589 §6: the transferor hangs up on the 200 NOTIFY; if it has not within 8*T1, we do.
    arm(*referrer, 8 * cfg_.timers.t1, [this](detail::session& p) {
      if (p.phase != detail::session_phase::confirmed) return;
      send_in_dialog(p, "BYE");
      end(p, line_disconnect_mode::normal);
    });
    return;
  }
  if (s.info.provider_status >= 300) return send_refer_notify(referrer, s.info.provider_status, s.info.provider_reason);
  switch (mode) {  // no final response: what it amounts to
    case line_disconnect_mode::noanswer: return send_refer_notify(referrer, 408, "Request Timeout");
    case line_disconnect_mode::badaddress: return send_refer_notify(referrer, 400, "Bad Request");
    case line_disconnect_mode::normal:
    case line_disconnect_mode::cancelled: return send_refer_notify(referrer, 487, "Request Terminated");
    default: return send_refer_notify(referrer, 503, "Service Unavailable");
  }
}

}  // namespace tspi::sip
