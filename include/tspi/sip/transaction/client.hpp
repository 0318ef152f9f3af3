// ptapi - portable TAPI
// tspi/sip/transaction/client.hpp: a client transaction (RFC 3261 §17.1), as the transaction layer hands it
// out.
#pragma once

#include <tspi/sip/detail/transaction_base.hpp>
#include <tspi/sip/transport/peer.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace tspi::sip {

/// A client transaction (RFC 3261 §17.1.1 INVITE with RFC 6026's Accepted state, §17.1.2 non-INVITE),
/// made by `transaction_layer::send_request` or `cancel`; its responses go to the handler given there.
/// The layer owns it while it lives; the TU's shared_ptr only observes (and is what `cancel` takes).
/// Thread safety: the layer's executor only.
class client_transaction final : public detail::transaction_base {
  struct private_tag {};

 public:
  /// Internal: made by transaction_layer only.
  explicit client_transaction(private_tag) noexcept : transaction_base(false) {}

  /// Where the request went.
  [[nodiscard]] const peer& destination() const noexcept { return to_; }
  /// The request method ("INVITE", "BYE", "CANCEL"...).
  [[nodiscard]] std::string_view method() const noexcept { return std::string_view(key_).substr(0, method_len_); }
  /// The branch of the request's top Via (the transaction id, RFC 3261 §17.1.3).
  [[nodiscard]] std::string_view branch() const noexcept { return std::string_view(key_).substr(method_len_ + 1); }
  /// Status of the last response received, 0 before the first.
  [[nodiscard]] int last_status() const noexcept { return status_; }

 private:
  friend class transaction_layer;
  peer to_;
  std::string text_;  // the request while it may be retransmitted or CANCELed; then the ACK of a non-2xx (UDP)
  detail::response_handler on_response_;
  std::weak_ptr<client_transaction> cancel_;         // INVITE: its CANCEL, once cancel() was called
  std::shared_ptr<client_transaction> held_cancel_;  // INVITE: a CANCEL waiting for a provisional response
  std::size_t method_len_ = 0;
  int status_ = 0;
};

}  // namespace tspi::sip
