// ptapi - portable TAPI
// tspi/loopback/tsp_fwd.hpp: the loopback TSP declared, with its settings (enough to register it).
#pragma once

#include <tspi/loopback/config.hpp>

#include <mspi/provider_config.hpp>

namespace tspi {
class loopback_tsp;
}  // namespace tspi

/// The loopback TSP's settings type, known where the TSP is only declared.
template <>
struct mspi::provider_config<tspi::loopback_tsp> {
  using type = tspi::loopback_config;  ///< Settings of `tspi::loopback_tsp`.
};
