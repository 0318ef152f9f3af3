// ptapi - portable TAPI
// tspi/sip/dns/config.hpp: settings of the SIP provider's DNS resolver (RFC 3263): which servers, how long
// to wait, and the bounds that keep a hostile DNS server from costing memory or time. Light: no c-ares.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace tspi::sip {

/// Settings of `dns_resolver` (`sip_config::dns`). A plain value.
struct dns_config {
  /// DNS servers as "host:port" ("127.0.0.1:7053", "[::1]:53"; the port may be left out: 53), asked in
  /// this order. Empty = the system's (/etc/resolv.conf). A value c-ares cannot parse makes
  /// `sip_tsp::provider_init` fail with `tapi_errc::invalid_argument`.
  std::vector<std::string> servers;
  /// How long one query waits for an answer from one server before the next try, milliseconds
  /// (c-ares ARES_OPT_TIMEOUTMS; later tries wait longer, c-ares doubles it per round).
  std::chrono::milliseconds timeout{2000};
  /// Tries per query and server (c-ares ARES_OPT_TRIES), at least 1.
  int tries = 2;
  /// Most transport addresses one resolution yields (RFC 3263 §4.3 failover targets), all SRV targets
  /// and their A/AAAA records together. Also bounds SRV records taken from one answer (4 times this).
  std::size_t max_targets = 8;
  /// Most names whose NAPTR, SRV or address records stay cached (each kind apart), TTL-bounded
  /// (RFC 1035 §3.2.1); the entry expiring first makes room. 0 = no cache.
  std::size_t cache_entries = 256;
  /// Longest time an answer stays cached whatever its TTL says, seconds.
  std::chrono::seconds max_ttl{3600};
};

}  // namespace tspi::sip
