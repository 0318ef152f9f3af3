// ptapi - portable TAPI
// tspi/sip/dialog.hpp: a SIP dialog (RFC 3261 §12): its identifiers, route set, remote target and
// CSeq spaces, and the requests made within it.
#pragma once

#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/uri.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tspi::sip {

/// The state of one dialog (RFC 3261 §12.1). A plain value owned by the call that established it; not
/// thread safe (the SIP TSP uses it on its one thread).
struct dialog {
  std::string call_id;                     ///< Call-ID (§12: part of the dialog ID).
  std::string local_tag;                   ///< Our tag (From of our requests).
  std::string remote_tag;                  ///< The peer's tag.
  name_addr local;                         ///< Our party: From of our requests (with tag).
  name_addr remote;                        ///< The peer: To of our requests (with tag).
  uri remote_target;                       ///< The peer's Contact URI: Request-URI of our requests (§12.2.1.1).
  std::vector<std::string> route_set;      ///< Route values for our requests (loose routing, RFC 3261 §16.12).
  std::uint32_t local_cseq = 1;            ///< CSeq of our last request in the dialog.
  std::optional<std::uint32_t> remote_cseq;///< CSeq of the peer's last request, nullopt before its first.

  /// The dialog a UAS makes when it answers `invite` with a 2xx carrying `local_tag` (§12.1.1): route
  /// set = Record-Route in order, remote target = the INVITE's Contact. nullopt when From, To, Call-ID or
  /// Contact is missing or malformed.
  static std::optional<dialog> as_uas(const message& invite, const std::string& local_tag) {
    auto from = parse_name_addr(invite.header("From").value_or(""));
    auto to = parse_name_addr(invite.header("To").value_or(""));
    auto contact = parse_name_addr(invite.header("Contact").value_or(""));
    auto cid = invite.header("Call-ID");
    auto cs = parse_cseq(invite.header("CSeq").value_or(""));
    if (!from || !to || !contact || !cid || !cs) return std::nullopt;
    dialog d;
    d.call_id = std::string(*cid);
    d.local_tag = local_tag;
    d.remote_tag = from->tag();
    d.local = std::move(*to);
    d.local.set_param("tag", local_tag);
    d.remote = std::move(*from);
    d.remote_target = std::move(contact->address);
    for (auto rr : invite.headers_named("Record-Route")) d.route_set.emplace_back(rr);
    d.remote_cseq = cs->number;
    d.local_cseq = 0;
    return d;
  }

  /// The dialog a UAC makes from a 2xx (or 1xx with To tag) `response` to `request` (§12.1.2): route
  /// set = Record-Route reversed, remote target = the response's Contact. nullopt when the response has
  /// no To tag, or Contact is missing or malformed.
  static std::optional<dialog> as_uac(const message& request, const message& response) {
    auto from = parse_name_addr(request.header("From").value_or(""));
    auto to = parse_name_addr(response.header("To").value_or(""));
    auto contact = parse_name_addr(response.header("Contact").value_or(""));
    auto cs = parse_cseq(request.header("CSeq").value_or(""));
    if (!from || !to || !contact || !cs || to->tag().empty()) return std::nullopt;
    dialog d;
    d.call_id = std::string(request.header("Call-ID").value_or(""));
    d.local_tag = from->tag();
    d.remote_tag = to->tag();
    d.local = std::move(*from);
    d.remote = std::move(*to);
    d.remote_target = std::move(contact->address);
    auto rr = response.headers_named("Record-Route");
    for (auto it = rr.rbegin(); it != rr.rend(); ++it) d.route_set.emplace_back(*it);
    d.local_cseq = cs->number;
    return d;
  }

  /// True when `m` (a request from the peer, or a response to us) belongs to this dialog (§12.2.2):
  /// same Call-ID, and the peer's and our tags in From/To.
  [[nodiscard]] bool matches_request(const message& request) const {
    if (request.header("Call-ID").value_or("") != call_id) return false;
    auto from = parse_name_addr(request.header("From").value_or(""));
    auto to = parse_name_addr(request.header("To").value_or(""));
    return from && to && from->tag() == remote_tag && to->tag() == local_tag;
  }

  /// The URI our requests go to before routing: the first Route's URI when there is a route set, else
  /// the remote target (§12.2.1.1 with loose routing; §8.1.2).
  [[nodiscard]] uri next_hop() const {
    if (!route_set.empty())
      if (auto r = parse_name_addr(route_set.front())) return r->address;
    return remote_target;
  }

  /// A new request within the dialog (§12.2.1.1): Request-URI = remote target, Route = the route set,
  /// From/To with tags, Call-ID, CSeq = ++local_cseq (ACK and CANCEL reuse a CSeq: pass `cseq_number`).
  /// Via, Max-Forwards and Contact are the caller's.
  [[nodiscard]] message make_request(std::string method, std::optional<std::uint32_t> cseq_number = std::nullopt) {
    message m;
    m.method = std::move(method);
    m.request_uri = remote_target.to_string();
    for (const auto& r : route_set) m.add("Route", r);
    m.add("From", local.to_string());
    m.add("To", remote.to_string());
    m.add("Call-ID", call_id);
    const std::uint32_t n = cseq_number ? *cseq_number : ++local_cseq;
    m.add("CSeq", std::to_string(n) + " " + m.method);
    return m;
  }

  /// Checks and records the CSeq of a request from the peer (§12.2.2): false when it is lower than or
  /// equal to the last one (the request is then answered 500, §12.2.2). ACK and CANCEL are not checked.
  bool accept_remote_cseq(const message& request) {
    auto cs = parse_cseq(request.header("CSeq").value_or(""));
    if (!cs) return false;
    if (request.method == "ACK" || request.method == "CANCEL") return true;
    if (remote_cseq && cs->number <= *remote_cseq) return false;
    remote_cseq = cs->number;
    return true;
  }
};

}  // namespace tspi::sip
