// ptapi - portable TAPI
// tspi/sip/detail/transaction_keys.hpp: how the transaction layer matches messages to transactions (RFC 3261
// §17.1.3, §17.2.3) and the small text helpers it uses for that.
#pragma once

#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction/builders.hpp>
#include <tspi/sip/transport/peer.hpp>

#include <boost/asio/ip/address.hpp>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

namespace tspi::sip::detail {

/// Lower-case copy appended to `out`.
inline void append_lower(std::string& out, std::string_view s) {
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

/// The Via host is an IP literal equal to `a` (RFC 3261 §18.2.1: else `received` is added).
inline bool same_address(std::string_view host, const boost::asio::ip::address& a) {
  boost::system::error_code ec;
  const auto h = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && normalized(h) == a;
}

/// The first field named `name`, nullptr when absent.
inline header_field* find_field(message& m, std::string_view name) noexcept {
  for (auto& h : m.headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

/// RFC 3261 §17.2.3 server transaction key. With an RFC 3261 branch: method, branch and sent-by. With
/// an RFC 2543 one (no magic cookie): method, Request-URI, Call-ID, CSeq number, From tag, sent-by and
/// branch (the To tag is not compared, so that the ACK of a non-2xx matches its INVITE). `method` is
/// INVITE for an ACK.
inline std::string server_key(std::string_view method, const via& v, const message& m, std::uint32_t cseq_number) {
  std::string k;
  const auto branch = v.param("branch").value_or("");
  const bool rfc3261 = branch.size() > branch_cookie.size() && branch.substr(0, branch_cookie.size()) == branch_cookie;
  k.reserve(method.size() + branch.size() + v.host.size() + 10);
  if (!rfc3261) {
    k += "2543 ";
    k += m.request_uri;
    k += ' ';
    k += m.header("Call-ID").value_or("");
    k += ' ';
    k += std::to_string(cseq_number);
    k += ' ';
    k += tag_of(m.header("From").value_or(""));
    k += ' ';
  }
  k += method;
  k += ' ';
  k += branch;
  k += ' ';
  append_lower(k, v.host);
  k += ':';
  k += std::to_string(v.port ? v.port : 5060);
  return k;
}

/// Key matching the ACK of a 2xx (a new branch, RFC 3261 §13.2.2.4) to its INVITE server transaction:
/// Call-ID, CSeq number and From tag.
inline std::string dialog_ack_key(const message& m, std::uint32_t cseq_number) {
  std::string k(m.header("Call-ID").value_or(""));
  k += ' ';
  k += std::to_string(cseq_number);
  k += ' ';
  k += tag_of(m.header("From").value_or(""));
  return k;
}

}  // namespace tspi::sip::detail
