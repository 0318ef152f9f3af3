// ptapi - portable TAPI
// tspi/sip/session/common.hpp: what every piece of sip_tsp uses: an IP-literal next hop (DNS: routing.hpp),
// Contact and User-Agent (the advertised address: public, learned or routed), sending requests and
// responses with the trace, and ending a call for TAPI.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/advertised_address.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/dns/selection.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/uri.hpp>

#include <mspi/channel.hpp>
#include <mspi/error.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tspi::sip {

inline void sip_tsp::close_stack() {
  for (auto& t : registration_waits_) t->cancel();
  registration_waits_.clear();
  dns_.reset();  // pending resolutions end without their handlers
  if (layer_) layer_->close();
  if (transport_) transport_->close();
  layer_.reset();
  transport_.reset();
}

inline std::optional<uri> sip_tsp::parse_destination(std::string_view d) {
  d = detail::trim(d);
  const bool has_scheme = d.size() > 4 && (detail::iequals(d.substr(0, 4), "sip:") || detail::iequals(d.substr(0, 5), "sips:"));
  return parse_uri(has_scheme ? std::string(d) : "sip:" + std::string(d));
}

inline std::optional<peer> sip_tsp::resolve(const uri& u) const {
  auto plan = plan_resolution(u, transports());  // dns/selection.hpp: literals and localhost only
  if (plan.first != dns_plan::step::literal) return std::nullopt;
  note_tls_names(u, {plan.target});
  return plan.target;
}

inline std::string sip_tsp::advertised_host(std::size_t address_id, const peer* to) const {
  if (!cfg_.public_address.empty()) return cfg_.public_address;
  boost::system::error_code bec;
  const auto bound = boost::asio::ip::make_address(cfg_.listen_address, bec);
  if (bec || !bound.is_unspecified() || !transport_) return cfg_.listen_address;
  // A wildcard bind: the interface that routes to the peer, else to the account's registrar.
  std::optional<peer> via = to && !to->address.is_unspecified() ? std::optional<peer>(*to) : std::nullopt;
  for (const auto& r : registrations_)
    if (!via && r->account() == address_id) via = r->registrar_peer();
  if (!via) return cfg_.listen_address;
  auto l = transport_->local_for(*via);
  return l && !l->address.is_unspecified() ? l->address.to_string() : cfg_.listen_address;
}

inline uri sip_tsp::contact_uri(transport_protocol p, std::size_t address_id, const peer* to) const {
  uri c;
  c.user = address_id < accounts_.size() ? accounts_[address_id].aor.user : "ptapi";
  c.host = advertised_host(address_id, to);
  if (auto l = transport_ ? transport_->local(p) : std::nullopt) c.port = l->port;
  for (const auto& r : registrations_)  // what the registrar saw (RFC 3581), over the same transport
    if (r->account() == address_id && r->registrar_peer().protocol == p && r->public_address()) {
      c.host = r->public_address()->first;
      if (p == transport_protocol::udp) c.port = r->public_address()->second;
    }
  if (p == transport_protocol::tcp) c.params.push_back({"transport", "tcp"});
  if (p == transport_protocol::tls) c.scheme = "sips";  // reached over TLS only (RFC 3261 §8.1.1.8, RFC 5630 §3.1.3)
  return c;
}

inline void sip_tsp::add_common(message& m, transport_protocol p, std::size_t address_id, const peer* to) const {
  if (m.method != "ACK" && m.method != "CANCEL" && m.method != "BYE" && !m.header("Contact"))
    m.add("Contact", "<" + contact_uri(p, address_id, to).to_string() + ">");
  if (!cfg_.user_agent.empty()) m.add(m.is_request() ? "User-Agent" : "Server", cfg_.user_agent);
}

inline std::string sip_tsp::advertised_sdp(std::string sdp, std::size_t address_id, const peer& to) const {
  return detail::advertise_sdp_address(std::move(sdp), advertised_host(address_id, &to), !cfg_.public_address.empty());
}

inline void sip_tsp::hook_wire() {
  if (!cfg_.trace) return;
  layer_->on_send = [this](const message& m, const peer&) { cfg_.trace(m, true); };
  auto deliver = std::move(transport_->on_message);
  transport_->on_message = [this, deliver = std::move(deliver)](message&& m, const peer& from) {
    if (m.is_request()) cfg_.trace(m, false);
    if (deliver) deliver(std::move(m), from);
  };
}

inline void sip_tsp::respond(server_transaction& tx, int status, const std::string& to_tag, std::string body,
                             std::string_view content_type) {
  auto r = response_for(tx, status, to_tag, std::move(body), content_type);
  add_session_timer_response(tx, r);  // a 2xx to an INVITE states the session interval (RFC 4028 §9)
  send_response(tx, std::move(r));
}

inline message sip_tsp::response_for(const server_transaction& tx, int status, const std::string& to_tag, std::string body,
                                     std::string_view content_type) const {
  auto r = make_response(tx.request(), status, to_tag);
  if (status == 405 || (status >= 200 && status < 300 && tx.request().method != "BYE")) r.add("Allow", std::string(allow));
  if (status == 415) r.add("Accept", "application/sdp");
  if (tx.request().method == "INVITE" && status > 100 && status < 300) {
    // §12.1.1: responses that establish the dialog carry the request's Record-Route values, in order, so
    // the caller's ACK and later requests go through the proxies that asked to stay on the path.
    for (auto rr : tx.request().headers_named("Record-Route")) r.add("Record-Route", std::string(rr));
    add_common(r, tx.source().protocol, 0, &tx.source());
  } else if (tx.request().method == "UPDATE" && status >= 200 && status < 300) {
    add_common(r, tx.source().protocol, 0, &tx.source());  // RFC 3311 §5.2: a 2xx to UPDATE carries Contact (target refresh)
  } else if (!cfg_.user_agent.empty()) {
    r.add("Server", cfg_.user_agent);
  }
  if (!body.empty()) {
    r.add("Content-Type", std::string(content_type));
    r.body = std::move(body);
  }
  return r;
}

inline void sip_tsp::send_response(server_transaction& tx, message r) {
  note_sent(tx, r);
  trace(r, true);
  tx.respond(std::move(r));
}

inline void sip_tsp::send_request(const session_ptr& s, message m, transaction_layer::response_handler h) {
  trace(m, true);
  layer_->send_request(std::move(m), s->remote, [this, h = std::move(h)](const message* r, std::error_code ec) {
    if (r) trace(*r, false);
    h(r, ec);
  });
}

inline void sip_tsp::send_in_dialog(detail::session& s, std::string method) {
  if (!s.dialog) return;
  auto m = s.dialog->make_request(std::move(method));
  add_common(m, s.remote.protocol, s.address_id, &s.remote);
  trace(m, true);
  layer_->send_request(std::move(m), s.remote, [this](const message* r, std::error_code) {
    if (r) trace(*r, false);
  });
}

inline void sip_tsp::end(detail::session& s, line_disconnect_mode mode) {
  if (s.phase == detail::session_phase::ended) return;
  s.phase = detail::session_phase::ended;
  report_to_referrer(s, mode);  // a call placed for a REFER: its NOTIFY says how it ended
  linger(s);
  if (!s.call) return;
  if (s.media_started) send_msp(s.call, mspi::channel_message_type::stop_media);
  s.media_started = false;
  if (s.answer_request) sink().completion(std::exchange(s.answer_request, 0), mspi::tapi_errc::invalid_call_state);
  if (s.reinvite_request) sink().completion(std::exchange(s.reinvite_request, 0), mspi::tapi_errc::dropped);
  if (s.transfer_request) sink().completion(std::exchange(s.transfer_request, 0), mspi::tapi_errc::dropped);
  sink().call_state(s.call, line_call_state::disconnected, static_cast<std::uint32_t>(mode));
}

inline void sip_tsp::forget_call_id(const detail::session& s, call_id call) {
  auto it = by_call_id_.find(call_id_of(s));
  if (it != by_call_id_.end() && it->second == call) by_call_id_.erase(it);
}

inline void sip_tsp::linger(detail::session& s) {
  if (!s.call || !find(s.call)) return;
  arm(s, 64 * cfg_.timers.t1, [this](detail::session& p) { forget_call_id(p, p.call); });
}

inline void sip_tsp::start_media(detail::session& s) {
  if (s.media_started || !s.call) return;
  s.media_started = true;
  send_msp(s.call, mspi::channel_message_type::start_media);
}

}  // namespace tspi::sip
