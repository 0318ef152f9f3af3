// ptapi - portable TAPI
// tspi/sip/transaction/layer.hpp: the SIP transaction layer (RFC 3261 §17 with RFC 6026's Accepted state,
// §18.2.1/§18.2.2 and RFC 3581 for where responses go) on top of tspi/sip/transport.hpp. Its members are
// defined in transaction/impl/{layer,client,server,timers}.hpp, included at the end.
#pragma once

#include <tspi/sip/detail/timer_queues.hpp>
#include <tspi/sip/detail/transaction_base.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction/client.hpp>
#include <tspi/sip/transaction/server.hpp>
#include <tspi/sip/transaction/state.hpp>
#include <tspi/sip/transaction/timer_config.hpp>
#include <tspi/sip/transport.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tspi::sip {

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
  std::shared_ptr<client_transaction> send_request(message request, const peer& to, response_handler on_response);

  /// Sends the ACK of a 2xx (RFC 3261 §13.2.2.4, §17.1.1.3: a request of its own, in no transaction),
  /// completing it as `send_request` does (Via with a new branch when absent, Max-Forwards). Call it
  /// again for each retransmitted 2xx. Throws std::logic_error after `close` or when no Via can be
  /// built, std::invalid_argument when `ack` is not an ACK or has an unparseable top Via.
  void send_ack(message ack, const peer& to);

  /// Cancels a pending INVITE client transaction (RFC 3261 §9.1): builds the CANCEL (same Request-URI,
  /// top Via and branch, Route, From, To, Call-ID and CSeq number as the INVITE) and sends it in a
  /// non-INVITE client transaction of its own, whose responses go to `on_response`. If the INVITE has
  /// no provisional response yet, the CANCEL is held and sent when one arrives. If no final response to
  /// the INVITE arrives within 64·T1 of sending the CANCEL, the INVITE ends with timed_out (§9.1).
  /// When no CANCEL will be sent — the INVITE already has a final response, ended, or ends before any
  /// provisional response — `on_response(nullptr, std::errc::operation_canceled)` runs (never from inside
  /// this call); a second cancel() while one is pending gets std::errc::operation_in_progress.
  /// Throws std::logic_error after `close`, std::invalid_argument when `invite` is null or not an INVITE.
  std::shared_ptr<client_transaction> cancel(const std::shared_ptr<client_transaction>& invite, response_handler on_response);

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
  /// Every message the layer sends, as it goes on the wire (after Via, branch and Max-Forwards were
  /// filled in), with its destination: requests of `send_request`, ACKs of `send_ack` and of non-2xx
  /// finals, CANCELs (when built, even if held until a provisional response), and every response (the
  /// TU's through `server_transaction::respond`, the automatic 100 Trying, 400s to malformed requests).
  /// Retransmissions are not reported. For traces (`sip_config::trace`); runs on the executor, from inside
  /// the call that sends; must not call back into the layer. May be empty.
  std::function<void(const message& m, const peer& to)> on_send;

  /// Ends every transaction without callbacks, cancels the timer and detaches from the transport (which
  /// stays open). No callback runs afterwards; `respond` on old server transactions does nothing;
  /// `send_request`, `send_ack` and `cancel` throw std::logic_error. Idempotent.
  void close();

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
  std::string prepare(message& m, const peer& to);
  // Reports `m`, about to be sent to `to`, to `on_send`.
  void sending(const message& m, const peer& to) {
    if (on_send) guarded([&] { on_send(m, to); });
  }

  // --- timers ---------------------------------------------------------------------------------------

  void schedule(detail::transaction_base& t, int slot, clock::duration d);
  static void cancel_timer(detail::transaction_base& t, int slot) noexcept;
  void arm(clock::time_point at);
  void fire_timers();
  std::uint32_t acquire_slot(detail::transaction_base* t);

  // Ends `t`: out of the tables, timers dead. The caller holds a shared_ptr to it.
  void terminate(detail::transaction_base& t);

  // --- client side ----------------------------------------------------------------------------------

  void start_client(const std::shared_ptr<client_transaction>& t);

  // Delivers to the client transaction's handler (the caller holds a shared_ptr to `t` and touches
  // nothing of the layer afterwards: the handler may close or destroy it).
  static void deliver(client_transaction& t, const message* r, std::error_code ec);

  void post_failure(std::shared_ptr<client_transaction> t, std::error_code ec);

  // A held CANCEL that will never be sent.
  void drop_held_cancel(client_transaction& invite);

  void handle_response(message&& m, const peer& from);
  void client_receive(client_transaction& t, const message& r);
  void client_timer(client_transaction& t, int slot);

  // --- server side ----------------------------------------------------------------------------------

  // A request from the transport; `truncated`: its Content-Length exceeds the datagram (RFC 3261 §18.3),
  // it is answered 400 once its Via, From, To, Call-ID and CSeq are usable (an ACK is dropped).
  void handle_request(message&& m, const peer& from, bool truncated = false);

  void handle_cancel(const std::shared_ptr<server_transaction>& c, const via& v, std::uint32_t number);
  void server_retransmission(server_transaction& t);
  void server_ack(server_transaction& t, const message& ack);

  // Where a response goes: the request's TCP connection while it is open, else `target`.
  void send_response(const peer& source, const peer& target, std::string_view text);

  void respond(server_transaction& t, message r);
  void server_timer(server_transaction& t, int slot);

  // Releases what a finished server transaction no longer needs, at the next event (never while the
  // TU may still be reading request() in the callback that responded).
  void queue_trim(server_transaction& t);

  void flush_trims();

  // --- transport callbacks --------------------------------------------------------------------------

  void on_transport_message(message&& m, const peer& from);
  void on_transport_error(const peer& to, std::error_code ec);

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

}  // namespace tspi::sip

#include <tspi/sip/transaction/impl/layer.hpp>
#include <tspi/sip/transaction/impl/client.hpp>
#include <tspi/sip/transaction/impl/server.hpp>
#include <tspi/sip/transaction/impl/timers.hpp>
