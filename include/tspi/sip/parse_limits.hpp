// ptapi - portable TAPI
// tspi/sip/parse_limits.hpp: the limits a SIP message must keep to be parsed (light: no parser).
#pragma once

#include <cstddef>

namespace tspi::sip {

/// Limits that keep hostile input from costing unbounded memory or time. Exceeding one makes the
/// message malformed (`parse_message` gives nullopt; a server answers 400 or drops it, RFC 3261 §16.3).
struct parse_limits {
  std::size_t max_message_bytes = 65535;  ///< Whole message incl. body, bytes (a UDP datagram's size).
  std::size_t max_headers = 96;           ///< Header fields after splitting lists.
  std::size_t max_line_bytes = 4096;      ///< One header line (after unfolding), bytes.
  std::size_t max_body_bytes = 16384;     ///< Body, bytes (an SDP body; mspi::sdp_max_bytes).
};

}  // namespace tspi::sip
