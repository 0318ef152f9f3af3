// ptapi - portable TAPI
// tspi/sip/transaction/impl/client.hpp: the client side of transaction_layer: the INVITE and non-INVITE
// client state machines (RFC 3261 §17.1, RFC 6026 §8.4) and CANCEL (§9.1).
#pragma once

#include <tspi/sip/transaction/layer.hpp>
#include <tspi/sip/transaction/builders.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace tspi::sip {

inline std::shared_ptr<client_transaction> transaction_layer::send_request(message request, const peer& to, response_handler on_response) {
  ensure_open();
  if (!request.is_request() || request.method.empty() || request.method == "ACK")
    throw std::invalid_argument("tspi::sip::transaction_layer::send_request: not a request (or an ACK)");
  const auto cs = parse_cseq(request.header("CSeq").value_or(""));
  if (!cs || cs->method != request.method)
    throw std::invalid_argument("tspi::sip::transaction_layer::send_request: CSeq missing or of another method");
  auto branch = prepare(request, to);
  auto t = std::make_shared<client_transaction>(client_transaction::private_tag{});
  t->key_ = request.method + ' ' + branch;
  if (client_.find(t->key_) != client_.end())
    throw std::invalid_argument("tspi::sip::transaction_layer::send_request: branch of a live transaction");
  t->method_len_ = request.method.size();
  t->invite_ = request.method == "INVITE";
  t->to_ = to;
  t->reliable_ = is_reliable(to.protocol);
  t->state_ = t->invite_ ? transaction_state::calling : transaction_state::trying;
  t->on_response_ = std::move(on_response);
  t->text_ = request.to_string();
  sending(request, to);
  start_client(t);
  return t;
}

inline std::shared_ptr<client_transaction> transaction_layer::cancel(const std::shared_ptr<client_transaction>& invite, response_handler on_response) {
  ensure_open();
  if (!invite || !invite->invite_)
    throw std::invalid_argument("tspi::sip::transaction_layer::cancel: not an INVITE client transaction");
  auto c = std::make_shared<client_transaction>(client_transaction::private_tag{});
  c->to_ = invite->to_;
  c->reliable_ = invite->reliable_;
  c->on_response_ = std::move(on_response);
  c->key_ = "CANCEL " + std::string(invite->branch());
  c->method_len_ = 6;
  const bool pending = invite->layer_ == this &&
                       (invite->state_ == transaction_state::calling || invite->state_ == transaction_state::proceeding);
  const auto previous = invite->cancel_.lock();
  const bool in_progress = previous && previous->state_ != transaction_state::terminated;
  std::optional<message> inv;
  if (pending && !in_progress) inv = parse_message(invite->text_, detail::own_message_limits);
  if (!inv) {
    c->state_ = transaction_state::terminated;
    post_failure(c, std::make_error_code(pending && in_progress ? std::errc::operation_in_progress
                                                                : std::errc::operation_canceled));
    return c;
  }
  c->state_ = transaction_state::trying;
  const auto cancel_request = detail::make_cancel(*inv);
  sending(cancel_request, c->to_);
  c->text_ = cancel_request.to_string();
  invite->cancel_ = c;
  if (invite->state_ == transaction_state::proceeding) {
    start_client(c);
    schedule(*invite, 1, 64 * timers_.t1);
  } else {
    invite->held_cancel_ = c;
  }
  return c;
}

inline void transaction_layer::start_client(const std::shared_ptr<client_transaction>& t) {
  if (!client_.emplace(t->key_, t).second)
    throw std::invalid_argument("tspi::sip::transaction_layer: branch of a live transaction");
  t->layer_ = this;
  t->reg_ = acquire_slot(t.get());
  ++stats_.client_transactions;
  transport_.send_text(t->to_, t->text_);
  if (!t->reliable_) {
    t->interval_ = timers_.t1;
    schedule(*t, 0, timers_.t1);  // A or E
  } else if (!t->invite_) {
    detail::release(t->text_);  // never retransmitted, never CANCELed
  }
  schedule(*t, 1, 64 * timers_.t1);  // B or F
}

inline void transaction_layer::deliver(client_transaction& t, const message* r, std::error_code ec) {
  if (t.on_response_) t.on_response_(r, ec);
}

inline void transaction_layer::post_failure(std::shared_ptr<client_transaction> t, std::error_code ec) {
  boost::asio::post(transport_.get_executor(), [this, w = std::weak_ptr<char>(alive_), t = std::move(t), ec] {
    if (w.expired() || closed_) return;
    guarded([&] {
      if (t->on_response_) t->on_response_(nullptr, ec);
    });
  });
}

inline void transaction_layer::drop_held_cancel(client_transaction& invite) {
  if (auto c = std::move(invite.held_cancel_)) {
    c->state_ = transaction_state::terminated;
    post_failure(std::move(c), std::make_error_code(std::errc::operation_canceled));
  }
}

inline void transaction_layer::handle_response(message&& m, const peer& from) {
  const auto vtext = m.header("Via");
  const auto ctext = m.header("CSeq");
  std::optional<via> v;
  std::optional<cseq> cs;
  if (vtext) v = parse_via(*vtext);
  if (ctext) cs = parse_cseq(*ctext);
  if (!v || !cs) {
    ++stats_.dropped;
    return;
  }
  std::string key = std::move(cs->method);
  key += ' ';
  key += v->param("branch").value_or("");
  const auto it = client_.find(key);
  if (it == client_.end()) {
    ++stats_.stray_responses;
    detail::invoke_copy(on_stray_response, m, from);
    return;
  }
  auto t = it->second;
  client_receive(*t, m);
}

inline void transaction_layer::client_receive(client_transaction& t, const message& r) {
  const int s = r.status;
  using st = transaction_state;
  if (t.invite_) {
    if (t.state_ == st::calling || t.state_ == st::proceeding) {
      t.status_ = s;
      if (s < 200) {
        if (t.state_ == st::calling) {
          t.state_ = st::proceeding;
          cancel_timer(t, 0);  // A
          cancel_timer(t, 1);  // B
          if (auto c = std::move(t.held_cancel_)) {
            if (client_.find(c->key_) == client_.end()) {
              start_client(c);
              schedule(t, 1, 64 * timers_.t1);  // §9.1: give up 64·T1 after the CANCEL
            } else {  // the TU sent a CANCEL of its own with this branch
              c->state_ = transaction_state::terminated;
              post_failure(std::move(c), std::make_error_code(std::errc::operation_in_progress));
            }
          }
        }
        deliver(t, &r, {});
      } else if (s < 300) {
        t.state_ = st::accepted;  // RFC 6026 §8.4
        cancel_timer(t, 0);
        detail::release(t.text_);
        drop_held_cancel(t);
        schedule(t, 1, 64 * timers_.t1);  // M
        deliver(t, &r, {});
      } else {
        t.state_ = st::completed;
        cancel_timer(t, 0);
        cancel_timer(t, 1);
        drop_held_cancel(t);
        auto inv = parse_message(t.text_, detail::own_message_limits);
        std::string ack;
        if (inv) {
          const auto a = detail::make_non2xx_ack(*inv, r);
          sending(a, t.to_);
          ack = a.to_string();
        }
        if (!ack.empty()) transport_.send_text(t.to_, ack);
        if (t.reliable_) {
          terminate(t);  // timer D = 0
        } else {
          t.text_ = detail::fitted(std::move(ack));
          schedule(t, 1, 64 * timers_.t1);  // D
        }
        deliver(t, &r, {});
      }
    } else if (t.state_ == st::accepted) {
      if (s >= 200 && s < 300) deliver(t, &r, {});
    } else if (t.state_ == st::completed) {
      if (s >= 300) {
        ++stats_.retransmissions_absorbed;
        if (!t.text_.empty()) transport_.send_text(t.to_, t.text_);  // re-ACK
      }
    }
    return;
  }
  if (t.state_ == st::trying || t.state_ == st::proceeding) {
    t.status_ = s;
    if (s < 200) {
      t.state_ = st::proceeding;
      deliver(t, &r, {});
    } else {
      t.state_ = st::completed;
      cancel_timer(t, 0);
      cancel_timer(t, 1);
      detail::release(t.text_);
      if (t.reliable_) terminate(t);  // timer K = 0
      else schedule(t, 1, timers_.t4);  // K
      deliver(t, &r, {});
    }
  } else {
    ++stats_.retransmissions_absorbed;
  }
}

inline void transaction_layer::client_timer(client_transaction& t, int slot) {
  using st = transaction_state;
  if (slot == 0) {  // A or E: retransmit
    const bool active = t.invite_ ? t.state_ == st::calling : (t.state_ == st::trying || t.state_ == st::proceeding);
    if (!active || t.text_.empty()) return;
    transport_.send_text(t.to_, t.text_);
    ++stats_.retransmissions_sent;
    if (t.invite_) t.interval_ *= 2;
    else t.interval_ = t.state_ == st::proceeding ? timers_.t2 : std::min(2 * t.interval_, timers_.t2);
    schedule(t, 0, t.interval_);
    return;
  }
  if (t.state_ == st::calling || t.state_ == st::trying || t.state_ == st::proceeding) {  // B, F, or §9.1
    ++stats_.timeouts;
    drop_held_cancel(t);
    terminate(t);
    deliver(t, nullptr, std::make_error_code(std::errc::timed_out));
  } else {  // D, K, M
    terminate(t);
  }
}

}  // namespace tspi::sip
