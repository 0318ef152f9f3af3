// ptapi - portable TAPI
// tspi/sip/headers.hpp: the structured header values the transaction and dialog layers read: Via
// (RFC 3261 §20.42, §18.2.1, RFC 3581) and CSeq (§20.16); branch and tag generation (§8.1.1.7, §19.3).
#pragma once

#include <tspi/sip/detail/text.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tspi::sip {

/// The RFC 3261 §8.1.1.7 magic cookie every branch this stack makes starts with.
inline constexpr std::string_view branch_cookie = "z9hG4bK";

/// One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;received=...;rport`. A plain value.
struct via {
  std::string transport = "UDP";           ///< "UDP", "TCP"... (upper case as received).
  std::string host;                        ///< sent-by host (IPv6 without brackets).
  std::uint16_t port = 0;                  ///< sent-by port, 0 when absent (then 5060).
  std::vector<detail::parameter> params;   ///< via-params in order (branch, received, rport...).

  /// Parameter `name`, nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const noexcept {
    return detail::parameter_value(params, name);
  }
  /// The branch parameter, empty when absent.
  [[nodiscard]] std::string branch() const { return std::string(param("branch").value_or("")); }
  /// Sets or replaces parameter `name` (an empty value writes a flag such as `rport`).
  void set_param(std::string_view name, std::string value) { detail::set_parameter(params, name, std::move(value)); }
  /// The value as text.
  [[nodiscard]] std::string to_string() const {
    std::string out = "SIP/2.0/" + transport + " " + (host.find(':') != std::string::npos ? "[" + host + "]" : host);
    if (port) out += ":" + std::to_string(port);
    detail::append_parameters(out, params);
    return out;
  }
};

/// Parses one Via value (RFC 3261 §20.42). Whitespace around the '/'s and before ';' is allowed (§25.1
/// SLASH, SEMI); the transport is upper-cased. nullopt when the protocol is not SIP/2.0/<transport token>,
/// the sent-by host is empty or malformed (an IPv6 host must be in brackets, RFC 5118 §4.5), anything but
/// parameters follows sent-by, its port is present but not 1-65535, or a parameter name is not a token.
/// Throws only std::bad_alloc. Thread safety: pure function.
inline std::optional<via> parse_via(std::string_view s) {
  s = detail::trim(s);
  const auto semi = s.find(';');
  const auto head = detail::trim(s.substr(0, semi));
  // "SIP / 2.0 / UDP host:port": whitespace around '/' is allowed (§25.1 SLASH).
  std::string compact;
  std::size_t i = 0;
  int slashes = 0;
  for (; i < head.size(); ++i) {
    const char c = head[i];
    if (c == '/') ++slashes;
    if (c == ' ' || c == '\t') {
      if (slashes == 2 && !compact.empty() && compact.back() != '/') break;  // end of the protocol part
      continue;
    }
    compact += c;
  }
  const auto sent_by = detail::trim(head.substr(std::min(i, head.size())));
  if (slashes != 2 || compact.size() < 9 || !detail::iequals(std::string_view(compact).substr(0, 8), "SIP/2.0/")) return std::nullopt;
  via v;
  v.transport = compact.substr(8);
  for (auto& c : v.transport)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (!detail::is_token(v.transport) || sent_by.empty()) return std::nullopt;
  if (!detail::parse_host_port(sent_by, v.host, v.port)) return std::nullopt;
  if (semi != std::string_view::npos && !detail::parse_parameters(s.substr(semi + 1), v.params)) return std::nullopt;
  return v;
}

/// A CSeq value (RFC 3261 §20.16): sequence number and method.
struct cseq {
  std::uint32_t number = 0;  ///< 0 to 2^31-1 (§8.1.1.5).
  std::string method;        ///< The request method.
  [[nodiscard]] std::string to_string() const { return std::to_string(number) + " " + method; }
};

/// Parses a CSeq value; nullopt when the number is not an integer below 2^31 or the method is not a token.
inline std::optional<cseq> parse_cseq(std::string_view s) {
  s = detail::trim(s);
  auto sp = s.find_first_of(" \t");
  if (sp == std::string_view::npos) return std::nullopt;
  cseq c;
  if (!detail::parse_int(s.substr(0, sp), c.number) || c.number > 0x7fffffffu) return std::nullopt;
  auto method = detail::trim(s.substr(sp + 1));
  if (!detail::is_token(method)) return std::nullopt;
  c.method = std::string(method);
  return c;
}

/// A random token of `n` characters [0-9a-z] (tags, Call-ID local parts, branch suffixes). Thread safety:
/// safe (a thread-local generator seeded from std::random_device).
inline std::string random_token(std::size_t n = 16) {
  thread_local std::mt19937_64 gen{(static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  static constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out(n, '0');
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  for (auto& c : out) c = alphabet[pick(gen)];
  return out;
}

/// A new branch: the magic cookie plus 16 random characters (RFC 3261 §8.1.1.7: unique in space and time).
inline std::string make_branch() { return std::string(branch_cookie) + random_token(16); }

/// The default reason phrase of a status code (RFC 3261 §21, RFC 3515 for 202), "" when unknown.
constexpr std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 420: return "Bad Extension";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 491: return "Request Pending";
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 600: return "Busy Everywhere";
    case 603: return "Decline";
    case 604: return "Does Not Exist Anywhere";
    case 606: return "Not Acceptable";
    default: return "";
  }
}

}  // namespace tspi::sip
