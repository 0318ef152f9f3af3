// ptapi - portable TAPI
// tspi/detail/objects.hpp: the address and call objects behind the application's handles, as the TAPI
// object's core keeps them. Members that need the core are defined in core.hpp.
#pragma once

#include <tspi/call_info.hpp>
#include <tspi/call_state.hpp>
#include <tspi/detail/backends.hpp>
#include <tspi/detail/digit_gatherer.hpp>
#include <tspi/detail/provider_base.hpp>
#include <tspi/tsp.hpp>

#include <mspi/stream_control.hpp>

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tspi::detail {

class core;

/// An address of a provider, as the core keeps it.
class address_impl final : public address_backend, public std::enable_shared_from_this<address_impl> {
 public:
  /// Address `id` of provider `p`, at `line_id` in the TAPI object's list of addresses.
  address_impl(std::weak_ptr<core> c, provider_base& p, std::size_t id, std::size_t line_id, address_info info)
      : core_(std::move(c)), provider_(p), id_(id), line_id_(line_id), info_(std::move(info)) {}
  [[nodiscard]] const address_info& info() const override { return info_; }
  [[nodiscard]] std::string_view provider_name() const override { return provider_.name(); }
  [[nodiscard]] address_state state() const override { return state_.load(); }
  std::shared_ptr<call_backend> create_call(std::string_view destination, mspi::media_type media,
                                            std::error_code& ec) override;
  [[nodiscard]] std::vector<std::shared_ptr<call_backend>> calls() const override;
  mspi::terminal_support& terminals() override { return provider_.terminals(id_); }
  void forward(forward_information f, completion done) override;
  [[nodiscard]] forward_information current_forward() const override {
    std::lock_guard lock(forward_mutex_);
    return forward_;
  }
  [[nodiscard]] std::uint32_t capability(address_capability cap) const override {
    return address_capability_value(info_, provider_.features(), line_id_, cap);
  }
  [[nodiscard]] std::string capability_string(address_capability_string cap) const override {
    return address_capability_text(provider_.name(), provider_.features(), cap);
  }
  [[nodiscard]] boost::asio::any_io_executor executor() const override;
  // The forwarding the provider accepted last (core thread writes, any thread reads).
  void set_forward(forward_information f) {
    std::lock_guard lock(forward_mutex_);
    forward_ = std::move(f);
  }

  [[nodiscard]] provider_base& provider() const noexcept { return provider_; }
  [[nodiscard]] std::size_t id() const noexcept { return id_; }
  void set_state(address_state s) { state_.store(s); }

  /// Calls of this address in the core's table and not yet disconnected (admission against
  /// `max_active_calls`; kept by the core on each state change, core thread only).
  std::uint32_t active_calls = 0;

 private:
  std::weak_ptr<core> core_;
  provider_base& provider_;
  const std::size_t id_;
  const std::size_t line_id_;
  const address_info info_;
  std::atomic<address_state> state_{info_.initial_state};
  mutable std::mutex forward_mutex_;
  forward_information forward_;
};

class call_impl;

/// What every application handle of one call shares (TAPI's COM reference count): the handles are
/// aliasing `shared_ptr`s owned by one anchor, so the anchor dies with the last handle, on whatever thread
/// drops it, and then asks the core (on the core thread) to release the call if it is over. The core's
/// own references to the `call_impl` never count. Defined in core.hpp.
struct call_anchor {
  explicit call_anchor(std::shared_ptr<call_impl> c) noexcept : call(std::move(c)) {}
  call_anchor(const call_anchor&) = delete;
  call_anchor& operator=(const call_anchor&) = delete;
  ~call_anchor();
  std::shared_ptr<call_impl> call;
};

/// A call, as the core keeps it. Mutable state changes only on the core thread; `info_` is also read by
/// application threads, under `mutex_`.
class call_impl final : public call_backend, public std::enable_shared_from_this<call_impl> {
 public:
  call_impl(std::weak_ptr<core> c, std::shared_ptr<address_impl> a, call_info info)
      : core_(std::move(c)), address_(std::move(a)), info_(std::move(info)) {}

  /// The call's items for the application, `secured` computed now (the streams' SRTP state may change
  /// between events): reads every stream's statistics.
  [[nodiscard]] call_info info() const override {
    const bool media = media_secured();
    call_info i = snapshot();
    i.secured = i.signalling_secured && media;
    return i;
  }
  /// The call's items as last stored, without reading the streams: what the core's own checks use
  /// (privilege, called ID, media types), so that no call operation pays for the streams' statistics.
  [[nodiscard]] call_info snapshot() const {
    std::lock_guard lock(mutex_);
    return info_;
  }
  [[nodiscard]] std::error_code check() const override;
  void connect(completion done) override;
  void answer(completion done) override;
  void disconnect(disconnect_code code, completion done) override;
  void control(call_request r, completion done) override;
  void swap_hold(std::shared_ptr<call_backend> held, completion done) override;
  void transfer(std::shared_ptr<call_backend> consultation, completion done) override;
  void finish(finish_mode mode, completion done) override;
  void conference(std::shared_ptr<call_backend> consultation, completion done) override;
  void remove_from_conference(completion done) override;
  [[nodiscard]] std::shared_ptr<hub_backend> hub() const override {
    std::lock_guard lock(mutex_);
    return hub_;
  }
  /// Sets or clears the call's hub (core thread; `hub()` reads it from any thread).
  void set_hub(std::shared_ptr<hub_backend> h) {
    std::lock_guard lock(mutex_);
    hub_ = std::move(h);
  }
  void gather_digits(gather_digits_options options, gather_completion done) override;
  void cancel_gather() override;
  void tones(tone_media_request r, completion done) override;
  void set_app_specific(std::uint32_t value, completion done) override;
  void feature(call_feature_request r, completion done) override;
  [[nodiscard]] tapi_event event_filter() const override { return static_cast<tapi_event>(event_filter_.load()); }
  void filter_events(tapi_event events, bool enable) override {
    if (enable) event_filter_.fetch_or(static_cast<std::uint32_t>(events));
    else event_filter_.fetch_and(~static_cast<std::uint32_t>(events));
  }
  /// Stores an item the application sets, `member` (a settable CALLINFO_STRING or CALLINFO_BUFFER item's,
  /// `member_of`; core thread); true when the value changed.
  bool store_info(std::string call_info::*member, std::string value) {
    std::lock_guard lock(mutex_);
    auto& slot = info_.*member;
    if (slot == value) return false;
    slot = std::move(value);
    return true;
  }
  /// Sets CIL_REASON before an idle call is placed by Unpark or Pickup (core thread).
  /// DetectDigits / put_CallInfoLong(CIL_MONITORDIGITMODES): `call_info::monitor_digit_modes`.
  void set_monitor_digit_modes(std::uint32_t modes) {
    std::lock_guard lock(mutex_);
    info_.monitor_digit_modes = modes;
  }
  /// put_CallInfoLong(CIL_GENERATEDIGITDURATION): `call_info::generate_digit_duration` (ms, 0: the MSP's default).
  void set_generate_digit_duration(std::uint32_t ms) {
    std::lock_guard lock(mutex_);
    info_.generate_digit_duration = ms;
  }
  /// True while DTMF digits raise TE_DIGITEVENT (`monitor_digit_modes` has LINEDIGITMODE_DTMF).
  [[nodiscard]] bool detects_dtmf() const {
    std::lock_guard lock(mutex_);
    return (info_.monitor_digit_modes & line_digit_mode::dtmf) != 0;
  }
  void set_reason(call_reason reason) {
    std::lock_guard lock(mutex_);
    info_.reason = reason;
  }
  /// Sets CIL_RELATEDCALLID or CIL_APPSPECIFIC (core thread); true when the value changed.
  bool set_related_call(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    return std::exchange(info_.related_call_id, id) != id;
  }
  bool store_app_specific(std::uint32_t value) {
    std::lock_guard lock(mutex_);
    return std::exchange(info_.app_specific, value) != value;
  }
  std::error_code release() override;
  [[nodiscard]] std::shared_ptr<mspi::stream_control> streams() const override { return msp_call_; }
  [[nodiscard]] std::shared_ptr<address_backend> address() const override { return address_; }
  [[nodiscard]] boost::asio::any_io_executor executor() const override;

  // -- core-thread state --
  /// The primary call of this consultation call after `transfer` (ITBasicCallControl::Transfer flags it
  /// for Finish(FM_ASTRANSFER)); empty otherwise.
  std::weak_ptr<call_impl> transfer_of_;
  /// The primary call of this consultation call after `conference` (flags it for Finish(FM_ASCONFERENCE)).
  std::weak_ptr<call_impl> conference_of_;
  [[nodiscard]] call_id id() const noexcept { return info_.id; }
  [[nodiscard]] call_state state() const override {
    std::lock_guard lock(mutex_);
    return info_.state;
  }
  /// Replaces the provider's items (LINE_CALLINFO) but `secured`, which `refresh_secured` keeps; returns the
  /// causes that changed, in CIC order.
  [[nodiscard]] std::vector<call_info_change_cause> set_provider_info(const provider_call_info& p) {
    std::lock_guard lock(mutex_);
    provider_call_info& mine = info_;
    std::vector<call_info_change_cause> changed;
    if (p.provider_responses != mine.provider_responses || p.provider_status != mine.provider_status ||
        p.provider_reason != mine.provider_reason || p.provider_detail != mine.provider_detail ||
        p.signalling_secured != mine.signalling_secured)
      changed.push_back(call_info_change_cause::other);
    if (p.dev_specific != mine.dev_specific) changed.push_back(call_info_change_cause::dev_specific);
    if (p.provider_call_id != mine.provider_call_id) changed.push_back(call_info_change_cause::call_id);
    if (p.called_name != mine.called_name) changed.push_back(call_info_change_cause::called_id);
    if (p.connected_id != mine.connected_id || p.connected_name != mine.connected_name)
      changed.push_back(call_info_change_cause::connected_id);
    if (p.redirecting_id != mine.redirecting_id || p.redirecting_name != mine.redirecting_name)
      changed.push_back(call_info_change_cause::redirecting_id);
    if (p.redirection_id != mine.redirection_id || p.redirection_name != mine.redirection_name)
      changed.push_back(call_info_change_cause::redirection_id);
    const bool secured = mine.secured;
    mine = p;
    mine.secured = secured;
    return changed;
  }
  /// Recomputes `provider_call_info::secured`: the provider's `signalling_secured` and every stream of the
  /// MSP call reporting `stream_statistics::secured` (SRTP). Returns true when it changed. Reads the streams'
  /// statistics before taking the call's lock (never both at once).
  bool refresh_secured() {
    const bool media = media_secured();
    std::lock_guard lock(mutex_);
    const bool now = info_.signalling_secured && media;
    return std::exchange(info_.secured, now) != now;
  }
  /// True when the MSP call has streams and every one reports `stream_statistics::secured` (SRTP).
  [[nodiscard]] bool media_secured() const {
    if (!msp_call_) return false;
    const auto streams = msp_call_->streams();
    return !streams.empty() &&
           std::all_of(streams.begin(), streams.end(), [](const mspi::stream_ptr& s) { return s->statistics().secured; });
  }
  void set_state(call_state s, call_state_cause cause) {
    std::lock_guard lock(mutex_);
    info_.state = s;
    info_.cause = cause;
  }
  // -- application handles (any thread) --
  /// A new application handle: shares the anchor of the handles alive, or starts a new one.
  [[nodiscard]] std::shared_ptr<call_backend> handle() {
    std::lock_guard lock(mutex_);
    auto a = anchor_.lock();
    if (!a) {
      a = std::make_shared<call_anchor>(shared_from_this());
      anchor_ = a;
    }
    return std::shared_ptr<call_backend>(a, static_cast<call_backend*>(this));  // aliasing: counts in the anchor
  }
  /// True while an application handle refers to the call.
  [[nodiscard]] bool has_handles() const {
    std::lock_guard lock(mutex_);
    return !anchor_.expired();
  }

  const std::weak_ptr<core> core_;
  std::shared_ptr<address_impl> address_;
  std::shared_ptr<mspi::stream_control> msp_call_;
  std::vector<completion> connect_waiters_;
  bool was_connected_ = false;
  bool dialed_ = false;                   // connect sent make_call to the provider (core thread)
  bool counted_ = false;                  // counts in address_->active_calls (core thread)
  std::atomic<bool> released_{false};     // set on the core thread, read by any (`check`)
  std::atomic<std::uint32_t> event_filter_{0xFFFFFFFF};  // ITCallInfo2's filter (any thread)
  // The digit gathering in progress (core thread): its rules, its completion and its one timer.
  std::optional<digit_gatherer> gatherer_;
  gather_completion gather_done_;
  std::unique_ptr<boost::asio::steady_timer> gather_timer_;
  // Generation requests running (core thread): [0] digits, [1] tones; each ends with one TE_GENERATEEVENT.
  std::array<unsigned, 2> generating_{};

 private:
  mutable std::mutex mutex_;
  call_info info_;
  std::weak_ptr<call_anchor> anchor_;  // under mutex_
  std::shared_ptr<hub_backend> hub_;   // under mutex_: the call hub it is in (a detail::hub_impl), or null
};

}  // namespace tspi::detail
