// ptapi - portable TAPI
// tspi/sip/session/info.hpp: DTMF in sip_tsp: digits to send go to the MSP (RFC 4733); INFO with
// application/dtmf-relay brings received ones.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>

#include <mspi/channel.hpp>
#include <mspi/error.hpp>

#include <cctype>
#include <string>
#include <string_view>

namespace tspi::sip {

inline void sip_tsp::generate_digits(request_id req, call_id call, std::string_view digits,
                                     std::chrono::milliseconds duration) {
  auto s = find(call);
  if (!s || s->phase != detail::session_phase::confirmed) {
    sink().completion(req, mspi::tapi_errc::invalid_call_state);
    return;
  }
  send_msp(call, mspi::channel_message_type::generate_digits,
           mspi::generate_digits_body(digits, static_cast<std::uint32_t>(duration.count())));
  sink().completion(req, {});
}

inline void sip_tsp::on_info(detail::session& s, server_transaction& tx, const message& m) {
  const auto type = detail::trim(m.header("Content-Type").value_or(""));
  if (!m.body.empty() && !detail::iequals(type, "application/dtmf-relay")) return respond(tx, 415);
  respond(tx, 200);
  auto p = m.body.find("Signal=");
  if (p == std::string::npos) return;
  auto v = detail::trim(std::string_view(m.body).substr(p + 7, 2));
  if (!v.empty() && std::string_view("0123456789*#ABCDabcd").find(v[0]) != std::string_view::npos)
    sink().digit_detected(s.call, static_cast<char>(std::toupper(static_cast<unsigned char>(v[0]))));
}

}  // namespace tspi::sip
