// ptapi - portable TAPI
// tspi/sip/tsp_fwd.hpp: the SIP TSP declared, with its settings (enough to register it).
#pragma once

#include <tspi/sip/config.hpp>

#include <mspi/provider_config.hpp>

namespace tspi::sip {
class sip_tsp;
}  // namespace tspi::sip

/// The SIP TSP's settings type, known where the TSP is only declared.
template <>
struct mspi::provider_config<tspi::sip::sip_tsp> {
  using type = tspi::sip::sip_config;  ///< Settings of `tspi::sip::sip_tsp`.
};
