// ptapi - portable TAPI
// tspi/sip/transport/tcp.hpp: the TCP side of the SIP transport (RFC 3261 §18, RFC 5923 §9): accepting,
// connecting, stream framing (§18.3), writing, and the connection limits of transport_config. TLS
// connections are these connections with a TLS layer (tspi/sip/transport/tls.hpp).
#pragma once

#include <tspi/sip/detail/transport_core.hpp>
#include <tspi/sip/message.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

/// @cond PTAPI_INTERNAL
namespace tspi::sip::detail {

inline void transport_core::accept(transport_protocol p, unsigned gen) {
  listener_for(p).acceptor.async_accept([self = shared_from_this(), p, gen](const boost::system::error_code& ec, tcp::socket s) {
    self->on_accept(p, gen, ec, std::move(s));
  });
}

inline void transport_core::on_accept(transport_protocol protocol, unsigned gen, const boost::system::error_code& ec, tcp::socket s) {
  auto& l = listener_for(protocol);
  if (closed_ || gen != l.gen || ec == boost::asio::error::operation_aborted) return;
  if (ec) {  // e.g. out of descriptors (EMFILE, ENFILE): retry shortly instead of spinning
    ++stats_.accept_errors;
    l.retry.expires_after(std::chrono::milliseconds(100));
    l.retry.async_wait([self = shared_from_this(), protocol, gen](const boost::system::error_code& e) {
      if (!e && !self->closed_ && gen == self->listener_for(protocol).gen) self->accept(protocol, gen);
    });
    return;
  }
  const bool tls = protocol == transport_protocol::tls;
  boost::system::error_code e;
  const auto ep = s.remote_endpoint(e);
  const auto from = e ? boost::asio::ip::address() : normalized(ep.address());
  if (e) {
    s.close(e);
  } else if (cfg_.max_tcp_connections_per_source > 0 && source_count(from) >= cfg_.max_tcp_connections_per_source) {
    ++stats_.tcp_source_rejected;
    s.close(e);
  } else if (tls && handshakes_ >= cfg_.tls.max_handshakes_in_progress) {  // a handshake flood
    ++stats_.tls_handshakes_rejected;
    s.close(e);
  } else if (conns_.size() >= cfg_.max_tcp_connections && !evict_one()) {
    ++stats_.tcp_rejected;
    s.close(e);
  } else {
    peer p{protocol, from, ep.port()};
    s.set_option(tcp::no_delay(true), e);
    s.non_blocking(true, e);
    auto c = std::make_shared<tcp_connection>(std::move(s), p, true);
    c->last_activity = c->message_started = clock::now();
    if (auto it = conns_.find(p); it != conns_.end()) close_connection(std::shared_ptr(it->second), {});  // a copy: the entry is erased
    conns_.emplace(std::move(p), c);
    ++sources_[from];
    ++stats_.tcp_accepted;
    if (!tls) established(c);
    else if (add_tls_layer(*c)) handshake(c);
    else close_connection(c, {});
  }
  accept(protocol, gen);
}

inline std::size_t transport_core::source_count(const boost::asio::ip::address& a) const {
  const auto it = sources_.find(a);
  return it == sources_.end() ? 0 : it->second;
}

inline bool transport_core::evict_one() {
  std::shared_ptr<tcp_connection> victim;
  for (const auto& [p, c] : conns_) {
    if (!c->connected || !c->out.empty()) continue;
    if (!victim || std::pair(c->messages > 0, c->last_activity) < std::pair(victim->messages > 0, victim->last_activity))
      victim = c;
  }
  if (!victim) return false;
  ++stats_.tcp_evicted;
  close_connection(victim, {});
  return true;
}

template <class Text>
void transport_core::send_tcp(const peer& to, Text&& text) {
  std::shared_ptr<tcp_connection> c;
  if (auto it = conns_.find(to); it != conns_.end()) {
    c = it->second;
  } else {
    if (conns_.size() >= cfg_.max_tcp_connections && !evict_one()) {
      report(to, std::make_error_code(std::errc::too_many_files_open));
      return;
    }
    c = std::make_shared<tcp_connection>(tcp::socket(ex_), to, false);
    if (to.protocol == transport_protocol::tls && !add_tls_layer(*c)) {
      report(to, tls_error_ ? tls_error_ : std::error_code(tls_errc::not_configured));
      return;
    }
    conns_.emplace(to, c);
    connect(c);
  }
  const std::string_view view(text);
  if (c->queued_bytes + view.size() > cfg_.max_tcp_queued_bytes) {  // the peer does not read
    close_connection(c, std::make_error_code(std::errc::no_buffer_space));
    return;
  }
  c->queued_bytes += view.size();
  c->out.emplace_back(std::forward<Text>(text));
  write(c);
}

inline void transport_core::connect(const std::shared_ptr<tcp_connection>& c) {
  c->timer.expires_after(cfg_.tcp_connect_timeout);
  c->timer.async_wait([self = shared_from_this(), c](const boost::system::error_code& e) {
    if (e || self->closed_ || c->closed || c->connected) return;
    self->close_connection(c, std::make_error_code(std::errc::timed_out));
  });
  c->socket.async_connect(tcp::endpoint(c->remote.address, c->remote.port),
                          [self = shared_from_this(), c](const boost::system::error_code& e) { self->on_connected(c, e); });
}

inline void transport_core::on_connected(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e) {
  if (closed_ || c->closed) return;
  if (e) {
    close_connection(c, e);
    return;
  }
  boost::system::error_code ignored;
  c->socket.set_option(tcp::no_delay(true), ignored);
  c->socket.non_blocking(true, ignored);
  ++stats_.tcp_connected;
  if (c->tls) handshake(c);
  else established(c);
}

inline void transport_core::established(const std::shared_ptr<tcp_connection>& c) {
  c->connected = true;
  c->last_activity = clock::now();
  if (c->incoming && c->tls) c->message_started = c->last_activity;  // the first message counted after the handshake
  c->armed_at = clock::time_point::max();  // the connect or handshake wait has completed or is aborted below
  arm_deadline(c);
  read(c);
  write(c);
}

inline transport_core::clock::time_point transport_core::deadline(const tcp_connection& c) const {
  auto at = c.last_activity + cfg_.tcp_idle_timeout;
  if (c.in_message || (c.incoming && c.messages == 0)) at = std::min(at, c.message_started + cfg_.tcp_message_timeout);
  return at;
}

inline void transport_core::arm_deadline(const std::shared_ptr<tcp_connection>& c) {
  const auto at = deadline(*c);
  if (at >= c->armed_at) return;
  c->armed_at = at;
  c->timer.expires_at(at);
  c->timer.async_wait([self = shared_from_this(), c](const boost::system::error_code& e) {
    if (e == boost::asio::error::operation_aborted || self->closed_ || c->closed) return;
    c->armed_at = clock::time_point::max();
    self->on_deadline(c);
  });
}

inline void transport_core::on_deadline(const std::shared_ptr<tcp_connection>& c) {
  const auto now = clock::now();
  if (deadline(*c) > now) {
    arm_deadline(c);
    return;
  }
  if (now - c->last_activity >= cfg_.tcp_idle_timeout) ++stats_.tcp_idle_closed;
  else ++stats_.tcp_message_timeouts;
  close_connection(c, c->out.empty() ? std::error_code{} : std::make_error_code(std::errc::timed_out));
}

inline void transport_core::read(const std::shared_ptr<tcp_connection>& c) {
  if (c->tls) return read_tls(c);
  c->socket.async_wait(tcp::socket::wait_read, [self = shared_from_this(), c](const boost::system::error_code& e) {
    self->on_readable(c, e);
  });
}

inline void transport_core::on_readable(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e) {
  if (closed_ || c->closed) return;
  if (e) {
    close_connection(c, e);
    return;
  }
  if (scratch_.empty()) scratch_.resize(65536);
  for (int i = 0; i < 4; ++i) {  // a few reads per wake-up, then yield to other connections
    boost::system::error_code re;
    const std::size_t n = c->socket.read_some(boost::asio::buffer(scratch_), re);
    if (re == boost::asio::error::would_block || re == boost::asio::error::try_again) break;
    if (re) {
      close_connection(c, re == boost::asio::error::eof ? std::error_code{} : std::error_code(re));
      return;
    }
    if (!consume(c, std::string_view(scratch_.data(), n)) || closed_ || c->closed) return;
    if (n < scratch_.size()) break;
  }
  read(c);
}

inline bool transport_core::consume(const std::shared_ptr<tcp_connection>& c, std::string_view data) {
  c->last_activity = clock::now();
  const std::size_t n = data.size();
  const bool continuing = !c->in.empty();
  if (continuing) {  // grow by doubling up to 16 KiB, exactly beyond (only a large body gets there)
    if (c->in.size() + n > c->in.capacity())
      c->in.reserve(std::max(c->in.size() + n, std::min<std::size_t>(2 * c->in.capacity(), 16384)));
    c->in.insert(c->in.end(), data.begin(), data.end());
  }
  const std::string_view all = continuing ? std::string_view(c->in.data(), c->in.size()) : data;
  std::size_t pos = 0;
  while (pos < all.size()) {
    const auto view = all.substr(pos);
    std::size_t crlf = 0;
    while (crlf + 1 < view.size() && view[crlf] == '\r' && view[crlf + 1] == '\n') crlf += 2;
    if (crlf >= 4) {  // RFC 5626 §4.4.1: a double-CRLF ping gets a single-CRLF pong
      pos += crlf;
      ++stats_.keepalives;
      c->out.emplace_back("\r\n");
      c->queued_bytes += 2;
      write(c);
      continue;
    }
    if (crlf == 2 && view.size() == 2 && !c->in_message) {  // a pong: one CRLF alone in its read
      pos += 2;
      deliver_pong(c->remote);
      if (closed_ || c->closed) return false;
      continue;
    }
    const auto len = framed_length(view, cfg_.limits);
    // RFC 3261 §18.3: without a boundary the stream is lost; so is a header beyond its bound.
    if (!len || (*len == 0 && header_too_long(view))) {
      ++stats_.malformed_dropped;
      close_connection(c, {});
      return false;
    }
    if (*len == 0) break;
    auto m = parse_message(view.substr(0, *len), cfg_.limits);
    pos += *len;
    ++c->messages;
    if (!m) {
      ++stats_.malformed_dropped;
      continue;
    }
    deliver(std::move(*m), c->remote);
    if (closed_ || c->closed) return false;
  }
  // Keep only the incomplete rest, in a buffer of its own size. A rest of CRLFs only (half a
  // keep-alive) is no message in progress.
  const auto rest = all.substr(pos);
  const bool was_in_message = c->in_message;
  c->in_message = rest.find_first_not_of("\r\n") != std::string_view::npos;
  if (rest.empty()) {
    std::vector<char>().swap(c->in);
  } else if (!continuing) {
    c->in.assign(rest.begin(), rest.end());
    c->in.shrink_to_fit();
  } else if (pos > 0) {
    std::vector<char> kept(rest.begin(), rest.end());
    c->in.swap(kept);
  }
  if (c->in_message && (!was_in_message || pos > 0)) {  // a new message began in this read
    if (!c->incoming || c->messages > 0) c->message_started = c->last_activity;
    arm_deadline(c);
  }
  return true;
}

inline bool transport_core::header_too_long(std::string_view view) const {
  std::size_t skip = 0;
  while (skip + 1 < view.size() && view[skip] == '\r' && view[skip + 1] == '\n') skip += 2;
  view.remove_prefix(skip);
  if (view.size() <= cfg_.max_tcp_header_bytes) return false;
  return !detail::find_header_end(view.substr(0, cfg_.max_tcp_header_bytes + 1));
}

inline void transport_core::write(const std::shared_ptr<tcp_connection>& c) {
  if (c->writing || c->out.empty() || !c->connected || c->closed) return;
  auto done = [self = shared_from_this(), c](const boost::system::error_code& e, std::size_t) { self->on_written(c, e); };
  if (c->out.size() == 1) {
    c->writing = 1;
    c->with_stream([&](auto& stream) { boost::asio::async_write(stream, boost::asio::buffer(c->out.front()), std::move(done)); });
    return;
  }
  c->writing = std::min<std::size_t>(c->out.size(), 16);
  c->gather.clear();
  for (std::size_t i = 0; i < c->writing; ++i) c->gather.emplace_back(boost::asio::buffer(c->out[i]));
  c->with_stream([&](auto& stream) { boost::asio::async_write(stream, c->gather, std::move(done)); });
}

inline void transport_core::on_written(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e) {
  if (closed_ || c->closed) return;
  if (e) {
    close_connection(c, e);
    return;
  }
  for (; c->writing > 0; --c->writing) {
    if (c->out.front() != "\r\n") ++stats_.sent;
    c->queued_bytes -= c->out.front().size();
    c->out.pop_front();
  }
  c->last_activity = clock::now();
  write(c);
}

inline void transport_core::close_connection(const std::shared_ptr<tcp_connection>& c, std::error_code ec) {
  if (c->closed) return;
  c->closed = true;
  if (c->handshaking) {
    c->handshaking = false;
    --handshakes_;
  }
  release_socket(c);
  std::vector<char>().swap(c->in);
  std::vector<char>().swap(c->tls_in);
  if (auto it = conns_.find(c->remote); it != conns_.end() && it->second == c) conns_.erase(it);
  if (c->incoming)
    if (auto it = sources_.find(c->remote.address); it != sources_.end() && --it->second == 0) sources_.erase(it);
  // Messages still queued were not (completely) sent.
  if (!c->out.empty() && !(c->out.size() == 1 && c->out.front() == "\r\n"))
    report(c->remote, ec ? ec : std::make_error_code(std::errc::connection_aborted));
  c->out.clear();
}

}  // namespace tspi::sip::detail
/// @endcond
