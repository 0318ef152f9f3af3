// ptapi - portable TAPI
// tspi/sip/detail/dns_answers.hpp: the records the SIP resolver takes from c-ares's answers (SRV, NAPTR,
// addresses) with their TTL, bounded in count whatever the server sends.
#pragma once

#include <tspi/sip/dns/srv_order.hpp>

#include <ares.h>

#include <boost/asio/ip/address.hpp>

#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace tspi::sip::detail {

/// Records of one answer and how long they may be cached.
template <class Record>
struct dns_records {
  std::vector<Record> records;
  std::chrono::seconds ttl{0};
};

/// The smallest TTL (RFC 1035 §4.1.3) of the answer section of DNS message `m` (`n` bytes), at most
/// `cap`; 0 s when the message is malformed or has no answer. Reads at most 64 records; never reads
/// outside the message. Thread safety: pure.
inline std::chrono::seconds answer_ttl(const unsigned char* m, int n, std::chrono::seconds cap) {
  if (!m || n < 12) return std::chrono::seconds(0);
  const unsigned char* const end = m + n;
  const unsigned char* p = m + 12;
  const int questions = (m[4] << 8) | m[5], answers = std::min((m[6] << 8) | m[7], 64);
  auto skip_name = [&]() {
    char* name = nullptr;
    long length = 0;
    if (::ares_expand_name(p, m, n, &name, &length) != ARES_SUCCESS) return false;
    ::ares_free_string(name);
    p += length;
    return p <= end;
  };
  for (int i = 0; i < questions; ++i)
    if (!skip_name() || end - p < 4) return std::chrono::seconds(0);
    else p += 4;
  long best = cap.count();
  for (int i = 0; i < answers; ++i) {
    if (!skip_name() || end - p < 10) return std::chrono::seconds(0);
    const long ttl = (long(p[4]) << 24) | (long(p[5]) << 16) | (long(p[6]) << 8) | long(p[7]);
    const int rdlength = (p[8] << 8) | p[9];
    p += 10;
    if (end - p < rdlength) return std::chrono::seconds(0);
    p += rdlength;
    best = std::min(best, std::max(0L, ttl));
  }
  return std::chrono::seconds(answers > 0 ? best : 0);
}

/// The SRV records of an answer (ares_parse_srv_reply), at most `limit`; empty when malformed.
inline dns_records<srv_record> parse_srv(const unsigned char* m, int n, std::size_t limit, std::chrono::seconds cap) {
  dns_records<srv_record> out;
  ares_srv_reply* list = nullptr;
  if (::ares_parse_srv_reply(m, n, &list) != ARES_SUCCESS) return out;
  for (auto* r = list; r && out.records.size() < limit; r = r->next)
    out.records.push_back({r->host ? r->host : "", r->port, r->priority, r->weight});
  ::ares_free_data(list);
  out.ttl = answer_ttl(m, n, cap);
  return out;
}

/// The NAPTR records of an answer (ares_parse_naptr_reply), at most `limit`; empty when malformed.
inline dns_records<naptr_record> parse_naptr(const unsigned char* m, int n, std::size_t limit, std::chrono::seconds cap) {
  dns_records<naptr_record> out;
  ares_naptr_reply* list = nullptr;
  if (::ares_parse_naptr_reply(m, n, &list) != ARES_SUCCESS) return out;
  auto text = [](const unsigned char* s) { return s ? std::string(reinterpret_cast<const char*>(s)) : std::string(); };
  for (auto* r = list; r && out.records.size() < limit; r = r->next)
    out.records.push_back({r->order, r->preference, text(r->flags), text(r->service), r->replacement ? r->replacement : ""});
  ::ares_free_data(list);
  out.ttl = answer_ttl(m, n, cap);
  return out;
}

/// The IPv4 and IPv6 addresses of an ares_getaddrinfo result, duplicates dropped, at most `limit`;
/// the TTL is the smallest ai_ttl, at most `cap`.
inline dns_records<boost::asio::ip::address> parse_addresses(const ares_addrinfo* ai, std::size_t limit, std::chrono::seconds cap) {
  dns_records<boost::asio::ip::address> out;
  long ttl = cap.count();
  for (auto* node = ai ? ai->nodes : nullptr; node && out.records.size() < limit; node = node->ai_next) {
    boost::asio::ip::address a;
    if (node->ai_family == AF_INET && node->ai_addr) {
      sockaddr_in sa{};
      std::memcpy(&sa, node->ai_addr, sizeof sa);
      a = boost::asio::ip::address_v4(ntohl(sa.sin_addr.s_addr));
    } else if (node->ai_family == AF_INET6 && node->ai_addr) {
      sockaddr_in6 sa{};
      std::memcpy(&sa, node->ai_addr, sizeof sa);
      boost::asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &sa.sin6_addr, b.size());
      a = boost::asio::ip::address_v6(b, sa.sin6_scope_id);
    } else {
      continue;
    }
    if (std::find(out.records.begin(), out.records.end(), a) != out.records.end()) continue;
    out.records.push_back(a);
    ttl = std::min<long>(ttl, std::max(0, node->ai_ttl));
  }
  out.ttl = std::chrono::seconds(out.records.empty() ? 0 : ttl);
  return out;
}

}  // namespace tspi::sip::detail
