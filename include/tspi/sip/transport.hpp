// ptapi - portable TAPI
// tspi/sip/transport.hpp: the SIP transport layer (RFC 3261 §18) over Boost.Asio: one UDP socket, one
// TCP acceptor and its connections (IPv4 or IPv6), stream framing (§18.3), connection reuse, and the
// `peer` a message came from or goes to. The transaction layer (tspi/sip/transaction.hpp) sits on top.
#pragma once

#include <tspi/sip/message.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tspi::sip {

/// The transport protocols this stack speaks (RFC 3261 §18; TLS and SCTP are not supported).
enum class transport_protocol : std::uint8_t { udp, tcp };

/// The transport token of a Via header (RFC 3261 §20.42): "UDP" or "TCP".
[[nodiscard]] constexpr std::string_view via_token(transport_protocol p) noexcept {
  return p == transport_protocol::tcp ? "TCP" : "UDP";
}

/// Where a message came from or goes to: protocol, IP address and port. IPv4-mapped IPv6 addresses
/// are reported as IPv4. A plain value; thread safety as for any aggregate.
struct peer {
  transport_protocol protocol = transport_protocol::udp;  ///< UDP or TCP.
  boost::asio::ip::address address;                       ///< IPv4 or IPv6 address.
  std::uint16_t port = 0;                                 ///< Port, host byte order.

  /// "udp:192.0.2.1:5060" or "tcp:[2001:db8::1]:5060" (for logs and tests). Throws only std::bad_alloc.
  [[nodiscard]] std::string to_string() const {
    std::string out = protocol == transport_protocol::tcp ? "tcp:" : "udp:";
    if (address.is_v6()) {
      out += '[';
      out += address.to_string();
      out += ']';
    } else {
      out += address.to_string();
    }
    out += ':';
    out += std::to_string(port);
    return out;
  }
  friend bool operator==(const peer&, const peer&) = default;
};

namespace detail {
/// The default `transport_config::max_tcp_connections`: min(1024, RLIMIT_NOFILE soft limit / 4), at
/// least 16 (1024 when the limit is unlimited or cannot be read). A quarter of the descriptors leaves
/// the rest for media sockets, reactors, files and the application: with the common `ulimit -n 1024`,
/// 256 connections. Reads getrlimit(2) on each call. Thread safety: safe.
[[nodiscard]] inline std::size_t default_max_tcp_connections() noexcept {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1024;
  return std::clamp<std::size_t>(static_cast<std::size_t>(rl.rlim_cur / 4), 16, 1024);
}
}  // namespace detail

/// Settings of a `transport`. The TCP limits bound what a stranger can hold (RFC 3261 §18.3, RFC 5923
/// §9 "connection reuse" leaves closing idle connections to the server):
/// - a connection must deliver a complete message within `tcp_message_timeout`: an accepted connection
///   its first message counted from the accept, any connection a message counted from its first byte
///   (CRLF keep-alives are not messages); otherwise it is closed (`transport_stats::tcp_message_timeouts`);
/// - a connection with no traffic either way for `tcp_idle_timeout` is closed. A connection that
///   carries a dialog's requests (a TCP client's registration or call) stays as long as that client or
///   this side sends something at least that often (SIP keep-alives, re-registrations, in-dialog
///   requests); the transport does not see transactions or dialogs;
/// - a message in progress holds only its own bytes: the header at most `max_tcp_header_bytes` (more
///   without the empty line ending it: the stream cannot be framed, the connection is closed), header
///   plus body at most `limits.max_message_bytes`; between messages a connection holds no receive buffer;
/// - at most `max_tcp_connections_per_source` accepted connections per source IP address: more are closed
///   at once (`tcp_source_rejected`);
/// - at most `max_tcp_connections` in all: at the limit, an accept or an outgoing connection evicts the
///   connection that has least claim to stay (one that has not delivered a complete message first, then
///   the least recently active; never one with messages waiting to be written or still connecting,
///   `tcp_evicted`); only when none can be evicted is the new one refused (`tcp_rejected`, or
///   std::errc::too_many_files_open to `on_error` for an outgoing one).
/// accept() failing (EMFILE, ENFILE, ENOBUFS...) is retried after 100 ms (`accept_errors`), never spun on.
struct transport_config {
  parse_limits limits;                             ///< Per-message limits (message.hpp); larger messages are dropped.
  /// TCP connections open or connecting at once (both directions); see detail::default_max_tcp_connections
  /// (256 under `ulimit -n 1024`, at most 1024).
  std::size_t max_tcp_connections = detail::default_max_tcp_connections();
  std::size_t max_tcp_connections_per_source = 32;  ///< Accepted TCP connections per source IP address; 0 = no limit.
  /// Time a connection has to deliver a complete message (a new incoming connection its first one), ms.
  std::chrono::milliseconds tcp_message_timeout{10000};
  std::size_t max_tcp_header_bytes = 16384;        ///< Bytes of a TCP message's header (start line to the empty line, leading CRLFs not counted).
  std::chrono::seconds tcp_idle_timeout{300};      ///< A TCP connection with no traffic either way for this long is closed, seconds.
  std::chrono::seconds tcp_connect_timeout{32};    ///< An outgoing TCP connect not done by then fails (timed_out).
  std::size_t max_tcp_queued_bytes = 1 << 20;      ///< Bytes waiting to be written on one connection; beyond, it is closed (no_buffer_space).
  /// SO_RCVBUF asked for the UDP socket, bytes (the kernel caps it at net.core.rmem_max); 0 = the kernel's
  /// default. A burst of INVITEs while the SIP thread is descheduled waits here instead of being dropped.
  std::size_t udp_receive_buffer_bytes = 4 << 20;
};

/// Counters of a `transport` since construction (`tcp_connections` and `tcp_buffered_bytes` are gauges).
struct transport_stats {
  std::uint64_t received = 0;           ///< Well-formed messages passed to `on_message`.
  std::uint64_t malformed_dropped = 0;  ///< Datagrams or stream messages that did not parse, and unframeable TCP streams.
  std::uint64_t truncated_requests = 0; ///< UDP requests whose Content-Length exceeds the body, passed to `on_truncated_request`.
  std::uint64_t keepalives = 0;         ///< CRLF keep-alives received (RFC 5626 §3.5.1; double-CRLF pings are answered).
  std::uint64_t sent = 0;               ///< Messages handed to the OS (UDP datagrams sent, TCP messages written).
  std::uint64_t send_errors = 0;        ///< Error reports passed to `on_error` (one per failed datagram or failed connection).
  std::uint64_t handler_errors = 0;     ///< Exceptions thrown by `on_message`, `on_truncated_request` or `on_error`, caught (the message is lost).
  std::uint64_t tcp_connections = 0;    ///< TCP connections open or connecting now.
  std::uint64_t tcp_buffered_bytes = 0; ///< Bytes allocated now for partial TCP messages, all connections together.
  std::uint64_t tcp_accepted = 0;       ///< Incoming TCP connections accepted.
  std::uint64_t tcp_connected = 0;      ///< Outgoing TCP connections established.
  std::uint64_t tcp_rejected = 0;       ///< Incoming connections closed at once: `max_tcp_connections` open, none evictable.
  std::uint64_t tcp_source_rejected = 0;  ///< Incoming connections closed at once: `max_tcp_connections_per_source` from that address.
  std::uint64_t tcp_evicted = 0;        ///< Connections closed to make room for a new one (see transport_config).
  std::uint64_t tcp_message_timeouts = 0;  ///< Connections closed for not completing a message within `tcp_message_timeout`.
  std::uint64_t tcp_idle_closed = 0;    ///< Connections closed after `tcp_idle_timeout` without traffic.
  std::uint64_t accept_errors = 0;      ///< accept() failures (out of descriptors...), each retried after 100 ms.
};

class transport;

namespace detail {

/// Hash of a `peer` for the connection table.
struct peer_hash {
  std::size_t operator()(const peer& p) const noexcept {
    std::size_t h = std::hash<boost::asio::ip::address>{}(p.address);
    h ^= (static_cast<std::size_t>(p.port) << 1) ^ (static_cast<std::size_t>(p.protocol) << 17);
    return h * static_cast<std::size_t>(0x9E3779B97F4A7C15ull);
  }
};

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, from dual-stack sockets) as IPv4; other addresses unchanged.
inline boost::asio::ip::address normalized(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

/// One TCP connection: socket, partial-message buffer, write queue, timer. Owned by the connection
/// table and by the handlers of its pending operations.
struct tcp_connection {
  using clock = std::chrono::steady_clock;
  /// A connection over `s` to or from `p`; `accepted`: it came in through the acceptor.
  tcp_connection(boost::asio::ip::tcp::socket s, peer p, bool accepted)
      : socket(std::move(s)), timer(socket.get_executor()), remote(std::move(p)), incoming(accepted) {}
  boost::asio::ip::tcp::socket socket;
  boost::asio::steady_timer timer;  // connect timeout, then message and idle deadlines
  peer remote;
  std::vector<char> in;             // bytes of the message in progress only; no allocation between messages
  std::deque<std::string> out;      // messages not yet written; the first `writing` are in flight
  std::vector<boost::asio::const_buffer> gather;
  std::size_t writing = 0;
  std::size_t queued_bytes = 0;     // bytes in `out`
  std::uint64_t messages = 0;       // complete messages received
  clock::time_point last_activity{};    // last bytes read or written
  clock::time_point message_started{};  // accept time (first message), or first byte of the message in progress
  clock::time_point armed_at = clock::time_point::max();  // expiry of the pending deadline wait
  bool incoming = false;
  bool in_message = false;          // `in` holds part of a message (not only CRLFs)
  bool connected = false;
  bool closed = false;
};

/// The state of a `transport`, shared with the handlers of its pending operations so that they stay
/// valid after the transport is closed or destroyed. Runs on one executor (see `transport`).
class transport_core : public std::enable_shared_from_this<transport_core> {
 public:
  using udp = boost::asio::ip::udp;
  using tcp = boost::asio::ip::tcp;
  using clock = std::chrono::steady_clock;

  /// State for `owner` (which delivers through its callbacks until `detach`).
  transport_core(boost::asio::any_io_executor ex, transport_config cfg, transport* owner)
      : ex_(std::move(ex)), cfg_(std::move(cfg)), owner_(owner), udp_(ex_), acceptor_(ex_), accept_retry_(ex_) {}

  /// See transport::listen.
  void listen(transport_protocol p, const boost::asio::ip::address& addr, std::uint16_t port, std::error_code& ec) {
    ec.clear();
    if (closed_) {
      ec = std::make_error_code(std::errc::bad_file_descriptor);
      return;
    }
    boost::system::error_code bec, ignored;
    if (p == transport_protocol::udp) {
      if (udp_.is_open()) {
        ec = std::make_error_code(std::errc::already_connected);
        return;
      }
      const udp::endpoint ep(addr, port);
      udp_.open(ep.protocol(), bec);
      if (!bec && addr.is_v6() && addr.is_unspecified()) udp_.set_option(boost::asio::ip::v6_only(false), ignored);
      if (!bec && cfg_.udp_receive_buffer_bytes > 0)  // best effort: a smaller buffer is not an error
        udp_.set_option(udp::socket::receive_buffer_size(static_cast<int>(cfg_.udp_receive_buffer_bytes)), ignored);
      if (!bec) udp_.bind(ep, bec);
      if (!bec) udp_.non_blocking(true, bec);
      udp::endpoint local;
      if (!bec) local = udp_.local_endpoint(bec);
      if (bec) {
        udp_.close(ignored);
        ec = bec;
        return;
      }
      udp_local_ = peer{transport_protocol::udp, local.address(), local.port()};
      udp_buf_.resize(std::clamp<std::size_t>(cfg_.limits.max_message_bytes + 1, 1500, 65536));
      udp_receive(++udp_gen_);
    } else {
      if (acceptor_.is_open()) {
        ec = std::make_error_code(std::errc::already_connected);
        return;
      }
      const tcp::endpoint ep(addr, port);
      acceptor_.open(ep.protocol(), bec);
      if (!bec) acceptor_.set_option(tcp::acceptor::reuse_address(true), bec);
      if (!bec && addr.is_v6() && addr.is_unspecified()) acceptor_.set_option(boost::asio::ip::v6_only(false), ignored);
      if (!bec) acceptor_.bind(ep, bec);
      if (!bec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, bec);
      tcp::endpoint local;
      if (!bec) local = acceptor_.local_endpoint(bec);
      if (bec) {
        acceptor_.close(ignored);
        ec = bec;
        return;
      }
      tcp_local_ = peer{transport_protocol::tcp, local.address(), local.port()};
      accept(++tcp_gen_);
    }
  }

  /// See transport::local.
  [[nodiscard]] std::optional<peer> local(transport_protocol p) const {
    return p == transport_protocol::udp ? udp_local_ : tcp_local_;
  }

  /// See transport::local_for: the bound address, or, when bound to the unspecified address, the address
  /// of the interface the OS routes `to` through (found with a connected UDP socket once per destination).
  [[nodiscard]] std::optional<peer> local_for(const peer& to) {
    auto l = local(to.protocol);
    if (!l || !l->address.is_unspecified() || to.address.is_unspecified()) return l;
    for (const auto& [dst, src] : routes_)
      if (dst == to.address) {
        l->address = src;
        return l;
      }
    udp::socket probe(ex_);
    boost::system::error_code bec;
    probe.open(to.address.is_v4() ? udp::v4() : udp::v6(), bec);
    if (!bec) probe.connect(udp::endpoint(to.address, to.port ? to.port : 5060), bec);
    udp::endpoint src;
    if (!bec) src = probe.local_endpoint(bec);
    if (bec) return l;
    if (routes_.size() >= 64) routes_.clear();
    routes_.emplace_back(to.address, src.address());
    l->address = src.address();
    return l;
  }

  /// See transport::has_connection.
  [[nodiscard]] bool has_connection(const peer& p) const {
    return p.protocol == transport_protocol::tcp && conns_.find(p) != conns_.end();
  }

  /// See transport::send_text; `Text` is std::string_view, or std::string to move into a TCP queue.
  template <class Text>
  void send_text(const peer& to, Text&& text) {
    if (closed_) return;
    if (to.protocol == transport_protocol::udp) send_udp(to, std::string_view(text));
    else send_tcp(to, std::forward<Text>(text));
  }

  /// See transport::close.
  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    udp_.close(ignored);
    acceptor_.close(ignored);
    accept_retry_.cancel();
    auto conns = std::move(conns_);
    conns_.clear();
    for (auto& [p, c] : conns) {
      c->closed = true;
      c->socket.close(ignored);
      c->timer.cancel();
      c->out.clear();
      std::vector<char>().swap(c->in);
    }
    sources_.clear();
    udp_local_.reset();
    tcp_local_.reset();
  }

  /// See transport::stats.
  [[nodiscard]] transport_stats stats() const {
    auto s = stats_;
    s.tcp_connections = conns_.size();
    for (const auto& [p, c] : conns_) s.tcp_buffered_bytes += c->in.capacity();
    return s;
  }

  /// The executor of every operation.
  const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
  /// The configuration.
  const transport_config& config() const noexcept { return cfg_; }
  /// Forgets the owner (its destructor runs): no callback is delivered afterwards.
  void detach() noexcept { owner_ = nullptr; }

 private:
  // --- delivery to the owner (defined after `transport`) ---
  template <class F, class... A>
  void call_owner(F transport::*callback, A&&... args);
  void deliver(message&& m, const peer& from);
  void deliver_truncated(message&& m, const peer& from);
  void report(const peer& to, std::error_code ec);

  // --- UDP ---
  void udp_receive(unsigned gen) {
    udp_.async_receive_from(boost::asio::buffer(udp_buf_), udp_from_,
                            [self = shared_from_this(), gen](const boost::system::error_code& ec, std::size_t n) {
                              self->on_udp(gen, ec, n);
                            });
  }
  void on_udp(unsigned gen, const boost::system::error_code& ec, std::size_t n) {
    if (closed_ || gen != udp_gen_ || ec == boost::asio::error::operation_aborted) return;
    if (!ec) {
      datagram(n);
      // Drain what is already queued without another trip through the reactor.
      for (int i = 0; i < 32 && !closed_ && gen == udp_gen_; ++i) {
        boost::system::error_code e2;
        const auto m = udp_.receive_from(boost::asio::buffer(udp_buf_), udp_from_, 0, e2);
        if (e2) break;
        datagram(m);
      }
    }
    // Other errors (an ICMP error surfacing on the socket) are not fatal: keep receiving.
    if (!closed_ && gen == udp_gen_) udp_receive(gen);
  }
  void datagram(std::size_t n) {
    const std::string_view data(udp_buf_.data(), n);
    if (data.find_first_not_of("\r\n \t") == std::string_view::npos) {
      ++stats_.keepalives;
      return;
    }
    const peer from{transport_protocol::udp, normalized(udp_from_.address()), udp_from_.port()};
    auto m = parse_message(data, cfg_.limits);
    if (m) {
      deliver(std::move(*m), from);
      return;
    }
    // RFC 3261 §18.3: a request whose Content-Length exceeds the datagram is answered 400 (by the
    // owner, which knows how); a response is dropped.
    if (auto t = parse_truncated_message(data, cfg_.limits); t && t->is_request()) {
      ++stats_.truncated_requests;
      deliver_truncated(std::move(*t), from);
      return;
    }
    ++stats_.malformed_dropped;
  }
  void send_udp(const peer& to, std::string_view text) {
    if (!udp_.is_open()) {
      report(to, std::make_error_code(std::errc::not_connected));
      return;
    }
    udp::endpoint ep(to.address, to.port);
    if (to.address.is_v4() && udp_local_ && udp_local_->address.is_v6())
      ep.address(boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, to.address.to_v4()));
    boost::system::error_code ec;
    udp_.send_to(boost::asio::buffer(text.data(), text.size()), ep, 0, ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
      // Socket buffer full: hand a copy to the reactor.
      auto copy = std::make_unique<std::string>(text);
      auto* data = copy.get();
      udp_.async_send_to(boost::asio::buffer(*data), ep,
                         [self = shared_from_this(), to, copy = std::move(copy)](const boost::system::error_code& e, std::size_t) {
                           if (self->closed_ || e == boost::asio::error::operation_aborted) return;
                           if (e) self->report(to, e);
                           else ++self->stats_.sent;
                         });
    } else if (ec) {
      report(to, ec);
    } else {
      ++stats_.sent;
    }
  }

  // --- TCP ---
  void accept(unsigned gen) {
    acceptor_.async_accept([self = shared_from_this(), gen](const boost::system::error_code& ec, tcp::socket s) {
      self->on_accept(gen, ec, std::move(s));
    });
  }
  void on_accept(unsigned gen, const boost::system::error_code& ec, tcp::socket s) {
    if (closed_ || gen != tcp_gen_ || ec == boost::asio::error::operation_aborted) return;
    if (ec) {  // e.g. out of descriptors (EMFILE, ENFILE): retry shortly instead of spinning
      ++stats_.accept_errors;
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([self = shared_from_this(), gen](const boost::system::error_code& e) {
        if (!e && !self->closed_ && gen == self->tcp_gen_) self->accept(gen);
      });
      return;
    }
    boost::system::error_code e;
    const auto ep = s.remote_endpoint(e);
    const auto from = e ? boost::asio::ip::address() : normalized(ep.address());
    if (e) {
      s.close(e);
    } else if (cfg_.max_tcp_connections_per_source > 0 && source_count(from) >= cfg_.max_tcp_connections_per_source) {
      ++stats_.tcp_source_rejected;
      s.close(e);
    } else if (conns_.size() >= cfg_.max_tcp_connections && !evict_one()) {
      ++stats_.tcp_rejected;
      s.close(e);
    } else {
      peer p{transport_protocol::tcp, from, ep.port()};
      s.set_option(tcp::no_delay(true), e);
      s.non_blocking(true, e);
      auto c = std::make_shared<tcp_connection>(std::move(s), p, true);
      c->connected = true;
      c->last_activity = c->message_started = clock::now();
      if (auto it = conns_.find(p); it != conns_.end()) close_connection(it->second, {});
      conns_.emplace(std::move(p), c);
      ++sources_[from];
      ++stats_.tcp_accepted;
      arm_deadline(c);
      read(c);
    }
    accept(gen);
  }
  [[nodiscard]] std::size_t source_count(const boost::asio::ip::address& a) const {
    const auto it = sources_.find(a);
    return it == sources_.end() ? 0 : it->second;
  }
  // At `max_tcp_connections`: closes the connection with least claim to stay (see transport_config).
  // False when every connection is writing, has messages queued or is connecting. O(connections).
  bool evict_one() {
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
  void send_tcp(const peer& to, Text&& text) {
    std::shared_ptr<tcp_connection> c;
    if (auto it = conns_.find(to); it != conns_.end()) {
      c = it->second;
    } else {
      if (conns_.size() >= cfg_.max_tcp_connections && !evict_one()) {
        report(to, std::make_error_code(std::errc::too_many_files_open));
        return;
      }
      c = std::make_shared<tcp_connection>(tcp::socket(ex_), to, false);
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
  void connect(const std::shared_ptr<tcp_connection>& c) {
    c->timer.expires_after(cfg_.tcp_connect_timeout);
    c->timer.async_wait([self = shared_from_this(), c](const boost::system::error_code& e) {
      if (e || self->closed_ || c->closed || c->connected) return;
      self->close_connection(c, std::make_error_code(std::errc::timed_out));
    });
    c->socket.async_connect(tcp::endpoint(c->remote.address, c->remote.port),
                            [self = shared_from_this(), c](const boost::system::error_code& e) { self->on_connected(c, e); });
  }
  void on_connected(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e) {
    if (closed_ || c->closed) return;
    if (e) {
      close_connection(c, e);
      return;
    }
    boost::system::error_code ignored;
    c->socket.set_option(tcp::no_delay(true), ignored);
    c->socket.non_blocking(true, ignored);
    c->connected = true;
    c->last_activity = clock::now();
    ++stats_.tcp_connected;
    c->armed_at = clock::time_point::max();  // the connect wait has completed or is aborted below
    arm_deadline(c);
    read(c);
    write(c);
  }

  // The time `c` is closed unless something happens: the end of the message in progress (or of an
  // accepted connection's first message), or the end of the idle time.
  [[nodiscard]] clock::time_point deadline(const tcp_connection& c) const {
    auto at = c.last_activity + cfg_.tcp_idle_timeout;
    if (c.in_message || (c.incoming && c.messages == 0)) at = std::min(at, c.message_started + cfg_.tcp_message_timeout);
    return at;
  }
  // (Re)arms the connection's timer when its deadline is earlier than the pending wait (or none is
  // pending). A wait that fires early re-arms itself for the current deadline.
  void arm_deadline(const std::shared_ptr<tcp_connection>& c) {
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
  void on_deadline(const std::shared_ptr<tcp_connection>& c) {
    const auto now = clock::now();
    if (deadline(*c) > now) {
      arm_deadline(c);
      return;
    }
    if (now - c->last_activity >= cfg_.tcp_idle_timeout) ++stats_.tcp_idle_closed;
    else ++stats_.tcp_message_timeouts;
    close_connection(c, c->out.empty() ? std::error_code{} : std::make_error_code(std::errc::timed_out));
  }

  // Reading: wait for readability, then read into the shared scratch buffer; only the bytes of an
  // incomplete message are copied into the connection's own buffer (see transport_config).
  void read(const std::shared_ptr<tcp_connection>& c) {
    c->socket.async_wait(tcp::socket::wait_read, [self = shared_from_this(), c](const boost::system::error_code& e) {
      self->on_readable(c, e);
    });
  }
  void on_readable(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e) {
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
      if (!consume(c, n) || closed_ || c->closed) return;
      if (n < scratch_.size()) break;
    }
    read(c);
  }
  // Frames and delivers what `n` new bytes in scratch_ complete; keeps an incomplete rest in c->in.
  // False when the connection was closed (unframeable stream, oversized header).
  bool consume(const std::shared_ptr<tcp_connection>& c, std::size_t n) {
    c->last_activity = clock::now();
    const bool continuing = !c->in.empty();
    if (continuing) {  // grow by doubling up to 16 KiB, exactly beyond (only a large body gets there)
      if (c->in.size() + n > c->in.capacity())
        c->in.reserve(std::max(c->in.size() + n, std::min<std::size_t>(2 * c->in.capacity(), 16384)));
      c->in.insert(c->in.end(), scratch_.data(), scratch_.data() + n);
    }
    const std::string_view all = continuing ? std::string_view(c->in.data(), c->in.size()) : std::string_view(scratch_.data(), n);
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
  // True when `view` (an incomplete frame) has more header bytes than max_tcp_header_bytes without the
  // empty line that ends the header (leading CRLFs not counted).
  [[nodiscard]] bool header_too_long(std::string_view view) const {
    std::size_t skip = 0;
    while (skip + 1 < view.size() && view[skip] == '\r' && view[skip + 1] == '\n') skip += 2;
    view.remove_prefix(skip);
    if (view.size() <= cfg_.max_tcp_header_bytes) return false;
    return !detail::find_header_end(view.substr(0, cfg_.max_tcp_header_bytes + 1));
  }
  void write(const std::shared_ptr<tcp_connection>& c) {
    if (c->writing || c->out.empty() || !c->connected || c->closed) return;
    auto done = [self = shared_from_this(), c](const boost::system::error_code& e, std::size_t) { self->on_written(c, e); };
    if (c->out.size() == 1) {
      c->writing = 1;
      boost::asio::async_write(c->socket, boost::asio::buffer(c->out.front()), std::move(done));
      return;
    }
    c->writing = std::min<std::size_t>(c->out.size(), 16);
    c->gather.clear();
    for (std::size_t i = 0; i < c->writing; ++i) c->gather.emplace_back(boost::asio::buffer(c->out[i]));
    boost::asio::async_write(c->socket, c->gather, std::move(done));
  }
  void on_written(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e) {
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
  void close_connection(const std::shared_ptr<tcp_connection>& c, std::error_code ec) {
    if (c->closed) return;
    c->closed = true;
    boost::system::error_code ignored;
    c->socket.close(ignored);
    c->timer.cancel();
    std::vector<char>().swap(c->in);
    if (auto it = conns_.find(c->remote); it != conns_.end() && it->second == c) conns_.erase(it);
    if (c->incoming)
      if (auto it = sources_.find(c->remote.address); it != sources_.end() && --it->second == 0) sources_.erase(it);
    // Messages still queued were not (completely) sent.
    if (!c->out.empty() && !(c->out.size() == 1 && c->out.front() == "\r\n"))
      report(c->remote, ec ? ec : std::make_error_code(std::errc::connection_aborted));
    c->out.clear();
  }

  boost::asio::any_io_executor ex_;
  transport_config cfg_;
  transport* owner_;
  bool closed_ = false;
  udp::socket udp_;
  udp::endpoint udp_from_;
  std::vector<char> udp_buf_;
  unsigned udp_gen_ = 0;
  std::optional<peer> udp_local_, tcp_local_;
  tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  unsigned tcp_gen_ = 0;
  std::unordered_map<peer, std::shared_ptr<tcp_connection>, peer_hash> conns_;
  std::unordered_map<boost::asio::ip::address, std::size_t> sources_;  // accepted connections per source address
  std::vector<char> scratch_;  // TCP read buffer shared by every connection (reads run one at a time)
  std::vector<std::pair<boost::asio::ip::address, boost::asio::ip::address>> routes_;
  transport_stats stats_;
};

}  // namespace detail

/// The SIP transport layer (RFC 3261 §18): a UDP socket and a TCP acceptor (IPv4 or IPv6, one of each)
/// and the TCP connections made or accepted, on one executor.
///
/// Receiving: every well-formed message goes to `on_message` with the `peer` it came from; datagrams
/// that do not parse (or exceed `transport_config::limits`) are dropped and counted, except requests
/// whose Content-Length exceeds the datagram (`on_truncated_request`, §18.3); on TCP, messages are
/// framed by Content-Length (§18.3), split and pipelined writes are handled, and a stream that cannot be
/// framed closes its connection. CRLF keep-alives are ignored (double-CRLF pings on TCP get a CRLF
/// pong, RFC 5626 §4.4.1). TCP connections are bounded in number, per source, in buffered bytes and in
/// time (see `transport_config`).
///
/// An exception thrown by a callback is caught (and counted in `transport_stats::handler_errors`): it
/// never unwinds into the executor's run(); the message being delivered is lost.
///
/// Sending: UDP datagrams go out at once (queued only when the socket buffer is full); TCP messages go
/// over the connection to or from that peer (address and port), or a new connection (queued while it
/// connects). Failures are reported to `on_error`, always later from the executor, never from inside
/// `send`.
///
/// Thread safety: none. Every member function must be called, and every callback runs, on the
/// executor given to the constructor, one at a time (the caller guarantees it, as with an Asio strand).
/// Lifetime: the transport may be destroyed with operations pending (their handlers keep its internal
/// state alive and do nothing); the executor's execution context must outlive those handlers as usual.
/// Not copyable or movable (handlers refer to it).
class transport {
 public:
  /// A transport that does nothing until `listen`. `ex`: the executor of every socket, timer and callback.
  explicit transport(boost::asio::any_io_executor ex, transport_config cfg = {})
      : core_(std::make_shared<detail::transport_core>(std::move(ex), std::move(cfg), this)) {}
  /// Closes everything (see `close`).
  ~transport() {
    core_->detach();
    core_->close();
  }
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  /// Binds a UDP socket or a TCP listening socket to `addr`:`port` (port 0: an ephemeral port, see
  /// `local`) and starts receiving or accepting. UDP and TCP may both listen, on different addresses if
  /// wanted; the IPv6 unspecified address `::` also receives IPv4 (dual stack) where the OS allows.
  /// Errors in `ec`: the OS's bind/listen error (address in use, address not available...),
  /// std::errc::already_connected when `p` already listens, std::errc::bad_file_descriptor after `close`.
  void listen(transport_protocol p, const boost::asio::ip::address& addr, std::uint16_t port, std::error_code& ec) {
    core_->listen(p, addr, port, ec);
  }
  /// The bound address and port of protocol `p`, nullopt when it does not listen (or after `close`).
  [[nodiscard]] std::optional<peer> local(transport_protocol p) const { return core_->local(p); }
  /// `local(to.protocol)`, except that an unspecified bound address (0.0.0.0, ::) is replaced by the
  /// address of the local interface the OS routes `to` through (for Via sent-by and Contact; cached per
  /// destination address, 64 entries). nullopt when `to.protocol` does not listen.
  [[nodiscard]] std::optional<peer> local_for(const peer& to) { return core_->local_for(to); }
  /// True when a TCP connection to or from `p` is open or connecting (the one `send` would use).
  /// See transport::has_connection.
  [[nodiscard]] bool has_connection(const peer& p) const { return core_->has_connection(p); }

  /// Serializes `m` (message::to_string) and sends it to `to` (see `send_text`).
  void send(const peer& to, const message& m) { core_->send_text(to, m.to_string()); }
  /// As `send_text(to, text)`, moving `text` into the TCP write queue instead of copying it.
  template <class S>
    requires std::same_as<S, std::string>  // an rvalue std::string only (literals and views take the overload above)
  void send_text(const peer& to, S&& text) {
    core_->send_text(to, std::move(text));
  }
  /// Sends already serialized message text to `to`. UDP: one datagram, from the listening socket (an
  /// IPv4 peer is reached through a dual-stack IPv6 socket as IPv4-mapped). TCP: over the connection to
  /// or from `to`, else over a new connection (connect timeout `tcp_connect_timeout`); messages are
  /// written in order. Errors go to `on_error(to, ec)`, later: UDP not listening (std::errc::not_connected),
  /// the OS's send error, TCP connect failure or timeout (std::errc::timed_out), a connection lost with
  /// messages still queued, more than `max_tcp_connections` (std::errc::too_many_files_open), more
  /// than `max_tcp_queued_bytes` waiting on a connection (std::errc::no_buffer_space; the connection is
  /// closed). Does nothing after `close`. Throws only std::bad_alloc.
  void send_text(const peer& to, std::string_view text) { core_->send_text(to, text); }

  /// Every well-formed message received, with its source. Runs on the executor. May call any member
  /// (including `close`), and may replace itself. An exception it throws is caught and counted.
  std::function<void(message&&, const peer& from)> on_message;
  /// A UDP request whose Content-Length exceeds the datagram (RFC 3261 §18.3), as parsed from its header
  /// (parse_truncated_message; the body is empty), for the owner to answer 400. Such responses are
  /// dropped. Runs on the executor; may be empty (the request is then dropped).
  std::function<void(message&& header, const peer& from)> on_truncated_request;
  /// Send and connect failures (RFC 3261 §17.1.4, §18.4): the destination and the error. Runs on the
  /// executor, never from inside `send`.
  std::function<void(const peer& to, std::error_code)> on_error;

  /// Closes the sockets and every connection (queued TCP messages are discarded). No callback runs
  /// afterwards; `send` does nothing; `listen` fails. Idempotent.
  void close() { core_->close(); }
  /// Counters (see `transport_stats`).
  [[nodiscard]] transport_stats stats() const { return core_->stats(); }
  /// The configuration given to the constructor.
  [[nodiscard]] const transport_config& config() const noexcept { return core_->config(); }
  /// The executor everything runs on.
  [[nodiscard]] const boost::asio::any_io_executor& get_executor() const noexcept { return core_->executor(); }

 private:
  std::shared_ptr<detail::transport_core> core_;
};

namespace detail {

// Callbacks are called through a copy, so that they may reassign or clear themselves or destroy the
// transport. An exception from one is caught and counted here: it must not unwind into the executor's
// run() (std::terminate or a dead SIP thread); the message it was handling is lost.
template <class F, class... A>
void transport_core::call_owner(F transport::*callback, A&&... args) {
  if (closed_ || !owner_ || !(owner_->*callback)) return;
  const auto f = owner_->*callback;
  try {
    f(std::forward<A>(args)...);
  } catch (...) {
    ++stats_.handler_errors;
  }
}

inline void transport_core::deliver(message&& m, const peer& from) {
  ++stats_.received;
  call_owner(&transport::on_message, std::move(m), from);
}

inline void transport_core::deliver_truncated(message&& m, const peer& from) {
  call_owner(&transport::on_truncated_request, std::move(m), from);
}

inline void transport_core::report(const peer& to, std::error_code ec) {
  ++stats_.send_errors;
  boost::asio::post(ex_, [self = shared_from_this(), to, ec] { self->call_owner(&transport::on_error, to, ec); });
}

}  // namespace detail

}  // namespace tspi::sip
