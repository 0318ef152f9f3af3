// ptapi - portable TAPI
// tspi/sip/transaction/state.hpp: transaction states (RFC 3261 §17, RFC 6026) and the transaction layer's
// counters.
#pragma once

#include <cstdint>
#include <string_view>

namespace tspi::sip {

/// Transaction states (RFC 3261 figures 5-8; `accepted` from RFC 6026 §7). Client INVITE: calling,
/// proceeding, completed, accepted, terminated. Client non-INVITE: trying, proceeding, completed,
/// terminated. Server INVITE: proceeding, completed, accepted, confirmed, terminated. Server non-INVITE:
/// trying, proceeding, completed, terminated.
enum class transaction_state : std::uint8_t { calling, trying, proceeding, completed, accepted, confirmed, terminated };

/// The state's name in lower case ("calling"...).
[[nodiscard]] constexpr std::string_view to_string(transaction_state s) noexcept {
  switch (s) {
    case transaction_state::calling: return "calling";
    case transaction_state::trying: return "trying";
    case transaction_state::proceeding: return "proceeding";
    case transaction_state::completed: return "completed";
    case transaction_state::accepted: return "accepted";
    case transaction_state::confirmed: return "confirmed";
    case transaction_state::terminated: return "terminated";
  }
  return "?";
}

/// Counters of a `transaction_layer` since construction.
struct transaction_stats {
  std::uint64_t client_transactions = 0;       ///< Client transactions started (CANCELs included).
  std::uint64_t server_transactions = 0;       ///< Server transactions created (CANCELs included).
  std::uint64_t retransmissions_sent = 0;      ///< Requests (timers A, E) and responses (timer G, 2xx) retransmitted.
  std::uint64_t retransmissions_absorbed = 0;  ///< Retransmitted requests, responses and ACKs absorbed by a transaction.
  std::uint64_t timeouts = 0;                  ///< Client transactions ended by timer B or F (or 64·T1 after CANCEL).
  std::uint64_t transport_errors = 0;          ///< Transactions ended by a transport error.
  std::uint64_t bad_requests = 0;              ///< Requests answered 400 (missing or malformed From/To/Call-ID/CSeq, UDP Content-Length beyond the datagram).
  std::uint64_t dropped = 0;                   ///< Messages dropped: requests without a usable Via, bad ACKs, responses without a usable Via or CSeq.
  std::uint64_t stray_responses = 0;           ///< Responses passed to `on_stray_response`.
  std::uint64_t stray_acks = 0;                ///< ACKs passed to `on_stray_ack`.
  std::uint64_t unmatched_cancels = 0;         ///< CANCELs answered 481.
  std::uint64_t ignored_responses = 0;         ///< `server_transaction::respond` calls ignored (after the final response).
  std::uint64_t handler_errors = 0;            ///< Exceptions thrown by a TU callback, caught (see transaction_layer).
};

}  // namespace tspi::sip
