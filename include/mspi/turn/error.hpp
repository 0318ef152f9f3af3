// ptapi - portable TAPI
// mspi/turn/error.hpp: why a TURN operation failed (RFC 8656): the server's error responses by name, and
// the client's own refusals.
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace mspi::turn {

/// The errors of a TURN client (RFC 8656), used through `std::error_code` with `turn_category()`.
/// Server error responses map to a value by their ERROR-CODE (the number is in the names' comments);
/// codes without a value of their own are `error_response` (the code itself: `allocation::last_error_code`).
/// Timeouts and malformed messages use `mspi::stun::stun_errc` (`timeout`, `buffer_too_small`).
enum class turn_errc : int {
  unauthorized = 1,              ///< 401 to a request with credentials (wrong username or password), or a 401 without REALM/NONCE (RFC 8489 §9.2.5).
  stale_nonce = 2,               ///< 438 again after the client's bounded retries with fresh nonces (RFC 8489 §9.2.5).
  forbidden = 3,                 ///< 403 Forbidden (RFC 8656 §7.2, §10.2, §12.2: peer address refused by policy).
  allocation_mismatch = 4,       ///< 437: no allocation for this 5-tuple, or one exists already (RFC 8656 §7.2, §8).
  address_family_not_supported = 5,  ///< 440 Address Family not Supported (RFC 8656 §7.2).
  wrong_credentials = 6,         ///< 441: credentials differ from the allocation's (RFC 8656 §5).
  unsupported_transport = 7,     ///< 442 Unsupported Transport Protocol (RFC 8656 §7.2).
  peer_address_family_mismatch = 8,  ///< 443: the peer's family differs from the relayed address's (RFC 8656 §10.2).
  allocation_quota_reached = 9,  ///< 486 Allocation Quota Reached (RFC 8656 §7.2).
  insufficient_capacity = 10,    ///< 508 Insufficient Capacity (RFC 8656 §7.2, §12.2: no channel or port left).
  error_response = 11,           ///< Another error response (400, 420, 500, ...): its code is `last_error_code()`.
  not_allocated = 12,            ///< The operation needs an allocation: none yet, or it was deleted or expired.
  already_allocated = 13,        ///< `async_allocate` on an allocation that is not idle.
  no_relayed_address = 14,       ///< An Allocate success response without a usable XOR-RELAYED-ADDRESS (RFC 8656 §7.3).
  no_permission = 15,            ///< `send_to` a peer whose address has no permission or channel (RFC 8656 §9).
  too_many_peers = 16,           ///< The client's bounded tables of permissions, channels or transactions are full.
  closed = 17,                   ///< The allocation object was closed or destroyed while the operation ran.
};

/// The category of `turn_errc` ("turn"). Thread safety: safe from any thread.
inline const std::error_category& turn_category() noexcept {
  struct category final : std::error_category {
    [[nodiscard]] const char* name() const noexcept override { return "turn"; }
    [[nodiscard]] std::string message(int v) const override {
      switch (static_cast<turn_errc>(v)) {
        case turn_errc::unauthorized: return "TURN server refused the credentials (401 Unauthorized)";
        case turn_errc::stale_nonce: return "TURN server kept answering 438 Stale Nonce";
        case turn_errc::forbidden: return "TURN server refused the request (403 Forbidden)";
        case turn_errc::allocation_mismatch: return "TURN allocation mismatch (437)";
        case turn_errc::address_family_not_supported: return "TURN address family not supported (440)";
        case turn_errc::wrong_credentials: return "TURN wrong credentials for this allocation (441)";
        case turn_errc::unsupported_transport: return "TURN unsupported transport protocol (442)";
        case turn_errc::peer_address_family_mismatch: return "TURN peer address family mismatch (443)";
        case turn_errc::allocation_quota_reached: return "TURN allocation quota reached (486)";
        case turn_errc::insufficient_capacity: return "TURN server has insufficient capacity (508)";
        case turn_errc::error_response: return "TURN error response";
        case turn_errc::not_allocated: return "no TURN allocation";
        case turn_errc::already_allocated: return "TURN allocation already requested";
        case turn_errc::no_relayed_address: return "TURN Allocate response without a relayed address";
        case turn_errc::no_permission: return "no TURN permission or channel for the peer";
        case turn_errc::too_many_peers: return "TURN client tables full (permissions, channels or transactions)";
        case turn_errc::closed: return "TURN allocation closed";
      }
      return "turn error " + std::to_string(v);
    }
  };
  static const category c;
  return c;
}

/// `std::error_code{e, turn_category()}` (found by ADL from `std::error_code ec = turn_errc::...`).
inline std::error_code make_error_code(turn_errc e) noexcept { return {static_cast<int>(e), turn_category()}; }

}  // namespace mspi::turn

template <>
struct std::is_error_code_enum<mspi::turn::turn_errc> : std::true_type {};

namespace mspi::turn {

/// The `turn_errc` of a server's ERROR-CODE `code` other than 401/438 (which the client answers itself):
/// 403, 437, 440, 441, 442, 443, 486, 508 by name, anything else `error_response` (RFC 8656 §19).
[[nodiscard]] inline std::error_code error_of_code(int code) noexcept {
  switch (code) {
    case 401: return turn_errc::unauthorized;
    case 403: return turn_errc::forbidden;
    case 437: return turn_errc::allocation_mismatch;
    case 438: return turn_errc::stale_nonce;
    case 440: return turn_errc::address_family_not_supported;
    case 441: return turn_errc::wrong_credentials;
    case 442: return turn_errc::unsupported_transport;
    case 443: return turn_errc::peer_address_family_mismatch;
    case 486: return turn_errc::allocation_quota_reached;
    case 508: return turn_errc::insufficient_capacity;
    default: return turn_errc::error_response;
  }
}

}  // namespace mspi::turn
