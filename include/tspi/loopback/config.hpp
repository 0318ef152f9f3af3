// ptapi - portable TAPI
// tspi/loopback/config.hpp: the settings of the loopback TSP.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tspi {

/// Settings of `loopback_tsp`.
struct loopback_config {
  std::vector<std::string> addresses{"alice", "bob"};  ///< Address names; each is also its dialable address.
  std::uint32_t max_active_calls = 16;                  ///< Call appearances per address.
  /// One ring, for the no-answer forwarding rules (`forward_information::num_rings_no_answer` rings),
  /// milliseconds; 6 s as `sip_config::ring_period`.
  std::chrono::milliseconds ring_period{std::chrono::seconds(6)};
};

}  // namespace tspi
