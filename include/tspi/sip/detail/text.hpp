// ptapi - portable TAPI
// tspi/sip/detail/text.hpp: small text helpers shared by the SIP parsers (RFC 3261 §25 grammar pieces).
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tspi::sip::detail {

// ASCII-only character classes: the SIP grammar is ASCII, and <cctype> would follow the C locale an
// application may have changed.
constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) noexcept { return is_alpha(c) || is_digit(c); }
constexpr bool is_hex_digit(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Case-insensitive ASCII comparison (header names, schemes, tokens).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class Int>
bool parse_int(std::string_view s, Int& out) noexcept {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

// RFC 3261 §25.1 token characters.
inline bool is_token_char(char c) noexcept {
  return is_alnum(c) || std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}
inline bool is_token(std::string_view s) noexcept { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

// Splits `s` at `sep` where it is outside double quotes and angle brackets (for comma-separated header
// values and `;` parameter lists). Empty pieces are kept (trimmed).
inline std::vector<std::string_view> split_top_level(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      if (angle > 0) --angle;
    } else if (c == sep && angle == 0) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(trim(s.substr(std::min(start, s.size()))));
  return out;
}

// A `;name=value` parameter list (RFC 3261 §25.1 generic-param), in order; value empty when absent.
struct parameter {
  std::string name;
  std::string value;
};

// Parses the part after the first ';' of `s` into parameters; false when a name is not a token.
inline bool parse_parameters(std::string_view s, std::vector<parameter>& out) {
  for (auto piece : split_top_level(s, ';')) {
    if (piece.empty()) continue;
    auto eq = piece.find('=');
    auto name = trim(piece.substr(0, eq));
    if (!is_token(name)) return false;
    out.push_back({std::string(name), eq == std::string_view::npos ? std::string() : std::string(trim(piece.substr(eq + 1)))});
  }
  return true;
}

inline const parameter* find_parameter(const std::vector<parameter>& ps, std::string_view name) noexcept {
  for (const auto& p : ps)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

// The value of parameter `name` (case-insensitive), nullopt when absent ("" when it has no value).
inline std::optional<std::string_view> parameter_value(const std::vector<parameter>& ps, std::string_view name) noexcept {
  if (auto* p = find_parameter(ps, name)) return std::string_view(p->value);
  return std::nullopt;
}

// Sets parameter `name` to `value`, replacing the first of that name or appending it.
inline void set_parameter(std::vector<parameter>& ps, std::string_view name, std::string value) {
  for (auto& p : ps)
    if (iequals(p.name, name)) {
      p.value = std::move(value);
      return;
    }
  ps.push_back({std::string(name), std::move(value)});
}

inline void append_parameters(std::string& out, const std::vector<parameter>& ps) {
  for (const auto& p : ps) {
    out += ';';
    out += p.name;
    if (!p.value.empty()) {
      out += '=';
      out += p.value;
    }
  }
}

// Position of the first `c` in `s` at or after `from` that is outside double quotes (a backslash escapes
// the next character inside quotes, RFC 3261 §25.1 quoted-pair); npos when there is none, or when a quote
// opened before it is never closed.
inline std::size_t find_unquoted(std::string_view s, char c, std::size_t from = 0) noexcept {
  bool quoted = false;
  for (std::size_t i = from; i < s.size(); ++i) {
    if (quoted) {
      if (s[i] == '\\') ++i;
      else if (s[i] == '"') quoted = false;
    } else if (s[i] == '"') {
      quoted = true;
    } else if (s[i] == c) {
      return i;
    }
  }
  return std::string_view::npos;
}

// The length of the quoted-string (RFC 3261 §25.1) at the start of `s`, closing quote included; 0 when
// `s` does not start with '"', the string is unterminated, or it holds CR or LF (which neither qdtext nor
// quoted-pair allows).
inline std::size_t quoted_string_length(std::string_view s) noexcept {
  if (s.empty() || s.front() != '"') return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\r' || c == '\n') return 0;
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (i + 1 >= s.size() || s[i + 1] == '\r' || s[i + 1] == '\n') return 0;
      ++i;
    }
  }
  return 0;
}

// The content of a quoted-string that makes up all of `s` (surrounding SP/HT ignored), quoted-pairs
// undone; false when `s` is not exactly one well-formed quoted-string.
inline bool unquote(std::string_view s, std::string& out) {
  s = trim(s);
  const std::size_t n = quoted_string_length(s);
  if (n == 0 || n != s.size()) return false;
  out.clear();
  for (std::size_t i = 1; i + 1 < n; ++i) {
    if (s[i] == '\\') ++i;
    out += s[i];
  }
  return true;
}

// `s` as a quoted-string: '"' and '\\' and control characters other than CR and LF are escaped; CR and
// LF, which a quoted-string cannot carry, become spaces (so the text can never end a header line).
inline std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    if (c == '\r' || c == '\n') {
      out += ' ';
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20 || u == 0x7f) out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// RFC 3261 §25.1 host: a hostname or IPv4 address (letters, digits, '-', '.'; '_' tolerated as many
// deployments use it), or, when `bracketed`, the inside of an IPv6reference (hex digits, ':', and '.' for
// an embedded IPv4 part, with at least one ':').
inline bool is_host(std::string_view h, bool bracketed) noexcept {
  if (h.empty()) return false;
  if (bracketed) {
    return h.find(':') != std::string_view::npos &&
           std::all_of(h.begin(), h.end(), [](char c) { return is_hex_digit(c) || c == ':' || c == '.'; });
  }
  return std::all_of(h.begin(), h.end(), [](char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_'; });
}

// Parses `host[:port]` or `[v6]:port` (RFC 3261 §25.1 hostport): the host (IPv6 without brackets) and the
// port (0 when absent). False when the host is malformed or the port is not 1-65535 in digits.
inline bool parse_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  std::string_view port_text;
  bool has_port = false;
  const bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(text.substr(1, close - 1));
    const auto after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto pc = text.find(':');
    host = std::string(text.substr(0, pc));
    if (pc != std::string_view::npos) {
      port_text = text.substr(pc + 1);
      has_port = true;
    }
  }
  if (!is_host(host, bracketed)) return false;
  port = 0;
  if (!has_port) return true;
  unsigned p = 0;
  if (!std::all_of(port_text.begin(), port_text.end(), is_digit) || !parse_int(port_text, p) || p == 0 || p > 65535)
    return false;
  port = static_cast<std::uint16_t>(p);
  return true;
}

// Where the header of a message ends (RFC 3261 §7: the first empty line; LF accepted for CRLF as
// parse_message does): `head` is the length up to and including the last header line's line end,
// `body` the offset of the first body byte. nullopt while no empty line has arrived.
struct header_extent {
  std::size_t head = 0;
  std::size_t body = 0;
};
inline std::optional<header_extent> find_header_end(std::string_view data) noexcept {
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto eol = data.find('\n', pos);
    if (eol == std::string_view::npos) return std::nullopt;
    if (eol == pos || (eol == pos + 1 && data[pos] == '\r')) return header_extent{pos, eol + 1};
    pos = eol + 1;
  }
  return std::nullopt;
}

// Splits a message header (start line and header lines, as `find_header_end` delimits it) into logical
// lines: CRLF or LF line ends, continuation lines (starting with SP or HT, RFC 3261 §7.3.1) joined to
// the line before with one SP. False when there are more than `max_lines` lines, a line (after joining)
// exceeds `max_line_bytes`, or the first line is a continuation.
inline bool split_header_lines(std::string_view head, std::size_t max_lines, std::size_t max_line_bytes,
                               std::vector<std::string>& lines) {
  lines.clear();
  std::size_t pos = 0;
  while (pos < head.size()) {
    auto eol = head.find('\n', pos);
    if (eol == std::string_view::npos) eol = head.size();
    auto line = head.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (lines.size() < 2) return false;  // nothing to continue, or a continued start line
      lines.back() += ' ';
      lines.back() += trim(line);
    } else {
      if (lines.size() >= max_lines) return false;
      lines.emplace_back(line);
    }
    if (lines.back().size() > max_line_bytes) return false;
  }
  return true;
}

}  // namespace tspi::sip::detail
