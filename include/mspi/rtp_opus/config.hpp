// ptapi - portable TAPI
// mspi/rtp_opus/config.hpp: settings of the RTP/Opus MSP.
#pragma once

#include <mspi/codec/opus.hpp>

#include <cstdint>
#include <string>

namespace mspi {

/// Settings of `rtp_opus_msp` (one per address). Every call of the address uses them. Checked by
/// `rtp_opus_msp::initialize` (`tapi_errc::invalid_argument` outside the ranges below). A plain value.
struct rtp_opus_config {
  std::string local_address = "127.0.0.1";  ///< IPv4 or IPv6 address RTP and RTCP sockets bind to and offer.
  int ptime_ms = 20;                         ///< Packet time in ms: 10, 20, 40 or 60 (RFC 7587 §4.2; `a=ptime`).
  opus_config opus;                          ///< Encoder settings (bitrate, complexity, FEC, DTX); libopus's ranges.
  int payload_type = 111;                    ///< Dynamic RTP payload type offered for Opus (96-127).
  int jitter_min_packets = 1;                ///< Jitter buffer: smallest target depth in packets (>= 1).
  int jitter_max_packets = 10;               ///< Jitter buffer: largest target depth in packets (min..16).
  int playout_lead_ms = -1;                  ///< Receiver: playout clock lead after the first packet, ms; -1 = ptime/2 (at least 4).
  int rtcp_interval_ms = 5000;               ///< RTCP report interval in ms (> 0; RFC 3550 §6.2 minimum 5 s); first report after half.
  std::string cname = "ptapi@127.0.0.1";     ///< RTCP SDES CNAME (RFC 3550 §6.5.1), 1..255 bytes.
};

}  // namespace mspi
