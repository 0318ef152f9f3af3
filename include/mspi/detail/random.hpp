// ptapi - portable TAPI
// mspi/detail/random.hpp: unpredictable values from OpenSSL's CSPRNG (RAND_bytes), for every identifier a
// blind attacker must not guess: RTP SSRC, initial sequence number and timestamp (RFC 3550 §5.1), SIP
// Call-ID, tags and branches (RFC 3261 §8.1.1.4, §19.3).
#pragma once

#include <openssl/rand.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <system_error>
#include <type_traits>

namespace mspi::detail {

/// Fills `out` from OpenSSL's CSPRNG. Throws `std::system_error` (`std::errc::resource_unavailable_try_again`)
/// when OpenSSL cannot seed its generator (no entropy source), which a healthy system never reports.
/// Thread safety: safe from any thread (OpenSSL 1.1+ locks its DRBG).
inline void random_bytes(std::span<std::byte> out) {
  if (out.empty()) return;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size())) != 1)
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                            "RAND_bytes: the CSPRNG has no entropy");
}

/// A uniformly random value of an unsigned integer type (`std::uint16_t`, `std::uint32_t`...), from
/// `random_bytes`. Same errors and thread safety.
template <class T>
  requires std::is_unsigned_v<T>
[[nodiscard]] T random_value() {
  std::array<std::byte, sizeof(T)> bytes;
  random_bytes(bytes);
  T v;
  std::memcpy(&v, bytes.data(), sizeof v);
  return v;
}

}  // namespace mspi::detail
