// ptapi - portable TAPI
// tspi/sip/history_info.hpp: the History-Info header (RFC 7044): the targets a request was sent to, in
// order, each with its index and with how it was reached (`rc`, `mp`, the RFC 4458 `cause`); and what a
// UAS learns from it: who retargeted the call to it and why (CIS_REDIRECTINGID and CIL_REASON of a call
// that arrives without a Diversion header); and the entries a UAC adds when it follows a 3xx.
#pragma once

#include <tspi/call_info.hpp>
#include <tspi/sip/detail/replaces.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/uri.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tspi::sip {

/// One hi-entry of a History-Info header (RFC 7044 §4.1).
struct history_entry {
  /// hi-targeted-to-uri with its header parameters (`index`, `rc`, `mp`, `np`); the URI keeps its own
  /// parameters (`cause`) and headers (an escaped `Reason`) as received.
  name_addr target;
  /// The `index` parameter (RFC 7044 §10.3): dot-separated decimal numbers, "1", "1.1", "1.2.1".
  std::string index;
  /// The `mp` parameter: the index of the entry this target was mapped (retargeted) from (§4.2.1); empty
  /// when the entry is not a retargeting.
  std::string mapped_from;
  /// The `cause` URI parameter of the target (RFC 4458 §2, RFC 7044 §9.1): why the request was
  /// retargeted to this target, a SIP status code (302 unconditional, 486 busy, 408 no reply, 480/487
  /// deflection, 404/503 not reachable); nullopt when absent or not a number 300..699.
  std::optional<int> cause;
};

/// At most this many entries are read (RFC 7044 §5 leaves the size to policy; a request that went through
/// more retargetings than this is refused by `parse_history_info` rather than cost more).
inline constexpr std::size_t max_history_entries = 32;

namespace detail {
// "1", "1.12.3": one or more decimal numbers of 1..5 digits, separated by single dots (RFC 7044 §4.1 index).
inline bool is_history_index(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  std::size_t digits = 0;
  for (char c : s) {
    if (c == '.') {
      if (digits == 0) return false;
      digits = 0;
    } else if (!is_digit(c) || ++digits > 5) {
      return false;
    }
  }
  return digits > 0;
}
}  // namespace detail

/// Parses the values of a message's History-Info header fields (RFC 7044 §4.1; each value may hold several
/// comma-separated entries), in order of appearance. Returns nullopt when an entry is not a name-addr, has
/// no valid `index`, an `mp` that is not an index, or when there are more than `max_history_entries`; an
/// empty vector for no values. Pure; throws only std::bad_alloc.
inline std::optional<std::vector<history_entry>> parse_history_info(const std::vector<std::string_view>& values) {
  std::vector<history_entry> out;
  for (auto value : values)
    for (auto text : detail::split_top_level(value, ',')) {
      if (out.size() == max_history_entries) return std::nullopt;
      auto target = parse_name_addr(text);
      if (!target) return std::nullopt;
      history_entry e;
      e.index = std::string(target->param("index").value_or(""));
      e.mapped_from = std::string(target->param("mp").value_or(""));
      if (!detail::is_history_index(e.index)) return std::nullopt;
      if (!e.mapped_from.empty() && !detail::is_history_index(e.mapped_from)) return std::nullopt;
      int cause = 0;
      if (auto c = target->address.param("cause"); c && detail::parse_int(*c, cause) && cause >= 300 && cause <= 699)
        e.cause = cause;
      e.target = std::move(*target);
      out.push_back(std::move(e));
    }
  return out;
}

/// How a request reached its UAS according to its History-Info (RFC 7044 §10.3, §9.1).
struct history_redirection {
  /// The URI the request was retargeted from (the entry the last retargeting's `mp` names), without its URI
  /// headers and `cause` parameter: the redirecting party.
  sip::uri redirecting;
  /// That entry's display name (RFC 7044 §4.1: History-Info entries are name-addrs); empty when none.
  std::string redirecting_name;
  /// The RFC 4458 cause of that retargeting (the retargeted entry's `cause`); 0 when none was given.
  int cause = 0;
};

/// The last retargeting the entries record: the last entry with an `mp` parameter whose index is among the
/// entries. For entries without `mp` (RFC 4244, before RFC 7044), the last entry with a `cause` and the
/// entry before it. nullopt when the request was never retargeted. Pure; throws only std::bad_alloc.
inline std::optional<history_redirection> redirection_of(const std::vector<history_entry>& entries) {
  const history_entry* to = nullptr;
  const history_entry* from = nullptr;
  for (auto it = entries.rbegin(); it != entries.rend() && !to; ++it) {
    if (it->mapped_from.empty()) continue;
    for (const auto& e : entries)
      if (e.index == it->mapped_from && &e != &*it) {
        to = &*it;
        from = &e;
        break;
      }
  }
  for (std::size_t i = entries.size(); !to && i-- > 1;)
    if (entries[i].cause) {
      to = &entries[i];
      from = &entries[i - 1];
    }
  if (!to) return std::nullopt;
  history_redirection r;
  r.redirecting = from->target.address;
  r.redirecting_name = from->target.display_name;
  r.redirecting.headers.clear();
  std::erase_if(r.redirecting.params, [](const detail::parameter& p) { return detail::iequals(p.name, "cause"); });
  r.cause = to->cause.value_or(0);
  return r;
}

/// Records in `request`'s History-Info (RFC 7044 §4.1) that it is retargeted to `target` because its current
/// target answered `status` (a 3xx, RFC 3261 §8.1.3.4): when the request has no entry yet, one for its
/// Request-URI (index 1) comes first; the current target's entry (the last one) gets the response as an
/// escaped `Reason` URI header (`?Reason=SIP%3Bcause%3D302`, RFC 7044 §4.1) unless it has URI headers
/// already; the new entry for `target` is that entry's child (index "<its index>.1", `mp` = its index,
/// §4.2.1), with `target`'s RFC 4458 `cause` parameter or, when it has none, `cause=status` (§9.1). The
/// entries are written as one History-Info field. Returns false and changes nothing when the request's
/// History-Info does not parse or already holds `max_history_entries` entries. Throws only std::bad_alloc.
inline bool add_history_entry(message& request, const uri& target, int status) {
  auto entries = parse_history_info(request.headers_named("History-Info"));
  if (!entries || entries->size() + 2 > max_history_entries) return false;
  if (entries->empty()) {
    auto first = parse_uri(request.request_uri);
    if (!first) return false;
    history_entry e;
    e.target.address = std::move(*first);
    e.index = "1";
    e.target.set_param("index", e.index);
    entries->push_back(std::move(e));
  }
  auto& from = entries->back();
  if (from.target.address.headers.empty())
    from.target.address.headers = "Reason=" + detail::escape_uri_header("SIP;cause=" + std::to_string(status));
  name_addr to;
  to.address = target;
  if (!to.address.param("cause")) to.address.params.push_back({"cause", std::to_string(status)});
  to.set_param("index", from.index + ".1");
  to.set_param("mp", from.index);
  std::string value;
  for (const auto& e : *entries) value += e.target.to_string() + ", ";
  request.remove("History-Info");
  request.add("History-Info", value + to.to_string());
  return true;
}

/// CIL_REASON for a call retargeted with RFC 4458 `cause`: fwd_busy (486), fwd_noanswer (408), fwd_uncond
/// (302, and 0 = not given), redirect for the others (deflection 480/487, not reachable 404/503...). Pure.
inline call_reason reason_of_history_cause(int cause) noexcept {
  switch (cause) {
    case 486: return call_reason::fwd_busy;
    case 408: return call_reason::fwd_noanswer;
    case 0:
    case 302: return call_reason::fwd_uncond;
    default: return call_reason::redirect;
  }
}

}  // namespace tspi::sip
