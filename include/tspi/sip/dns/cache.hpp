// ptapi - portable TAPI
// tspi/sip/dns/cache.hpp: a small TTL cache of DNS answers (RFC 1035 §3.2.1), bounded in entries.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tspi::sip {

/// A DNS name as a cache key: ASCII lower case (RFC 4343), without a trailing dot. Throws only std::bad_alloc.
[[nodiscard]] inline std::string dns_key(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// Answers of one kind (SRV records, addresses...) by lower-case name, each kept until its TTL ends.
/// At most `capacity` entries: inserting into a full cache first drops the expired ones, then the entry
/// that expires first. Cost: O(1) lookup, O(capacity) insertion into a full cache. Not thread-safe (the
/// resolver's thread only).
template <class Value>
class dns_cache {
 public:
  using clock = std::chrono::steady_clock;  ///< Expiry times are measured on this clock.

  /// `capacity` 0 = caches nothing.
  explicit dns_cache(std::size_t capacity) : capacity_(capacity) {}

  /// The value cached for `name` unless expired at `now` (an expired entry is dropped).
  [[nodiscard]] std::optional<Value> find(const std::string& name, clock::time_point now = clock::now()) {
    auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expiry <= now) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  /// Keeps `value` for `name` for `ttl` from `now` (nothing when `ttl` is zero or the capacity 0).
  /// Throws only std::bad_alloc.
  void insert(const std::string& name, Value value, std::chrono::seconds ttl, clock::time_point now = clock::now()) {
    if (capacity_ == 0 || ttl.count() <= 0) return;
    if (entries_.size() >= capacity_ && !entries_.contains(name)) {
      std::erase_if(entries_, [&](const auto& e) { return e.second.expiry <= now; });
      if (entries_.size() >= capacity_)
        entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
          return a.second.expiry < b.second.expiry;
        }));
    }
    entries_.insert_or_assign(name, entry{std::move(value), now + ttl});
  }

  /// Entries held now (expired ones included until touched).
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct entry {
    Value value;
    clock::time_point expiry;
  };
  std::size_t capacity_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace tspi::sip
