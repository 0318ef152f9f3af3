// ptapi - portable TAPI
// tspi/sip/message.hpp: SIP messages (RFC 3261 §7): parsing with limits, serialization, and stream
// framing for TCP (RFC 3261 §18.3).
#pragma once

#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/parse_limits.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tspi::sip {

/// One header field, in the order received. Compact names are expanded (RFC 3261 §7.3.3: `v` -> `Via`)
/// and list headers that RFC 3261 allows to combine (Via, Route, Record-Route, Contact) are split into
/// one field per value, so each value is one field.
struct header_field {
  std::string name;   ///< Field name as received (or its long form).
  std::string value;  ///< Value with leading and trailing whitespace removed and folding undone.
};

/// A SIP request or response (RFC 3261 §7). A plain value; thread safety as for any aggregate.
struct message {
  // Start line (§7.1 / §7.2): a request has a method, a response a status code.
  std::string method;                 ///< Request method ("INVITE"), empty for a response.
  std::string request_uri;            ///< Request-URI text, empty for a response.
  int status = 0;                     ///< Response status code 100-699, 0 for a request.
  std::string reason;                 ///< Reason phrase of a response.
  std::vector<header_field> headers;  ///< Header fields in order.
  std::string body;                   ///< Message body (Content-Length bytes).

  /// True for a request (no status code), false for a response (RFC 3261 §7).
  [[nodiscard]] bool is_request() const noexcept { return status == 0; }

  /// The value of the first field named `name` (case-insensitive, long form), nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept {
    for (const auto& h : headers)
      if (detail::iequals(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
  }
  /// Every value of fields named `name`, in order.
  [[nodiscard]] std::vector<std::string_view> headers_named(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& h : headers)
      if (detail::iequals(h.name, name)) out.emplace_back(h.value);
    return out;
  }
  /// Appends a field.
  void add(std::string name, std::string value) { headers.push_back({std::move(name), std::move(value)}); }
  /// Adds `value` to the comma-separated list of the first field named `name`, or appends the field when
  /// absent: one `Supported: 100rel, timer` instead of two fields (equivalent, RFC 3261 §7.3.1, but some
  /// peers read only the first field).
  void add_to_list(std::string_view name, std::string_view value) {
    for (auto& h : headers)
      if (detail::iequals(h.name, name)) {
        h.value.append(", ").append(value);
        return;
      }
    headers.push_back({std::string(name), std::string(value)});
  }
  /// Replaces every field named `name` with one field (appended when absent).
  void set(std::string_view name, std::string value) {
    for (auto it = headers.begin(); it != headers.end(); ++it)
      if (detail::iequals(it->name, name)) {
        it->value = std::move(value);
        remove_after(name, it + 1);
        return;
      }
    headers.push_back({std::string(name), std::move(value)});
  }
  /// Removes every field named `name`.
  void remove(std::string_view name) { remove_after(name, headers.begin()); }
  /// Inserts a field before the first one (used for Via, RFC 3261 §8.1.1.7).
  void prepend(std::string name, std::string value) {
    headers.insert(headers.begin(), {std::move(name), std::move(value)});
  }

  /// The message as text with CRLF line ends; `Content-Length` is written from `body` (any field of
  /// that name in `headers` is skipped). Throws only std::bad_alloc.
  [[nodiscard]] std::string to_string() const {
    std::string out;
    out.reserve(512 + body.size());
    auto o = std::back_inserter(out);
    if (is_request()) fmt::format_to(o, "{} {} SIP/2.0\r\n", method, request_uri);
    else fmt::format_to(o, "SIP/2.0 {} {}\r\n", status, reason);
    for (const auto& h : headers)
      if (!detail::iequals(h.name, "Content-Length")) fmt::format_to(o, "{}: {}\r\n", h.name, h.value);
    fmt::format_to(o, "Content-Length: {}\r\n\r\n", body.size());
    out += body;
    return out;
  }

 private:
  void remove_after(std::string_view name, std::vector<header_field>::iterator from) {
    auto keep = std::remove_if(from, headers.end(), [name](const header_field& h) { return detail::iequals(h.name, name); });
    headers.erase(keep, headers.end());
  }
};

namespace detail {
// RFC 3261 §7.3.3 compact forms, plus RFC 3515 (r: Refer-To) and RFC 3891/4028 ones in common use.
inline std::string_view long_header_name(std::string_view n) noexcept {
  if (n.size() != 1) return n;
  switch (ascii_lower(n[0])) {
    case 'v': return "Via";
    case 'f': return "From";
    case 't': return "To";
    case 'i': return "Call-ID";
    case 'm': return "Contact";
    case 'l': return "Content-Length";
    case 'c': return "Content-Type";
    case 'e': return "Content-Encoding";
    case 'k': return "Supported";
    case 's': return "Subject";
    case 'r': return "Refer-To";
    case 'o': return "Event";
    case 'x': return "Session-Expires";
    default: return n;
  }
}
inline bool is_list_header(std::string_view n) noexcept {
  return iequals(n, "Via") || iequals(n, "Route") || iequals(n, "Record-Route") || iequals(n, "Contact");
}
}  // namespace detail

namespace detail {
// The Content-Length of a message header (the lines `split_header_lines` made, start line first): the
// value of its Content-Length fields (long or compact name). `present` is false when there is none;
// false overall when a value is not a decimal number or two values differ (RFC 3261 §20.14 allows one
// value; differing ones would let two parsers frame the stream differently).
inline bool content_length_of(const std::vector<std::string>& lines, std::size_t& length, bool& present) {
  present = false;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    const auto colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    if (!iequals(long_header_name(trim(l.substr(0, colon))), "Content-Length")) continue;
    std::size_t n = 0;
    if (!parse_int(trim(l.substr(colon + 1)), n)) return false;
    if (present && n != length) return false;
    length = n;
    present = true;
  }
  return true;
}
}  // namespace detail

/// Length of the first complete message at the start of a stream buffer (RFC 3261 §18.3: the header
/// ends at the first empty line; Content-Length, which stream transports must carry, gives the body).
/// Line ends and folding are read as `parse_message` reads them (CRLF or LF; continuation lines).
/// Leading CRLFs (keep-alives, RFC 5626 §4.4.1) count as part of it. Returns 0 while incomplete,
/// nullopt when the stream cannot be framed: no Content-Length, one that is not a number, differing
/// Content-Length values, a message (after the leading CRLFs) of more than `limits.max_message_bytes`
/// bytes, or more than `limits.max_message_bytes` bytes of leading CRLFs. The connection must then be
/// closed. A transport that answers RFC 5626 §3.5.1 CRLFCRLF pings strips them before calling this.
/// Only `max_message_bytes` of `limits` applies: a frame that breaks another limit is still framed, and
/// `parse_message` rejects it (a server answers 400 and keeps the connection). Throws only
/// std::bad_alloc. Thread safety: pure function.
inline std::optional<std::size_t> framed_length(std::string_view buffer, const parse_limits& limits = {}) {
  std::size_t skip = 0;
  while (skip + 1 < buffer.size() && buffer[skip] == '\r' && buffer[skip + 1] == '\n') skip += 2;
  if (skip > limits.max_message_bytes) return std::nullopt;
  const auto view = buffer.substr(skip);
  const auto extent = detail::find_header_end(view);
  if (!extent) {
    if (view.size() > limits.max_message_bytes) return std::nullopt;
    return 0;
  }
  if (extent->body > limits.max_message_bytes) return std::nullopt;
  std::vector<std::string> lines;
  detail::split_header_lines(view.substr(0, extent->head), static_cast<std::size_t>(-1), static_cast<std::size_t>(-1), lines);
  std::size_t length = 0;
  bool present = false;
  if (!detail::content_length_of(lines, length, present) || !present) return std::nullopt;
  if (length > limits.max_message_bytes - extent->body) return std::nullopt;
  const std::size_t total = extent->body + length;
  return view.size() >= total ? skip + total : 0;
}

namespace detail {
// parse_message, and parse_truncated_message when `truncated` is not null: then a Content-Length beyond
// the bytes present is no error but sets *truncated (and the body is left empty).
inline std::optional<message> parse_message(std::string_view data, const parse_limits& limits, bool* truncated) {
  while (data.size() >= 2 && data[0] == '\r' && data[1] == '\n') data.remove_prefix(2);  // keep-alives
  if (data.size() > limits.max_message_bytes) return std::nullopt;
  const auto extent = detail::find_header_end(data);
  if (!extent) return std::nullopt;  // no end of header: truncated
  std::vector<std::string> lines;
  if (!detail::split_header_lines(data.substr(0, extent->head), limits.max_headers + 1, limits.max_line_bytes, lines))
    return std::nullopt;
  if (lines.empty()) return std::nullopt;
  message m;
  // Start line (§7.1, §7.2): elements separated by single SPs.
  {
    std::string_view sl = lines.front();
    const auto sp1 = sl.find(' ');
    if (sp1 == std::string_view::npos) return std::nullopt;
    const auto first = sl.substr(0, sp1);
    const auto rest = sl.substr(sp1 + 1);
    if (detail::iequals(first, "SIP/2.0")) {
      const auto sp2 = rest.find(' ');
      const auto code = rest.substr(0, sp2);
      if (code.size() != 3 || !std::all_of(code.begin(), code.end(), detail::is_digit) || !detail::parse_int(code, m.status) ||
          m.status < 100 || m.status > 699)
        return std::nullopt;
      m.reason = sp2 == std::string_view::npos ? std::string() : std::string(rest.substr(sp2 + 1));
    } else {
      const auto sp2 = rest.rfind(' ');
      if (sp2 == std::string_view::npos || !detail::iequals(rest.substr(sp2 + 1), "SIP/2.0")) return std::nullopt;
      if (!detail::is_token(first)) return std::nullopt;
      m.method = std::string(first);
      // Extra SPs around the Request-URI are tolerated (RFC 4475 §3.1.2.11) and not kept.
      m.request_uri = std::string(detail::trim(rest.substr(0, sp2)));
      if (m.request_uri.empty() || m.request_uri.find_first_of(" \t") != std::string::npos) return std::nullopt;
    }
  }
  // Header fields.
  std::size_t content_length = 0;
  bool has_content_length = false;
  if (!detail::content_length_of(lines, content_length, has_content_length)) return std::nullopt;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    const auto colon = l.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto name = detail::long_header_name(detail::trim(l.substr(0, colon)));
    if (!detail::is_token(name)) return std::nullopt;
    const auto value = detail::trim(l.substr(colon + 1));
    if (detail::is_list_header(name) && value != "*") {
      for (auto v : detail::split_top_level(value, ',')) {
        if (v.empty()) continue;
        if (m.headers.size() >= limits.max_headers) return std::nullopt;
        m.headers.push_back({std::string(name), std::string(v)});
      }
    } else {
      if (m.headers.size() >= limits.max_headers) return std::nullopt;
      m.headers.push_back({std::string(name), std::string(value)});
    }
  }
  auto body = data.substr(extent->body);
  if (has_content_length) {
    if (content_length > body.size()) {  // truncated
      if (!truncated) return std::nullopt;
      *truncated = true;
      return m;
    }
    body = body.substr(0, content_length);
  }
  if (body.size() > limits.max_body_bytes) return std::nullopt;
  if (truncated) return std::nullopt;  // not truncated: parse_message's business
  m.body = std::string(body);
  return m;
}
}  // namespace detail

/// Parses one SIP message (RFC 3261 §7, §25). Leading CRLFs (keep-alives) are skipped. Accepts LF line
/// ends as well as CRLF, folded header lines (§7.3.1), compact names; splits list headers (see
/// `header_field`). The header ends at the first empty line; the body is the Content-Length bytes after
/// it (bytes beyond are ignored, RFC 3261 §18.3); without Content-Length (allowed on UDP, §18.3) it is the
/// rest of `data`. nullopt when the message is malformed: no empty line ending the header, a bad start
/// line (a method that is not a token, a Request-URI with whitespace, a status outside 100-699, extra or
/// missing elements), a version other than SIP/2.0 (compared case-insensitively, §7.1), a continuation
/// line right after the start line, a header line without ':' or whose name is not a token, a
/// Content-Length that is not a decimal number, exceeds the bytes present (see parse_truncated_message),
/// or differs between two fields, or any of `limits` exceeded (`max_message_bytes` counts from the first
/// byte after the leading CRLFs). The Request-URI is not parsed here (see `parse_uri`). Never throws
/// except std::bad_alloc. Thread safety: pure function.
inline std::optional<message> parse_message(std::string_view data, const parse_limits& limits = {}) {
  return detail::parse_message(data, limits, nullptr);
}

/// The header of a message that `parse_message` rejects only because its Content-Length exceeds the
/// bytes present (a truncated datagram: RFC 3261 §18.3 wants a request answered 400, a response
/// dropped), with an empty body; nullopt for any other message (well-formed, or malformed otherwise).
/// Same parsing, errors and thread safety as parse_message.
inline std::optional<message> parse_truncated_message(std::string_view data, const parse_limits& limits = {}) {
  bool truncated = false;
  auto m = detail::parse_message(data, limits, &truncated);
  if (!truncated) return std::nullopt;
  return m;
}

}  // namespace tspi::sip
