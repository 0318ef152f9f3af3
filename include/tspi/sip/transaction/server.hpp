// ptapi - portable TAPI
// tspi/sip/transaction/server.hpp: a server transaction (RFC 3261 §17.2), as the transaction layer hands it
// to the TU.
#pragma once

#include <tspi/sip/detail/transaction_base.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transport/peer.hpp>

#include <functional>
#include <string>
#include <system_error>

namespace tspi::sip {

/// A server transaction (RFC 3261 §17.2.1 INVITE with RFC 6026's Accepted state, §17.2.2 non-INVITE),
/// handed to the TU by `transaction_layer::on_request`. The TU answers with `respond`; the layer absorbs
/// request retransmissions (resending the last response), retransmits a non-2xx final to INVITE on UDP
/// (timer G) until the ACK, retransmits a 2xx to INVITE (RFC 3261 §13.3.1.4, on every transport) until
/// the ACK or 64·T1, and answers CANCEL. Thread safety: the layer's executor only.
class server_transaction final : public detail::transaction_base {
  struct private_tag {};

 public:
  /// Internal: made by transaction_layer only.
  explicit server_transaction(private_tag) noexcept : transaction_base(true) {}

  /// The request, with `received`/`rport` filled into its top Via (RFC 3261 §18.2.1, RFC 3581). Complete
  /// until the final response has been sent; shortly after that (at the layer's next event, never during
  /// a callback) the body and every header field but Call-ID and CSeq are released (method and
  /// Request-URI stay), to keep a transaction that only absorbs retransmissions small: take what the
  /// dialog needs when responding.
  [[nodiscard]] const message& request() const noexcept { return request_; }
  /// Where the request came from (the source address and port, and the transport).
  [[nodiscard]] const peer& source() const noexcept { return source_; }
  /// Status of the last response sent (the layer's 100 Trying included), 0 before the first.
  [[nodiscard]] int status() const noexcept { return status_; }

  /// Sends a response built by the TU (see make_response; it must keep the request's Via, From, Call-ID,
  /// CSeq) to where RFC 3261 §18.2.2 / RFC 3581 say: over UDP to the request's source address and, with
  /// `rport`, source port (else the Via sent-by port); over TCP on the connection the request came on,
  /// or a new one to the source address and sent-by port. Provisional responses may be sent any number
  /// of times before the final one. A 2xx to INVITE is retransmitted with T1, 2·T1... T2 until the ACK
  /// arrives (`on_ack`) or 64·T1 passes (`on_ack_timeout`) (§13.3.1.4; RFC 6026 §7.1 Accepted); another
  /// 2xx in that state is sent and retransmitted instead. Any other response after the final one is
  /// ignored (counted in `transaction_stats::ignored_responses`), as is every call after the transaction
  /// ended or the layer closed. Throws std::invalid_argument when `response` is not a response (status
  /// outside 100-699); else only std::bad_alloc.
  void respond(message response);

  /// A CANCEL matching this INVITE arrived while no final response had been sent (RFC 3261 §9.2). The
  /// layer has already answered the CANCEL with 200; the TU should answer the INVITE with 487. When
  /// empty, the layer answers 487 itself.
  std::function<void()> on_cancel;
  /// The ACK arrived: for a 2xx (a request of its own, matched by Call-ID, CSeq number and From tag) or
  /// for a non-2xx final (same branch). Called once; retransmitted ACKs are absorbed.
  std::function<void(const message& ack)> on_ack;
  /// No ACK arrived within 64·T1 of the final response: for a 2xx, the TU should end the dialog with BYE
  /// (RFC 3261 §13.3.1.4); for a non-2xx, timer H fired (§17.2.1). The transaction is terminated.
  std::function<void()> on_ack_timeout;
  /// A response could not be sent (RFC 3261 §17.2.4, the transport's error for the response's destination);
  /// the transaction is terminated. Not reported for a final response that already ended the transaction
  /// (a non-INVITE final over TCP, timer J = 0).
  std::function<void(std::error_code)> on_transport_error;

 private:
  friend class transaction_layer;
  message request_;
  peer source_;
  peer target_;                 // UDP: where responses go; TCP: where to connect when the connection is gone
  std::string last_response_;   // text resent on request retransmissions and timers G / 2xx
  std::string ack_key_;         // INVITE in Accepted: key in the layer's 2xx-ACK index
  std::string to_tag_;          // INVITE: the To tag of the TU's responses (for the 200 to CANCEL, §9.2)
  int status_ = 0;
  bool acked_ = false;
};

}  // namespace tspi::sip
