// ptapi - portable TAPI
// mspi/stun/error.hpp: the errors of STUN message parsing and of a STUN transaction (RFC 8489).
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace mspi::stun {

/// Why a datagram is not an acceptable STUN message, or why a STUN transaction failed. Used through
/// `std::error_code` with `stun_category()`; `std::make_error_code` finds it by ADL.
/// Source: RFC 8489 §5 (header), §14 (attributes), §6.2.1/§6.3 (transactions).
enum class stun_errc : int {
  not_stun = 1,              ///< Not a STUN message: first two bits not 0, no magic cookie, or length not x4 (§5).
  truncated = 2,             ///< The header's length or an attribute's length runs past the datagram (§5, §14).
  too_many_attributes = 3,   ///< More attributes than `message_view::max_attributes` (a bound against hostile input).
  bad_attribute = 4,         ///< An attribute's value has the wrong size or family for its type (§14.1, §14.2).
  bad_fingerprint = 5,       ///< FINGERPRINT absent where required, not last, or its CRC-32 does not match (§14.7).
  bad_integrity = 6,         ///< MESSAGE-INTEGRITY absent where required or its HMAC-SHA1 does not match (§14.5).
  no_mapped_address = 7,     ///< A Binding success response without (XOR-)MAPPED-ADDRESS (§14.2).
  error_response = 8,        ///< The server answered with an error response; its ERROR-CODE is in the result (§6.3.4).
  timeout = 9,               ///< No response after the last retransmission (Rc requests, then Rm × RTO) (§6.2.1).
  buffer_too_small = 10,     ///< A message being written does not fit the caller's buffer.
};

/// The category of `stun_errc` ("stun"). Thread safety: safe from any thread.
inline const std::error_category& stun_category() noexcept {
  struct category final : std::error_category {
    [[nodiscard]] const char* name() const noexcept override { return "stun"; }
    [[nodiscard]] std::string message(int v) const override {
      switch (static_cast<stun_errc>(v)) {
        case stun_errc::not_stun: return "not a STUN message";
        case stun_errc::truncated: return "STUN message or attribute truncated";
        case stun_errc::too_many_attributes: return "too many STUN attributes";
        case stun_errc::bad_attribute: return "malformed STUN attribute";
        case stun_errc::bad_fingerprint: return "STUN FINGERPRINT missing or wrong";
        case stun_errc::bad_integrity: return "STUN MESSAGE-INTEGRITY missing or wrong";
        case stun_errc::no_mapped_address: return "STUN response without a mapped address";
        case stun_errc::error_response: return "STUN error response";
        case stun_errc::timeout: return "STUN transaction timed out";
        case stun_errc::buffer_too_small: return "STUN message does not fit the buffer";
      }
      return "stun error " + std::to_string(v);
    }
  };
  static const category c;
  return c;
}

/// `std::error_code{e, stun_category()}` (found by ADL from `std::error_code ec = stun_errc::...`).
inline std::error_code make_error_code(stun_errc e) noexcept { return {static_cast<int>(e), stun_category()}; }

}  // namespace mspi::stun

template <>
struct std::is_error_code_enum<mspi::stun::stun_errc> : std::true_type {};
