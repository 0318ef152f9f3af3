// ptapi - portable TAPI
// tspi/sip/transaction/builders.hpp: messages the transaction layer builds: make_response (RFC 3261 §8.2.6),
// the CANCEL of an INVITE (§9.1) and the ACK of a non-2xx final response (§17.1.1.3).
#pragma once

#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/uri.hpp>

#include <string>
#include <string_view>

namespace tspi::sip {

namespace detail {

/// Parse limits for re-reading messages this stack serialized itself (any size it produced).
inline constexpr parse_limits own_message_limits{std::size_t{1} << 26, 1u << 16, std::size_t{1} << 20, std::size_t{1} << 26};

/// The `tag` parameter of a From/To value, empty when absent.
inline std::string tag_of(std::string_view value) {
  if (auto na = parse_name_addr(value)) return na->tag();
  return {};
}

/// True when a From/To value carries a tag parameter (textual check when the value does not parse).
inline bool has_tag(std::string_view value) {
  if (auto na = parse_name_addr(value)) return na->param("tag").has_value();
  for (std::size_t i = 0; i + 5 <= value.size(); ++i)
    if (value[i] == ';' && iequals(value.substr(i + 1, 4), "tag=")) return true;
  return false;
}

/// Copies fields named `name` from `from` to `to`, in order.
inline void copy_fields(const message& from, message& to, std::string_view name) {
  for (const auto& h : from.headers)
    if (iequals(h.name, name)) to.headers.push_back(h);
}

/// A request of the INVITE's transaction (RFC 3261 §9.1 CANCEL, §17.1.1.3 ACK): `method`, the INVITE's
/// Request-URI, top Via, Route, From, Call-ID and CSeq number, with To `to`.
inline message same_transaction_request(const message& invite, std::string_view method, std::string_view to) {
  message m;
  m.method = std::string(method);
  m.request_uri = invite.request_uri;
  if (auto v = invite.header("Via")) m.add("Via", std::string(*v));
  m.add("Max-Forwards", "70");
  copy_fields(invite, m, "Route");
  m.add("From", std::string(invite.header("From").value_or("")));
  m.add("To", std::string(to));
  m.add("Call-ID", std::string(invite.header("Call-ID").value_or("")));
  const auto cs = parse_cseq(invite.header("CSeq").value_or(""));
  m.add("CSeq", std::to_string(cs ? cs->number : 0) + " " + std::string(method));
  return m;
}

/// RFC 3261 §9.1: the CANCEL of `invite` (same Request-URI, top Via, Route, From, To, Call-ID, CSeq number).
inline message make_cancel(const message& invite) {
  return same_transaction_request(invite, "CANCEL", invite.header("To").value_or(""));
}

/// RFC 3261 §17.1.1.3: the ACK of a non-2xx final `response` to `invite` (To from the response).
inline message make_non2xx_ack(const message& invite, const message& response) {
  return same_transaction_request(invite, "ACK", response.header("To").value_or(invite.header("To").value_or("")));
}

}  // namespace detail

/// A response to `request` (RFC 3261 §8.2.6): status `status`, reason `reason` or, when empty,
/// reason_phrase(status); copies every Via (in order), From, To, Call-ID and CSeq; appends `;tag=to_tag`
/// to To when `to_tag` is not empty and To has no tag (§8.2.6.2). The TU adds Contact, Record-Route
/// (§12.1.1), a body... Pure function; throws only std::bad_alloc.
[[nodiscard]] inline message make_response(const message& request, int status, std::string_view to_tag = {},
                                           std::string_view reason = {}) {
  message r;
  r.status = status;
  r.reason = reason.empty() ? std::string(reason_phrase(status)) : std::string(reason);
  r.headers.reserve(request.headers.size() < 8 ? 8 : 12);
  for (const auto& h : request.headers)
    if (detail::iequals(h.name, "Via")) r.headers.push_back({"Via", h.value});
  if (auto v = request.header("From")) r.add("From", std::string(*v));
  if (auto v = request.header("To")) {
    std::string to(*v);
    if (!to_tag.empty() && !detail::has_tag(to)) {
      to += ";tag=";
      to += to_tag;
    }
    r.add("To", std::move(to));
  }
  if (auto v = request.header("Call-ID")) r.add("Call-ID", std::string(*v));
  if (auto v = request.header("CSeq")) r.add("CSeq", std::string(*v));
  return r;
}

}  // namespace tspi::sip
