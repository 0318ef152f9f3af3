// ptapi - portable TAPI
// tspi/sip/session/refer.hpp: blind transfer in sip_tsp: REFER (RFC 3515 §2.4) and the NOTIFYs of its
// implicit subscription (§2.4.5), whose final 2xx sipfrag ends the call.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
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
  s->transfer_request = req;
  auto refer = s->dialog->make_request("REFER");
  refer.add("Refer-To", "<" + target->to_string() + ">");
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
  }
}

}  // namespace tspi::sip
