// ptapi - portable TAPI
// tspi/sip/dns/srv_order.hpp: SRV and NAPTR records as the SIP resolver uses them, and the RFC 2782 order
// of SRV targets (priority, then weighted random choice) with an injectable random source.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace tspi::sip {

/// One SRV record (RFC 2782). A plain value.
struct srv_record {
  std::string target;          ///< Target host name (never "."; such records mean "no service" and are dropped).
  std::uint16_t port = 0;      ///< Port, host byte order.
  std::uint16_t priority = 0;  ///< Lower is tried first.
  std::uint16_t weight = 0;    ///< Relative share among records of equal priority; 0 = rarely chosen first.
  /// Field-by-field equality.
  friend bool operator==(const srv_record&, const srv_record&) = default;
};

/// One NAPTR record (RFC 3403) as RFC 3263 §4.1 reads it. A plain value.
struct naptr_record {
  std::uint16_t order = 0;       ///< Lower first.
  std::uint16_t preference = 0;  ///< Lower first among equal order.
  std::string flags;             ///< "s" for the records RFC 3263 uses (the next lookup is SRV).
  std::string service;           ///< "SIP+D2U", "SIP+D2T", "SIPS+D2T"... (case-insensitive).
  std::string replacement;       ///< The SRV name to look up ("_sip._udp.example.com").
  /// Field-by-field equality.
  friend bool operator==(const naptr_record&, const naptr_record&) = default;
};

/// A uniform random integer in [0, bound], inclusive. Injected so that SRV order is testable.
using srv_random = std::function<std::uint32_t(std::uint32_t bound)>;

/// A `srv_random` over a Mersenne twister seeded with `seed` (tests: a fixed seed; the resolver: from
/// std::random_device). Not for cryptography: SRV weights only spread load. Throws only std::bad_alloc.
[[nodiscard]] inline srv_random make_srv_random(std::uint32_t seed) {
  return [engine = std::mt19937(seed)](std::uint32_t bound) mutable {
    return std::uniform_int_distribution<std::uint32_t>(0, bound)(engine);
  };
}

/// The records in the order a client tries them (RFC 2782 "Usage rules"): ascending priority; within one
/// priority, repeatedly the record whose running weight sum first reaches a random number in
/// [0, sum of remaining weights], zero-weight records placed first before the draw as RFC 2782 asks.
/// Records whose target is "." or empty are dropped. `random` is called once per record of a priority
/// group with more than one record. Cost: O(n^2) in the records of one priority (the resolver bounds n).
/// Throws only std::bad_alloc. Thread safety: pure apart from `random`.
[[nodiscard]] inline std::vector<srv_record> order_srv(std::vector<srv_record> records, const srv_random& random) {
  std::erase_if(records, [](const srv_record& r) { return r.target.empty() || r.target == "."; });
  std::stable_sort(records.begin(), records.end(), [](const srv_record& a, const srv_record& b) {
    return a.priority != b.priority ? a.priority < b.priority : (a.weight == 0 && b.weight != 0);
  });
  std::vector<srv_record> out;
  out.reserve(records.size());
  for (auto first = records.begin(); first != records.end();) {
    auto last = std::find_if(first, records.end(), [&](const srv_record& r) { return r.priority != first->priority; });
    std::vector<srv_record> group(first, last);
    while (!group.empty()) {
      std::uint32_t sum = 0;
      for (const auto& r : group) sum += r.weight;
      const std::uint32_t pick = group.size() > 1 ? random(sum) : 0;
      std::uint32_t running = 0;
      auto chosen = group.begin();
      for (auto it = group.begin(); it != group.end(); ++it) {
        running += it->weight;
        if (running >= pick) {
          chosen = it;
          break;
        }
      }
      out.push_back(std::move(*chosen));
      group.erase(chosen);
    }
    first = last;
  }
  return out;
}

}  // namespace tspi::sip
