// ptapi - portable TAPI
// mspi/turn/detail/allocation_core.hpp: the state of one TURN allocation (RFC 8656) behind
// mspi::turn::allocation: its pending transactions (bounded table, retransmission, long-term credential
// challenges), permissions and channels (bounded tables), the refresh timer, and the per-datagram paths
// (demultiplexing what the server sends; ChannelData or Send indications to a peer). Shared with the
// handlers of its timers and receive operation, so that they never outlive it.
#pragma once

#include <mspi/detail/random.hpp>
#include <mspi/stun/message.hpp>
#include <mspi/turn/channel_data.hpp>
#include <mspi/turn/detail/completion.hpp>
#include <mspi/turn/detail/messages.hpp>
#include <mspi/turn/error.hpp>
#include <mspi/turn/options.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mspi::turn {

/// What `allocation::handle` made of a datagram.
struct received {
  enum class kind : std::uint8_t {
    not_from_server,  ///< Not from the TURN server's address: not the allocation's (the caller's own traffic).
    control,          ///< A STUN response or message of the allocation, consumed.
    data,             ///< Relayed data: `peer` sent `payload` to the relayed address.
    dropped,          ///< From the server but malformed, unexpected or unauthenticated; ignored.
  };
  kind what = kind::not_from_server;
  boost::asio::ip::udp::endpoint peer;  ///< The peer (kind::data).
  std::span<const std::byte> payload;   ///< The relayed data, a view into the datagram (kind::data).
};

/// The lifecycle of an allocation (RFC 8656 §6).
enum class allocation_state : std::uint8_t {
  idle,         ///< No Allocate sent yet.
  allocating,   ///< Allocate sent, no final answer yet.
  allocated,    ///< The relayed address exists; refreshed by the client.
  failed,       ///< Allocate failed, or the server lost the allocation (a Refresh answered 437, or it expired).
  deallocated,  ///< Deleted by a Refresh with LIFETIME 0, or closed.
};

namespace detail {

class allocation_core : public std::enable_shared_from_this<allocation_core> {
 public:
  using udp = boost::asio::ip::udp;
  using clock = std::chrono::steady_clock;
  using data_handler = std::function<void(const udp::endpoint& peer, std::span<const std::byte> payload)>;

  static constexpr std::size_t max_transactions = 8;
  static constexpr std::size_t max_permissions = 32;
  static constexpr std::size_t max_channels = 32;
  static constexpr std::size_t receive_buffer_size = 4096;

  allocation_core(udp::socket& socket, udp::endpoint server, credentials creds, allocation_options options)
      : socket_(socket),
        server_(std::move(server)),
        credentials_(std::move(creds)),
        options_(std::move(options)),
        maintenance_(socket.get_executor()) {
    transactions_.reserve(max_transactions);
    for (std::size_t i = 0; i < max_transactions; ++i) transactions_.emplace_back(socket.get_executor());
  }

  // ---- user operations -------------------------------------------------------------------------------

  void allocate(std::unique_ptr<completion> done) {
    if (state_ != allocation_state::idle && state_ != allocation_state::failed)
      return done->complete({closed_ ? turn_errc::closed : turn_errc::already_allocated});
    state_ = allocation_state::allocating;
    start({stun::method::allocate, static_cast<std::uint32_t>(options_.lifetime.count()), {}, 0}, std::move(done));
  }

  void create_permission(const boost::asio::ip::address& peer, std::unique_ptr<completion> done) {
    if (state_ != allocation_state::allocated) return done->complete({turn_errc::not_allocated});
    auto* p = find_permission(peer);
    if (!p) p = add_permission(peer);
    if (!p) return done->complete({turn_errc::too_many_peers});
    p->refreshing = true;
    start({stun::method::create_permission, {}, udp::endpoint(peer, 0), 0}, std::move(done));
  }

  void bind_channel(const udp::endpoint& peer, std::unique_ptr<completion> done) {
    if (state_ != allocation_state::allocated) return done->complete({turn_errc::not_allocated});
    auto* c = find_channel(peer);
    if (c && c->bound) {
      outcome o;
      o.channel = c->number;
      return done->complete(o);
    }
    if (!c) {
      auto free = std::find_if(channels_.begin(), channels_.end(), [](const channel& x) { return !x.used; });
      if (free == channels_.end() || next_channel_ > last_channel) return done->complete({turn_errc::too_many_peers});
      c = &*free;
      *c = channel{true, next_channel_++, peer, false, false, {}};
    }
    c->refreshing = true;
    start({stun::method::channel_bind, {}, peer, c->number}, std::move(done));
  }

  void deallocate(std::unique_ptr<completion> done) {
    if (state_ != allocation_state::allocated) return done->complete({turn_errc::not_allocated});
    start({stun::method::refresh, 0U, {}, 0}, std::move(done));
  }

  void set_data_handler(data_handler h) { on_data_ = std::move(h); }

  // Ends every operation (`turn_errc::closed`), stops the timers and the own receive, and when an
  // allocation exists sends one Refresh with LIFETIME 0 without waiting (RFC 8656 §8: deletes it early).
  void close() noexcept {
    if (closed_) return;
    closed_ = true;
    if (state_ == allocation_state::allocated) send_deallocate_once();
    state_ = allocation_state::deallocated;
    boost::system::error_code ignored;
    maintenance_.cancel();
    for (auto& t : transactions_)
      if (t.active) finish(t, {turn_errc::closed});
    if (receiving_) socket_.cancel(ignored);
  }

  // ---- datagram paths ------------------------------------------------------------------------------

  received handle(const udp::endpoint& from, std::span<const std::byte> datagram) noexcept {
    received r;
    if (from != server_) return r;
    r.what = received::kind::dropped;
    if (datagram.empty() || closed_) return drop(r);
    const unsigned first = std::to_integer<unsigned>(datagram[0]);
    if ((first & 0xC0) == 0x40) {  // ChannelData (RFC 7983 §7: 64..79; RFC 8656 §12.6)
      channel_data cd;
      if (!parse_channel_data(datagram, cd)) return drop(r);
      const auto* c = find_channel_number(cd.channel);
      if (!c || !c->bound) return drop(r);
      ++stats_.channel_data_received;
      return {received::kind::data, c->peer, cd.payload};
    }
    stun::message_view m;
    if (stun::message_view::parse(datagram, m)) return drop(r);
    if (m.klass() == stun::message_class::indication) {
      udp::endpoint peer;
      std::span<const std::byte> payload;
      // RFC 8656 §11.4: a Data indication from a peer without a permission is discarded.
      if (m.method() != stun::method::data || stun::check_fingerprint(m, false) ||
          !read_data_indication(m, peer, payload) || !find_permission(peer.address()))
        return drop(r);
      ++stats_.data_indications_received;
      return {received::kind::data, peer, payload};
    }
    if (m.klass() != stun::message_class::success_response && m.klass() != stun::message_class::error_response)
      return drop(r);
    for (auto& t : transactions_)
      if (t.active && t.id == m.transaction()) {
        if (!on_response(t, m)) return drop(r);
        r.what = received::kind::control;
        return r;
      }
    return drop(r);
  }

  std::error_code send_to(const udp::endpoint& peer, std::span<const std::byte> payload) noexcept {
    if (state_ != allocation_state::allocated) return turn_errc::not_allocated;
    if (payload.size() > 0xFFFF) return std::make_error_code(std::errc::message_size);
    boost::system::error_code ec;
    if (const auto* c = find_channel(peer); c && c->bound) {
      const auto head = channel_data_header(c->number, payload.size());
      const std::array<boost::asio::const_buffer, 2> b{boost::asio::buffer(head), boost::asio::buffer(payload.data(), payload.size())};
      socket_.send_to(b, server_, 0, ec);
      if (!ec) ++stats_.channel_data_sent;
      return ec;
    }
    if (!find_permission(peer.address())) return turn_errc::no_permission;
    stun::transaction_id id;
    try {
      mspi::detail::random_bytes(id);
    } catch (const std::system_error& e) {
      return e.code();
    }
    std::array<std::byte, max_send_head> head_buffer;
    const auto head = write_send_head(peer, id, payload.size(), head_buffer);
    if (head.empty()) return std::make_error_code(std::errc::message_size);
    static constexpr std::array<std::byte, 3> zeros{};
    const std::array<boost::asio::const_buffer, 3> b{boost::asio::buffer(head.data(), head.size()),
                                                     boost::asio::buffer(payload.data(), payload.size()),
                                                     boost::asio::buffer(zeros.data(), (4 - payload.size() % 4) % 4)};
    socket_.send_to(b, server_, 0, ec);
    if (!ec) ++stats_.send_indications_sent;
    return ec;
  }

  // ---- observers ---------------------------------------------------------------------------------------

  udp::socket::executor_type executor() const noexcept { return socket_.get_executor(); }
  allocation_state state() const noexcept { return state_; }
  const allocate_result& result() const noexcept { return result_; }
  const allocation_statistics& statistics() const noexcept { return stats_; }
  const udp::endpoint& server() const noexcept { return server_; }
  int last_error_code() const noexcept { return last_error_code_; }
  std::uint16_t channel_of(const udp::endpoint& peer) const noexcept {
    const auto* c = find_channel(peer);
    return c && c->bound ? c->number : 0;
  }
  bool has_permission(const boost::asio::ip::address& peer) const noexcept {
    const auto* p = find_permission(peer);
    return p && p->installed;
  }

 private:
  struct transaction {
    explicit transaction(const udp::socket::executor_type& ex) : timer(ex) {}
    bool active = false;
    request_spec spec;
    stun::transaction_id id{};
    std::array<std::byte, max_request_size> bytes{};
    std::size_t size = 0;
    unsigned sent = 0, auth_retries = 0;
    bool authenticated = false;
    std::chrono::milliseconds rto{};
    std::uint64_t generation = 0;
    std::unique_ptr<completion> done;  // null: the client's own refresh
    boost::asio::steady_timer timer;
  };
  // Entries never move (a pending transaction finds its own again by the peer); `used` marks the live ones.
  struct permission {
    bool used = false;
    boost::asio::ip::address address;
    bool installed = false, refreshing = false;
    clock::time_point refresh_at{};
  };
  struct channel {
    bool used = false;
    std::uint16_t number = 0;
    udp::endpoint peer;
    bool bound = false, refreshing = false;
    clock::time_point refresh_at{};
  };

  received drop(received r) noexcept {
    ++stats_.dropped;
    return r;
  }

  permission* find_permission(const boost::asio::ip::address& a) noexcept {
    for (auto& p : permissions_)
      if (p.used && p.address == a) return &p;
    return nullptr;
  }
  const permission* find_permission(const boost::asio::ip::address& a) const noexcept {
    return const_cast<allocation_core*>(this)->find_permission(a);
  }
  permission* add_permission(const boost::asio::ip::address& a) noexcept {
    auto free = std::find_if(permissions_.begin(), permissions_.end(), [](const permission& p) { return !p.used; });
    if (free == permissions_.end()) return nullptr;
    *free = permission{true, a, false, false, {}};
    return &*free;
  }
  const channel* find_channel(const udp::endpoint& peer) const noexcept {
    for (const auto& c : channels_)
      if (c.used && c.peer == peer) return &c;
    return nullptr;
  }
  channel* find_channel(const udp::endpoint& peer) noexcept {
    return const_cast<channel*>(std::as_const(*this).find_channel(peer));
  }
  const channel* find_channel_number(std::uint16_t n) const noexcept {
    for (const auto& c : channels_)
      if (c.used && c.number == n) return &c;
    return nullptr;
  }

  // Starts a transaction; `done` null for the client's own refreshes. Fails it at once when the table is full.
  void start(const request_spec& spec, std::unique_ptr<completion> done) {
    auto it = std::find_if(transactions_.begin(), transactions_.end(), [](const transaction& t) { return !t.active; });
    if (closed_ || it == transactions_.end()) {
      after_failure(spec);
      if (done) done->complete({closed_ ? turn_errc::closed : turn_errc::too_many_peers});
      return;
    }
    auto& t = *it;
    t.active = true;
    t.spec = spec;
    t.auth_retries = 0;
    t.done = std::move(done);
    if (options_.receive == receive_mode::own && !receiving_) receive();
    if (auto ec = build(t)) return finish(t, {ec});
    transmit(t);
  }

  // (Re)writes the request with a fresh transaction ID (RFC 8489 §6.2: a new request after a challenge is a
  // new transaction), authenticated once the server's realm and nonce are known.
  std::error_code build(transaction& t) {
    try {
      mspi::detail::random_bytes(t.id);
    } catch (const std::system_error& e) {
      return e.code();
    }
    long_term_auth auth{credentials_.username, realm_, nonce_, key_};
    t.authenticated = have_key_;
    std::error_code ec;
    t.size = write_request(t.spec, t.id, have_key_ ? &auth : nullptr, t.bytes, ec).size();
    t.sent = 0;
    t.rto = options_.retransmission.rto;
    ++t.generation;
    return ec;
  }

  void transmit(transaction& t) {
    boost::system::error_code ec;
    socket_.send_to(boost::asio::buffer(t.bytes.data(), t.size), server_, 0, ec);
    ++t.sent;
    ++stats_.requests_sent;
    if (ec && ec != boost::asio::error::would_block && ec != boost::asio::error::no_buffer_space)
      return finish(t, {std::error_code(ec)});
    // RFC 8489 §6.2.1: RTO doubling after each request; after the last, Rm × RTO.
    const bool last = t.sent >= options_.retransmission.request_count;
    t.timer.expires_after(last ? options_.retransmission.rto * options_.retransmission.last_wait_multiplier : t.rto);
    t.rto *= 2;
    t.timer.async_wait([self = shared_from_this(), &t, g = t.generation, last](boost::system::error_code e) {
      if (e || !t.active || t.generation != g || self->closed_) return;
      if (last) return self->finish(t, {stun::stun_errc::timeout});
      self->transmit(t);
    });
  }

  // A response to `t` (from the server, its transaction ID). Returns false when it is dropped (the
  // transaction goes on): a broken FINGERPRINT, another method, or a response to an authenticated request
  // whose MESSAGE-INTEGRITY does not verify (RFC 8489 §9.2.5: discarded as if never received).
  bool on_response(transaction& t, const stun::message_view& m) {
    if (stun::check_fingerprint(m, false) || m.method() != t.spec.method) return false;
    const bool has_mi = m.find(stun::attribute_type::message_integrity) != nullptr;
    if (m.klass() == stun::message_class::error_response) {
      const int code = stun::error_code_of(m).code;
      if (code == 401 || code == 438) return on_challenge(t, m, code);
      if (t.authenticated && has_mi && stun::check_integrity(m, key_)) return false;
      last_error_code_ = code;
      if (code == 437 && t.spec.method == stun::method::refresh && state_ == allocation_state::allocated) lost();
      finish(t, {error_of_code(code)});
      return true;
    }
    if (t.authenticated && stun::check_integrity(m, key_)) return false;
    on_success(t, m);
    return true;
  }

  // 401 with REALM and NONCE to a request without credentials: retry with them; 438: retry with the new
  // NONCE (RFC 8489 §9.2.5). Bounded by `max_auth_retries`; a 401 to a request with credentials ends it.
  bool on_challenge(transaction& t, const stun::message_view& m, int code) {
    const auto* realm = m.find(stun::attribute_type::realm);
    const auto* nonce = m.find(stun::attribute_type::nonce);
    last_error_code_ = code;
    const bool usable = nonce && nonce->value.size() <= max_realm_or_nonce &&
                        (realm ? realm->value.size() <= max_realm_or_nonce : code == 438 && have_key_);
    if (!usable || (code == 401 && t.authenticated) || t.auth_retries >= options_.max_auth_retries) {
      finish(t, {code == 401 ? turn_errc::unauthorized : turn_errc::stale_nonce});
      return true;
    }
    ++t.auth_retries;
    ++(code == 401 ? stats_.challenges : stats_.stale_nonces);
    auto text = [](const stun::attribute* a) { return std::string(reinterpret_cast<const char*>(a->value.data()), a->value.size()); };
    nonce_ = text(nonce);
    if (realm && (!have_key_ || text(realm) != realm_)) {
      realm_ = text(realm);
      if (!stun::long_term_key(credentials_.username, realm_, credentials_.password, key_)) {
        finish(t, {turn_errc::unauthorized});
        return true;
      }
      have_key_ = true;
    }
    t.timer.cancel();
    if (auto ec = build(t)) {
      finish(t, {ec});
      return true;
    }
    transmit(t);
    return true;
  }

  void on_success(transaction& t, const stun::message_view& m) {
    const auto now = clock::now();
    outcome o;
    switch (t.spec.method) {
      case stun::method::allocate: {
        const auto* relayed = m.find(stun::attribute_type::xor_relayed_address);
        if (!relayed || stun::decode_address(*relayed, m.transaction(), result_.relayed)) {
          state_ = allocation_state::failed;
          return finish(t, {turn_errc::no_relayed_address});
        }
        if (const auto* mapped = m.find(stun::attribute_type::xor_mapped_address))
          (void)stun::decode_address(*mapped, m.transaction(), result_.mapped);
        state_ = allocation_state::allocated;
        set_expiry(now, lifetime_of(m).value_or(static_cast<std::uint32_t>(options_.lifetime.count())));
        o.allocation = result_;
        break;
      }
      case stun::method::refresh:
        if (t.spec.lifetime == 0U) {
          state_ = allocation_state::deallocated;
          forget_peers();
        } else {
          ++stats_.refreshes;
          set_expiry(now, lifetime_of(m).value_or(static_cast<std::uint32_t>(options_.lifetime.count())));
        }
        break;
      case stun::method::create_permission: {
        ++stats_.permissions_installed;
        auto* p = find_permission(t.spec.peer->address());
        if (!p) break;  // forgotten meanwhile (deallocated)
        p->installed = true;
        p->refreshing = false;
        p->refresh_at = now + options_.permission_refresh;
        break;
      }
      case stun::method::channel_bind: {
        ++stats_.channels_bound;
        auto* c = find_channel(*t.spec.peer);
        if (!c) break;
        c->bound = true;
        c->refreshing = false;
        c->refresh_at = now + options_.channel_refresh;
        o.channel = c->number;
        // RFC 8656 §12.2: ChannelBind installs or refreshes the permission of the peer's address too.
        auto* p = find_permission(c->peer.address());
        if (!p) p = add_permission(c->peer.address());
        if (p) {
          p->installed = true;
          p->refresh_at = std::max(p->refresh_at, now + options_.permission_refresh);
        }
        break;
      }
      default: break;
    }
    finish(t, o);
    schedule();
  }

  void set_expiry(clock::time_point now, std::uint32_t lifetime_s) {
    const std::chrono::seconds lifetime{lifetime_s};
    result_.lifetime = lifetime;
    const auto margin = lifetime < 2 * options_.refresh_margin ? lifetime / 2 : options_.refresh_margin;
    refresh_at_ = now + (lifetime - margin);
  }

  void lost() {
    state_ = allocation_state::failed;
    forget_peers();
  }
  void forget_peers() {
    for (auto& p : permissions_) p.used = false;
    for (auto& c : channels_) c.used = false;
    maintenance_.cancel();
  }

  // The bookkeeping of a failed transaction: the allocation's first Allocate fails the allocation, a
  // permission or channel that was never installed is forgotten, a failed refresh is counted.
  void after_failure(const request_spec& spec) {
    if (spec.method == stun::method::allocate) {
      if (!closed_) state_ = allocation_state::failed;
    } else if (spec.method == stun::method::create_permission) {
      if (auto* p = find_permission(spec.peer->address())) {
        p->refreshing = false;
        p->used = p->installed;
      }
    } else if (spec.method == stun::method::channel_bind) {
      if (auto* c = find_channel(*spec.peer)) {
        c->refreshing = false;
        c->used = c->bound;
      }
    }
  }

  void finish(transaction& t, const outcome& o) {
    t.active = false;
    ++t.generation;
    t.timer.cancel();
    if (o.ec) {
      after_failure(t.spec);
      if (!t.done && !closed_) {
        ++stats_.refresh_failures;
        schedule();
      }
    }
    if (auto done = std::move(t.done)) done->complete(o);
  }

  // The refresh timer: at the earliest of the allocation's, a permission's or a channel's refresh time.
  void schedule() {
    if (closed_ || state_ != allocation_state::allocated) return;
    auto at = refresh_at_;
    for (const auto& p : permissions_)
      if (p.used && p.installed) at = std::min(at, p.refresh_at);
    for (const auto& c : channels_)
      if (c.used && c.bound) at = std::min(at, c.refresh_at);
    at = std::max(at, clock::now() + std::chrono::milliseconds(100));  // a failed refresh is retried, not spun
    maintenance_.expires_at(at);
    maintenance_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->maintain();
    });
  }

  void maintain() {
    if (closed_ || state_ != allocation_state::allocated) return;
    const auto now = clock::now();
    if (now >= refresh_at_ && !refreshing_allocation()) {
      refresh_at_ = now + options_.refresh_margin / 2;  // until the response sets the next
      start({stun::method::refresh, static_cast<std::uint32_t>(options_.lifetime.count()), {}, 0}, nullptr);
    }
    for (auto& p : permissions_) {
      if (p.used && p.installed && !p.refreshing && now >= p.refresh_at) {
        p.refreshing = true;
        p.refresh_at = now + options_.permission_refresh;
        start({stun::method::create_permission, {}, udp::endpoint(p.address, 0), 0}, nullptr);
      }
    }
    for (auto& c : channels_) {
      if (c.used && c.bound && !c.refreshing && now >= c.refresh_at) {
        c.refreshing = true;
        c.refresh_at = now + options_.channel_refresh;
        start({stun::method::channel_bind, {}, c.peer, c.number}, nullptr);
      }
    }
    schedule();
  }

  bool refreshing_allocation() const noexcept {
    return std::any_of(transactions_.begin(), transactions_.end(),
                       [](const transaction& t) { return t.active && t.spec.method == stun::method::refresh; });
  }

  void send_deallocate_once() noexcept {
    std::array<std::byte, max_request_size> buffer;
    stun::transaction_id id;
    try {
      mspi::detail::random_bytes(id);
    } catch (const std::system_error&) {
      return;
    }
    long_term_auth auth{credentials_.username, realm_, nonce_, key_};
    std::error_code ec;
    const auto bytes = write_request({stun::method::refresh, 0U, {}, 0}, id, have_key_ ? &auth : nullptr, buffer, ec);
    boost::system::error_code ignored;
    if (!ec) socket_.send_to(boost::asio::buffer(bytes.data(), bytes.size()), server_, 0, ignored);
  }

  void receive() {
    receiving_ = true;
    socket_.async_receive_from(boost::asio::buffer(buffer_), from_,
                               [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                 self->on_receive(ec, n);
                               });
  }

  void on_receive(boost::system::error_code ec, std::size_t n) {
    receiving_ = false;
    if (closed_ || ec == boost::asio::error::operation_aborted) return;
    if (!ec) {
      const auto r = handle(from_, std::span<const std::byte>(buffer_.data(), n));
      if (r.what == received::kind::data) {
        if (on_data_)
          on_data_(r.peer, r.payload);
        else
          ++stats_.dropped;
      }
    } else if (ec != boost::asio::error::connection_refused && ec != boost::asio::error::connection_reset) {
      return;  // the socket is unusable (closed); operations end by their timeouts
    }
    if (!closed_) receive();
  }

  udp::socket& socket_;
  udp::endpoint server_, from_;
  credentials credentials_;
  allocation_options options_;
  std::string realm_, nonce_;
  std::array<std::byte, 16> key_{};
  bool have_key_ = false, closed_ = false, receiving_ = false;
  allocation_state state_ = allocation_state::idle;
  allocate_result result_;
  int last_error_code_ = 0;
  clock::time_point refresh_at_{};
  std::vector<transaction> transactions_;  // max_transactions, made once (timers need the executor)
  std::array<permission, max_permissions> permissions_{};
  std::array<channel, max_channels> channels_{};
  std::uint16_t next_channel_ = first_channel;
  boost::asio::steady_timer maintenance_;
  allocation_statistics stats_;
  data_handler on_data_;
  std::array<std::byte, receive_buffer_size> buffer_{};
};

}  // namespace detail
}  // namespace mspi::turn
