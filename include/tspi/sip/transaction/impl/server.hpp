// ptapi - portable TAPI
// tspi/sip/transaction/impl/server.hpp: the server side of transaction_layer: the INVITE and non-INVITE
// server state machines (RFC 3261 §17.2, RFC 6026 §7.1), CANCEL matching (§9.2) and where responses go
// (§18.2.2).
#pragma once

#include <tspi/sip/transaction/layer.hpp>
#include <tspi/sip/detail/transaction_keys.hpp>
#include <tspi/sip/transaction/builders.hpp>

#include <algorithm>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tspi::sip {

inline void transaction_layer::handle_request(message&& m, const peer& from, bool truncated) {
  auto* top = detail::find_field(m, "Via");
  std::optional<via> v;
  if (top) v = parse_via(top->value);
  if (!v) {
    ++stats_.dropped;
    return;
  }
  // RFC 3261 §18.2.1, RFC 3581 §4.
  const auto rport = v->param("rport");
  const bool want_rport = rport && rport->empty();
  if (want_rport || !detail::same_address(v->host, from.address)) {
    v->set_param("received", from.address.to_string());
    if (want_rport) v->set_param("rport", std::to_string(from.port));
    top->value = v->to_string();
  }
  // §18.2.2 / RFC 3581: UDP with rport to the source address and port, else the source address and
  // the sent-by port; TCP on the request's connection, else a new one to source address : sent-by port.
  // (TLS: its default port 5061, RFC 3261 §18.2.2 and §26.2.)
  const std::uint16_t default_port = from.protocol == transport_protocol::tls ? 5061 : 5060;
  peer target{from.protocol, from.address, v->port ? v->port : default_port};
  if (from.protocol == transport_protocol::udp && want_rport) target.port = from.port;

  const bool is_ack = m.method == "ACK";
  std::string_view problem;
  std::optional<cseq> cs;
  if (!m.header("From")) problem = "Missing From";
  else if (!m.header("To")) problem = "Missing To";
  else if (!m.header("Call-ID")) problem = "Missing Call-ID";
  else if (!m.header("CSeq")) problem = "Missing CSeq";
  else if (!(cs = parse_cseq(*m.header("CSeq")))) problem = "Malformed CSeq";
  else if (cs->method != m.method) problem = "CSeq Method Mismatch";
  else if (truncated) problem = "Content-Length Exceeds Body";
  if (!problem.empty()) {
    if (is_ack) {
      ++stats_.dropped;
    } else {
      ++stats_.bad_requests;
      std::string reason = "Bad Request (";
      reason += problem;
      reason += ')';
      const auto bad = make_response(m, 400, {}, reason);
      sending(bad, target);
      send_response(from, target, bad.to_string());
    }
    return;
  }

  if (is_ack) {
    if (auto it = server_.find(detail::server_key("INVITE", *v, m, cs->number)); it != server_.end()) {
      auto t = it->second;
      server_ack(*t, m);
      return;
    }
    if (auto it = ack_index_.find(detail::dialog_ack_key(m, cs->number)); it != ack_index_.end()) {
      auto t = std::static_pointer_cast<server_transaction>(it->second->shared_from_this());
      server_ack(*t, m);
      return;
    }
    ++stats_.stray_acks;
    detail::invoke_copy(on_stray_ack, m, from);
    return;
  }

  auto key = detail::server_key(m.method, *v, m, cs->number);
  if (auto it = server_.find(key); it != server_.end()) {
    auto t = it->second;
    server_retransmission(*t);
    return;
  }

  auto t = std::make_shared<server_transaction>(server_transaction::private_tag{});
  t->key_ = std::move(key);
  t->invite_ = m.method == "INVITE";
  t->reliable_ = is_reliable(from.protocol);
  t->state_ = t->invite_ ? transaction_state::proceeding : transaction_state::trying;
  t->source_ = from;
  t->target_ = target;
  t->layer_ = this;
  t->reg_ = acquire_slot(t.get());
  t->request_ = std::move(m);
  server_.emplace(t->key_, t);
  ++stats_.server_transactions;

  if (t->request_.method == "CANCEL") {
    handle_cancel(t, *v, cs->number);
    return;
  }
  if (t->invite_) {  // §17.2.1: 100 Trying at once
    auto trying = make_response(t->request_, 100);
    if (auto ts = t->request_.header("Timestamp")) trying.add("Timestamp", std::string(*ts));  // §8.2.6.1
    respond(*t, std::move(trying));
  }
  if (!on_request) {
    respond(*t, make_response(t->request_, 503, random_token(10)));
    return;
  }
  const std::weak_ptr<char> w = alive_;
  int refusal = 0;
  try {
    detail::invoke_copy(on_request, t, t->request_);
  } catch (const std::bad_alloc&) {
    refusal = 503;
  } catch (const std::system_error&) {
    refusal = 503;
  } catch (...) {
    refusal = 500;
  }
  if (refusal == 0 || w.expired()) return;
  ++stats_.handler_errors;
  if (closed_ || t->layer_ != this || t->status_ >= 200) return;  // answered (or ended) before it threw
  auto r = make_response(t->request_, refusal, t->to_tag_.empty() ? random_token(10) : t->to_tag_);
  if (refusal == 503) r.add("Retry-After", "5");
  guarded([&] { respond(*t, std::move(r)); });
}

inline void transaction_layer::handle_cancel(const std::shared_ptr<server_transaction>& c, const via& v, std::uint32_t number) {
  std::shared_ptr<server_transaction> inv;
  if (auto it = server_.find(detail::server_key("INVITE", v, c->request_, number)); it != server_.end()) inv = it->second;
  if (!inv) {
    ++stats_.unmatched_cancels;
    respond(*c, make_response(c->request_, 481, random_token(10)));
    return;
  }
  respond(*c, make_response(c->request_, 200, inv->to_tag_));  // §9.2: the same To tag as the INVITE's responses
  if (inv->state_ != transaction_state::proceeding) return;   // a final response was sent: no effect
  if (inv->on_cancel) detail::invoke_copy(inv->on_cancel);
  else respond(*inv, make_response(inv->request_, 487, inv->to_tag_.empty() ? random_token(10) : inv->to_tag_));
}

inline void transaction_layer::server_retransmission(server_transaction& t) {
  ++stats_.retransmissions_absorbed;
  using st = transaction_state;
  const bool resend = t.state_ == st::proceeding || t.state_ == st::completed || (t.state_ == st::accepted && !t.acked_);
  if (resend && !t.last_response_.empty()) send_response(t.source_, t.target_, t.last_response_);
}

inline void transaction_layer::server_ack(server_transaction& t, const message& ack) {
  using st = transaction_state;
  if (t.state_ == st::completed && t.invite_) {
    t.state_ = st::confirmed;
    cancel_timer(t, 0);  // G
    detail::release(t.last_response_);
    if (t.reliable_) terminate(t);   // I = 0
    else schedule(t, 1, timers_.t4);  // I
    detail::invoke_copy(t.on_ack, ack);
  } else if (t.state_ == st::accepted && !t.acked_) {
    t.acked_ = true;
    cancel_timer(t, 0);  // 2xx retransmissions
    detail::release(t.last_response_);
    detail::invoke_copy(t.on_ack, ack);  // stays Accepted until timer L absorbs INVITE retransmissions
  } else {
    ++stats_.retransmissions_absorbed;
  }
}

inline void transaction_layer::send_response(const peer& source, const peer& target, std::string_view text) {
  if (is_reliable(source.protocol) && transport_.has_connection(source)) transport_.send_text(source, text);
  else transport_.send_text(target, text);
}

inline void transaction_layer::respond(server_transaction& t, message r) {
  if (r.status < 100 || r.status > 699) throw std::invalid_argument("tspi::sip::server_transaction::respond: not a response");
  using st = transaction_state;
  const int s = r.status;
  const bool open = t.state_ == st::trying || t.state_ == st::proceeding;
  const bool another_2xx = t.state_ == st::accepted && s >= 200 && s < 300;
  if (t.layer_ != this || (!open && !another_2xx)) {
    ++stats_.ignored_responses;
    return;
  }
  t.status_ = s;
  if (t.invite_ && t.to_tag_.empty() && s > 100)
    if (auto to = r.header("To")) t.to_tag_ = detail::tag_of(*to);
  sending(r, is_reliable(t.source_.protocol) && transport_.has_connection(t.source_) ? t.source_ : t.target_);
  auto text = r.to_string();
  send_response(t.source_, t.target_, text);
  if (s < 200) {
    t.state_ = st::proceeding;
    t.last_response_ = std::move(text);
    return;
  }
  if (t.invite_ && s < 300) {  // RFC 6026 §7.1 Accepted; 2xx retransmission per RFC 3261 §13.3.1.4
    if (t.acked_) return;
    t.last_response_ = std::move(text);
    t.interval_ = timers_.t1;
    schedule(t, 0, timers_.t1);
    if (t.state_ != st::accepted) {
      t.state_ = st::accepted;
      schedule(t, 1, 64 * timers_.t1);  // L
      const auto cs = parse_cseq(t.request_.header("CSeq").value_or(""));
      t.ack_key_ = detail::dialog_ack_key(t.request_, cs ? cs->number : 0);
      ack_index_[t.ack_key_] = &t;
      queue_trim(t);
    }
    return;
  }
  t.state_ = st::completed;
  queue_trim(t);
  if (t.invite_) {
    t.last_response_ = detail::fitted(std::move(text));
    if (!t.reliable_) {
      t.interval_ = timers_.t1;
      schedule(t, 0, timers_.t1);  // G
    }
    schedule(t, 1, 64 * timers_.t1);  // H
  } else if (t.reliable_) {
    terminate(t);  // J = 0
  } else {
    t.last_response_ = detail::fitted(std::move(text));
    schedule(t, 1, 64 * timers_.t1);  // J
  }
}

inline void transaction_layer::server_timer(server_transaction& t, int slot) {
  using st = transaction_state;
  if (slot == 0) {  // G, or 2xx retransmission
    if (!(t.state_ == st::completed || (t.state_ == st::accepted && !t.acked_)) || t.last_response_.empty()) return;
    send_response(t.source_, t.target_, t.last_response_);
    ++stats_.retransmissions_sent;
    t.interval_ = std::min(2 * t.interval_, timers_.t2);
    schedule(t, 0, t.interval_);
    return;
  }
  const bool ack_missing = (t.state_ == st::completed && t.invite_) || (t.state_ == st::accepted && !t.acked_);
  terminate(t);  // H, L, I, J
  if (ack_missing) detail::invoke_copy(t.on_ack_timeout);
}

inline void transaction_layer::queue_trim(server_transaction& t) {
  trims_.push_back(std::static_pointer_cast<server_transaction>(t.shared_from_this()));
}

inline void transaction_layer::flush_trims() {
  for (auto& w : trims_) {
    auto t = w.lock();
    if (!t) continue;
    auto& r = t->request_;
    detail::release(r.body);
    std::erase_if(r.headers, [](const header_field& h) {
      return !(detail::iequals(h.name, "Call-ID") || detail::iequals(h.name, "CSeq"));
    });
    r.headers.shrink_to_fit();
  }
  trims_.clear();
}

inline void server_transaction::respond(message response) {
  if (response.status < 100 || response.status > 699)
    throw std::invalid_argument("tspi::sip::server_transaction::respond: not a response");
  if (layer_) layer_->respond(*this, std::move(response));
}

}  // namespace tspi::sip
