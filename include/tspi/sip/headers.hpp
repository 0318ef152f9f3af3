// ptapi - portable TAPI
// tspi/sip/headers.hpp: the structured header values the transaction and dialog layers read: Via
// (RFC 3261 §20.42, §18.2.1, RFC 3581) and CSeq (§20.16); branch and tag generation (§8.1.1.7, §19.3).
#pragma once

#include <tspi/sip/detail/text.hpp>

#include <mspi/detail/random.hpp>

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
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
  /// The header value, "<number> <method>" (§20.16). Throws only std::bad_alloc.
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

namespace detail {
/// Bytes from OpenSSL's CSPRNG (`mspi::detail::random_bytes`), drawn 512 at a time into a per-thread
/// pool: OpenSSL 3's DRBG costs about 4 µs per RAND_bytes call whatever the size (measured 4.4 µs for 16
/// bytes and 4.9 µs for 512 on the project's build machine), which per token would cost a few percent
/// of a call's CPU; pooled, a 16-character token costs about 0.2 µs. The pool is discarded in a forked
/// child (pthread_atfork), so parent and child never hand out the same bytes. Same errors as
/// random_bytes. Thread safety: safe from any thread (one pool per thread).
inline void pooled_random_bytes(std::span<std::byte> out) {
  static std::atomic<unsigned> forks{0};
  [[maybe_unused]] static const bool registered = ::pthread_atfork(nullptr, nullptr, [] { forks.fetch_add(1); }) == 0;
  struct pool {
    std::array<std::byte, 512> bytes;
    std::size_t used = 512;
    unsigned generation = 0;
  };
  thread_local pool p;
  if (const auto g = forks.load(std::memory_order_relaxed); g != p.generation) {
    p.generation = g;
    p.used = p.bytes.size();
  }
  while (!out.empty()) {
    if (p.used == p.bytes.size()) {
      mspi::detail::random_bytes(p.bytes);
      p.used = 0;
    }
    const auto k = std::min(out.size(), p.bytes.size() - p.used);
    std::memcpy(out.data(), p.bytes.data() + p.used, k);
    std::memset(p.bytes.data() + p.used, 0, k);  // handed out once only
    p.used += k;
    out = out.subspan(k);
  }
}
}  // namespace detail

/// A random token of `n` characters [0-9a-z] (Call-ID local parts, tags, branch suffixes: RFC 3261
/// §8.1.1.4, §19.3 want them unguessable, since they are all that protects BYE and re-INVITE from a blind
/// attacker). Drawn from OpenSSL's CSPRNG through detail::pooled_random_bytes; each character is uniform
/// over the 36 letters (bytes >= 252 are rejected, so `byte % 36` is unbiased): 16 characters carry 82
/// bits. Throws std::system_error when the CSPRNG has no entropy (see mspi::detail::random_bytes),
/// std::bad_alloc. Thread safety: safe from any thread.
inline std::string random_token(std::size_t n = 16) {
  static constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  static constexpr unsigned accept_below = 256 - 256 % alphabet.size();  // 252 = 7 * 36
  std::string out;
  out.reserve(n);
  std::array<std::byte, 64> draw;
  while (out.size() < n) {
    // Rejection drops 4/256 of the bytes: draw 1/16 more than needed plus a few, so that one draw
    // nearly always suffices.
    const std::size_t want = n - out.size();
    const std::size_t ask = std::min(draw.size(), want + want / 16 + 2);
    detail::pooled_random_bytes(std::span(draw.data(), ask));
    for (std::size_t i = 0; i < ask && out.size() < n; ++i) {
      const auto b = static_cast<unsigned>(draw[i]);
      if (b < accept_below) out += alphabet[b % alphabet.size()];
    }
  }
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
