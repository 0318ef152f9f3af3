// ptapi - portable TAPI
// tspi/detail/call_ops.hpp: how a call handle's operations reach its backend: the three forms' plumbing
// (`initiate` for async_*(token), `run` for the blocking forms) and one operation type per request.
#pragma once

#include <tspi/call_info.hpp>
#include <tspi/call_info_buffer.hpp>
#include <tspi/call_info_long.hpp>
#include <tspi/detail/backends.hpp>
#include <tspi/digit_gathering.hpp>

#include <mspi/error.hpp>
#include <mspi/qos.hpp>
#include <mspi/tones.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace tspi::detail {

// What a cancellation slot does to an operation: nothing (the provider cannot take it back), drop the
// call (connect: TAPI's Disconnect of a call in progress cancels it), or end the call's digit gathering.
enum class on_cancel { ignore, drop_call, end_gathering };

// Starts `op(backend, done)` for an async_* form whose completion signature is
// `void(std::error_code, Results...)`: the handler runs on its associated executor (default: the call's
// event executor), never inside the initiating function. With `on_cancel::drop_call` or `end_gathering`,
// a cancellation emitted on the handler's associated slot (any type) disconnects the call or ends its
// gathering, and an operation that then fails completes with `std::errc::operation_canceled`.
// `Backend` is `call_backend`, or `address_backend` for the address's operations (never cancellable).
template <class... Results, class Token, class Backend, class Op>
auto initiate(Token&& token, std::shared_ptr<Backend> backend, Op op, on_cancel cancel = on_cancel::ignore) {
  return boost::asio::async_initiate<Token, void(std::error_code, Results...)>(
      [](auto handler, std::shared_ptr<Backend> b, Op o, on_cancel c) {
        using handler_type = decltype(handler);
        if (!b) {
          auto ex = boost::asio::get_associated_executor(handler);
          boost::asio::post(ex, [h = std::move(handler)]() mutable {
            std::move(h)(make_error_code(mspi::tapi_errc::invalid_handle), Results{}...);
          });
          return;
        }
        auto ex = boost::asio::get_associated_executor(handler, b->executor());
        // 0 pending, 1 completed by the provider, 2 cancelled first: whichever comes first wins, so a call
        // that connects as the cancellation arrives is not dropped.
        auto progress = std::make_shared<std::atomic<int>>(0);
        if constexpr (std::is_same_v<Backend, call_backend>) {
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          if (c != on_cancel::ignore && slot.is_connected()) {
            slot.assign([weak = std::weak_ptr<call_backend>(b), progress, c](boost::asio::cancellation_type) {
              int pending = 0;
              if (!progress->compare_exchange_strong(pending, 2)) return;
              auto call = weak.lock();
              if (!call) return;
              if (c == on_cancel::drop_call) call->disconnect(disconnect_code::normal, [](std::error_code) {});
              else call->cancel_gather();
            });
          }
        } else {
          (void)c;
        }
        auto h = std::make_shared<handler_type>(std::move(handler));
        // Outstanding work on the handler's executor until the completion is posted (post itself counts
        // the posted handler), as Asio's own operations do: an io_context whose only job is this
        // completion does not run out of work meanwhile. `work` lives in this completion only, beside `ex`.
        auto work = boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked);
        o(*b, [h, ex, work, progress](std::error_code ec, Results... results) {
          int pending = 0;
          if (!progress->compare_exchange_strong(pending, 1) && ec) ec = std::make_error_code(std::errc::operation_canceled);
          boost::asio::post(ex, [h, ec, ... r = std::move(results)]() mutable {
            auto slot = boost::asio::get_associated_cancellation_slot(*h);
            if (slot.is_connected()) slot.clear();  // on the handler's executor, where cancellation is emitted
            std::move(*h)(ec, std::move(r)...);
          });
        });
      },
      token, std::move(backend), std::move(op), cancel);
}

// The default completion token of every async_* form: Asio's `deferred` (the executor has none of its
// own). `co_await call.async_connect()` works in an awaitable; `call.async_connect()` alone only makes
// the operation, which runs when invoked with a handler or awaited.
using default_token = boost::asio::deferred_t;

// The operations of `call` and its mixins (legacy_call_media_control.hpp), one type per request: each is
// `op(backend, done)` for `run` and `initiate`.
namespace ops {

// One hold/transfer/digits request as an operation for `run` and `detail::initiate`.
struct control_op {
  call_request request;
  void operator()(call_backend& b, completion d) const { b.control(request, std::move(d)); }
};
inline control_op hold_op(bool on_hold) {
  return {{on_hold ? call_request::kind::hold : call_request::kind::unhold, {}, 0}};
}
inline control_op transfer_op(std::string_view to) { return {{call_request::kind::blind_transfer, std::string(to), 0}}; }
inline control_op digits_op(std::string_view d, std::chrono::milliseconds duration = {}) {
  return {{call_request::kind::generate_digits, std::string(d), 0, duration}};
}
struct swap_op {
  std::shared_ptr<call_backend> held;
  void operator()(call_backend& b, completion d) const { b.swap_hold(held, std::move(d)); }
};
struct consult_op {
  std::shared_ptr<call_backend> consultation;
  void operator()(call_backend& b, completion d) const { b.transfer(consultation, std::move(d)); }
};
struct conference_op {
  std::shared_ptr<call_backend> consultation;
  void operator()(call_backend& b, completion d) const { b.conference(consultation, std::move(d)); }
};
struct app_specific_op {
  std::uint32_t value;
  void operator()(call_backend& b, completion d) const { b.set_app_specific(value, std::move(d)); }
};
struct remove_from_conference_op {
  void operator()(call_backend& b, completion d) const { b.remove_from_conference(std::move(d)); }
};
struct finish_op {
  finish_mode mode;
  void operator()(call_backend& b, completion d) const { b.finish(mode, std::move(d)); }
};
struct tone_op {
  tone_media_request request;
  void operator()(call_backend& b, completion d) const { b.tones(request, std::move(d)); }
};
inline tone_op custom_op(std::span<const mspi::custom_tone> tones, std::chrono::milliseconds duration) {
  // No tones would be a stop request: GenerateCustomTones needs at least one (E_INVALIDARG otherwise).
  if (tones.empty()) return {mspi::tone_generation{mspi::tone_mode::none, {mspi::custom_tone{}}, duration}};
  return {mspi::tone_generation{mspi::tone_mode::none, {tones.begin(), tones.end()}, duration}};
}
inline tone_op detect_op(std::span<const mspi::detect_tone> tones) {
  return {std::vector<mspi::detect_tone>(tones.begin(), tones.end())};
}
struct gather_op {
  gather_digits_options options;
  void operator()(call_backend& b, gather_completion d) const { b.gather_digits(options, std::move(d)); }
};
using kind = call_feature_request::kind;
struct feature_op {
  call_feature_request request;
  void operator()(call_backend& b, completion d) const { b.feature(request, std::move(d)); }
};
inline feature_op feature(kind what, std::string_view argument, mspi::media_type media = mspi::media_type::none,
                          mspi::qos_service_level level = mspi::qos_service_level::best_effort) {
  return {{what, std::string(argument), media, level}};
}
inline feature_op digit_modes_op(std::uint32_t modes) {
  auto op = feature(kind::detect_digits, {});
  op.request.value = modes;
  return op;
}
inline feature_op info_long_op(call_info_long item, std::uint32_t value) {
  auto op = feature(kind::set_info_long, {});
  op.request.long_item = item;
  op.request.value = value;
  return op;
}
inline feature_op info_buffer_op(call_info_buffer item, std::string_view bytes) {
  auto op = feature(kind::set_info_buffer, bytes);
  op.request.buffer_item = item;
  return op;
}
inline feature_op info_string_op(call_info_string item, std::string_view value) {
  auto op = feature(kind::set_info_string, value);
  op.request.item = item;
  return op;
}

// Runs `op` on `backend` and waits for its completion (the blocking forms); `invalid_handle` for an empty
// handle.
template <class Op>
std::error_code run(const std::shared_ptr<call_backend>& backend, Op op) {
  if (!backend) return make_error_code(mspi::tapi_errc::invalid_handle);
  return wait_for([&](completion done) { op(*backend, std::move(done)); });
}

}  // namespace ops
}  // namespace tspi::detail
