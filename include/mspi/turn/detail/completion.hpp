// ptapi - portable TAPI
// mspi/turn/detail/completion.hpp: the type-erased completion handler of one TURN client transaction
// (any Asio completion token's handler), run by posting to its associated executor with a work guard.
#pragma once

#include <mspi/turn/options.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <cstdint>
#include <system_error>
#include <utility>

namespace mspi::turn::detail {

/// What a transaction ends with: the error, and what Allocate or ChannelBind return.
struct outcome {
  outcome() = default;
  outcome(std::error_code e) : ec(e) {}  // NOLINT: implicit, `{turn_errc::...}` reads as the error
  std::error_code ec;
  allocate_result allocation;
  std::uint16_t channel = 0;
};

/// A pending user operation's handler, invoked once.
class completion {
 public:
  virtual ~completion() = default;
  /// Posts the handler with `o` to its associated executor (never runs it inline).
  virtual void complete(const outcome& o) = 0;
};

/// `Invoke` calls the handler with the signature's arguments taken from an `outcome`.
template <class Handler, class Executor, class Invoke>
class completion_of final : public completion {
 public:
  completion_of(Handler handler, const Executor& fallback)
      : handler_(std::move(handler)), work_(boost::asio::get_associated_executor(handler_, fallback)) {}
  void complete(const outcome& o) override {
    auto ex = work_.get_executor();
    boost::asio::post(ex, [h = std::move(handler_), o]() mutable { Invoke{}(std::move(h), o); });
    work_.reset();
  }

 private:
  Handler handler_;
  boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler, Executor>> work_;
};

/// `void(std::error_code, allocate_result)`
struct invoke_allocate {
  template <class H>
  void operator()(H&& h, const outcome& o) const { std::move(h)(o.ec, o.allocation); }
};
/// `void(std::error_code, std::uint16_t channel)`
struct invoke_channel {
  template <class H>
  void operator()(H&& h, const outcome& o) const { std::move(h)(o.ec, o.channel); }
};
/// `void(std::error_code)`
struct invoke_error {
  template <class H>
  void operator()(H&& h, const outcome& o) const { std::move(h)(o.ec); }
};

}  // namespace mspi::turn::detail
