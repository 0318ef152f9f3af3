// ptapi - portable TAPI
// mspi/qos.hpp: a call's media quality of service (TAPI 3's QOS_SERVICE_LEVEL, ITBasicCallControl::SetQOS)
// and the DiffServ marking ptapi's RTP MSP gives it.
#pragma once

#include <cstdint>

namespace mspi {

/// TAPI 3's `QOS_SERVICE_LEVEL` (tapi3if.idl), the argument of ITBasicCallControl::SetQOS. TAPI 3 asked
/// for an RSVP reservation; IP telephony today marks its packets instead (DiffServ, RFC 2474), and ptapi's
/// RTP MSP does that: see `dscp_of`. Values are TAPI's.
enum class qos_service_level : std::uint8_t {
  needed = 1,        ///< QSL_NEEDED: the media needs priority treatment.
  if_available = 2,  ///< QSL_IF_AVAILABLE: priority treatment if the network offers it.
  best_effort = 3,   ///< QSL_BEST_EFFORT: no priority (the default of a new call).
};

/// DiffServ code point for Expedited Forwarding (RFC 3246), the class of interactive voice (RFC 4594 §4.1
/// "Telephony"): 46.
inline constexpr std::uint8_t dscp_expedited_forwarding = 46;

/// The DSCP (0..63, RFC 2474 §3) that packets of a call with QoS `level` carry: EF (46) for `needed` and
/// `if_available` (DiffServ has no admission control: both ask for the same per-hop behaviour), 0 (default
/// forwarding) for `best_effort`; 0 for a value outside the enumeration. Pure, never throws.
[[nodiscard]] constexpr std::uint8_t dscp_of(qos_service_level level) noexcept {
  return level == qos_service_level::needed || level == qos_service_level::if_available ? dscp_expedited_forwarding : 0;
}

/// True for the three values of `qos_service_level`. Pure, never throws.
[[nodiscard]] constexpr bool valid(qos_service_level level) noexcept {
  return level == qos_service_level::needed || level == qos_service_level::if_available ||
         level == qos_service_level::best_effort;
}

}  // namespace mspi
