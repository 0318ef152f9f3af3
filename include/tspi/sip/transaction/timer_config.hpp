// ptapi - portable TAPI
// tspi/sip/transaction/timer_config.hpp: the RFC 3261 §17 timer base values T1, T2, T4 (light: <chrono>
// only).
#pragma once

#include <chrono>

namespace tspi::sip {

/// RFC 3261 §17 timer base values (table 4 of Appendix A). Every transaction timer derives from them:
/// A, E, G start at T1 and double (E and G up to T2); B, F, H, J, L, M and the 2xx retransmission limit
/// are 64·T1; D is 64·T1 too (RFC 3261: at least 32 s, which 64·T1 is at the default T1); I and K are T4.
/// Tests shorten them. All must be positive and T2 >= T1.
struct timer_config {
  std::chrono::milliseconds t1{500};   ///< RTT estimate.
  std::chrono::milliseconds t2{4000};  ///< Longest retransmit interval of non-INVITE requests and INVITE responses.
  std::chrono::milliseconds t4{5000};  ///< Longest time a message stays in the network.
};

}  // namespace tspi::sip
