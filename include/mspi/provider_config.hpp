// ptapi - portable TAPI
// mspi/provider_config.hpp: the configuration type of a TSP or MSP policy type, also where the type is
// only declared (separate compilation).
#pragma once

namespace mspi {

/// The settings type given to a provider policy type `P` (a TSP or an MSP) at registration:
/// `P::config_type`. The shipped providers specialize it next to their declarations, so that
/// `tspi::tapi::register_provider<P, ...>` can take the settings while `P` is only declared
/// (`PTAPI_SEPARATE_COMPILATION`, see `<ptapi/config.hpp>`). Thread safety: a type, none needed.
template <class P>
struct provider_config {
  using type = typename P::config_type;  ///< The settings type.
};

/// `provider_config<P>::type`.
template <class P>
using provider_config_t = typename provider_config<P>::type;

}  // namespace mspi
