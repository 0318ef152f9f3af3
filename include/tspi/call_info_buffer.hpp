// ptapi - portable TAPI
// tspi/call_info_buffer.hpp: TAPI 3's CALLINFO_BUFFER items (ITCallInfo::GetCallInfoBuffer /
// SetCallInfoBuffer) read from a `call_info`, and their size limits.
#pragma once

#include <tspi/call_info.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace tspi {

/// TAPI 3's `CALLINFO_BUFFER` (tapi3if.h; same values): which byte buffer `info_buffer` reads and
/// `call::set_info_buffer` writes.
enum class call_info_buffer : std::uint8_t {
  /// CIB_USERUSERINFO: `call_info::user_user_info` (settable before Connect; SIP: User-to-User, RFC 7433).
  user_user_info = 0,
  dev_specific = 1,  ///< CIB_DEVSPECIFICBUFFER: `call_info::dev_specific` (the provider's; read only).
  call_data = 2,     ///< CIB_CALLDATABUFFER: `call_info::call_data` (settable; lineSetCallData).
  charging_info = 3,             ///< CIB_CHARGINGINFOBUFFER: always empty (ISDN Q.931; no ptapi provider has it).
  high_level_compatibility = 4,  ///< CIB_HIGHLEVELCOMPATIBILITYBUFFER: always empty (ISDN Q.931).
  low_level_compatibility = 5,   ///< CIB_LOWLEVELCOMPATIBILITYBUFFER: always empty (ISDN Q.931).
};

/// Longest CIB_USERUSERINFO `call::set_info_buffer` takes, in bytes: ISDN's user-user information element
/// (Q.931, RFC 7434's isdn-uui package) carries at most 128 bytes; a longer value gives `invalid_argument`,
/// and a longer one received is dropped (RFC 7433 §4.1).
inline constexpr std::size_t max_user_user_info_size = 128;
/// Longest CIB_CALLDATABUFFER `call::set_info_buffer` takes, in bytes (AC_MAXCALLDATASIZE).
inline constexpr std::size_t max_call_data_size = 4096;

/// True for the CALLINFO_BUFFER items an application may set (`call::set_info_buffer`): CIB_USERUSERINFO
/// and CIB_CALLDATABUFFER. Pure, never throws.
[[nodiscard]] constexpr bool settable(call_info_buffer item) noexcept {
  return item == call_info_buffer::user_user_info || item == call_info_buffer::call_data;
}

/// The `call_info` member that holds `item`'s bytes (see `call_info_buffer`); null for the ISDN items (no
/// ptapi provider has them) and a value outside the enumeration. Never throws; pure.
[[nodiscard]] constexpr std::string call_info::*member_of(call_info_buffer item) noexcept {
  switch (item) {
    case call_info_buffer::user_user_info: return &call_info::user_user_info;
    case call_info_buffer::dev_specific: return &call_info::dev_specific;
    case call_info_buffer::call_data: return &call_info::call_data;
    case call_info_buffer::charging_info:
    case call_info_buffer::high_level_compatibility:
    case call_info_buffer::low_level_compatibility: return nullptr;
  }
  return nullptr;
}

/// ITCallInfo::GetCallInfoBuffer: the bytes of `item` for a call described by `info` (`member_of`); empty
/// for the ISDN items and a value outside the enumeration. Throws only std::bad_alloc. Pure.
[[nodiscard]] inline std::string info_buffer(const call_info& info, call_info_buffer item) {
  const auto member = member_of(item);
  return member ? info.*member : std::string();
}

}  // namespace tspi
