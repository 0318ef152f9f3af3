// ptapi - portable TAPI
// mspi/rtp_opus/msp_fwd.hpp: the RTP/Opus MSP declared, with its settings (enough to register it).
#pragma once

#include <mspi/provider_config.hpp>
#include <mspi/rtp_opus/config.hpp>

namespace mspi {
class rtp_opus_msp;

/// The RTP/Opus MSP's settings type, known where the MSP is only declared.
template <>
struct provider_config<rtp_opus_msp> {
  using type = rtp_opus_config;  ///< Settings of `rtp_opus_msp`.
};
}  // namespace mspi
