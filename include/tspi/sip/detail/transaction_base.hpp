// ptapi - portable TAPI
// tspi/sip/detail/transaction_base.hpp: what client and server transactions share (state, key, timer slots),
// and the helpers of the transaction layer that keep them small.
#pragma once

#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction/state.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace tspi::sip {

class transaction_layer;

namespace detail {

/// Frees a string's buffer (assigning an empty string would keep it: libstdc++ reuses the capacity).
inline void release(std::string& s) noexcept { std::string().swap(s); }

/// `s` moved into a buffer of its own size (message::to_string reserves generously): for text a
/// transaction keeps for a while.
inline std::string fitted(std::string&& s) {
  s.shrink_to_fit();
  return std::move(s);
}

/// What a client transaction's user gets: a response, or nullptr and the error that ended it.
using response_handler = std::function<void(const message* response, std::error_code ec)>;

/// Calls a TU callback through a copy, so that it may reassign or clear itself while it runs.
template <class F, class... A>
void invoke_copy(const F& f, A&&... args) {
  if (!f) return;
  const F g = f;
  g(std::forward<A>(args)...);
}

/// What client and server transactions share: state, key, timers. Internal to the layer.
class transaction_base : public std::enable_shared_from_this<transaction_base> {
 public:
  virtual ~transaction_base() = default;
  transaction_base(const transaction_base&) = delete;
  transaction_base& operator=(const transaction_base&) = delete;

  /// The current state. Thread safety: the layer's executor only (as everything here).
  [[nodiscard]] transaction_state state() const noexcept { return state_; }
  /// True for an INVITE transaction (RFC 3261 §17.1.1 / §17.2.1), false for non-INVITE.
  [[nodiscard]] bool is_invite() const noexcept { return invite_; }
  /// True over TCP (no request retransmissions; timers D, I, J, K are zero).
  [[nodiscard]] bool reliable() const noexcept { return reliable_; }

 protected:
  friend class sip::transaction_layer;
  explicit transaction_base(bool server) noexcept : server_(server) {}

  transaction_layer* layer_ = nullptr;     // null once terminated or the layer closed
  std::string key_;                        // table key (see the layer)
  std::uint64_t timer_token_[2] = {0, 0};  // live timer per slot: 0 retransmission, 1 timeout
  std::chrono::milliseconds interval_{0};  // current retransmission interval
  std::uint32_t reg_ = 0;                  // index in the layer's timer registry
  transaction_state state_ = transaction_state::trying;
  bool server_;
  bool invite_ = false;
  bool reliable_ = false;
};

}  // namespace detail

}  // namespace tspi::sip
