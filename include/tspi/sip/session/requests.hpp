// ptapi - portable TAPI
// tspi/sip/session/requests.hpp: how sip_tsp takes requests: dispatch outside and within a dialog (RFC 3261
// §12.2.2), 405/501, failure containment (500/503 + Retry-After), and stray 2xx re-ACKed (§13.2.2.4).
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/session/early_media.hpp>
#include <tspi/sip/session/prack.hpp>
#include <tspi/sip/session/update.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/uri.hpp>

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tspi::sip {

inline void sip_tsp::on_request(std::shared_ptr<server_transaction> tx, const message& m) {
  try {
    handle_request(tx, m);
  } catch (const std::exception& e) {
    contain_failure(*tx, e);
  }
}

inline bool sip_tsp::is_resource_exhaustion(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return true;
  auto se = dynamic_cast<const std::system_error*>(&e);
  if (!se) return false;
  const auto c = se->code().default_error_condition();
  for (auto errc : {std::errc::too_many_files_open, std::errc::too_many_files_open_in_system, std::errc::not_enough_memory,
                    std::errc::resource_unavailable_try_again, std::errc::no_buffer_space})
    if (c == errc) return true;
  return false;
}

inline void sip_tsp::contain_failure(server_transaction& tx, const std::exception& e) noexcept {
  try {
    const bool exhausted = is_resource_exhaustion(e);
    auto it = by_call_id_.find(std::string(tx.request().header("Call-ID").value_or("")));
    auto s = it == by_call_id_.end() ? nullptr : find(it->second);
    if (s && s->invite_server.get() != &tx) s = nullptr;
    if (tx.status() < 200) {
      if (exhausted) respond_unavailable(tx, s ? s->local_tag : std::string());
      else respond(tx, 500, s ? s->local_tag : std::string());
    }
    if (s) end(*s, line_disconnect_mode::tempfailure);
  } catch (const std::exception&) {  // out of memory while answering: the request stays unanswered
  }
}

inline void sip_tsp::respond_unavailable(server_transaction& tx, const std::string& to_tag) {
  auto r = make_response(tx.request(), 503, to_tag);
  if (cfg_.retry_after.count() > 0) r.add("Retry-After", std::to_string(cfg_.retry_after.count()));
  if (!cfg_.user_agent.empty()) r.add("Server", cfg_.user_agent);
  trace(r, true);
  tx.respond(std::move(r));
}

inline void sip_tsp::handle_request(const std::shared_ptr<server_transaction>& tx, const message& m) {
  auto to = parse_name_addr(m.header("To").value_or(""));
  const bool in_dialog = to && !to->tag().empty();
  if (in_dialog) return on_in_dialog_request(tx, m);
  if (m.method == "ACK") return;
  // RFC 5630 §3.1.3, RFC 3261 §26.2.2: a sips: Request-URI promises TLS on every hop, and ours was clear. Refused
  // rather than served in clear (no downgrade); 416: the URI's scheme cannot be served over this transport.
  if (tx->source().protocol != transport_protocol::tls && m.request_uri.size() >= 5 &&
      detail::iequals(std::string_view(m.request_uri).substr(0, 5), "sips:"))
    return respond(*tx, 416);
  if (m.method == "INVITE") return on_invite(tx, m);
  if (m.method == "OPTIONS") return respond(*tx, 200, random_token(10));
  if (m.method == "BYE" || m.method == "INFO" || m.method == "NOTIFY") return respond(*tx, 481);
  respond(*tx, is_known_method(m.method) ? 405 : 501);
}

inline bool sip_tsp::is_known_method(std::string_view m) {
  for (auto k : {"UPDATE", "PRACK", "SUBSCRIBE", "MESSAGE", "PUBLISH", "REFER", "REGISTER"})
    if (m == k) return true;
  return false;
}

inline void sip_tsp::on_in_dialog_request(std::shared_ptr<server_transaction> tx, const message& m) {
  const auto cid = std::string(m.header("Call-ID").value_or(""));
  auto it = by_call_id_.find(cid);
  auto s = it == by_call_id_.end() ? nullptr : find(it->second);
  if (m.method == "ACK") return;  // an ACK the layer did not match: nothing to do
  if (m.method == "PRACK") return on_prack(*tx, m);   // early dialogs too (session/prack.hpp)
  if (m.method == "UPDATE") return on_update(std::move(tx), m);  // early dialogs too (session/update.hpp)
  if (!s || !s->dialog || !s->dialog->matches_request(m)) return respond(*tx, 481);
  if (!s->dialog->accept_remote_cseq(m)) return respond(*tx, 500);
  if (m.method == "BYE") {
    respond(*tx, 200);
    return end(*s, line_disconnect_mode::normal);
  }
  if (s->phase != detail::session_phase::confirmed) return respond(*tx, 481);
  if (m.method == "INVITE") return on_reinvite(s, std::move(tx), m);
  if (m.method == "OPTIONS") return respond(*tx, 200);
  if (m.method == "INFO") return on_info(*s, *tx, m);
  if (m.method == "NOTIFY") return on_notify(*s, *tx, m);
  if (m.method == "REFER") return on_refer(s, *tx, m);
  respond(*tx, is_known_method(m.method) ? 405 : 501);
}

inline void sip_tsp::on_stray_response(const message& r) {
  if (cfg_.stray_trace) cfg_.stray_trace(r);
  // A 2xx retransmission for an INVITE whose transaction has ended: ACK it again (RFC 3261 §13.2.2.4).
  auto cs = parse_cseq(r.header("CSeq").value_or(""));
  if (!cs || cs->method != "INVITE" || r.status < 200 || r.status >= 300) return;
  auto it = by_call_id_.find(std::string(r.header("Call-ID").value_or("")));
  if (it == by_call_id_.end()) return;
  auto s = find(it->second);
  if (s && s->ack && !is_winning_dialog(*s, r)) return end_fork(s, r);  // a losing fork's 2xx: ACK + BYE
  if (s && s->ack) {
    trace(*s->ack, true);
    layer_->send_ack(*s->ack, s->remote);
  }
}

}  // namespace tspi::sip
