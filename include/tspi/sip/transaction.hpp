// ptapi - portable TAPI
// tspi/sip/transaction.hpp: the SIP transaction layer (RFC 3261 §17 with RFC 6026's Accepted state,
// §18.2.1/§18.2.2 and RFC 3581 for where responses go) on top of tspi/sip/transport.hpp, and
// make_response (§8.2.6).
#pragma once

#include <tspi/sip/detail/timer_queues.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transport.hpp>
#include <tspi/sip/uri.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tspi::sip {

/// RFC 3261 §17 timer base values (table 4 of Appendix A). Every transaction timer derives from them:
/// A, E, G start at T1 and double (E and G up to T2); B, F, H, J, L, M and the 2xx retransmission limit
/// are 64·T1; D is 64·T1 too (RFC 3261: at least 32 s, which 64·T1 is at the default T1); I and K are T4.
/// Tests shorten them. All must be positive and T2 >= T1.
struct timer_config {
  std::chrono::milliseconds t1{500};   ///< RTT estimate.
  std::chrono::milliseconds t2{4000};  ///< Longest retransmit interval of non-INVITE requests and INVITE responses.
  std::chrono::milliseconds t4{5000};  ///< Longest time a message stays in the network.
};

/// Transaction states (RFC 3261 figures 5-8; `accepted` from RFC 6026 §7). Client INVITE: calling,
/// proceeding, completed, accepted, terminated. Client non-INVITE: trying, proceeding, completed,
/// terminated. Server INVITE: proceeding, completed, accepted, confirmed, terminated. Server non-INVITE:
/// trying, proceeding, completed, terminated.
enum class transaction_state : std::uint8_t { calling, trying, proceeding, completed, accepted, confirmed, terminated };

/// The state's name in lower case ("calling"...).
[[nodiscard]] constexpr std::string_view to_string(transaction_state s) noexcept {
  switch (s) {
    case transaction_state::calling: return "calling";
    case transaction_state::trying: return "trying";
    case transaction_state::proceeding: return "proceeding";
    case transaction_state::completed: return "completed";
    case transaction_state::accepted: return "accepted";
    case transaction_state::confirmed: return "confirmed";
    case transaction_state::terminated: return "terminated";
  }
  return "?";
}

/// Counters of a `transaction_layer` since construction.
struct transaction_stats {
  std::uint64_t client_transactions = 0;       ///< Client transactions started (CANCELs included).
  std::uint64_t server_transactions = 0;       ///< Server transactions created (CANCELs included).
  std::uint64_t retransmissions_sent = 0;      ///< Requests (timers A, E) and responses (timer G, 2xx) retransmitted.
  std::uint64_t retransmissions_absorbed = 0;  ///< Retransmitted requests, responses and ACKs absorbed by a transaction.
  std::uint64_t timeouts = 0;                  ///< Client transactions ended by timer B or F (or 64·T1 after CANCEL).
  std::uint64_t transport_errors = 0;          ///< Transactions ended by a transport error.
  std::uint64_t bad_requests = 0;              ///< Requests answered 400 (missing or malformed From/To/Call-ID/CSeq, UDP Content-Length beyond the datagram).
  std::uint64_t dropped = 0;                   ///< Messages dropped: requests without a usable Via, bad ACKs, responses without a usable Via or CSeq.
  std::uint64_t stray_responses = 0;           ///< Responses passed to `on_stray_response`.
  std::uint64_t stray_acks = 0;                ///< ACKs passed to `on_stray_ack`.
  std::uint64_t unmatched_cancels = 0;         ///< CANCELs answered 481.
  std::uint64_t ignored_responses = 0;         ///< `server_transaction::respond` calls ignored (after the final response).
  std::uint64_t handler_errors = 0;            ///< Exceptions thrown by a TU callback, caught (see transaction_layer).
};

class transaction_layer;

namespace detail {

/// Parse limits for re-reading messages this stack serialized itself (any size it produced).
inline constexpr parse_limits own_message_limits{std::size_t{1} << 26, 1u << 16, std::size_t{1} << 20, std::size_t{1} << 26};

/// The `tag` parameter of a From/To value, empty when absent.
inline std::string tag_of(std::string_view value) {
  if (auto na = parse_name_addr(value)) return na->tag();
  return {};
}

/// True when a From/To value carries a tag parameter (textual check when the value does not parse).
inline bool has_tag(std::string_view value) {
  if (auto na = parse_name_addr(value)) return na->param("tag").has_value();
  for (std::size_t i = 0; i + 5 <= value.size(); ++i)
    if (value[i] == ';' && iequals(value.substr(i + 1, 4), "tag=")) return true;
  return false;
}

/// Frees a string's buffer (assigning an empty string would keep it: libstdc++ reuses the capacity).
inline void release(std::string& s) noexcept { std::string().swap(s); }

/// `s` moved into a buffer of its own size (message::to_string reserves generously): for text a
/// transaction keeps for a while.
inline std::string fitted(std::string&& s) {
  s.shrink_to_fit();
  return std::move(s);
}

/// Lower-case copy appended to `out`.
inline void append_lower(std::string& out, std::string_view s) {
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

/// The Via host is an IP literal equal to `a` (RFC 3261 §18.2.1: else `received` is added).
inline bool same_address(std::string_view host, const boost::asio::ip::address& a) {
  boost::system::error_code ec;
  const auto h = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && normalized(h) == a;
}

/// The first field named `name`, nullptr when absent.
inline header_field* find_field(message& m, std::string_view name) noexcept {
  for (auto& h : m.headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

/// RFC 3261 §17.2.3 server transaction key. With an RFC 3261 branch: method, branch and sent-by. With
/// an RFC 2543 one (no magic cookie): method, Request-URI, Call-ID, CSeq number, From tag, sent-by and
/// branch (the To tag is not compared, so that the ACK of a non-2xx matches its INVITE). `method` is
/// INVITE for an ACK.
inline std::string server_key(std::string_view method, const via& v, const message& m, std::uint32_t cseq_number) {
  std::string k;
  const auto branch = v.param("branch").value_or("");
  const bool rfc3261 = branch.size() > branch_cookie.size() && branch.substr(0, branch_cookie.size()) == branch_cookie;
  k.reserve(method.size() + branch.size() + v.host.size() + 10);
  if (!rfc3261) {
    k += "2543 ";
    k += m.request_uri;
    k += ' ';
    k += m.header("Call-ID").value_or("");
    k += ' ';
    k += std::to_string(cseq_number);
    k += ' ';
    k += tag_of(m.header("From").value_or(""));
    k += ' ';
  }
  k += method;
  k += ' ';
  k += branch;
  k += ' ';
  append_lower(k, v.host);
  k += ':';
  k += std::to_string(v.port ? v.port : 5060);
  return k;
}

/// Key matching the ACK of a 2xx (a new branch, RFC 3261 §13.2.2.4) to its INVITE server transaction:
/// Call-ID, CSeq number and From tag.
inline std::string dialog_ack_key(const message& m, std::uint32_t cseq_number) {
  std::string k(m.header("Call-ID").value_or(""));
  k += ' ';
  k += std::to_string(cseq_number);
  k += ' ';
  k += tag_of(m.header("From").value_or(""));
  return k;
}

/// Copies fields named `name` from `from` to `to`, in order.
inline void copy_fields(const message& from, message& to, std::string_view name) {
  for (const auto& h : from.headers)
    if (iequals(h.name, name)) to.headers.push_back(h);
}

/// RFC 3261 §9.1: the CANCEL of `invite` (same Request-URI, top Via, Route, From, To, Call-ID, CSeq number).
inline message make_cancel(const message& invite) {
  message c;
  c.method = "CANCEL";
  c.request_uri = invite.request_uri;
  if (auto v = invite.header("Via")) c.add("Via", std::string(*v));
  c.add("Max-Forwards", "70");
  copy_fields(invite, c, "Route");
  c.add("From", std::string(invite.header("From").value_or("")));
  c.add("To", std::string(invite.header("To").value_or("")));
  c.add("Call-ID", std::string(invite.header("Call-ID").value_or("")));
  const auto cs = parse_cseq(invite.header("CSeq").value_or(""));
  c.add("CSeq", std::to_string(cs ? cs->number : 0) + " CANCEL");
  return c;
}

/// RFC 3261 §17.1.1.3: the ACK of a non-2xx final `response` to `invite` (To from the response).
inline message make_non2xx_ack(const message& invite, const message& response) {
  message a;
  a.method = "ACK";
  a.request_uri = invite.request_uri;
  if (auto v = invite.header("Via")) a.add("Via", std::string(*v));
  a.add("Max-Forwards", "70");
  copy_fields(invite, a, "Route");
  a.add("From", std::string(invite.header("From").value_or("")));
  a.add("To", std::string(response.header("To").value_or(invite.header("To").value_or(""))));
  a.add("Call-ID", std::string(invite.header("Call-ID").value_or("")));
  const auto cs = parse_cseq(invite.header("CSeq").value_or(""));
  a.add("CSeq", std::to_string(cs ? cs->number : 0) + " ACK");
  return a;
}

/// What a client transaction's user gets: a response, or nullptr and the error that ended it.
using response_handler = std::function<void(const message* response, std::error_code ec)>;

/// Calls a TU callback through a copy, so that it may reassign or clear itself while it runs.
template <class F, class... A>
void invoke_copy(const F& f, A&&... args) {
  if (!f) return;
  const F g = f;
  g(std::forward<A>(args)...);
}

/// What client and server transactions share: state, key, timers. Internal to the layer.
class transaction_base : public std::enable_shared_from_this<transaction_base> {
 public:
  virtual ~transaction_base() = default;
  transaction_base(const transaction_base&) = delete;
  transaction_base& operator=(const transaction_base&) = delete;

  /// The current state. Thread safety: the layer's executor only (as everything here).
  [[nodiscard]] transaction_state state() const noexcept { return state_; }
  /// True for an INVITE transaction (RFC 3261 §17.1.1 / §17.2.1), false for non-INVITE.
  [[nodiscard]] bool is_invite() const noexcept { return invite_; }
  /// True over TCP (no request retransmissions; timers D, I, J, K are zero).
  [[nodiscard]] bool reliable() const noexcept { return reliable_; }

 protected:
  friend class sip::transaction_layer;
  explicit transaction_base(bool server) noexcept : server_(server) {}

  transaction_layer* layer_ = nullptr;     // null once terminated or the layer closed
  std::string key_;                        // table key (see the layer)
  std::uint64_t timer_token_[2] = {0, 0};  // live timer per slot: 0 retransmission, 1 timeout
  std::chrono::milliseconds interval_{0};  // current retransmission interval
  std::uint32_t reg_ = 0;                  // index in the layer's timer registry
  transaction_state state_ = transaction_state::trying;
  bool server_;
  bool invite_ = false;
  bool reliable_ = false;
};

}  // namespace detail

/// A response to `request` (RFC 3261 §8.2.6): status `status`, reason `reason` or, when empty,
/// reason_phrase(status); copies every Via (in order), From, To, Call-ID and CSeq; appends `;tag=to_tag`
/// to To when `to_tag` is not empty and To has no tag (§8.2.6.2). The TU adds Contact, Record-Route
/// (§12.1.1), a body... Pure function; throws only std::bad_alloc.
[[nodiscard]] inline message make_response(const message& request, int status, std::string_view to_tag = {},
                                           std::string_view reason = {}) {
  message r;
  r.status = status;
  r.reason = reason.empty() ? std::string(reason_phrase(status)) : std::string(reason);
  r.headers.reserve(request.headers.size() < 8 ? 8 : 12);
  for (const auto& h : request.headers)
    if (detail::iequals(h.name, "Via")) r.headers.push_back({"Via", h.value});
  if (auto v = request.header("From")) r.add("From", std::string(*v));
  if (auto v = request.header("To")) {
    std::string to(*v);
    if (!to_tag.empty() && !detail::has_tag(to)) {
      to += ";tag=";
      to += to_tag;
    }
    r.add("To", std::move(to));
  }
  if (auto v = request.header("Call-ID")) r.add("Call-ID", std::string(*v));
  if (auto v = request.header("CSeq")) r.add("CSeq", std::string(*v));
  return r;
}

/// A client transaction (RFC 3261 §17.1.1 INVITE with RFC 6026's Accepted state, §17.1.2 non-INVITE),
/// made by `transaction_layer::send_request` or `cancel`; its responses go to the handler given there.
/// The layer owns it while it lives; the TU's shared_ptr only observes (and is what `cancel` takes).
/// Thread safety: the layer's executor only.
class client_transaction final : public detail::transaction_base {
  struct private_tag {};

 public:
  /// Internal: made by transaction_layer only.
  explicit client_transaction(private_tag) noexcept : transaction_base(false) {}

  /// Where the request went.
  [[nodiscard]] const peer& destination() const noexcept { return to_; }
  /// The request method ("INVITE", "BYE", "CANCEL"...).
  [[nodiscard]] std::string_view method() const noexcept { return std::string_view(key_).substr(0, method_len_); }
  /// The branch of the request's top Via (the transaction id, RFC 3261 §17.1.3).
  [[nodiscard]] std::string_view branch() const noexcept { return std::string_view(key_).substr(method_len_ + 1); }
  /// Status of the last response received, 0 before the first.
  [[nodiscard]] int last_status() const noexcept { return status_; }

 private:
  friend class transaction_layer;
  peer to_;
  std::string text_;  // the request while it may be retransmitted or CANCELed; then the ACK of a non-2xx (UDP)
  detail::response_handler on_response_;
  std::weak_ptr<client_transaction> cancel_;         // INVITE: its CANCEL, once cancel() was called
  std::shared_ptr<client_transaction> held_cancel_;  // INVITE: a CANCEL waiting for a provisional response
  std::size_t method_len_ = 0;
  int status_ = 0;
};

/// A server transaction (RFC 3261 §17.2.1 INVITE with RFC 6026's Accepted state, §17.2.2 non-INVITE),
/// handed to the TU by `transaction_layer::on_request`. The TU answers with `respond`; the layer absorbs
/// request retransmissions (resending the last response), retransmits a non-2xx final to INVITE on UDP
/// (timer G) until the ACK, retransmits a 2xx to INVITE (RFC 3261 §13.3.1.4, on every transport) until
/// the ACK or 64·T1, and answers CANCEL. Thread safety: the layer's executor only.
class server_transaction final : public detail::transaction_base {
  struct private_tag {};

 public:
  /// Internal: made by transaction_layer only.
  explicit server_transaction(private_tag) noexcept : transaction_base(true) {}

  /// The request, with `received`/`rport` filled into its top Via (RFC 3261 §18.2.1, RFC 3581). Complete
  /// until the final response has been sent; shortly after that (at the layer's next event, never during
  /// a callback) the body and every header field but Call-ID and CSeq are released (method and
  /// Request-URI stay), to keep a transaction that only absorbs retransmissions small: take what the
  /// dialog needs when responding.
  [[nodiscard]] const message& request() const noexcept { return request_; }
  /// Where the request came from (the source address and port, and the transport).
  [[nodiscard]] const peer& source() const noexcept { return source_; }
  /// Status of the last response sent (the layer's 100 Trying included), 0 before the first.
  [[nodiscard]] int status() const noexcept { return status_; }

  /// Sends a response built by the TU (see make_response; it must keep the request's Via, From, Call-ID,
  /// CSeq) to where RFC 3261 §18.2.2 / RFC 3581 say: over UDP to the request's source address and, with
  /// `rport`, source port (else the Via sent-by port); over TCP on the connection the request came on,
  /// or a new one to the source address and sent-by port. Provisional responses may be sent any number
  /// of times before the final one. A 2xx to INVITE is retransmitted with T1, 2·T1... T2 until the ACK
  /// arrives (`on_ack`) or 64·T1 passes (`on_ack_timeout`) (§13.3.1.4; RFC 6026 §7.1 Accepted); another
  /// 2xx in that state is sent and retransmitted instead. Any other response after the final one is
  /// ignored (counted in `transaction_stats::ignored_responses`), as is every call after the transaction
  /// ended or the layer closed. Throws std::invalid_argument when `response` is not a response (status
  /// outside 100-699); else only std::bad_alloc.
  void respond(message response);

  /// A CANCEL matching this INVITE arrived while no final response had been sent (RFC 3261 §9.2). The
  /// layer has already answered the CANCEL with 200; the TU should answer the INVITE with 487. When
  /// empty, the layer answers 487 itself.
  std::function<void()> on_cancel;
  /// The ACK arrived: for a 2xx (a request of its own, matched by Call-ID, CSeq number and From tag) or
  /// for a non-2xx final (same branch). Called once; retransmitted ACKs are absorbed.
  std::function<void(const message& ack)> on_ack;
  /// No ACK arrived within 64·T1 of the final response: for a 2xx, the TU should end the dialog with BYE
  /// (RFC 3261 §13.3.1.4); for a non-2xx, timer H fired (§17.2.1). The transaction is terminated.
  std::function<void()> on_ack_timeout;
  /// A response could not be sent (RFC 3261 §17.2.4, the transport's error for the response's destination);
  /// the transaction is terminated. Not reported for a final response that already ended the transaction
  /// (a non-INVITE final over TCP, timer J = 0).
  std::function<void(std::error_code)> on_transport_error;

 private:
  friend class transaction_layer;
  message request_;
  peer source_;
  peer target_;                 // UDP: where responses go; TCP: where to connect when the connection is gone
  std::string last_response_;   // text resent on request retransmissions and timers G / 2xx
  std::string ack_key_;         // INVITE in Accepted: key in the layer's 2xx-ACK index
  std::string to_tag_;          // INVITE: the To tag of the TU's responses (for the 200 to CANCEL, §9.2)
  int status_ = 0;
  bool acked_ = false;
};

/// The SIP transaction layer (RFC 3261 §17) over a `transport`: matches responses to client
/// transactions and requests to server transactions, retransmits, runs timers A-M, sends the ACK of a
/// non-2xx final, answers CANCEL, and adds `received`/`rport` to incoming requests (§18.2.1, RFC 3581).
///
/// It takes over the transport's `on_message`, `on_truncated_request` (answered 400, RFC 3261 §18.3) and
/// `on_error` (set in the constructor, cleared by `close` and the destructor); the transport must outlive
/// the layer.
///
/// Exceptions: one thrown by a TU callback (`on_request`, a response handler, `on_ack`, `on_cancel`...)
/// is caught and counted (`transaction_stats::handler_errors`); the layer and the executor run on. When
/// `on_request` throws and its server transaction has no final response yet, the layer answers it:
/// 503 with `Retry-After: 5` for resource exhaustion (std::bad_alloc, std::system_error: out of
/// descriptors, threads...), 500 for anything else.
///
/// Cost: tables keyed by branch (hash maps), one steady_timer for the whole layer driving per-duration
/// deadline queues (24 bytes per pending timer), no regex or streams. A transaction keeps only what it
/// may still send: a client transaction its request text until the final response (then the ACK of a
/// non-2xx on UDP), a server transaction its last response until it is acknowledged or ends. Measured
/// with INVITE/200/ACK/BYE/200 calls on one thread (both ends in one process, GCC 12 -O2): about 0.9 KB
/// of heap per live transaction including the TU's response handler, and 5500 calls/s over UDP loopback.
/// With the default timers a finished transaction lingers up to 64·T1 = 32 s (RFC 6026 timers L and M,
/// timer J), so 1000 calls/s keep about 64,000 server and 32,000-64,000 client transactions alive.
///
/// Thread safety: none. Members and callbacks run on the transport's executor, one at a time.
/// Callbacks may call any member, including `close`, and may destroy the layer. The layer may be
/// destroyed with timers pending; nothing runs afterwards. Not copyable or movable.
class transaction_layer {
 public:
  /// What a client transaction reports: every response (`ec` empty), or once nullptr and the error
  /// that ended it: std::errc::timed_out (timer B or F, or no final response 64·T1 after a CANCEL was
  /// sent) or the transport's error (RFC 3261 §17.1.4). The TU treats these as 408 / 503 (§8.1.3.1).
  using response_handler = detail::response_handler;

  /// Attaches to `t` (taking over its `on_message` and `on_error`). Throws std::invalid_argument when
  /// a timer value is not positive or T2 < T1.
  explicit transaction_layer(transport& t, timer_config timers = {})
      : transport_(t), timers_(timers), timer_(t.get_executor()), alive_(std::make_shared<char>(0)) {
    if (timers.t1.count() <= 0 || timers.t2 < timers.t1 || timers.t4.count() <= 0)
      throw std::invalid_argument("tspi::sip::transaction_layer: timers must be positive and T2 >= T1");
    transport_.on_message = [this](message&& m, const peer& from) { on_transport_message(std::move(m), from); };
    transport_.on_truncated_request = [this](message&& m, const peer& from) {
      if (!closed_) guarded([&] { handle_request(std::move(m), from, true); });
    };
    transport_.on_error = [this](const peer& to, std::error_code ec) { on_transport_error(to, ec); };
  }
  /// Closes (see `close`).
  ~transaction_layer() {
    close();
    alive_.reset();
  }
  transaction_layer(const transaction_layer&) = delete;
  transaction_layer& operator=(const transaction_layer&) = delete;

  /// Sends `request` (built by the TU) to `to` in a new client transaction and returns it. The layer
  /// adds a top Via when there is none (`SIP/2.0/<UDP|TCP> <local_for(to)>;branch=<make_branch()>;rport`,
  /// RFC 3261 §8.1.1.7, RFC 3581), a branch to a top Via that lacks one, and Max-Forwards: 70 when
  /// absent. INVITE follows §17.1.1 (timers A on UDP, B; the ACK of a non-2xx final is sent by the layer
  /// and re-sent for each retransmitted final; 2xx responses, retransmissions and forks included, go to
  /// `on_response` for 64·T1 (RFC 6026 timer M) so the TU can ACK each); others follow §17.1.2 (timers E
  /// on UDP, F, K). `on_response` runs for every response except absorbed retransmissions, or once with
  /// nullptr (see `response_handler`); never from inside this call.
  /// Throws std::logic_error after `close` or when the transport listens on neither protocol (no Via
  /// can be built), std::invalid_argument when `request` is not a request, is an ACK (see `send_ack`),
  /// has no CSeq of its method, has an unparseable top Via, or reuses the branch of a live transaction.
  std::shared_ptr<client_transaction> send_request(message request, const peer& to, response_handler on_response) {
    ensure_open();
    if (!request.is_request() || request.method.empty() || request.method == "ACK")
      throw std::invalid_argument("tspi::sip::transaction_layer::send_request: not a request (or an ACK)");
    const auto cs = parse_cseq(request.header("CSeq").value_or(""));
    if (!cs || cs->method != request.method)
      throw std::invalid_argument("tspi::sip::transaction_layer::send_request: CSeq missing or of another method");
    auto branch = prepare(request, to);
    auto t = std::make_shared<client_transaction>(client_transaction::private_tag{});
    t->key_ = request.method + ' ' + branch;
    if (client_.find(t->key_) != client_.end())
      throw std::invalid_argument("tspi::sip::transaction_layer::send_request: branch of a live transaction");
    t->method_len_ = request.method.size();
    t->invite_ = request.method == "INVITE";
    t->to_ = to;
    t->reliable_ = to.protocol == transport_protocol::tcp;
    t->state_ = t->invite_ ? transaction_state::calling : transaction_state::trying;
    t->on_response_ = std::move(on_response);
    t->text_ = request.to_string();
    start_client(t);
    return t;
  }

  /// Sends the ACK of a 2xx (RFC 3261 §13.2.2.4, §17.1.1.3: a request of its own, in no transaction),
  /// completing it as `send_request` does (Via with a new branch when absent, Max-Forwards). Call it
  /// again for each retransmitted 2xx. Throws std::logic_error after `close` or when no Via can be
  /// built, std::invalid_argument when `ack` is not an ACK or has an unparseable top Via.
  void send_ack(message ack, const peer& to) {
    ensure_open();
    if (ack.method != "ACK") throw std::invalid_argument("tspi::sip::transaction_layer::send_ack: not an ACK");
    prepare(ack, to);
    transport_.send_text(to, ack.to_string());
  }

  /// Cancels a pending INVITE client transaction (RFC 3261 §9.1): builds the CANCEL (same Request-URI,
  /// top Via and branch, Route, From, To, Call-ID and CSeq number as the INVITE) and sends it in a
  /// non-INVITE client transaction of its own, whose responses go to `on_response`. If the INVITE has
  /// no provisional response yet, the CANCEL is held and sent when one arrives. If no final response to
  /// the INVITE arrives within 64·T1 of sending the CANCEL, the INVITE ends with timed_out (§9.1).
  /// When no CANCEL will be sent — the INVITE already has a final response, ended, or ends before any
  /// provisional response — `on_response(nullptr, std::errc::operation_canceled)` runs (never from inside
  /// this call); a second cancel() while one is pending gets std::errc::operation_in_progress.
  /// Throws std::logic_error after `close`, std::invalid_argument when `invite` is null or not an INVITE.
  std::shared_ptr<client_transaction> cancel(const std::shared_ptr<client_transaction>& invite, response_handler on_response) {
    ensure_open();
    if (!invite || !invite->invite_)
      throw std::invalid_argument("tspi::sip::transaction_layer::cancel: not an INVITE client transaction");
    auto c = std::make_shared<client_transaction>(client_transaction::private_tag{});
    c->to_ = invite->to_;
    c->reliable_ = invite->reliable_;
    c->on_response_ = std::move(on_response);
    c->key_ = "CANCEL " + std::string(invite->branch());
    c->method_len_ = 6;
    const bool pending = invite->layer_ == this &&
                         (invite->state_ == transaction_state::calling || invite->state_ == transaction_state::proceeding);
    const auto previous = invite->cancel_.lock();
    const bool in_progress = previous && previous->state_ != transaction_state::terminated;
    std::optional<message> inv;
    if (pending && !in_progress) inv = parse_message(invite->text_, detail::own_message_limits);
    if (!inv) {
      c->state_ = transaction_state::terminated;
      post_failure(c, std::make_error_code(pending && in_progress ? std::errc::operation_in_progress
                                                                  : std::errc::operation_canceled));
      return c;
    }
    c->state_ = transaction_state::trying;
    c->text_ = detail::make_cancel(*inv).to_string();
    invite->cancel_ = c;
    if (invite->state_ == transaction_state::proceeding) {
      start_client(c);
      schedule(*invite, 1, 64 * timers_.t1);
    } else {
      invite->held_cancel_ = c;
    }
    return c;
  }

  /// New requests: those matching no server transaction (RFC 3261 §17.2.3: branch, sent-by and method,
  /// ACK matched to INVITE; RFC 2543 requests by Request-URI, Call-ID, CSeq, From tag and Via). The layer
  /// has already sent `100 Trying` to an INVITE (§17.2.1) and filled in `received`/`rport`. Not called
  /// for retransmissions (absorbed; the last response is resent), CANCEL (answered by the layer: 200 and
  /// `server_transaction::on_cancel`, or 481 when it matches nothing), ACK (`on_ack` or `on_stray_ack`),
  /// or requests answered 400 (missing Via/From/To/Call-ID/CSeq, bad CSeq, CSeq method ≠ method). When
  /// empty, the layer answers 503. `request` is `txn->request()`.
  std::function<void(std::shared_ptr<server_transaction>, const message& request)> on_request;
  /// An ACK matching no server transaction: typically the ACK of a 2xx whose transaction has ended
  /// (64·T1 after the 2xx), with its source.
  std::function<void(const message& ack, const peer& from)> on_stray_ack;
  /// A response matching no client transaction (top Via branch and CSeq method): e.g. a 2xx
  /// retransmitted after the INVITE transaction ended, for the TU to ACK again (RFC 3261 §13.2.2.4).
  std::function<void(const message& response, const peer& from)> on_stray_response;

  /// Ends every transaction without callbacks, cancels the timer and detaches from the transport (which
  /// stays open). No callback runs afterwards; `respond` on old server transactions does nothing;
  /// `send_request`, `send_ack` and `cancel` throw std::logic_error. Idempotent.
  void close() {
    if (closed_) return;
    closed_ = true;
    ++arm_gen_;
    timer_.cancel();
    queues_.clear();
    for (auto& [k, t] : client_) {
      t->layer_ = nullptr;
      t->state_ = transaction_state::terminated;
      t->held_cancel_.reset();
    }
    for (auto& [k, t] : server_) {
      t->layer_ = nullptr;
      t->state_ = transaction_state::terminated;
    }
    client_.clear();
    server_.clear();
    ack_index_.clear();
    registry_.clear();
    free_slots_.clear();
    trims_.clear();
    transport_.on_message = nullptr;
    transport_.on_truncated_request = nullptr;
    transport_.on_error = nullptr;
  }

  /// Client and server transactions alive (not terminated; held CANCELs not counted).
  [[nodiscard]] std::size_t live_transactions() const noexcept { return client_.size() + server_.size(); }
  /// Counters (see `transaction_stats`).
  [[nodiscard]] const transaction_stats& stats() const noexcept { return stats_; }
  /// The timer values in use.
  [[nodiscard]] const timer_config& timers() const noexcept { return timers_; }
  /// The transport underneath.
  [[nodiscard]] sip::transport& get_transport() const noexcept { return transport_; }

 private:
  friend class server_transaction;
  using clock = std::chrono::steady_clock;

  void ensure_open() const {
    if (closed_) throw std::logic_error("tspi::sip::transaction_layer: closed");
  }

  // Runs `f` (which calls up into the TU); an exception is counted and goes no further. The layer may
  // be destroyed inside `f`: the count is then skipped.
  template <class F>
  void guarded(F&& f) noexcept {
    const std::weak_ptr<char> w = alive_;
    try {
      f();
    } catch (...) {
      if (!w.expired()) ++stats_.handler_errors;
    }
  }

  // Fills in Via (and its branch) and Max-Forwards; returns the branch.
  std::string prepare(message& m, const peer& to) {
    std::string branch;
    if (auto* f = detail::find_field(m, "Via")) {
      auto v = parse_via(f->value);
      if (!v) throw std::invalid_argument("tspi::sip::transaction_layer: unparseable top Via");
      branch = v->branch();
      if (branch.empty()) {
        branch = make_branch();
        v->set_param("branch", branch);
        f->value = v->to_string();
      }
    } else {
      auto local = transport_.local_for(to);
      if (!local) {
        local = transport_.local(to.protocol == transport_protocol::udp ? transport_protocol::tcp : transport_protocol::udp);
        if (local) local->protocol = to.protocol;
      }
      if (!local) throw std::logic_error("tspi::sip::transaction_layer: the transport is not listening");
      branch = make_branch();
      std::string v = "SIP/2.0/";
      v += via_token(to.protocol);
      v += ' ';
      const auto host = local->address.to_string();
      if (local->address.is_v6()) {
        v += '[';
        v += host;
        v += ']';
      } else {
        v += host;
      }
      v += ':';
      v += std::to_string(local->port);
      v += ";branch=";
      v += branch;
      v += ";rport";
      m.prepend("Via", std::move(v));
    }
    if (!m.header("Max-Forwards")) m.add("Max-Forwards", "70");
    return branch;
  }

  // --- timers ---------------------------------------------------------------------------------------

  void schedule(detail::transaction_base& t, int slot, clock::duration d) {
    if (d < std::chrono::milliseconds(1)) d = std::chrono::milliseconds(1);
    const auto token = ++next_token_;
    t.timer_token_[slot] = token;
    const auto now = clock::now();
    queues_.push(d, now, {{}, token, t.reg_, static_cast<std::uint8_t>(slot)});
    if (now + d < armed_at_) arm(now + d);
  }
  static void cancel_timer(detail::transaction_base& t, int slot) noexcept { t.timer_token_[slot] = 0; }
  void arm(clock::time_point at) {
    armed_at_ = at;
    const auto gen = ++arm_gen_;
    timer_.expires_at(at);
    timer_.async_wait([this, w = std::weak_ptr<char>(alive_), gen](const boost::system::error_code&) {
      if (w.expired() || gen != arm_gen_ || closed_) return;
      fire_timers();
    });
  }
  void fire_timers() {
    armed_at_ = clock::time_point::max();
    ++arm_gen_;
    const std::weak_ptr<char> w = alive_;
    flush_trims();
    const auto now = clock::now();
    detail::timer_queues::entry e;
    while (queues_.pop_due(now, e)) {
      auto* b = e.owner < registry_.size() ? registry_[e.owner] : nullptr;
      if (!b || b->timer_token_[e.slot] != e.token) continue;
      b->timer_token_[e.slot] = 0;
      auto hold = b->shared_from_this();
      guarded([&] {
        if (b->server_) server_timer(static_cast<server_transaction&>(*b), e.slot);
        else client_timer(static_cast<client_transaction&>(*b), e.slot);
      });
      if (w.expired() || closed_) return;
    }
    if (const auto next = queues_.earliest(); next < armed_at_) arm(next);
  }

  std::uint32_t acquire_slot(detail::transaction_base* t) {
    if (!free_slots_.empty()) {
      const auto i = free_slots_.back();
      free_slots_.pop_back();
      registry_[i] = t;
      return i;
    }
    registry_.push_back(t);
    return static_cast<std::uint32_t>(registry_.size() - 1);
  }

  // Ends `t`: out of the tables, timers dead. The caller holds a shared_ptr to it.
  void terminate(detail::transaction_base& t) {
    if (t.state_ == transaction_state::terminated) return;
    t.state_ = transaction_state::terminated;
    cancel_timer(t, 0);
    cancel_timer(t, 1);
    if (t.layer_ == this) {
      registry_[t.reg_] = nullptr;
      free_slots_.push_back(t.reg_);
      if (t.server_) {
        auto& s = static_cast<server_transaction&>(t);
        if (!s.ack_key_.empty())
          if (auto it = ack_index_.find(s.ack_key_); it != ack_index_.end() && it->second == &s) ack_index_.erase(it);
        detail::release(s.last_response_);
        if (auto it = server_.find(t.key_); it != server_.end() && it->second.get() == &s) server_.erase(it);
      } else {
        auto& c = static_cast<client_transaction&>(t);
        detail::release(c.text_);
        if (auto it = client_.find(t.key_); it != client_.end() && it->second.get() == &c) client_.erase(it);
      }
    }
    t.layer_ = nullptr;
  }

  // --- client side ----------------------------------------------------------------------------------

  void start_client(const std::shared_ptr<client_transaction>& t) {
    if (!client_.emplace(t->key_, t).second)
      throw std::invalid_argument("tspi::sip::transaction_layer: branch of a live transaction");
    t->layer_ = this;
    t->reg_ = acquire_slot(t.get());
    ++stats_.client_transactions;
    transport_.send_text(t->to_, t->text_);
    if (!t->reliable_) {
      t->interval_ = timers_.t1;
      schedule(*t, 0, timers_.t1);  // A or E
    } else if (!t->invite_) {
      detail::release(t->text_);  // never retransmitted, never CANCELed
    }
    schedule(*t, 1, 64 * timers_.t1);  // B or F
  }

  // Delivers to the client transaction's handler (the caller holds a shared_ptr to `t` and touches
  // nothing of the layer afterwards: the handler may close or destroy it).
  static void deliver(client_transaction& t, const message* r, std::error_code ec) {
    if (t.on_response_) t.on_response_(r, ec);
  }

  void post_failure(std::shared_ptr<client_transaction> t, std::error_code ec) {
    boost::asio::post(transport_.get_executor(), [this, w = std::weak_ptr<char>(alive_), t = std::move(t), ec] {
      if (w.expired() || closed_) return;
      guarded([&] {
        if (t->on_response_) t->on_response_(nullptr, ec);
      });
    });
  }

  // A held CANCEL that will never be sent.
  void drop_held_cancel(client_transaction& invite) {
    if (auto c = std::move(invite.held_cancel_)) {
      c->state_ = transaction_state::terminated;
      post_failure(std::move(c), std::make_error_code(std::errc::operation_canceled));
    }
  }

  void handle_response(message&& m, const peer& from) {
    const auto vtext = m.header("Via");
    const auto ctext = m.header("CSeq");
    std::optional<via> v;
    std::optional<cseq> cs;
    if (vtext) v = parse_via(*vtext);
    if (ctext) cs = parse_cseq(*ctext);
    if (!v || !cs) {
      ++stats_.dropped;
      return;
    }
    std::string key = std::move(cs->method);
    key += ' ';
    key += v->param("branch").value_or("");
    const auto it = client_.find(key);
    if (it == client_.end()) {
      ++stats_.stray_responses;
      detail::invoke_copy(on_stray_response, m, from);
      return;
    }
    auto t = it->second;
    client_receive(*t, m);
  }

  void client_receive(client_transaction& t, const message& r) {
    const int s = r.status;
    using st = transaction_state;
    if (t.invite_) {
      if (t.state_ == st::calling || t.state_ == st::proceeding) {
        t.status_ = s;
        if (s < 200) {
          if (t.state_ == st::calling) {
            t.state_ = st::proceeding;
            cancel_timer(t, 0);  // A
            cancel_timer(t, 1);  // B
            if (auto c = std::move(t.held_cancel_)) {
              if (client_.find(c->key_) == client_.end()) {
                start_client(c);
                schedule(t, 1, 64 * timers_.t1);  // §9.1: give up 64·T1 after the CANCEL
              } else {  // the TU sent a CANCEL of its own with this branch
                c->state_ = transaction_state::terminated;
                post_failure(std::move(c), std::make_error_code(std::errc::operation_in_progress));
              }
            }
          }
          deliver(t, &r, {});
        } else if (s < 300) {
          t.state_ = st::accepted;  // RFC 6026 §8.4
          cancel_timer(t, 0);
          detail::release(t.text_);
          drop_held_cancel(t);
          schedule(t, 1, 64 * timers_.t1);  // M
          deliver(t, &r, {});
        } else {
          t.state_ = st::completed;
          cancel_timer(t, 0);
          cancel_timer(t, 1);
          drop_held_cancel(t);
          auto inv = parse_message(t.text_, detail::own_message_limits);
          std::string ack = inv ? detail::make_non2xx_ack(*inv, r).to_string() : std::string();
          if (!ack.empty()) transport_.send_text(t.to_, ack);
          if (t.reliable_) {
            terminate(t);  // timer D = 0
          } else {
            t.text_ = detail::fitted(std::move(ack));
            schedule(t, 1, 64 * timers_.t1);  // D
          }
          deliver(t, &r, {});
        }
      } else if (t.state_ == st::accepted) {
        if (s >= 200 && s < 300) deliver(t, &r, {});
      } else if (t.state_ == st::completed) {
        if (s >= 300) {
          ++stats_.retransmissions_absorbed;
          if (!t.text_.empty()) transport_.send_text(t.to_, t.text_);  // re-ACK
        }
      }
      return;
    }
    if (t.state_ == st::trying || t.state_ == st::proceeding) {
      t.status_ = s;
      if (s < 200) {
        t.state_ = st::proceeding;
        deliver(t, &r, {});
      } else {
        t.state_ = st::completed;
        cancel_timer(t, 0);
        cancel_timer(t, 1);
        detail::release(t.text_);
        if (t.reliable_) terminate(t);  // timer K = 0
        else schedule(t, 1, timers_.t4);  // K
        deliver(t, &r, {});
      }
    } else {
      ++stats_.retransmissions_absorbed;
    }
  }

  void client_timer(client_transaction& t, int slot) {
    using st = transaction_state;
    if (slot == 0) {  // A or E: retransmit
      const bool active = t.invite_ ? t.state_ == st::calling : (t.state_ == st::trying || t.state_ == st::proceeding);
      if (!active || t.text_.empty()) return;
      transport_.send_text(t.to_, t.text_);
      ++stats_.retransmissions_sent;
      if (t.invite_) t.interval_ *= 2;
      else t.interval_ = t.state_ == st::proceeding ? timers_.t2 : std::min(2 * t.interval_, timers_.t2);
      schedule(t, 0, t.interval_);
      return;
    }
    if (t.state_ == st::calling || t.state_ == st::trying || t.state_ == st::proceeding) {  // B, F, or §9.1
      ++stats_.timeouts;
      drop_held_cancel(t);
      terminate(t);
      deliver(t, nullptr, std::make_error_code(std::errc::timed_out));
    } else {  // D, K, M
      terminate(t);
    }
  }

  // --- server side ----------------------------------------------------------------------------------

  // A request from the transport; `truncated`: its Content-Length exceeds the datagram (RFC 3261 §18.3),
  // it is answered 400 once its Via, From, To, Call-ID and CSeq are usable (an ACK is dropped).
  void handle_request(message&& m, const peer& from, bool truncated = false) {
    auto* top = detail::find_field(m, "Via");
    std::optional<via> v;
    if (top) v = parse_via(top->value);
    if (!v) {
      ++stats_.dropped;
      return;
    }
    // RFC 3261 §18.2.1, RFC 3581 §4.
    const auto rport = v->param("rport");
    const bool want_rport = rport && rport->empty();
    if (want_rport || !detail::same_address(v->host, from.address)) {
      v->set_param("received", from.address.to_string());
      if (want_rport) v->set_param("rport", std::to_string(from.port));
      top->value = v->to_string();
    }
    // §18.2.2 / RFC 3581: UDP with rport to the source address and port, else the source address and
    // the sent-by port; TCP on the request's connection, else a new one to source address : sent-by port.
    peer target{from.protocol, from.address, v->port ? v->port : std::uint16_t{5060}};
    if (from.protocol == transport_protocol::udp && want_rport) target.port = from.port;

    const bool is_ack = m.method == "ACK";
    std::string_view problem;
    std::optional<cseq> cs;
    if (!m.header("From")) problem = "Missing From";
    else if (!m.header("To")) problem = "Missing To";
    else if (!m.header("Call-ID")) problem = "Missing Call-ID";
    else if (!m.header("CSeq")) problem = "Missing CSeq";
    else if (!(cs = parse_cseq(*m.header("CSeq")))) problem = "Malformed CSeq";
    else if (cs->method != m.method) problem = "CSeq Method Mismatch";
    else if (truncated) problem = "Content-Length Exceeds Body";
    if (!problem.empty()) {
      if (is_ack) {
        ++stats_.dropped;
      } else {
        ++stats_.bad_requests;
        std::string reason = "Bad Request (";
        reason += problem;
        reason += ')';
        send_response(from, target, make_response(m, 400, {}, reason).to_string());
      }
      return;
    }

    if (is_ack) {
      if (auto it = server_.find(detail::server_key("INVITE", *v, m, cs->number)); it != server_.end()) {
        auto t = it->second;
        server_ack(*t, m);
        return;
      }
      if (auto it = ack_index_.find(detail::dialog_ack_key(m, cs->number)); it != ack_index_.end()) {
        auto t = std::static_pointer_cast<server_transaction>(it->second->shared_from_this());
        server_ack(*t, m);
        return;
      }
      ++stats_.stray_acks;
      detail::invoke_copy(on_stray_ack, m, from);
      return;
    }

    auto key = detail::server_key(m.method, *v, m, cs->number);
    if (auto it = server_.find(key); it != server_.end()) {
      auto t = it->second;
      server_retransmission(*t);
      return;
    }

    auto t = std::make_shared<server_transaction>(server_transaction::private_tag{});
    t->key_ = std::move(key);
    t->invite_ = m.method == "INVITE";
    t->reliable_ = from.protocol == transport_protocol::tcp;
    t->state_ = t->invite_ ? transaction_state::proceeding : transaction_state::trying;
    t->source_ = from;
    t->target_ = target;
    t->layer_ = this;
    t->reg_ = acquire_slot(t.get());
    t->request_ = std::move(m);
    server_.emplace(t->key_, t);
    ++stats_.server_transactions;

    if (t->request_.method == "CANCEL") {
      handle_cancel(t, *v, cs->number);
      return;
    }
    if (t->invite_) {  // §17.2.1: 100 Trying at once
      auto trying = make_response(t->request_, 100);
      if (auto ts = t->request_.header("Timestamp")) trying.add("Timestamp", std::string(*ts));  // §8.2.6.1
      respond(*t, std::move(trying));
    }
    if (!on_request) {
      respond(*t, make_response(t->request_, 503, random_token(10)));
      return;
    }
    const std::weak_ptr<char> w = alive_;
    int refusal = 0;
    try {
      detail::invoke_copy(on_request, t, t->request_);
    } catch (const std::bad_alloc&) {
      refusal = 503;
    } catch (const std::system_error&) {
      refusal = 503;
    } catch (...) {
      refusal = 500;
    }
    if (refusal == 0 || w.expired()) return;
    ++stats_.handler_errors;
    if (closed_ || t->layer_ != this || t->status_ >= 200) return;  // answered (or ended) before it threw
    auto r = make_response(t->request_, refusal, t->to_tag_.empty() ? random_token(10) : t->to_tag_);
    if (refusal == 503) r.add("Retry-After", "5");
    guarded([&] { respond(*t, std::move(r)); });
  }

  void handle_cancel(const std::shared_ptr<server_transaction>& c, const via& v, std::uint32_t number) {
    std::shared_ptr<server_transaction> inv;
    if (auto it = server_.find(detail::server_key("INVITE", v, c->request_, number)); it != server_.end()) inv = it->second;
    if (!inv) {
      ++stats_.unmatched_cancels;
      respond(*c, make_response(c->request_, 481, random_token(10)));
      return;
    }
    respond(*c, make_response(c->request_, 200, inv->to_tag_));  // §9.2: the same To tag as the INVITE's responses
    if (inv->state_ != transaction_state::proceeding) return;   // a final response was sent: no effect
    if (inv->on_cancel) detail::invoke_copy(inv->on_cancel);
    else respond(*inv, make_response(inv->request_, 487, inv->to_tag_.empty() ? random_token(10) : inv->to_tag_));
  }

  void server_retransmission(server_transaction& t) {
    ++stats_.retransmissions_absorbed;
    using st = transaction_state;
    const bool resend = t.state_ == st::proceeding || t.state_ == st::completed || (t.state_ == st::accepted && !t.acked_);
    if (resend && !t.last_response_.empty()) send_response(t.source_, t.target_, t.last_response_);
  }

  void server_ack(server_transaction& t, const message& ack) {
    using st = transaction_state;
    if (t.state_ == st::completed && t.invite_) {
      t.state_ = st::confirmed;
      cancel_timer(t, 0);  // G
      detail::release(t.last_response_);
      if (t.reliable_) terminate(t);   // I = 0
      else schedule(t, 1, timers_.t4);  // I
      detail::invoke_copy(t.on_ack, ack);
    } else if (t.state_ == st::accepted && !t.acked_) {
      t.acked_ = true;
      cancel_timer(t, 0);  // 2xx retransmissions
      detail::release(t.last_response_);
      detail::invoke_copy(t.on_ack, ack);  // stays Accepted until timer L absorbs INVITE retransmissions
    } else {
      ++stats_.retransmissions_absorbed;
    }
  }

  // Where a response goes: the request's TCP connection while it is open, else `target`.
  void send_response(const peer& source, const peer& target, std::string_view text) {
    if (source.protocol == transport_protocol::tcp && transport_.has_connection(source)) transport_.send_text(source, text);
    else transport_.send_text(target, text);
  }

  void respond(server_transaction& t, message r) {
    if (r.status < 100 || r.status > 699) throw std::invalid_argument("tspi::sip::server_transaction::respond: not a response");
    using st = transaction_state;
    const int s = r.status;
    const bool open = t.state_ == st::trying || t.state_ == st::proceeding;
    const bool another_2xx = t.state_ == st::accepted && s >= 200 && s < 300;
    if (t.layer_ != this || (!open && !another_2xx)) {
      ++stats_.ignored_responses;
      return;
    }
    t.status_ = s;
    if (t.invite_ && t.to_tag_.empty() && s > 100)
      if (auto to = r.header("To")) t.to_tag_ = detail::tag_of(*to);
    auto text = r.to_string();
    send_response(t.source_, t.target_, text);
    if (s < 200) {
      t.state_ = st::proceeding;
      t.last_response_ = std::move(text);
      return;
    }
    if (t.invite_ && s < 300) {  // RFC 6026 §7.1 Accepted; 2xx retransmission per RFC 3261 §13.3.1.4
      if (t.acked_) return;
      t.last_response_ = std::move(text);
      t.interval_ = timers_.t1;
      schedule(t, 0, timers_.t1);
      if (t.state_ != st::accepted) {
        t.state_ = st::accepted;
        schedule(t, 1, 64 * timers_.t1);  // L
        const auto cs = parse_cseq(t.request_.header("CSeq").value_or(""));
        t.ack_key_ = detail::dialog_ack_key(t.request_, cs ? cs->number : 0);
        ack_index_[t.ack_key_] = &t;
        queue_trim(t);
      }
      return;
    }
    t.state_ = st::completed;
    queue_trim(t);
    if (t.invite_) {
      t.last_response_ = detail::fitted(std::move(text));
      if (!t.reliable_) {
        t.interval_ = timers_.t1;
        schedule(t, 0, timers_.t1);  // G
      }
      schedule(t, 1, 64 * timers_.t1);  // H
    } else if (t.reliable_) {
      terminate(t);  // J = 0
    } else {
      t.last_response_ = detail::fitted(std::move(text));
      schedule(t, 1, 64 * timers_.t1);  // J
    }
  }

  void server_timer(server_transaction& t, int slot) {
    using st = transaction_state;
    if (slot == 0) {  // G, or 2xx retransmission
      if (!(t.state_ == st::completed || (t.state_ == st::accepted && !t.acked_)) || t.last_response_.empty()) return;
      send_response(t.source_, t.target_, t.last_response_);
      ++stats_.retransmissions_sent;
      t.interval_ = std::min(2 * t.interval_, timers_.t2);
      schedule(t, 0, t.interval_);
      return;
    }
    const bool ack_missing = (t.state_ == st::completed && t.invite_) || (t.state_ == st::accepted && !t.acked_);
    terminate(t);  // H, L, I, J
    if (ack_missing) detail::invoke_copy(t.on_ack_timeout);
  }

  // Releases what a finished server transaction no longer needs, at the next event (never while the
  // TU may still be reading request() in the callback that responded).
  void queue_trim(server_transaction& t) {
    trims_.push_back(std::static_pointer_cast<server_transaction>(t.shared_from_this()));
  }
  void flush_trims() {
    for (auto& w : trims_) {
      auto t = w.lock();
      if (!t) continue;
      auto& r = t->request_;
      detail::release(r.body);
      std::erase_if(r.headers, [](const header_field& h) {
        return !(detail::iequals(h.name, "Call-ID") || detail::iequals(h.name, "CSeq"));
      });
      r.headers.shrink_to_fit();
    }
    trims_.clear();
  }

  // --- transport callbacks --------------------------------------------------------------------------

  void on_transport_message(message&& m, const peer& from) {
    if (closed_) return;
    if (!trims_.empty()) flush_trims();
    guarded([&] {
      if (m.is_request()) handle_request(std::move(m), from);
      else handle_response(std::move(m), from);
    });
  }

  void on_transport_error(const peer& to, std::error_code ec) {
    if (closed_) return;
    using st = transaction_state;
    std::vector<std::shared_ptr<detail::transaction_base>> hit;
    for (const auto& [k, t] : client_) {
      const bool waiting = t->invite_ ? t->state_ == st::calling : (t->state_ == st::trying || t->state_ == st::proceeding);
      if (waiting && t->to_ == to) hit.push_back(t);
    }
    for (const auto& [k, t] : server_)
      if (t->status_ != 0 && (t->source_ == to || t->target_ == to)) hit.push_back(t);
    const std::weak_ptr<char> w = alive_;
    for (auto& b : hit) {
      if (b->state_ == st::terminated) continue;
      ++stats_.transport_errors;
      terminate(*b);
      guarded([&] {
        if (b->server_) {
          detail::invoke_copy(static_cast<server_transaction&>(*b).on_transport_error, ec);
        } else {
          auto& c = static_cast<client_transaction&>(*b);
          drop_held_cancel(c);
          if (c.on_response_) c.on_response_(nullptr, ec);
        }
      });
      if (w.expired() || closed_) return;
    }
  }

  sip::transport& transport_;
  timer_config timers_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<char> alive_;  // liveness token for handlers and callbacks
  bool closed_ = false;
  // Keys are views of the transaction's own key_ / ack_key_, which do not change while it is listed.
  std::unordered_map<std::string_view, std::shared_ptr<client_transaction>> client_;  // "METHOD branch"
  std::unordered_map<std::string_view, std::shared_ptr<server_transaction>> server_;  // detail::server_key
  std::unordered_map<std::string_view, server_transaction*> ack_index_;              // detail::dialog_ack_key (Accepted INVITEs)
  std::vector<detail::transaction_base*> registry_;  // timer owners by index
  std::vector<std::uint32_t> free_slots_;
  detail::timer_queues queues_;
  std::uint64_t next_token_ = 0;
  std::uint64_t arm_gen_ = 0;
  clock::time_point armed_at_ = clock::time_point::max();
  std::vector<std::weak_ptr<server_transaction>> trims_;
  transaction_stats stats_;
};

inline void server_transaction::respond(message response) {
  if (response.status < 100 || response.status > 699)
    throw std::invalid_argument("tspi::sip::server_transaction::respond: not a response");
  if (layer_) layer_->respond(*this, std::move(response));
}

}  // namespace tspi::sip
