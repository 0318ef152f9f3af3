// ptapi - portable TAPI
// tspi/sip/transaction/impl/timers.hpp: the timers of transaction_layer: one steady_timer driving
// per-duration deadline queues for every transaction's retransmission and timeout slots (RFC 3261 §17 timers
// A-M).
#pragma once

#include <tspi/sip/transaction/layer.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace tspi::sip {

inline void transaction_layer::schedule(detail::transaction_base& t, int slot, clock::duration d) {
  if (d < std::chrono::milliseconds(1)) d = std::chrono::milliseconds(1);
  const auto token = ++next_token_;
  t.timer_token_[slot] = token;
  const auto now = clock::now();
  queues_.push(d, now, {{}, token, t.reg_, static_cast<std::uint8_t>(slot)});
  if (now + d < armed_at_) arm(now + d);
}

inline void transaction_layer::cancel_timer(detail::transaction_base& t, int slot) noexcept { t.timer_token_[slot] = 0; }

inline void transaction_layer::arm(clock::time_point at) {
  armed_at_ = at;
  const auto gen = ++arm_gen_;
  timer_.expires_at(at);
  timer_.async_wait([this, w = std::weak_ptr<char>(alive_), gen](const boost::system::error_code&) {
    if (w.expired() || gen != arm_gen_ || closed_) return;
    fire_timers();
  });
}

inline void transaction_layer::fire_timers() {
  armed_at_ = clock::time_point::max();
  ++arm_gen_;
  const std::weak_ptr<char> w = alive_;
  flush_trims();
  const auto now = clock::now();
  detail::timer_queues::entry e;
  while (queues_.pop_due(now, e)) {
    auto* b = e.owner < registry_.size() ? registry_[e.owner] : nullptr;
    if (!b || b->timer_token_[e.slot] != e.token) continue;
    b->timer_token_[e.slot] = 0;
    auto hold = b->shared_from_this();
    guarded([&] {
      if (b->server_) server_timer(static_cast<server_transaction&>(*b), e.slot);
      else client_timer(static_cast<client_transaction&>(*b), e.slot);
    });
    if (w.expired() || closed_) return;
  }
  if (const auto next = queues_.earliest(); next < armed_at_) arm(next);
}

inline std::uint32_t transaction_layer::acquire_slot(detail::transaction_base* t) {
  if (!free_slots_.empty()) {
    const auto i = free_slots_.back();
    free_slots_.pop_back();
    registry_[i] = t;
    return i;
  }
  registry_.push_back(t);
  return static_cast<std::uint32_t>(registry_.size() - 1);
}

inline void transaction_layer::terminate(detail::transaction_base& t) {
  if (t.state_ == transaction_state::terminated) return;
  t.state_ = transaction_state::terminated;
  cancel_timer(t, 0);
  cancel_timer(t, 1);
  if (t.layer_ == this) {
    registry_[t.reg_] = nullptr;
    free_slots_.push_back(t.reg_);
    if (t.server_) {
      auto& s = static_cast<server_transaction&>(t);
      if (!s.ack_key_.empty())
        if (auto it = ack_index_.find(s.ack_key_); it != ack_index_.end() && it->second == &s) ack_index_.erase(it);
      detail::release(s.last_response_);
      if (auto it = server_.find(t.key_); it != server_.end() && it->second.get() == &s) server_.erase(it);
    } else {
      auto& c = static_cast<client_transaction&>(t);
      detail::release(c.text_);
      if (auto it = client_.find(t.key_); it != client_.end() && it->second.get() == &c) client_.erase(it);
    }
  }
  t.layer_ = nullptr;
}

}  // namespace tspi::sip
