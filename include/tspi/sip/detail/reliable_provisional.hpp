// ptapi - portable TAPI
// tspi/sip/detail/reliable_provisional.hpp: header values of RFC 3262 (RSeq, RAck) and option-tag lists
// (Require, Supported), as the SIP TSP reads them.
#pragma once

#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace tspi::sip {

namespace detail {

/// True when a header field `name` of `m` (e.g. Require, Supported; every field of that name, comma
/// lists) holds the option tag `tag` (RFC 3261 §19.2, case-insensitive). Pure; throws only std::bad_alloc.
inline bool lists_option(const message& m, std::string_view name, std::string_view tag) {
  for (auto v : m.headers_named(name))
    for (auto t : split_top_level(v, ','))
      if (iequals(trim(t), tag)) return true;
  return false;
}

/// A response-num of RSeq or RAck (RFC 3262 §7.1): 1 to 2^32-1 decimal digits; nullopt otherwise. Pure.
inline std::optional<std::uint32_t> parse_response_num(std::string_view s) noexcept {
  std::uint32_t n = 0;
  if (!parse_int(trim(s), n) || n == 0) return std::nullopt;
  return n;
}

/// An RAck value (RFC 3262 §7.2): "<RSeq> <CSeq number> <method>".
struct rack {
  std::uint32_t rseq = 0;  ///< RSeq of the reliable 1xx acknowledged.
  cseq request;            ///< CSeq of the request the 1xx answered.
};

/// Parses an RAck value; nullopt when a number or the method does not parse. Pure; throws only std::bad_alloc.
inline std::optional<rack> parse_rack(std::string_view s) {
  s = trim(s);
  const auto sp = s.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto rseq = parse_response_num(s.substr(0, sp));
  auto cs = parse_cseq(trim(s.substr(sp + 1)));
  if (!rseq || !cs) return std::nullopt;
  return rack{*rseq, std::move(*cs)};
}

}  // namespace detail

}  // namespace tspi::sip
