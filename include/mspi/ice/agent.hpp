// ptapi - portable TAPI
// mspi/ice/agent.hpp: a full ICE agent (RFC 8445) for one media stream with one component (RTP and RTCP
// multiplexed, RFC 5761) over one UDP socket that the caller owns: connectivity checks, answering the
// peer's checks, roles and their conflicts, regular nomination, the selected pair.
#pragma once

#include <mspi/detail/random.hpp>
#include <mspi/ice/candidate.hpp>
#include <mspi/ice/credentials.hpp>
#include <mspi/ice/ice.hpp>
#include <mspi/stun/message.hpp>

#include <boost/asio/any_io_executor.hpp>
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
#include <string_view>
#include <vector>

namespace mspi::ice {

/// Where an agent is (RFC 8445 §6.1.3's checklist states, seen from the stream).
enum class agent_state : std::uint8_t {
  idle,       ///< Not started (no remote description with ICE yet).
  checking,   ///< Checks are running; no pair selected yet.
  connected,  ///< A nominated pair is selected (`agent::selected`); media goes there.
  failed,     ///< Every pair failed (or timed out) before one was selected.
};

/// The SDP-independent name of a state: "idle", "checking", "connected", "failed".
[[nodiscard]] constexpr std::string_view state_name(agent_state s) noexcept {
  switch (s) {
    case agent_state::idle: return "idle";
    case agent_state::checking: return "checking";
    case agent_state::connected: return "connected";
    case agent_state::failed: return "failed";
  }
  return "idle";
}

/// Timing of an agent (RFC 8445 §14). Trivially copyable.
struct agent_timing {
  /// Ta: one new check (ordinary or triggered) per Ta (RFC 8445 §14.2: 50 ms by default).
  std::chrono::milliseconds ta{50};
  /// RTO of a check: its first retransmission timeout, doubled after each (RFC 8445 §14.3: at least 500 ms
  /// for real networks); a pair fails after `max_requests` requests go unanswered.
  std::chrono::milliseconds rto{500};
  unsigned max_requests = 5;  ///< Requests of one check before its pair fails.
  /// How long the controlling agent waits, after the first valid pair, for higher-priority pairs still
  /// being checked before it nominates the best valid one (regular nomination, RFC 8445 §8.1.1).
  std::chrono::milliseconds nomination_wait{300};
  /// Consent freshness (RFC 7675 §5.1): after selection a check on the selected pair about every
  /// `consent_interval` (randomized to 0.8..1.2 of it; RFC 7675: 5 s), and consent is lost when none has
  /// succeeded for `consent_timeout` (RFC 7675: 30 s): the agent then fails (`agent::consent_lost`).
  std::chrono::milliseconds consent_interval{5000};  ///< ms, see above.
  std::chrono::milliseconds consent_timeout{30000};  ///< ms, see above.
};

/// A full ICE agent (RFC 8445) for one component over one UDP socket (the RTP socket with rtcp-mux): the
/// local candidates all share that socket as their base, so the checklist has one pair per remote
/// candidate (RFC 8445 §6.1.2.4 prunes the server-reflexive twins of the host pairs).
///
/// - Checks (RFC 8445 §7.2.4, §7.1): STUN Binding requests with USERNAME "<remote ufrag>:<local ufrag>",
///   PRIORITY (of the peer-reflexive candidate they could reveal), ICE-CONTROLLING or ICE-CONTROLLED with
///   the tie-breaker, USE-CANDIDATE when nominating, MESSAGE-INTEGRITY (the remote password) and
///   FINGERPRINT; one new check per Ta (triggered checks first, then the highest-priority waiting pair),
///   retransmitted after RTO, 2 RTO... A response counts only from the address the check went to, with
///   the check's transaction ID, a valid FINGERPRINT and MESSAGE-INTEGRITY under the remote password.
/// - Incoming checks (RFC 8445 §7.3): answered only when FINGERPRINT, USERNAME ("<local ufrag>:...") and
///   MESSAGE-INTEGRITY under the local password are right (anything else is dropped unanswered and
///   counted in `rejected`); a role conflict (§7.3.1.1) is settled by the tie-breakers, answering 487
///   when we keep our role; a check from an unknown address adds a peer-reflexive pair (bounded) and a
///   triggered check; USE-CANDIDATE (controlled side) nominates its pair.
/// - Nomination: regular (RFC 8445 §8.1.1). The controlling agent nominates the best valid pair once no
///   higher-priority pair is still waiting or in progress (or `nomination_wait` after the first valid
///   one), by a check with USE-CANDIDATE on it; that check's success selects the pair. The controlled
///   agent selects a pair when a check with USE-CANDIDATE arrived on it and its own check on it succeeded.
///   `on_changed` is told each time the selected pair or the state changes.
///
/// Bounds against hostile peers: at most `max_pairs` pairs (remote candidates beyond are ignored, as are
/// peer-reflexive ones once full), no allocation per datagram (messages are parsed in place and written
/// into a stack buffer), at most `agent_timing::max_requests` requests per check.
///
/// - Consent freshness (RFC 7675): see `agent_timing::consent_interval`; when consent is lost the state
///   becomes `failed` and `consent_lost()` true: the owner must stop sending media to the pair.
///
/// - Relayed local candidate (RFC 8445 §5.1.1.2, RFC 8656; `set_relay`): a second base, the TURN
///   allocation. Each remote candidate then gets a pair from each base (or from the relay only), checks of
///   relayed pairs leave through the relay's send function, and what arrives through the relay is handed
///   to `handle` with `via_relay`; `selected_relayed()` says which base the selected pair has.
///
/// Not done (see NOTES-ice.md): ICE restarts, aggressive nomination,
/// ICE-lite peers' specifics, several components or streams.
///
/// Thread safety: not thread safe; every member, the timer and the callbacks run on the executor given
/// (the media thread). Keep it in a `std::shared_ptr` (its timer's handler holds one).
class agent : public std::enable_shared_from_this<agent> {
 public:
  using udp = boost::asio::ip::udp;  ///< Asio's UDP protocol.
  /// Sends one datagram from the agent's socket (the RTP socket) to an address.
  using send_function = std::function<void(std::span<const std::byte>, const udp::endpoint&)>;
  /// Told when the state or the selected pair changed (read them with `state`, `selected`).
  using changed_function = std::function<void()>;

  /// Most pairs in the checklist: remote candidates from the SDP and peer-reflexive ones.
  static constexpr std::size_t max_pairs = 20;

  /// @param ex the executor every member, timer and callback runs on (the media thread);
  /// @param local our credentials (as in our SDP); @param tie_breaker random (RFC 8445 §7.1.3);
  /// @param local_priority the priority of our host candidate (the pairs' local side);
  /// @param timing Ta, RTO, nomination and consent intervals; @param send how datagrams leave (the RTP
  /// socket); @param on_changed told when the state or the selected pair changed.
  agent(boost::asio::any_io_executor ex, credentials local, std::uint64_t tie_breaker, std::uint32_t local_priority,
        agent_timing timing, send_function send, changed_function on_changed)
      : timer_(std::move(ex)), local_(std::move(local)), tie_breaker_(tie_breaker), local_priority_(local_priority),
        timing_(timing), send_(std::move(send)), on_changed_(std::move(on_changed)) {}

  /// Adds the relayed candidate's base (RFC 8445 §5.1.1.2): pairs from it (priority `relay_priority`, from
  /// `candidate_priority(candidate_type::relayed, ...)`) send through `relay_send` (the TURN allocation's
  /// `send_to`; empty: no relayed candidate). `relay_only`: no pairs from the host base (a "relay only"
  /// policy, as libnice's and pjnath's; with no relay the agent then fails at `start`). Call it before
  /// `start`; later calls change nothing for pairs already made. No errors.
  void set_relay(std::uint32_t relay_priority, send_function relay_send, bool relay_only) {
    relay_priority_ = relay_priority;
    relay_send_ = std::move(relay_send);
    relay_only_ = relay_only;
  }

  /// Starts (or, with other remote credentials, restarts) the checks towards `remote`'s candidates of
  /// component 1 whose family is `family_v4`'s (IPv4 or not), at most `max_pairs`. `controlling`: our
  /// role (the offerer's, RFC 8445 §6.1.1) unless a conflict changed it already. The same credentials
  /// again (a re-offer without ICE restart) keep the checklist and the selected pair.
  void start(const credentials& remote, std::span<const candidate> remote_candidates, bool controlling, bool family_v4) {
    if (started_ && remote == remote_) return;
    remote_ = remote;
    if (!started_) controlling_ = controlling;
    started_ = true;
    pairs_.clear();
    triggered_.clear();
    selected_.reset();
    nominating_ = false;
    first_valid_.reset();
    state_ = agent_state::checking;
    started_at_ = std::chrono::steady_clock::now();
    for (const auto& c : remote_candidates) {
      if (pairs_.size() == max_pairs) break;
      if (c.component != 1 || c.address.address().is_v4() != family_v4 || c.address.port() == 0) continue;
      for (const bool relayed : {false, true}) {
        if (relayed ? !relay_send_ : relay_only_) continue;
        if (pairs_.size() == max_pairs || find({c.address, relayed})) continue;
        pairs_.push_back(pair{{c.address, relayed}, c.priority, relayed ? relay_priority_ : local_priority_});
      }
    }
    for (const auto& p : pending_) add_peer_reflexive(p.first, p.second);  // checks that came before us
    pending_.clear();
    if (pairs_.empty()) state_ = agent_state::failed;
    schedule();
  }

  /// Stops the checks and forgets the callbacks (no more sends). No errors.
  void stop() {
    stopped_ = true;
    timer_.cancel();
    send_ = nullptr;
    relay_send_ = nullptr;
    on_changed_ = nullptr;
  }

  /// Handles one STUN datagram received on the socket from `from` (RFC 7983 told it from RTP), or, with
  /// `via_relay`, relayed data from peer `from` that the TURN allocation delivered. Returns
  /// true when it was an ICE message the agent used (an authenticated check or a response to one of its
  /// checks), false when it was dropped (malformed, unauthenticated, unrelated). Never throws.
  bool handle(std::span<const std::byte> datagram, const udp::endpoint& from, bool via_relay = false) noexcept {
    if (stopped_) return false;
    stun::message_view m;
    if (stun::message_view::parse(datagram, m) || m.method() != stun::method::binding ||
        stun::check_fingerprint(m, true)) {
      ++rejected_;
      return false;
    }
    const path at{from, via_relay && relay_send_};
    const bool ok = m.klass() == stun::message_class::request ? on_request(m, at)
                    : m.klass() == stun::message_class::success_response || m.klass() == stun::message_class::error_response
                        ? on_response(m, at)
                        : false;
    if (!ok) ++rejected_;
    return ok;
  }

  /// Where the agent is. @return see `agent_state`.
  [[nodiscard]] agent_state state() const noexcept { return state_; }
  /// The remote address of the selected pair, if any.
  [[nodiscard]] std::optional<udp::endpoint> selected() const noexcept {
    return selected_ ? std::optional<udp::endpoint>(selected_->remote) : std::nullopt;
  }
  /// Whether the selected pair's local candidate is the relayed one (send media through the relay).
  [[nodiscard]] bool selected_relayed() const noexcept { return selected_ && selected_->relayed; }
  /// Whether we are the controlling agent now (after any role conflict).
  [[nodiscard]] bool controlling() const noexcept { return controlling_; }
  /// True once consent on the selected pair was lost (RFC 7675 §5.1): stop sending there.
  [[nodiscard]] bool consent_lost() const noexcept { return consent_lost_; }
  /// Time from `start` to the first selection, ms; -1 before.
  [[nodiscard]] double connect_ms() const noexcept { return connect_ms_; }
  /// STUN datagrams dropped: malformed, not authenticated, not for a check of ours.
  [[nodiscard]] std::uint64_t rejected() const noexcept { return rejected_; }
  /// Checks answered (authenticated requests from the peer).
  [[nodiscard]] std::uint64_t checks_answered() const noexcept { return answered_; }
  /// Pairs in the checklist now.
  [[nodiscard]] std::size_t pair_count() const noexcept { return pairs_.size(); }

 private:
  enum class pair_state : std::uint8_t { waiting, in_progress, succeeded, failed };
  // A pair's addresses: the remote candidate, and whether the local base is the relay (else the socket).
  struct path {
    udp::endpoint remote;
    bool relayed = false;
    friend bool operator==(const path&, const path&) = default;
  };
  struct pair {
    path at;
    std::uint32_t remote_priority = 0;
    std::uint32_t local_priority = 0;
    pair_state state = pair_state::waiting;
    stun::transaction_id id{};
    unsigned requests = 0;
    std::chrono::steady_clock::time_point next_send{};
    std::chrono::milliseconds rto{};
    bool use_candidate = false;        // the check in flight nominates (controlling side)
    bool nominate_on_success = false;  // the peer nominated it (controlled side)
  };
  using clock = std::chrono::steady_clock;

  pair* find(const path& at) {
    for (auto& p : pairs_)
      if (p.at == at) return &p;
    return nullptr;
  }
  // RFC 8445 §6.1.2.3: 2^32 MIN(G,D) + 2 MAX(G,D) + (G>D?1:0), G the controlling agent's candidate.
  [[nodiscard]] std::uint64_t priority_of(const pair& p) const noexcept {
    const std::uint64_t g = controlling_ ? p.local_priority : p.remote_priority;
    const std::uint64_t d = controlling_ ? p.remote_priority : p.local_priority;
    return (std::min(g, d) << 32) + 2 * std::max(g, d) + (g > d ? 1 : 0);
  }

  void add_peer_reflexive(const path& from, std::uint32_t priority) {
    if (find(from) || pairs_.size() == max_pairs) return;
    pairs_.push_back(pair{from, priority, from.relayed ? relay_priority_ : local_priority_});
    trigger(from);
  }
  // Queues a triggered check (bounded: one entry per pair at most).
  void trigger(const path& remote) {
    if (triggered_.size() < max_pairs && std::find(triggered_.begin(), triggered_.end(), remote) == triggered_.end())
      triggered_.push_back(remote);
  }

  bool on_request(const stun::message_view& m, const path& from) noexcept {
    const auto* user = m.find(stun::attribute_type::username);
    if (!user) return false;
    const std::string_view name(reinterpret_cast<const char*>(user->value.data()), user->value.size());
    if (name.size() <= local_.ufrag.size() || name.substr(0, local_.ufrag.size()) != local_.ufrag ||
        name[local_.ufrag.size()] != ':')
      return false;
    if (stun::check_integrity(m, std::as_bytes(std::span<const char>(local_.pwd.data(), local_.pwd.size())))) return false;
    // RFC 8445 §7.3.1.1: role conflicts.
    std::uint64_t theirs = 0;
    if (read_u64(m, stun::attribute_type::ice_controlling, theirs) && controlling_) {
      if (tie_breaker_ >= theirs) {
        respond(m, from, 487);
        return true;
      }
      switch_role();
    } else if (read_u64(m, stun::attribute_type::ice_controlled, theirs) && !controlling_) {
      if (tie_breaker_ < theirs) {
        respond(m, from, 487);
        return true;
      }
      switch_role();
    }
    respond(m, from, 0);
    ++answered_;
    if (!started_) {  // no remote description yet: remembered for the checklist (bounded)
      if (pending_.size() < 4) pending_.emplace_back(from, priority_attribute(m));
      return true;
    }
    try {
      pair* p = find(from);
      if (!p) {
        add_peer_reflexive(from, priority_attribute(m));
        p = find(from);
        if (!p) return true;
      } else if (p->state == pair_state::waiting || p->state == pair_state::failed) {
        p->state = pair_state::waiting;
        trigger(from);
      }
      if (m.find(stun::attribute_type::use_candidate) && !controlling_) {
        if (p->state == pair_state::succeeded) select(*p);
        else p->nominate_on_success = true;
      }
      schedule();
    } catch (...) {  // std::bad_alloc growing the bounded vectors: the check is answered, the pair not added
    }
    return true;
  }

  bool on_response(const stun::message_view& m, const path& from) noexcept {
    pair* p = nullptr;
    for (auto& q : pairs_)
      if (q.state == pair_state::in_progress && q.id == m.transaction()) p = &q;
    if (!p) return false;
    if (stun::check_integrity(m, std::as_bytes(std::span<const char>(remote_.pwd.data(), remote_.pwd.size()))))
      return false;
    if (from != p->at) {  // RFC 8445 §7.2.5.2.1: not symmetric (or through the other base)
      p->state = pair_state::failed;
      return true;
    }
    if (m.klass() == stun::message_class::error_response) {
      if (stun::error_code_of(m).code == 487) {  // RFC 8445 §7.2.5.1: switch roles, check the pair again
        switch_role();
        p->state = pair_state::waiting;
        trigger(p->at);
      } else {
        p->state = pair_state::failed;
      }
      return true;
    }
    p->state = pair_state::succeeded;
    if (!first_valid_) first_valid_ = clock::now();
    if (selected_ && *selected_ == p->at) last_consent_ = clock::now();
    if ((controlling_ && p->use_candidate) || (!controlling_ && p->nominate_on_success)) select(*p);
    return true;
  }

  void select(const pair& p) {
    if (selected_ && *selected_ == p.at) return;
    if (selected_) {  // several nominated pairs: the highest priority wins (RFC 8445 §8.1.1)
      const pair* current = find(*selected_);
      if (current && priority_of(*current) > priority_of(p)) return;
    }
    selected_ = p.at;
    state_ = agent_state::connected;
    last_consent_ = clock::now();
    next_consent_ = last_consent_ + consent_delay();
    schedule();  // consent freshness from here on
    if (connect_ms_ < 0)
      connect_ms_ = std::chrono::duration<double, std::milli>(clock::now() - started_at_).count();
    if (on_changed_) on_changed_();
  }

  void switch_role() noexcept {
    controlling_ = !controlling_;
    nominating_ = false;
  }

  static bool read_u64(const stun::message_view& m, std::uint16_t type, std::uint64_t& out) noexcept {
    const auto* a = m.find(type);
    if (!a || a->value.size() != 8) return false;
    out = 0;
    for (auto b : a->value) out = (out << 8) | std::to_integer<std::uint64_t>(b);
    return true;
  }
  static std::uint32_t priority_attribute(const stun::message_view& m) noexcept {
    const auto* a = m.find(stun::attribute_type::priority);
    if (!a || a->value.size() != 4) return candidate_priority(candidate_type::peer_reflexive, 0, 1);
    std::uint32_t v = 0;
    for (auto b : a->value) v = (v << 8) | std::to_integer<std::uint32_t>(b);
    return v;
  }

  // A success response (XOR-MAPPED-ADDRESS: where the check came from) or an error response with `error`
  // (487 Role Conflict), under our password (RFC 8445 §7.3.1.4, RFC 8489 §6.3.1).
  void respond(const stun::message_view& request, const path& to, int error) noexcept {
    std::array<std::byte, 256> out{};
    stun::message_writer w(out, stun::method::binding,
                           error ? stun::message_class::error_response : stun::message_class::success_response,
                           request.transaction());
    if (error) {
      static constexpr std::array<std::byte, 17> role_conflict{std::byte{0}, std::byte{0}, std::byte{4}, std::byte{87},
                                                               std::byte{'R'}, std::byte{'o'}, std::byte{'l'}, std::byte{'e'},
                                                               std::byte{' '}, std::byte{'C'}, std::byte{'o'}, std::byte{'n'},
                                                               std::byte{'f'}, std::byte{'l'}, std::byte{'i'}, std::byte{'c'},
                                                               std::byte{'t'}};
      w.add(stun::attribute_type::error_code, std::span<const std::byte>(role_conflict));
    } else {
      w.add_xor_address(stun::attribute_type::xor_mapped_address, to.remote);
    }
    w.add_message_integrity(std::as_bytes(std::span<const char>(local_.pwd.data(), local_.pwd.size())));
    w.add_fingerprint();
    if (!w.error()) send_on(to, w.bytes());
  }
  // Sends from the pair's base: the relay (its allocation) or the socket.
  void send_on(const path& to, std::span<const std::byte> bytes) {
    const auto& send = to.relayed ? relay_send_ : send_;
    if (send) send(bytes, to.remote);
  }

  // Sends (or resends) the check of `p`.
  void send_check(pair& p) {
    std::array<std::byte, 548> out{};  // RFC 8489 §6.1; fits USERNAME with 256-character ufrags
    stun::message_writer w(out, stun::method::binding, stun::message_class::request, p.id);
    const std::string user = remote_.ufrag + ':' + local_.ufrag;
    w.add(stun::attribute_type::username, std::string_view(user));
    w.add_u32(stun::attribute_type::priority, candidate_priority(candidate_type::peer_reflexive, 65535, 1));
    w.add_u64(controlling_ ? stun::attribute_type::ice_controlling : stun::attribute_type::ice_controlled, tie_breaker_);
    if (p.use_candidate) w.add(stun::attribute_type::use_candidate, std::span<const std::byte>{});
    w.add_message_integrity(std::as_bytes(std::span<const char>(remote_.pwd.data(), remote_.pwd.size())));
    w.add_fingerprint();
    ++p.requests;
    p.next_send = clock::now() + p.rto;
    p.rto *= 2;
    if (!w.error()) send_on(p.at, w.bytes());
  }

  void start_check(pair& p, bool nominate) {
    mspi::detail::random_bytes(p.id);
    p.state = pair_state::in_progress;
    p.requests = 0;
    p.rto = timing_.rto;
    p.use_candidate = nominate;
    send_check(p);
  }

  // RFC 7675 §5.1: the interval randomized to 0.8..1.2 of consent_interval.
  [[nodiscard]] clock::duration consent_delay() const {
    const auto r = mspi::detail::random_value<std::uint16_t>() % 401;  // 0..400 -> 0.8..1.2
    return std::chrono::duration_cast<clock::duration>(timing_.consent_interval * (800 + r) / 1000);
  }

  // Consent freshness on the selected pair; false once consent is lost (the agent failed).
  void lose_consent() {
    consent_lost_ = true;
    state_ = agent_state::failed;
    if (on_changed_) on_changed_();
  }
  bool keep_consent(clock::time_point now) {
    if (now - last_consent_ > timing_.consent_timeout) {
      lose_consent();
      return false;
    }
    pair* p = find(*selected_);
    if (p && p->state != pair_state::in_progress && now >= next_consent_) {
      start_check(*p, false);
      next_consent_ = now + consent_delay();
    }
    return true;
  }

  // Arms the timer for `at` (default: one Ta from now) unless it already fires earlier; a later wait is
  // replaced (its handler sees another generation and does nothing).
  void schedule(std::optional<clock::time_point> at = std::nullopt) {
    if (stopped_ || state_ == agent_state::idle) return;
    const auto when = at ? *at : clock::now() + timing_.ta;
    if (ticking_ && timer_.expiry() <= when) return;
    ticking_ = true;
    timer_.expires_at(when);
    timer_.async_wait([self = shared_from_this(), g = ++generation_](const boost::system::error_code& ec) {
      if (g != self->generation_) return;
      self->ticking_ = false;
      if (!ec && !self->stopped_) self->tick();
    });
  }

  // One Ta: retransmissions due, then one new check (triggered first), nomination, and the end of checks.
  void tick() {
    const auto now = clock::now();
    if (selected_ && !consent_lost_ && now - last_consent_ > timing_.consent_timeout) return lose_consent();
    bool busy = false;
    for (auto& p : pairs_) {
      if (p.state != pair_state::in_progress) continue;
      if (p.next_send <= now) {
        if (p.requests >= timing_.max_requests) {
          p.state = pair_state::failed;
          if (p.use_candidate) nominating_ = false;  // nominate again (another pair, or this one later)
          continue;
        }
        send_check(p);
      }
      busy = true;
    }
    pair* next = nullptr;
    while (!triggered_.empty() && !next) {
      next = find(triggered_.front());
      triggered_.erase(triggered_.begin());
      if (next && next->state == pair_state::in_progress) next = nullptr;
    }
    if (!next)
      for (auto& p : pairs_)
        if (p.state == pair_state::waiting && (!next || priority_of(p) > priority_of(*next))) next = &p;
    if (next) {
      start_check(*next, false);
      busy = true;
    }
    if (controlling_ && !nominating_ && !selected_) busy |= nominate(now);
    const bool any_valid = std::any_of(pairs_.begin(), pairs_.end(), [](const pair& p) { return p.state == pair_state::succeeded; });
    if (!busy && !selected_ && !any_valid) {
      state_ = agent_state::failed;
      if (on_changed_) on_changed_();
      return;
    }
    if (busy) return schedule();  // otherwise an incoming check (or a restart) schedules again
    if (selected_ && !consent_lost_ && keep_consent(now)) {
      const bool checking = std::any_of(pairs_.begin(), pairs_.end(), [](const pair& p) { return p.state == pair_state::in_progress; });
      if (checking) return schedule();
      // Idle until the next consent check or the timeout, whichever comes first.
      schedule(std::min(next_consent_, last_consent_ + std::chrono::duration_cast<clock::duration>(timing_.consent_timeout)));
    }
  }

  // Regular nomination: the best valid pair, once no better pair is pending (or after nomination_wait).
  bool nominate(clock::time_point now) {
    pair* best = nullptr;
    for (auto& p : pairs_)
      if (p.state == pair_state::succeeded && (!best || priority_of(p) > priority_of(*best))) best = &p;
    if (!best) return false;
    const bool better_pending = std::any_of(pairs_.begin(), pairs_.end(), [&](const pair& p) {
      return (p.state == pair_state::waiting || p.state == pair_state::in_progress) && priority_of(p) > priority_of(*best);
    });
    if (better_pending && first_valid_ && now - *first_valid_ < timing_.nomination_wait) return true;
    nominating_ = true;
    start_check(*best, true);
    return true;
  }

  boost::asio::steady_timer timer_;
  credentials local_, remote_;
  std::uint64_t tie_breaker_;
  std::uint32_t local_priority_;
  agent_timing timing_;
  send_function send_, relay_send_;  // relay_send_: set_relay's (empty without a relayed candidate)
  changed_function on_changed_;
  std::uint32_t relay_priority_ = 0;
  bool relay_only_ = false;
  std::vector<pair> pairs_;                 // at most max_pairs
  std::vector<path> triggered_;             // FIFO of triggered checks (RFC 8445 §7.2.5.4)
  std::vector<std::pair<path, std::uint32_t>> pending_;  // checks answered before start (at most 4)
  std::optional<path> selected_;
  std::optional<clock::time_point> first_valid_;
  clock::time_point last_consent_{}, next_consent_{};
  clock::time_point started_at_{};
  agent_state state_ = agent_state::idle;
  double connect_ms_ = -1;
  std::uint64_t rejected_ = 0, answered_ = 0;
  bool controlling_ = true, started_ = false, stopped_ = false, nominating_ = false, ticking_ = false;
  bool consent_lost_ = false;
  std::uint64_t generation_ = 0;  // of the timer's current wait
};

}  // namespace mspi::ice
