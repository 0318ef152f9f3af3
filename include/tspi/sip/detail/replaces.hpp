// ptapi - portable TAPI
// tspi/sip/detail/replaces.hpp: the Replaces header (RFC 3891 §6.1), and a header value escaped into and
// read back from a URI's `?headers` part (RFC 3261 §19.1.1), for consultation transfer.
#pragma once

#include <tspi/sip/detail/text.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tspi::sip::detail {

/// A parsed Replaces header (RFC 3891 §6.1): the dialog it names, as the recipient sees it (`to_tag` is
/// the recipient's local tag, `from_tag` its peer's).
struct replaces_value {
  std::string call_id;
  std::string to_tag;
  std::string from_tag;
  bool early_only = false;  ///< `early-only`: replace only an early dialog.
};

/// Parses `callid;to-tag=X;from-tag=Y[;early-only]`; nullopt when the Call-ID or a tag is missing or a
/// parameter repeats. Bounded by the header's length (the parser limits it); pure; throws only std::bad_alloc.
inline std::optional<replaces_value> parse_replaces(std::string_view text) {
  replaces_value out;
  bool first = true, to = false, from = false;
  for (auto part : split_top_level(text, ';')) {
    part = trim(part);
    if (first) {
      out.call_id = std::string(part);
      first = false;
      continue;
    }
    const auto eq = part.find('=');
    const auto name = trim(part.substr(0, eq));
    const auto value = eq == std::string_view::npos ? std::string_view{} : trim(part.substr(eq + 1));
    if (iequals(name, "to-tag")) {
      if (std::exchange(to, true)) return std::nullopt;
      out.to_tag = std::string(value);
    } else if (iequals(name, "from-tag")) {
      if (std::exchange(from, true)) return std::nullopt;
      out.from_tag = std::string(value);
    } else if (iequals(name, "early-only")) {
      out.early_only = true;
    }
  }
  if (out.call_id.empty() || out.to_tag.empty() || out.from_tag.empty()) return std::nullopt;
  return out;
}

/// `value` with every character outside RFC 3261 §25.1's `unreserved` and `hnv-unreserved` set (and
/// those used by the header syntax: `;`, `=`, `@`, `%`, `?`, `&`) percent-encoded, for a URI header.
/// Pure; throws only std::bad_alloc.
inline std::string escape_uri_header(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() + 16);
  for (unsigned char ch : value) {
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                       std::string_view("-_.!~*'()[]/:+$").find(static_cast<char>(ch)) != std::string_view::npos;
    if (plain) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 0xF];
    }
  }
  return out;
}

/// The value of header `name` in a URI's headers part (`a=b&c=d`, RFC 3261 §19.1.1), %XX-decoded;
/// empty when absent. The inverse of `escape_uri_header`. Pure; throws only std::bad_alloc.
inline std::string uri_header(std::string_view headers, std::string_view name) {
  for (auto field : split_top_level(headers, '&')) {
    const auto eq = field.find('=');
    if (eq == std::string_view::npos || !iequals(field.substr(0, eq), name)) continue;
    std::string out;
    const auto v = field.substr(eq + 1);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '%' && i + 2 < v.size() && is_hex_digit(v[i + 1]) && is_hex_digit(v[i + 2])) {
        out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += v[i];
      }
    }
    return out;
  }
  return {};
}

}  // namespace tspi::sip::detail
