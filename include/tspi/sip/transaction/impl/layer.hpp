// ptapi - portable TAPI
// tspi/sip/transaction/impl/layer.hpp: transaction_layer members that are neither client nor server side: Via
// and Max-Forwards of sent requests, the ACK of a 2xx, close, and the transport's callbacks.
#pragma once

#include <tspi/sip/transaction/layer.hpp>
#include <tspi/sip/detail/transaction_keys.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace tspi::sip {

inline void transaction_layer::send_ack(message ack, const peer& to) {
  ensure_open();
  if (ack.method != "ACK") throw std::invalid_argument("tspi::sip::transaction_layer::send_ack: not an ACK");
  prepare(ack, to);
  sending(ack, to);
  transport_.send_text(to, ack.to_string());
}

inline void transaction_layer::close() {
  if (closed_) return;
  closed_ = true;
  ++arm_gen_;
  timer_.cancel();
  queues_.clear();
  for (auto& [k, t] : client_) {
    t->layer_ = nullptr;
    t->state_ = transaction_state::terminated;
    t->held_cancel_.reset();
  }
  for (auto& [k, t] : server_) {
    t->layer_ = nullptr;
    t->state_ = transaction_state::terminated;
  }
  client_.clear();
  server_.clear();
  ack_index_.clear();
  registry_.clear();
  free_slots_.clear();
  trims_.clear();
  transport_.on_message = nullptr;
  transport_.on_truncated_request = nullptr;
  transport_.on_error = nullptr;
  on_send = nullptr;
}

inline std::string transaction_layer::prepare(message& m, const peer& to) {
  std::string branch;
  if (auto* f = detail::find_field(m, "Via")) {
    auto v = parse_via(f->value);
    if (!v) throw std::invalid_argument("tspi::sip::transaction_layer: unparseable top Via");
    branch = v->branch();
    if (branch.empty()) {
      branch = make_branch();
      v->set_param("branch", branch);
      f->value = v->to_string();
    }
  } else {
    auto local = transport_.local_for(to);
    // Not listening on that protocol (e.g. TLS as a client only): another listening socket's address;
    // the response comes back over the request's connection anyway (§18.2.2).
    for (const auto other : {transport_protocol::tcp, transport_protocol::udp}) {
      if (local) break;
      if (other == to.protocol) continue;
      local = transport_.local(other);
      if (local) local->protocol = to.protocol;
    }
    if (!local) throw std::logic_error("tspi::sip::transaction_layer: the transport is not listening");
    branch = make_branch();
    std::string v = "SIP/2.0/";
    v += via_token(to.protocol);
    v += ' ';
    const auto host = local->address.to_string();
    if (local->address.is_v6()) {
      v += '[';
      v += host;
      v += ']';
    } else {
      v += host;
    }
    v += ':';
    v += std::to_string(local->port);
    v += ";branch=";
    v += branch;
    v += ";rport";
    m.prepend("Via", std::move(v));
  }
  if (!m.header("Max-Forwards")) m.add("Max-Forwards", "70");
  return branch;
}

inline void transaction_layer::on_transport_message(message&& m, const peer& from) {
  if (closed_) return;
  if (!trims_.empty()) flush_trims();
  guarded([&] {
    if (m.is_request()) handle_request(std::move(m), from);
    else handle_response(std::move(m), from);
  });
}

inline void transaction_layer::on_transport_error(const peer& to, std::error_code ec) {
  if (closed_) return;
  using st = transaction_state;
  std::vector<std::shared_ptr<detail::transaction_base>> hit;
  for (const auto& [k, t] : client_) {
    const bool waiting = t->invite_ ? t->state_ == st::calling : (t->state_ == st::trying || t->state_ == st::proceeding);
    if (waiting && t->to_ == to) hit.push_back(t);
  }
  for (const auto& [k, t] : server_)
    if (t->status_ != 0 && (t->source_ == to || t->target_ == to)) hit.push_back(t);
  const std::weak_ptr<char> w = alive_;
  for (auto& b : hit) {
    if (b->state_ == st::terminated) continue;
    ++stats_.transport_errors;
    terminate(*b);
    guarded([&] {
      if (b->server_) {
        detail::invoke_copy(static_cast<server_transaction&>(*b).on_transport_error, ec);
      } else {
        auto& c = static_cast<client_transaction&>(*b);
        drop_held_cancel(c);
        if (c.on_response_) c.on_response_(nullptr, ec);
      }
    });
    if (w.expired() || closed_) return;
  }
}

}  // namespace tspi::sip
