// ptapi - portable TAPI
// mspi/stun/client.hpp: a STUN Binding transaction over UDP (RFC 8489 §6.2.1, §6.3): learns the
// server-reflexive transport address of a socket (RFC 8445 §5.1.1.2), with retransmissions.
#pragma once

#include <mspi/detail/random.hpp>
#include <mspi/stun/message.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <type_traits>
#include <system_error>
#include <utility>

namespace mspi::stun {

/// Retransmission settings of a client transaction over UDP (RFC 8489 §6.2.1).
struct binding_options {
  /// RTO: the first retransmission timeout; doubled after each retransmission. RFC 8489's default 500 ms.
  std::chrono::milliseconds rto{500};
  /// Rc: requests sent in all (the first and its retransmissions). RFC 8489's default 7.
  unsigned request_count = 7;
  /// Rm: after the last request the client waits Rm × RTO (the initial RTO). RFC 8489's default 16.
  unsigned last_wait_multiplier = 16;
  /// Whether requests carry SOFTWARE "ptapi" (RFC 8489 §14.14, informational).
  bool software = true;
};
// binding_options stays trivially copyable: with GCC 12.2 and Boost 1.81's use_awaitable, a class temporary
// written in the co_await expression (`co_await async_binding(s, srv, {}, use_awaitable)`) ends up copied
// bitwise, which broke a std::string member here (ASan: free of a pointer into the old object); the same
// code built with clang-16 is fine.
static_assert(std::is_trivially_copyable_v<binding_options>);

/// The outcome of a Binding transaction.
struct binding_result {
  /// The server-reflexive transport address: XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS) of the success response.
  boost::asio::ip::udp::endpoint mapped;
  /// ERROR-CODE of an error response (300..699), 0 otherwise (RFC 8489 §14.8).
  int error_code = 0;
  /// Requests sent (1 = no retransmission).
  unsigned requests = 0;
};

namespace detail {

template <class Handler>
class binding_op : public std::enable_shared_from_this<binding_op<Handler>> {
 public:
  using socket_type = boost::asio::ip::udp::socket;
  binding_op(socket_type& socket, boost::asio::ip::udp::endpoint server, binding_options options, Handler handler)
      : socket_(socket),
        server_(std::move(server)),
        options_(std::move(options)),
        timer_(socket.get_executor()),
        handler_(std::move(handler)),
        work_(boost::asio::get_associated_executor(handler_, socket.get_executor())) {}

  void start() {
    mspi::detail::random_bytes(id_);
    message_writer w(request_, method::binding, message_class::request, id_);
    if (options_.software) w.add(attribute_type::software, std::string_view("ptapi"));
    w.add_fingerprint();
    request_size_ = w.bytes().size();
    if (w.error()) return finish(w.error());
    rto_ = options_.rto;
    // Per-operation cancellation of the whole transaction (the caller's deadline): only this operation's
    // own receive and timer end, never other operations on the socket.
    slot_ = boost::asio::get_associated_cancellation_slot(handler_);
    if (slot_.is_connected())
      slot_.assign([weak = this->weak_from_this()](boost::asio::cancellation_type_t type) {
        auto self = weak.lock();
        if (self && !self->done_ && type != boost::asio::cancellation_type::none)
          self->finish(std::make_error_code(std::errc::operation_canceled));
      });
    receive();
    send();
  }

 private:
  void send() {
    boost::system::error_code ec;
    socket_.send_to(boost::asio::buffer(request_.data(), request_size_), server_, 0, ec);
    ++result_.requests;
    // A request that cannot leave (no route, a socket not open, a family mismatch) ends the transaction;
    // a full send buffer is left to the retransmission.
    if (ec && ec != boost::asio::error::would_block && ec != boost::asio::error::no_buffer_space)
      return finish(std::error_code(ec));
    // RFC 8489 §6.2.1: after the last request, wait Rm × RTO; otherwise RTO, doubling each time.
    const bool last = result_.requests >= options_.request_count;
    timer_.expires_after(last ? options_.rto * options_.last_wait_multiplier : rto_);
    rto_ *= 2;
    timer_.async_wait([self = this->shared_from_this(), last](boost::system::error_code ec) {
      if (ec || self->done_) return;
      if (last) return self->finish(stun_errc::timeout);
      self->send();
    });
  }

  void receive() {
    socket_.async_receive_from(
        boost::asio::buffer(response_), from_,
        boost::asio::bind_cancellation_slot(receive_cancel_.slot(), [self = this->shared_from_this()](
                                                                         boost::system::error_code ec, std::size_t n) {
          self->on_receive(ec, n);
        }));
  }

  void on_receive(boost::system::error_code ec, std::size_t n) {
    if (done_) return;
    if (ec == boost::asio::error::operation_aborted) return finish(std::make_error_code(std::errc::operation_canceled));
    // An ICMP error reported on the socket (Windows does so for unconnected UDP) does not end the wait.
    if (ec == boost::asio::error::connection_refused || ec == boost::asio::error::connection_reset) return receive();
    if (ec) return finish(std::error_code(ec));
    message_view m;
    // Only the server's answer to this transaction counts (RFC 8489 §6.3); anything else is dropped.
    if (from_ != server_ || message_view::parse(std::span<const std::byte>(response_.data(), n), m) ||
        m.transaction() != id_ || m.method() != method::binding || check_fingerprint(m, false) ||
        (m.klass() != message_class::success_response && m.klass() != message_class::error_response))
      return receive();
    if (m.klass() == message_class::error_response) {
      result_.error_code = error_code_of(m).code;
      return finish(stun_errc::error_response);
    }
    finish(mapped_address(m, result_.mapped));
  }

  void finish(std::error_code ec) {
    done_ = true;
    timer_.cancel();
    // Ends this transaction's own receive only: the socket may carry other operations (the media's).
    receive_cancel_.emit(boost::asio::cancellation_type::all);
    if (slot_.is_connected()) slot_.clear();
    // Posted, never run inline: finish may be reached from the initiating call (a first send that fails).
    auto ex = work_.get_executor();
    boost::asio::post(ex, [h = std::move(handler_), ec, r = result_]() mutable { std::move(h)(ec, r); });
    work_.reset();
  }

  socket_type& socket_;
  boost::asio::ip::udp::endpoint server_, from_;
  binding_options options_;
  boost::asio::steady_timer timer_;
  Handler handler_;
  boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler, socket_type::executor_type>> work_;
  boost::asio::cancellation_signal receive_cancel_;  // cancels this transaction's async_receive_from
  boost::asio::cancellation_slot slot_;              // the handler's (the caller's cancellation), if any
  transaction_id id_{};
  std::array<std::byte, 548> request_{};    // RFC 8489 §6.1: 548 bytes fit any IPv4 path
  std::array<std::byte, 1500> response_{};  // a larger response is truncated and fails to parse
  std::size_t request_size_ = 0;
  std::chrono::milliseconds rto_{};
  binding_result result_;
  bool done_ = false;
};

}  // namespace detail

/// Runs one STUN Binding transaction from `socket` to `server` (RFC 8489 §6.2.1, §6.3; RFC 8445 §5.1.1.2):
/// sends a Binding request (fresh random transaction ID from OpenSSL's CSPRNG, SOFTWARE, FINGERPRINT),
/// retransmits it after RTO, 2×RTO, ... up to `request_count` requests, then waits `last_wait_multiplier`
/// × RTO. Datagrams from other sources, for other transactions or that do not parse are dropped and the
/// wait goes on. No authentication (a public STUN server needs none, RFC 8489 §9).
///
/// While it runs the transaction keeps one `async_receive_from` of its own pending on the socket (a
/// datagram it takes that is not its answer is dropped); when it completes it cancels that receive and its
/// timer only (per-operation cancellation), never the socket's other operations, so a media receive loop
/// on the same socket goes on.
///
/// Cancellation: the handler's associated cancellation slot (`boost::asio::bind_cancellation_slot`), any
/// type but `none`, ends the transaction with `std::errc::operation_canceled` (its own receive and timer
/// only).
///
/// Completion: `void(std::error_code, binding_result)`, posted to the handler's associated executor (default:
/// the socket's), never run inside this call; any Asio completion token (callback, `use_future`,
/// `use_awaitable`, ...), Asio's `deferred` when none is given (as tspi's `async_*` forms).
/// Errors: `stun_errc::timeout` (no answer within about 39.5 s with the defaults), `stun_errc::error_response`
/// (`binding_result::error_code` says which), `stun_errc::no_mapped_address` / `bad_attribute` (a success
/// response without a usable address), the system error of a request that cannot be sent (no route, an
/// IPv6 server from an IPv4 socket), `std::errc::operation_canceled` when the socket is closed meanwhile
/// or the operation is cancelled through its slot.
/// Allocation: one operation object per transaction.
/// Thread safety: `socket` must not be used by other threads while the transaction runs; the handler runs
/// on its associated executor (default: the socket's).
template <class Token = boost::asio::deferred_t>
auto async_binding(boost::asio::ip::udp::socket& socket, boost::asio::ip::udp::endpoint server,
                   binding_options options = {}, Token&& token = {}) {
  return boost::asio::async_initiate<Token, void(std::error_code, binding_result)>(
      [&socket](auto handler, boost::asio::ip::udp::endpoint srv, binding_options opt) {
        using op = detail::binding_op<std::decay_t<decltype(handler)>>;
        std::make_shared<op>(socket, std::move(srv), std::move(opt), std::move(handler))->start();
      },
      token, std::move(server), std::move(options));
}

}  // namespace mspi::stun
