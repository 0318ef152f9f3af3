// ptapi - portable TAPI
// tspi/sip/session/refer.hpp: blind and consultation transfer in sip_tsp: REFER (RFC 3515 §2.4; with
// Replaces, RFC 5589 §7) and the NOTIFYs of its implicit subscription (§2.4.5), whose final 2xx sipfrag
// ends the call; the dialog an incoming Replaces names (RFC 3891 §3).
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/replaces.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>

#include <mspi/error.hpp>

#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tspi::sip {

inline void sip_tsp::blind_transfer(request_id req, call_id call, std::string_view destination) {
  auto s = find(call);
  if (!s || s->phase != detail::session_phase::confirmed || s->transfer_request) {
    sink().completion(req, mspi::tapi_errc::invalid_call_state);
    return;
  }
  auto target = parse_destination(destination);
  if (!target) {
    sink().completion(req, mspi::tapi_errc::invalid_address);
    return;
  }
  send_refer(req, s, target->to_string());
}

inline void sip_tsp::complete_transfer(request_id req, call_id call, call_id consultation) {
  auto s = find(call), c = find(consultation);
  using P = detail::session_phase;
  if (!s || !c || s == c || s->phase != P::confirmed || c->phase != P::confirmed || !c->dialog || s->transfer_request) {
    sink().completion(req, mspi::tapi_errc::invalid_call_state);
    return;
  }
  // RFC 5589 §7.1: Refer-To is the transfer target (the consultation dialog's remote target) with a
  // Replaces header naming that dialog as the target sees it (RFC 3891 §3: to-tag = its local tag).
  auto target = c->dialog->remote_target;
  target.headers = "Replaces=" + detail::escape_uri_header(c->dialog->call_id + ";to-tag=" + c->dialog->remote_tag +
                                                           ";from-tag=" + c->dialog->local_tag);
  s->consultation = consultation;
  send_refer(req, s, target.to_string());
}

inline void sip_tsp::send_refer(request_id req, const session_ptr& s, std::string refer_to) {
  s->transfer_request = req;
  auto refer = s->dialog->make_request("REFER");
  refer.add("Refer-To", "<" + refer_to + ">");
  refer.add("Referred-By", s->dialog->local.to_string());
  add_common(refer, s->remote.protocol, s->address_id, &s->remote);
  send_request(s, std::move(refer), [this, s](const message* r, std::error_code ec) {
    if (r && r->status < 200) return;
    const auto req = std::exchange(s->transfer_request, 0);
    if (!req || !s->call) return;
    if (r && r->status < 300) {
      s->transferring = true;
      sink().completion(req, {});
    } else {
      sink().completion(req, ec ? mspi::tapi_errc::timeout : mspi::tapi_errc::request_failed);
    }
  });
}

inline sip_tsp::session_ptr sip_tsp::replaced_session(std::string_view replaces) const {
  const auto r = detail::parse_replaces(replaces);
  if (!r) return nullptr;
  auto it = by_call_id_.find(r->call_id);
  auto s = it == by_call_id_.end() ? nullptr : find(it->second);
  if (!s || !s->dialog || s->phase != detail::session_phase::confirmed) return nullptr;
  if (s->dialog->local_tag != r->to_tag || s->dialog->remote_tag != r->from_tag) return nullptr;
  return s;
}

inline void sip_tsp::on_notify(detail::session& s, server_transaction& tx, const message& m) {
  respond(tx, 200);
  if (!s.transferring) return;
  auto frag = parse_message(m.body + (m.body.find("\r\n\r\n") == std::string::npos ? "\r\n\r\n" : ""));
  int status = 0;
  if (frag && !frag->is_request()) status = frag->status;
  else if (m.body.rfind("SIP/2.0 ", 0) == 0) (void)detail::parse_int(std::string_view(m.body).substr(8, 3), status);
  if (status < 200) return;
  s.transferring = false;
  if (status < 300) {
    send_in_dialog(s, "BYE");
    end(s, line_disconnect_mode::normal);
    // A consultation transfer: the target ends the replaced dialog itself (RFC 3891 §3), unless the
    // transferee's INVITE lacked Replaces (baresip 1.0 drops Refer-To's headers); then we end it.
    if (auto c = s.consultation ? find(std::exchange(s.consultation, 0)) : nullptr;
        c && c->phase == detail::session_phase::confirmed) {
      send_in_dialog(*c, "BYE");
      end(*c, line_disconnect_mode::normal);
    }
  }
}

}  // namespace tspi::sip
