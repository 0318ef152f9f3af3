// ptapi - portable TAPI
// tspi/sip/detail/user_to_user.hpp: the User-to-User header (RFC 7433 §4.1) carrying CIB_USERUSERINFO,
// hex-encoded.
#pragma once

#include <tspi/sip/detail/text.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tspi::sip::detail {

/// The User-to-User header value carrying `bytes`: their upper-case hex digits and `;encoding=hex`
/// (RFC 7433 §4.1: hex is the one encoding the RFC defines). Throws only std::bad_alloc.
inline std::string user_to_user_value(std::string_view bytes) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2 + 13);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  return out + ";encoding=hex";
}

/// The bytes of the first hex-encoded value (`encoding=hex`, any case; the data a token or a quoted-string
/// of an even, non-zero number of hex digits) among the comma-separated uui-values of User-to-User header values
/// `values` (RFC 7433 §4.1), at most `max_bytes` of them; nullopt when there is none (another encoding, or
/// none named: its UUI package is unknown to ptapi; bad hex; too long). Bounded by the values' length (the
/// message parser limits it); pure; throws only std::bad_alloc.
inline std::optional<std::string> parse_user_to_user(const std::vector<std::string_view>& values, std::size_t max_bytes) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (auto header : values)
    for (auto value : split_top_level(header, ',')) {
      const auto semi = find_unquoted(value, ';');
      std::string data(trim(value.substr(0, semi)));
      std::vector<parameter> params;
      if (semi == std::string_view::npos || !parse_parameters(value.substr(semi + 1), params)) continue;
      const auto encoding = parameter_value(params, "encoding");
      if (!encoding || !iequals(*encoding, "hex")) continue;
      if (std::string unquoted; !data.empty() && data.front() == '"') {
        if (!unquote(data, unquoted)) continue;
        data = std::move(unquoted);
      }
      if (data.empty() || data.size() % 2 != 0 || data.size() / 2 > max_bytes) continue;
      std::string bytes;
      bool ok = true;
      for (std::size_t i = 0; ok && i < data.size(); i += 2) {
        const int hi = nibble(data[i]), lo = nibble(data[i + 1]);
        ok = hi >= 0 && lo >= 0;
        bytes += static_cast<char>((hi << 4) | (lo & 0xF));
      }
      if (ok) return bytes;
    }
  return std::nullopt;
}

}  // namespace tspi::sip::detail
