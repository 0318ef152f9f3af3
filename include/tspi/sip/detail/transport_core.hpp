// ptapi - portable TAPI
// tspi/sip/detail/transport_core.hpp: the state of a SIP transport, shared with its pending operations; its
// UDP side is defined in tspi/sip/transport/udp.hpp, its TCP side in tspi/sip/transport/tcp.hpp, the TLS
// layer of its TCP connections in tspi/sip/transport/tls.hpp.
#pragma once

#include <tspi/sip/detail/tcp_connection.hpp>
#include <tspi/sip/detail/tls_context.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transport/config.hpp>
#include <tspi/sip/transport/peer.hpp>
#include <tspi/sip/transport/tls_error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tspi::sip {

class transport;

namespace detail {

/// The state of a `transport`, shared with the handlers of its pending operations so that they stay
/// valid after the transport is closed or destroyed. Runs on one executor (see `transport`).
class transport_core : public std::enable_shared_from_this<transport_core> {
 public:
  using udp = boost::asio::ip::udp;
  using tcp = boost::asio::ip::tcp;
  using clock = std::chrono::steady_clock;

  /// State for `owner` (which delivers through its callbacks until `detach`).
  transport_core(boost::asio::any_io_executor ex, transport_config cfg, transport* owner)
      : ex_(std::move(ex)), cfg_(std::move(cfg)), owner_(owner), udp_(ex_), tcp_listener_(ex_), tls_listener_(ex_),
        tls_sessions_(cfg_.tls.max_cached_sessions) {
    tls_client_ = make_client_tls_context(cfg_.tls, tls_sessions_, tls_error_);
    if (!tls_error_) tls_server_ = make_server_tls_context(cfg_.tls, tls_error_);
  }

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
      auto& l = listener_for(p);
      if (p == transport_protocol::tls && !tls_server_) {  // no certificate: no TLS server
        ec = tls_error_ ? tls_error_ : std::make_error_code(std::errc::invalid_argument);
        return;
      }
      auto& acceptor = l.acceptor;
      if (acceptor.is_open()) {
        ec = std::make_error_code(std::errc::already_connected);
        return;
      }
      const tcp::endpoint ep(addr, port);
      acceptor.open(ep.protocol(), bec);
      if (!bec) acceptor.set_option(tcp::acceptor::reuse_address(true), bec);
      if (!bec && addr.is_v6() && addr.is_unspecified()) acceptor.set_option(boost::asio::ip::v6_only(false), ignored);
      if (!bec) acceptor.bind(ep, bec);
      if (!bec) acceptor.listen(boost::asio::socket_base::max_listen_connections, bec);
      tcp::endpoint local;
      if (!bec) local = acceptor.local_endpoint(bec);
      if (bec) {
        acceptor.close(ignored);
        ec = bec;
        return;
      }
      l.local = peer{p, local.address(), local.port()};
      accept(p, ++l.gen);
    }
  }

  /// See transport::local.
  [[nodiscard]] std::optional<peer> local(transport_protocol p) const {
    return p == transport_protocol::udp ? udp_local_ : listener_for(p).local;
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
    return is_reliable(p.protocol) && conns_.find(p) != conns_.end();
  }

  /// See transport::set_tls_server_name.
  void set_tls_server_name(const peer& p, std::string name) {
    if (tls_names_.size() >= 4096 && tls_names_.find(p) == tls_names_.end()) tls_names_.clear();
    tls_names_[p] = std::move(name);
  }
  /// See transport::tls_error.
  [[nodiscard]] std::error_code tls_error() const noexcept { return tls_error_; }

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
    for (auto* l : {&tcp_listener_, &tls_listener_}) {
      l->acceptor.close(ignored);
      l->retry.cancel();
      l->local.reset();
    }
    auto conns = std::move(conns_);
    conns_.clear();
    for (auto& [p, c] : conns) {
      c->closed = true;
      release_socket(c);
      c->out.clear();
      std::vector<char>().swap(c->in);
    }
    sources_.clear();
    udp_local_.reset();
    handshakes_ = 0;
  }

  /// See transport::close_connection.
  void close_connection(const peer& p) {
    if (closed_ || !is_reliable(p.protocol)) return;
    const auto it = conns_.find(p);
    if (it == conns_.end()) return;
    const auto c = it->second;  // a copy: close_connection erases the table's entry
    close_connection(c, {});
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
  void deliver_pong(const peer& from);
  void report(const peer& to, std::error_code ec);

  // --- UDP ---
  void udp_receive(unsigned gen);
  void on_udp(unsigned gen, const boost::system::error_code& ec, std::size_t n);
  void datagram(std::size_t n);
  void send_udp(const peer& to, std::string_view text);

  // --- TCP (and TLS) ---
  // A listening socket of TCP or TLS.
  struct listener {
    explicit listener(const boost::asio::any_io_executor& ex) : acceptor(ex), retry(ex) {}
    tcp::acceptor acceptor;
    boost::asio::steady_timer retry;  // accept() failed: wait before trying again
    unsigned gen = 0;                 // a new listen() makes older accept handlers stale
    std::optional<peer> local;
  };
  listener& listener_for(transport_protocol p) { return p == transport_protocol::tls ? tls_listener_ : tcp_listener_; }
  const listener& listener_for(transport_protocol p) const { return p == transport_protocol::tls ? tls_listener_ : tcp_listener_; }
  void accept(transport_protocol p, unsigned gen);
  void on_accept(transport_protocol p, unsigned gen, const boost::system::error_code& ec, tcp::socket s);
  [[nodiscard]] std::size_t source_count(const boost::asio::ip::address& a) const;
  // At `max_tcp_connections`: closes the connection with least claim to stay (see transport_config).
  // False when every connection is writing, has messages queued or is connecting. O(connections).
  bool evict_one();
  template <class Text>
  void send_tcp(const peer& to, Text&& text);
  void connect(const std::shared_ptr<tcp_connection>& c);
  void on_connected(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e);
  // Connected (TLS: handshake done): deadlines armed, reading and writing start.
  void established(const std::shared_ptr<tcp_connection>& c);

  // --- TLS (tspi/sip/transport/tls.hpp) ---
  // Gives `c` its TLS layer (client or server side); false when TLS is not usable (tls_error_).
  bool add_tls_layer(tcp_connection& c);
  // Starts the handshake of `c` under tls_config::handshake_timeout.
  void handshake(const std::shared_ptr<tcp_connection>& c);
  void on_handshake(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e);
  void read_tls(const std::shared_ptr<tcp_connection>& c);
  // Closes the socket of `c` (closed, out of the table): an established TLS connection with no write in
  // flight first sends close_notify and waits for the peer's at most close_notify_timeout (at most
  // max_tcp_connections such closes at once; beyond, and for anything else, the socket closes at once).
  void release_socket(const std::shared_ptr<tcp_connection>& c);

  // The time `c` is closed unless something happens: the end of the message in progress (or of an
  // accepted connection's first message), or the end of the idle time.
  [[nodiscard]] clock::time_point deadline(const tcp_connection& c) const;
  // (Re)arms the connection's timer when its deadline is earlier than the pending wait (or none is
  // pending). A wait that fires early re-arms itself for the current deadline.
  void arm_deadline(const std::shared_ptr<tcp_connection>& c);
  void on_deadline(const std::shared_ptr<tcp_connection>& c);

  // Reading: wait for readability, then read into the shared scratch buffer; only the bytes of an
  // incomplete message are copied into the connection's own buffer (see transport_config).
  void read(const std::shared_ptr<tcp_connection>& c);
  void on_readable(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e);
  // Frames and delivers what the new bytes `data` (in scratch_ or c->tls_in) complete; keeps an incomplete
  // rest in c->in. False when the connection was closed (unframeable stream, oversized header).
  bool consume(const std::shared_ptr<tcp_connection>& c, std::string_view data);
  // True when `view` (an incomplete frame) has more header bytes than max_tcp_header_bytes without the
  // empty line that ends the header (leading CRLFs not counted).
  [[nodiscard]] bool header_too_long(std::string_view view) const;
  void write(const std::shared_ptr<tcp_connection>& c);
  void on_written(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e);
  void close_connection(const std::shared_ptr<tcp_connection>& c, std::error_code ec);

  boost::asio::any_io_executor ex_;
  transport_config cfg_;
  transport* owner_;
  bool closed_ = false;
  udp::socket udp_;
  udp::endpoint udp_from_;
  std::vector<char> udp_buf_;
  unsigned udp_gen_ = 0;
  std::optional<peer> udp_local_;
  listener tcp_listener_, tls_listener_;
  tls_session_cache tls_sessions_;  // client side; declared before the contexts that point to it
  std::size_t closing_ = 0;         // TLS connections waiting for the close_notify exchange
  std::unique_ptr<boost::asio::ssl::context> tls_client_, tls_server_;  // null: not usable (tls_error_) / no certificate
  std::error_code tls_error_;
  std::size_t handshakes_ = 0;  // TLS handshakes in progress
  std::unordered_map<peer, std::string, peer_hash> tls_names_;  // the SIP domain to check per TLS destination
  std::unordered_map<peer, std::shared_ptr<tcp_connection>, peer_hash> conns_;
  std::unordered_map<boost::asio::ip::address, std::size_t> sources_;  // accepted connections per source address
  std::vector<char> scratch_;  // TCP read buffer shared by every connection (reads run one at a time)
  std::vector<std::pair<boost::asio::ip::address, boost::asio::ip::address>> routes_;
  transport_stats stats_;
};

}  // namespace detail

}  // namespace tspi::sip
