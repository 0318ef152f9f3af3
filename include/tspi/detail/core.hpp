// ptapi - portable TAPI
// tspi/detail/core.hpp: the TAPI object's core (TAPISRV's role, in process): its thread, the call and
// address tables, the enforced call-state machine, request completions and event delivery.
#pragma once

#include <tspi/address.hpp>
#include <tspi/call.hpp>
#include <tspi/call_hub.hpp>
#include <tspi/call_state.hpp>
#include <tspi/detail/backends.hpp>
#include <tspi/detail/call_hub_impl.hpp>
#include <tspi/detail/objects.hpp>
#include <tspi/detail/provider_base.hpp>
#include <tspi/events.hpp>
#include <tspi/tsp.hpp>

#include <mspi/channel.hpp>
#include <mspi/detail/run_catching.hpp>
#include <mspi/error.hpp>
#include <mspi/media_pool.hpp>
#include <mspi/msp_event.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/signals2/signal.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

namespace tspi::detail {

/// Options of a TAPI object.
struct core_options {
  std::optional<boost::asio::any_io_executor> event_executor;  ///< Where events are delivered; default: a thread of the TAPI object's own.
  std::size_t media_threads = 1;  ///< Threads of the media pool shared by every MSP address (0 is taken as 1).
};

/// One registration for incoming calls (ITTAPI::RegisterCallNotifications).
struct notification_registration {
  std::uint64_t id = 0;
  std::shared_ptr<address_impl> address;
  bool monitor = false;
  bool owner = false;
  mspi::media_type media = mspi::media_type::audio;
};

/// The signals through which events reach the application (ITTAPIEventNotification, typed).
struct event_signals {
  boost::signals2::signal<void(const call_notification_event&)> call_notification;
  boost::signals2::signal<void(const call_state_event&)> call_state;
  boost::signals2::signal<void(const call_media_event&)> call_media;
  boost::signals2::signal<void(const file_terminal_event&)> file_terminal;
  boost::signals2::signal<void(const address_event&)> address;
  boost::signals2::signal<void(const digit_event&)> digit;
  boost::signals2::signal<void(const call_info_change_event&)> call_info_change;
  boost::signals2::signal<void(const digits_gathered_event&)> digits_gathered;
  boost::signals2::signal<void(const tone_detection_event&)> tone_detection;
  boost::signals2::signal<void(const digit_generation_event&)> digit_generation;
  boost::signals2::signal<void(const call_hub_event&)> call_hub;
};

/// The core of a TAPI object: one thread on which every provider entry point, every state change and
/// every request completion runs, plus the event strand on which the application's handlers run.
class core final : public std::enable_shared_from_this<core> {
 public:
  explicit core(core_options options) : options_(std::move(options)) {}
  core(const core&) = delete;
  core& operator=(const core&) = delete;
  ~core() { stop_threads(); }

  // ---- set-up (application threads) ----
  void add_provider(std::unique_ptr<provider_base> p) {
    std::lock_guard lock(setup_mutex_);
    providers_.push_back(std::move(p));
  }
  [[nodiscard]] bool running() const { return initialized_.load(); }

  void initialize(std::error_code& ec) {
    std::lock_guard lock(setup_mutex_);
    if (initialized_) {
      ec = mspi::tapi_errc::already_initialized;
      return;
    }
    start_threads();
    ec = run_sync([this](std::error_code& e) {
      for (auto& p : providers_) {
        p->initialize(*this, e);
        if (e) return;
        auto infos = p->addresses();
        for (std::size_t i = 0; i < infos.size(); ++i)
          addresses_.push_back(std::make_shared<address_impl>(weak_from_this(), *p, i, addresses_.size(), infos[i]));
      }
    });
    if (ec) {
      run_sync([this](std::error_code&) { shutdown_on_core(); });
      stop_threads();
      return;
    }
    initialized_ = true;
  }

  void shutdown() {
    std::lock_guard lock(setup_mutex_);
    if (!initialized_) return;
    initialized_ = false;
    run_sync([this](std::error_code&) { shutdown_on_core(); });
    stop_threads();
  }

  [[nodiscard]] std::vector<std::shared_ptr<address_impl>> addresses() const {
    std::lock_guard lock(table_mutex_);
    return addresses_;
  }

  // ---- events ----
  event_signals signals;
  std::atomic<std::uint32_t> event_filter{0};
  /// Incoming calls refused because the owner's event filter excluded call notifications.
  [[nodiscard]] std::uint64_t unnotified_calls() const noexcept { return unnotified_calls_.load(std::memory_order_relaxed); }
  [[nodiscard]] boost::asio::any_io_executor event_executor() const { return event_executor_; }

  std::uint64_t register_notifications(std::shared_ptr<address_impl> a, bool monitor, bool owner,
                                        mspi::media_type media) {
    std::lock_guard lock(table_mutex_);
    registrations_.push_back({++next_registration_, std::move(a), monitor, owner, media});
    return next_registration_;
  }
  bool unregister_notifications(std::uint64_t id) {
    std::lock_guard lock(table_mutex_);
    return std::erase_if(registrations_, [id](const auto& r) { return r.id == id; }) > 0;
  }

  /// Provider-reported transitions that TAPI 3's table forbids (dropped, never applied).
  [[nodiscard]] std::uint64_t illegal_transitions() const { return illegal_transitions_.load(); }
  /// Exceptions that escaped a handler on the core or event thread (caught and counted; the thread ran on).
  [[nodiscard]] std::uint64_t handler_exceptions() const { return handler_exceptions_.load(); }

  /// The media threads every MSP address of this TAPI object shares (null when not running).
  [[nodiscard]] std::shared_ptr<mspi::media_pool> media_pool() const { return media_pool_; }

  // ---- core-thread helpers ----
  /// The core thread's executor (given to TSPs).
  [[nodiscard]] boost::asio::any_io_executor core_executor() { return core_io_->get_executor(); }
  [[nodiscard]] bool on_core_thread() { return core_io_ && core_io_->get_executor().running_in_this_thread(); }
  // Posts f to the core thread; false (and f is dropped) once shutdown has begun stopping the thread.
  // Everything posted while this returns true runs before the thread ends.
  template <class F>
  bool post(F&& f) {
    std::lock_guard lock(post_mutex_);
    if (!accepting_) return false;
    boost::asio::post(*core_io_, std::forward<F>(f));
    return true;
  }
  // Runs f(ec) on the core thread and waits for it (inline when already there); `not_initialized` when
  // the core thread has stopped.
  template <class F>
  std::error_code run_sync(F&& f) {
    std::error_code ec;
    if (on_core_thread()) {
      f(ec);
      return ec;
    }
    std::promise<std::error_code> done;
    auto result = done.get_future();
    if (!post([&] {
          std::error_code e;
          f(e);
          done.set_value(e);
        }))
      return mspi::tapi_errc::not_initialized;
    return result.get();
  }
  // Posts a call operation; when the core no longer accepts work, completes it with not_initialized.
  template <class Op>
  void post_op(completion done, Op op) {
    auto d = std::make_shared<completion>(std::move(done));
    if (!post([d, op = std::move(op)]() mutable { op(std::move(*d)); })) (*d)(mspi::tapi_errc::not_initialized);
  }

  // ---- call operations (core thread) ----
  // ITAddress::CreateCall: the new call's first application handle, or null with `ec`.
  std::shared_ptr<call_backend> create_outgoing(const std::shared_ptr<address_impl>& a, std::string_view destination,
                                                mspi::media_type media, std::error_code& ec) {
    if (!initialized_) {
      ec = mspi::tapi_errc::not_initialized;
      return nullptr;
    }
    if (destination.empty()) {
      ec = mspi::tapi_errc::invalid_address;
      return nullptr;
    }
    if (!mspi::contains(a->info().media, media)) {
      ec = mspi::tapi_errc::invalid_media_type;
      return nullptr;
    }
    if (a->state() != address_state::in_service) {
      ec = mspi::tapi_errc::invalid_address_state;
      return nullptr;
    }
    std::shared_ptr<call_backend> handle;
    ec = run_sync([&](std::error_code& e) {
      if (active_calls(*a) >= a->info().max_active_calls) {
        e = mspi::tapi_errc::call_unavailable;
        return;
      }
      try {
        call_info info;
        info.id = ++next_call_id_;
        info.called_id = std::string(destination);
        info.media = media;
        if (auto c = make_call(a, std::move(info), e)) handle = c->handle();
      } catch (...) {  // bad_alloc: the call was not made
        e = mspi::current_exception_error();
      }
    });
    return ec ? nullptr : handle;
  }

  void connect(const std::shared_ptr<call_impl>& c, completion done) {
    post_op(std::move(done), [self = shared_from_this(), c](completion done) {
      self->place(c, std::move(done), false, [](provider_base& p, request_id req, std::size_t address, const call_info& i) {
        p.make_call(req, address, i.id, i.called_id, i.media, {i.calling_party_id, i.comment, i.called_party_friendly_name, i.user_user_info});
      });
    });
  }
  // Connect's core-thread part, also Unpark's and Pickup's: checks (usable, idle, owner), then
  // `start(provider, request, address id, info)` asks the provider to place the call; `done` when it is
  // connected or has failed (with the disconnect's error; with the request's own error first when
  // `request_error_first` and the provider refused the request).
  template <class Start>
  void place(const std::shared_ptr<call_impl>& c, completion done, bool request_error_first, Start start) {
    if (auto ec = usable(*c)) return done(ec);
    if (c->state() != call_state::idle) return done(mspi::tapi_errc::invalid_call_state);
    if (c->snapshot().privilege != call_privilege::owner) return done(mspi::tapi_errc::not_owner);
    c->connect_waiters_.push_back(std::move(done));
    const auto req = add_request([self = shared_from_this(), c, request_error_first](std::error_code ec) {
      if (!ec) return;
      if (request_error_first) self->finish_connect(*c, ec);
      self->apply_state(*c, call_state::disconnected, call_state_cause::disconnect_failed);
    });
    auto info = c->snapshot();
    c->dialed_ = true;
    start(c->address_->provider(), req, c->address_->id(), info);
  }

  void answer(const std::shared_ptr<call_impl>& c, completion done) {
    post_op(std::move(done), [self = shared_from_this(), c](completion done) {
      if (auto ec = self->usable(*c)) return done(ec);
      if (c->state() != call_state::offering) return done(mspi::tapi_errc::invalid_call_state);
      if (c->snapshot().privilege != call_privilege::owner) return done(mspi::tapi_errc::not_owner);
      const auto req = self->add_request(std::move(done));
      c->address_->provider().answer(req, c->id());
    });
  }

  void disconnect(const std::shared_ptr<call_impl>& c, disconnect_code code, completion done) {
    post_op(std::move(done), [self = shared_from_this(), c, code](completion done) {
      if (auto ec = self->usable(*c)) return done(ec);
      const auto s = c->state();
      if (s == call_state::disconnected) return done(mspi::tapi_errc::invalid_call_state);
      if (c->snapshot().privilege != call_privilege::owner) return done(mspi::tapi_errc::not_owner);
      if (s == call_state::idle) return done({});  // TAPI: S_FALSE, nothing to drop
      const auto req = self->add_request(std::move(done));
      c->address_->provider().drop(req, c->id(), code);
    });
  }

  // Hold, unhold, blind transfer, digit generation, park: checked here, carried out by the TSP.
  void control(const std::shared_ptr<call_impl>& c, call_request r, completion done) {
    post_op(std::move(done), [self = shared_from_this(), c, r = std::move(r)](completion done) {
      if (auto ec = self->usable(*c)) return done(ec);
      if (c->snapshot().privilege != call_privilege::owner) return done(mspi::tapi_errc::not_owner);
      const auto s = c->state();
      using k = call_request::kind;
      const bool state_ok = r.what == k::unhold ? s == call_state::hold
                            : r.what == k::blind_transfer ? (s == call_state::connected || s == call_state::offering ||
                                                             s == call_state::hold)
                            : r.what == k::park ? (s == call_state::connected || s == call_state::hold)
                                                : s == call_state::connected;
      if (!state_ok) return done(mspi::tapi_errc::invalid_call_state);
      if (r.what == k::generate_digits &&
          (r.argument.empty() || r.argument.find_first_not_of("0123456789*#ABCDabcd") != std::string::npos))
        return done(mspi::tapi_errc::invalid_digits);
      call_request q = r;  // GenerateDigits without a duration: CIL_GENERATEDIGITDURATION's (0: the default)
      if (q.what == k::generate_digits && q.duration.count() == 0)
        q.duration = std::chrono::milliseconds(c->snapshot().generate_digit_duration);
      if (q.what == k::generate_digits && q.duration.count() != 0 &&
          (q.duration.count() < mspi::min_digit_duration_ms || q.duration.count() > mspi::max_digit_duration_ms))
        return done(mspi::tapi_errc::invalid_argument);
      if ((r.what == k::blind_transfer || r.what == k::park) && r.argument.empty())
        return done(mspi::tapi_errc::invalid_address);
      if (r.what == k::generate_digits) {  // running from now until its LINE_GENERATE (or a refusal)
        ++c->generating_[0];
        done = [c, done = std::move(done)](std::error_code ec) {
          if (ec && c->generating_[0] > 0) --c->generating_[0];
          done(ec);
        };
      }
      const auto req = self->add_request(std::move(done));
      c->address_->provider().control(req, c->id(), q);
    });
  }

  // SwapHold (TSPI_lineSwapHold): hold `c`, then unhold `held`, each through the provider of its call.
  void swap_hold(const std::shared_ptr<call_impl>& c, std::shared_ptr<call_impl> held, completion done) {
    post_op(std::move(done), [self = shared_from_this(), c, held = std::move(held)](completion done) {
      if (!held) return done(mspi::tapi_errc::invalid_handle);
      if (held.get() == c.get() || held->core_.lock() != self) return done(mspi::tapi_errc::invalid_argument);
      if (auto ec = self->usable(*c)) return done(ec);
      if (auto ec = self->usable(*held)) return done(ec);
      if (c->snapshot().privilege != call_privilege::owner || held->snapshot().privilege != call_privilege::owner)
        return done(mspi::tapi_errc::not_owner);
      if (c->state() != call_state::connected || held->state() != call_state::hold)
        return done(mspi::tapi_errc::invalid_call_state);
      const auto first = self->add_request([self, held, done = std::move(done)](std::error_code ec) mutable {
        if (ec) return done(ec);
        if ((ec = self->usable(*held)) || held->state() != call_state::hold) return done(ec ? ec : make_error_code(mspi::tapi_errc::invalid_call_state));
        const auto second = self->add_request(std::move(done));
        held->address_->provider().control(second, held->id(), call_request{call_request::kind::unhold, {}, 0});
      });
      c->address_->provider().control(first, c->id(), call_request{call_request::kind::hold, {}, 0});
    });
  }

  // ITAddress::Forward (TSPI_lineForward): checked here, carried out by the TSP; the address keeps the
  // list the TSP accepted (ITAddress::get_CurrentForwardInfo).
  void forward(const std::shared_ptr<address_impl>& a, forward_information f, completion done) {
    post_op(std::move(done), [self = shared_from_this(), a, f = std::move(f)](completion done) {
      if (!self->initialized_) return done(mspi::tapi_errc::not_initialized);
      if (f.num_rings_no_answer() > max_forward_rings || f.entries().size() > max_forward_entries)
        return done(mspi::tapi_errc::invalid_argument);
      for (const auto& e : f.entries()) {
        if (e.destination.empty()) return done(mspi::tapi_errc::invalid_address);
        if (is_caller_specific(e.mode) == e.caller.empty()) return done(mspi::tapi_errc::invalid_argument);
      }
      const auto req = self->add_request([a, f, done = std::move(done)](std::error_code ec) {
        if (!ec) a->set_forward(f);
        done(ec);
      });
      a->provider().forward(req, a->id(), f);
    });
  }

  // Transfer (TSPI_lineSetupTransfer's role): `c` is held (unless held already), then `consult` dialled
  // (unless connected already) and flagged for Finish(FM_ASTRANSFER). Completes when `consult` connected.
  void transfer(const std::shared_ptr<call_impl>& c, std::shared_ptr<call_impl> consult, completion done) {
    post_op(std::move(done), [self = shared_from_this(), c, consult = std::move(consult)](completion done) {
      if (auto ec = self->check_consultation(c, consult)) return done(ec);
      consult->transfer_of_ = c;
      consult->conference_of_.reset();
      self->relate(consult, *c);
      self->hold_then_dial(c, consult, c->state() != call_state::hold, std::move(done));
    });
  }
  // CIL_RELATEDCALLID: `consult` consults for `primary` (TE_CALLINFOCHANGE CIC_RELATEDCALLID when it changed).
  void relate(const std::shared_ptr<call_impl>& consult, const call_impl& primary) {
    if (consult->set_related_call(primary.id()))
      emit(tapi_event::call_info_change, call_info_change_event{handle_of(consult), call_info_change_cause::related_call_id});
  }
  // ITCallInfo::put_CallInfoLong(CIL_APPSPECIFIC) (TSPI_lineSetAppSpecific's role: the value stays in the
  // TAPI object, no provider is involved): owner only; TE_CALLINFOCHANGE CIC_APPSPECIFIC when it changed.
  void set_app_specific(const std::shared_ptr<call_impl>& c, std::uint32_t value, completion done) {
    post_op(std::move(done), [self = shared_from_this(), c, value](completion done) {
      if (auto ec = self->usable(*c)) return done(ec);
      if (c->snapshot().privilege != call_privilege::owner) return done(mspi::tapi_errc::not_owner);
      if (c->store_app_specific(value) && c->state() != call_state::disconnected)
        self->emit(tapi_event::call_info_change, call_info_change_event{handle_of(c), call_info_change_cause::app_specific});
      done({});
    });
  }
  // Dial, ParkDirect/Indirect, Unpark, Pickup, HandoffDirect/Indirect, SetQOS: see call_feature_ops.hpp.
  void call_feature(const std::shared_ptr<call_impl>& c, call_feature_request r, completion done);
  // Conference (TSPI_lineSetupConference's role) and ITCallHub::Clear: see conference_ops.hpp.
  void conference(const std::shared_ptr<call_impl>& c, std::shared_ptr<call_impl> consult, completion done);
  void remove_from_conference(const std::shared_ptr<call_impl>& c, completion done);
  void clear_hub(std::shared_ptr<hub_impl> hub, completion done);
  /// The hubs some call of this TAPI object is in (ITTAPI::EnumerateCallHubs), by hub number. Any thread.
  [[nodiscard]] std::vector<std::shared_ptr<hub_backend>> call_hubs() const;

  // Finish (TSPI_lineCompleteTransfer): `consult` must be flagged by `transfer`; both calls connected or held.
  void finish(const std::shared_ptr<call_impl>& consult, finish_mode mode, completion done) {
    post_op(std::move(done), [self = shared_from_this(), consult, mode](completion done) {
      if (auto ec = self->usable(*consult)) return done(ec);
      if (mode == finish_mode::as_conference) return self->finish_conference(consult, std::move(done));
      auto primary = consult->transfer_of_.lock();
      if (!primary) return done(mspi::tapi_errc::invalid_call_state);  // not flagged as a transfer
      if (auto ec = self->usable(*primary)) return done(ec);
      if (consult->snapshot().privilege != call_privilege::owner || primary->snapshot().privilege != call_privilege::owner)
        return done(mspi::tapi_errc::not_owner);
      const auto ps = primary->state();
      if (consult->state() != call_state::connected || (ps != call_state::hold && ps != call_state::connected))
        return done(mspi::tapi_errc::invalid_call_state);
      const auto req = self->add_request(std::move(done));
      primary->address_->provider().control(req, primary->id(),
                                            call_request{call_request::kind::complete_transfer, {}, consult->id()});
    });
  }

  // GatherDigits (TSPI_lineGatherDigits): checked and run on the core thread, with one timer per call.
  // GenerateTone(s) / DetectTones: checked here (owner, connected), carried out by the call's MSP directly.
  void tones(const std::shared_ptr<call_impl>& c, tone_media_request r, completion done) {
    post_op(std::move(done), [self = shared_from_this(), c, r = std::move(r)](completion done) {
      if (auto ec = self->usable(*c)) return done(ec);
      if (c->snapshot().privilege != call_privilege::owner) return done(mspi::tapi_errc::not_owner);
      if (c->state() != call_state::connected) return done(mspi::tapi_errc::invalid_call_state);
      std::error_code ec;
      try {
        ec = c->address_->provider().tone_media(c->id(), r);
      } catch (const std::bad_alloc&) {
        ec = std::make_error_code(std::errc::not_enough_memory);
      }
      const auto* g = std::get_if<mspi::tone_generation>(&r);  // a tone (not a stop) runs until its LINE_GENERATE
      if (!ec && g && (g->mode != mspi::tone_mode::none || !g->custom.empty())) ++c->generating_[1];
      done(ec);
    });
  }

  void gather(const std::shared_ptr<call_impl>& c, gather_digits_options o, gather_completion done) {
    auto d = std::make_shared<gather_completion>(std::move(done));
    auto start = [self = shared_from_this(), c, o = std::move(o), d]() mutable {
      auto& finish = *d;
      if (auto ec = self->usable(*c)) return finish(ec, {});
      if (c->snapshot().privilege != call_privilege::owner) return finish(mspi::tapi_errc::not_owner, {});
      const auto s = c->state();
      if (s != call_state::connected && s != call_state::hold) return finish(mspi::tapi_errc::invalid_call_state, {});
      constexpr auto limit = std::chrono::hours(1);
      if (o.max_digits < 1 || o.max_digits > 256 || o.first_timeout.count() < 0 || o.inter_timeout.count() < 0 ||
          o.first_timeout > limit || o.inter_timeout > limit)
        return finish(mspi::tapi_errc::invalid_argument, {});
      if (o.terminators.find_first_not_of("0123456789*#ABCDabcd") != std::string::npos)
        return finish(mspi::tapi_errc::invalid_digits, {});
      self->end_gathering(*c, gather_termination::cancel);  // TAPI: a new gathering cancels the previous one
      c->gatherer_.emplace(std::move(o), std::chrono::steady_clock::now());
      c->gather_done_ = std::move(finish);
      self->arm_gather_timer(c);
    };
    if (!post(std::move(start))) (*d)(mspi::tapi_errc::not_initialized, {});
  }
  void cancel_gather(const std::shared_ptr<call_impl>& c) {
    (void)post([self = shared_from_this(), c] { self->end_gathering(*c, gather_termination::cancel); });
  }

  // call::release: at once, whatever handles remain.
  std::error_code release(const std::shared_ptr<call_impl>& c) {
    if (!initialized_) return mspi::tapi_errc::not_initialized;
    return run_sync([&](std::error_code& e) {
      if ((e = usable(*c))) return;
      if (c->state() != call_state::disconnected) {
        e = mspi::tapi_errc::invalid_call_state;
        return;
      }
      forget(*c);
    });
  }

  [[nodiscard]] std::vector<std::shared_ptr<call_backend>> calls_of(const address_impl& a) const {
    std::lock_guard lock(table_mutex_);
    std::vector<std::shared_ptr<call_backend>> out;
    for (const auto& [id, c] : calls_)
      if (c->address_.get() == &a) out.push_back(c->handle());
    return out;
  }

  /// Calls not yet released (diagnostic: 0 once every call has ended and lost its last handle).
  [[nodiscard]] std::size_t live_calls() const {
    std::lock_guard lock(table_mutex_);
    return calls_.size();
  }
  /// Per-call entries the provider pairs keep (diagnostic; 0 when not running).
  [[nodiscard]] std::size_t provider_call_entries() {
    std::size_t n = 0;
    if (run_sync([&](std::error_code&) {
          for (auto& p : providers_) n += p->call_entries();
        }))
      return 0;
    return n;
  }

  /// The last application handle of `c` is gone (any thread): the core thread releases the call if it is
  /// over. Dropped once the core no longer accepts work (shutdown has released every call). Never throws.
  void on_handles_gone(std::shared_ptr<call_impl> c) noexcept {
    try {
      (void)post([self = shared_from_this(), c = std::move(c)] { self->release_if_unreferenced(*c); });
    } catch (...) {  // bad_alloc posting: the call stays until the next handle drops or shutdown
    }
  }

  [[nodiscard]] std::error_code usable(const call_impl& c) const {
    if (!initialized_) return mspi::tapi_errc::not_initialized;
    if (c.released_.load()) return mspi::tapi_errc::invalid_handle;
    return {};
  }

  // ---- what TSPs report, forwarded by their provider pair (core thread) ----
  /// ASYNC_COMPLETION
  void on_completion(request_id id, std::error_code ec) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    auto done = std::move(it->second);
    requests_.erase(it);
    if (done) done(ec);
  }

  /// LINE_NEWCALL from `provider`: 0 when the call is refused, with `ec` saying why (see
  /// `line_event_sink::new_call`): not_owner (TAPI's unowned-call rule), call_unavailable (no room in the
  /// address or its MSP), or the resource error that stopped the call's set-up. Never throws.
  call_id on_new_call(const provider_base& provider, const incoming_call_info& info, std::error_code& ec) noexcept {
    ec.clear();
    std::shared_ptr<call_impl> made;
    try {
      return new_call(provider, info, made, ec);
    } catch (...) {  // e.g. bad_alloc queueing the notification: the call is not offered
      ec = mspi::current_exception_error();
      if (made) forget(*made);
      return 0;
    }
  }

 private:
  // on_new_call's work; `made` is the call once made (so that a later exception can undo it).
  call_id new_call(const provider_base& provider, const incoming_call_info& info, std::shared_ptr<call_impl>& made,
                   std::error_code& ec) {
    const auto a = find_address(provider, info.address_id);
    if (!a) {
      ec = mspi::tapi_errc::invalid_address;
      return 0;
    }
    std::optional<notification_registration> owner, monitor;
    {
      std::lock_guard lock(table_mutex_);
      for (const auto& r : registrations_) {
        if (r.address != a || !mspi::contains(r.media, info.media)) continue;
        if (r.owner && !owner) owner = r;
        if (r.monitor && !monitor) monitor = r;
      }
    }
    // An owner whose event filter lacks call_notification could never learn of the call, let alone answer
    // it: such a call is refused as unowned (the caller hears busy at once, not ringing until it gives up).
    if (owner && !has(static_cast<tapi_event>(event_filter.load()), tapi_event::call_notification)) {
      unnotified_calls_.fetch_add(1, std::memory_order_relaxed);
      owner.reset();
    }
    if (!owner) {  // unowned calls are rejected
      ec = mspi::tapi_errc::not_owner;
      return 0;
    }
    if (active_calls(*a) >= a->info().max_active_calls) {
      ec = mspi::tapi_errc::call_unavailable;
      return 0;
    }
    call_info ci;
    ci.id = ++next_call_id_;
    ci.incoming = !info.outgoing;
    ci.reason = info.reason;
    ci.caller_id = info.caller_id;
    ci.caller_name = info.caller_name;
    ci.called_id = info.called_id;
    ci.media = info.media;
    ci.related_call_id = info.replaces;
    ci.comment = info.comment;
    ci.user_user_info = info.user_user_info;
    ci.redirecting_id = info.redirecting_id;
    ci.redirecting_name = info.redirecting_name;
    made = make_call(a, std::move(ci), ec);
    if (!made) return 0;
    emit(tapi_event::call_notification, call_notification_event{call(made->handle()), call_notification_kind::owner, owner->id});
    if (monitor && monitor->id != owner->id)  // one call object per call in a process: monitors watch the owner's
      emit(tapi_event::call_notification,
           call_notification_event{call(made->handle()), call_notification_kind::monitor, monitor->id});
    return made->id();
  }

 public:
  /// LINE_CALLSTATE
  void on_call_state(call_id id, line_call_state state, std::uint32_t mode) {
    auto c = find_call(id);
    if (!c) return;
    auto mapped = to_call_state(state);
    if (!mapped) return;
    auto cause = call_state_cause::none;
    if (*mapped == call_state::disconnected)
      cause = to_cause(static_cast<line_disconnect_mode>(mode ? mode : 0x1), c->was_connected_);
    apply_state(*c, *mapped, cause);
  }

  /// LINE_MONITORDIGITS: a DTMF digit from the far end, out of band or in-band (never after `disconnected`).
  void on_digit(call_id id, char digit, digit_source source = digit_source::out_of_band) {
    auto c = find_call(id);
    if (!c || c->state() == call_state::disconnected) return;
    if (c->detects_dtmf())  // DetectDigits(0) stops the events; a gathering still collects the digits
      emit(tapi_event::digit_event,
           digit_event{handle_of(c), digit, digit_mode::dtmf, std::chrono::steady_clock::now(), source});
    if (!c->gatherer_) return;
    if (auto t = c->gatherer_->on_digit(digit, std::chrono::steady_clock::now())) end_gathering(*c, *t);
    else arm_gather_timer(c);
  }

  /// LINE_MONITORTONE: a tone of call `id`'s DetectTones list was heard (never after `disconnected`).
  void on_tone(call_id id, std::uint32_t app_specific) {
    auto c = find_call(id);
    if (!c || c->state() == call_state::disconnected) return;
    emit(tapi_event::tone_event, tone_detection_event{handle_of(c), app_specific, std::chrono::steady_clock::now()});
  }

  /// LINE_GENERATE: a digit or tone request of call `id` ended; TE_GENERATEEVENT for a request counted
  /// as running (none after `disconnected`, where the ones still running were reported as cancelled).
  void on_generation_ended(call_id id, generation_kind kind, generate_termination t) {
    auto c = find_call(id);
    if (!c || c->state() == call_state::disconnected) return;
    auto& running = c->generating_[kind == generation_kind::tone ? 1 : 0];
    if (running == 0) return;
    --running;
    emit(tapi_event::generate_event, digit_generation_event{handle_of(c), t, kind, std::chrono::steady_clock::now()});
  }

  /// LINE_CALLINFO: the provider's items of call `id` are now `info`; one TE_CALLINFOCHANGE per cause
  /// that changed (none after `disconnected`).
  void on_call_info(call_id id, const provider_call_info& info) {
    auto c = find_call(id);
    if (!c) return;
    auto changed = c->set_provider_info(info);
    if (c->refresh_secured() && std::find(changed.begin(), changed.end(), call_info_change_cause::other) == changed.end())
      changed.insert(changed.begin(), call_info_change_cause::other);
    if (c->state() == call_state::disconnected) return;
    for (auto cause : changed) emit(tapi_event::call_info_change, call_info_change_event{handle_of(c), cause});
  }

  /// LINE_ADDRESSSTATE of `provider`'s address `address_id`.
  void on_address_state(const provider_base& provider, std::size_t address_id, address_state state) {
    auto a = find_address(provider, address_id);
    if (a && a->state() != state) {
      a->set_state(state);
      emit(tapi_event::address, address_event{address(a), address_event_kind::state, nullptr});
    }
  }

  /// An MSP event for call `id` (or address-level when 0), other than TSP data (core thread).
  void on_msp_event(const provider_base& provider, std::size_t address_id, mspi::msp_event&& e) {
    auto c = e.call ? find_call(e.call) : nullptr;
    if (e.call && (!c || c->state() == call_state::disconnected)) return;  // never after disconnected
    std::visit(
        [&](auto& info) {
          using T = std::decay_t<decltype(info)>;
          if constexpr (std::is_same_v<T, mspi::stream_event>) {
            emit(tapi_event::call_media,
                 call_media_event{handle_of(c), info.event, info.cause, info.source, info.terminal, info.error});
            if (c && c->refresh_secured())  // SRTP up or gone with the stream: `call_info::secured`
              emit(tapi_event::call_info_change, call_info_change_event{handle_of(c), call_info_change_cause::other});
          } else if constexpr (std::is_same_v<T, mspi::msp_file_terminal_event>) {
            emit(tapi_event::file_terminal, file_terminal_event{handle_of(c), info.terminal, info.info.state,
                                                                info.info.cause, info.info.error});
          } else if constexpr (std::is_same_v<T, mspi::msp_address_event>) {
            if (auto a = find_address(provider, address_id))
              emit(tapi_event::address,
                   address_event{address(a),
                                 info.type == mspi::msp_address_event::kind::terminal_available
                                     ? address_event_kind::new_terminal
                                     : address_event_kind::remove_terminal,
                                 info.terminal});
          }
        },
        e.info);
  }

 private:
  void start_threads() {
    media_pool_ = std::make_shared<mspi::media_pool>(options_.media_threads);
    core_io_.emplace();
    core_work_.emplace(core_io_->get_executor());
    core_thread_ = std::thread([this, io = &*core_io_] { mspi::detail::run_catching(*io, handler_exceptions_); });
    if (options_.event_executor) {
      event_executor_ = boost::asio::make_strand(*options_.event_executor);
    } else {
      event_io_.emplace();
      event_work_.emplace(event_io_->get_executor());
      event_thread_ = std::thread([this, io = &*event_io_] { mspi::detail::run_catching(*io, handler_exceptions_); });
      event_executor_ = event_io_->get_executor();
    }
    std::lock_guard lock(post_mutex_);
    accepting_ = true;
  }
  void stop_threads() {
    {
      std::lock_guard lock(post_mutex_);  // nothing is posted after this; what was posted still runs
      accepting_ = false;
    }
    if (core_thread_.joinable()) {
      core_work_.reset();
      core_thread_.join();
      core_io_.reset();
    }
    if (media_pool_) {  // after the providers' shutdown (on the core thread): their calls' media has stopped
      media_pool_->stop();
      media_pool_.reset();
    }
    if (event_thread_.joinable()) {
      event_work_.reset();  // delivers the events already queued, then ends
      event_thread_.join();
      event_io_.reset();
    }
  }

  void shutdown_on_core() {
    std::vector<std::shared_ptr<call_impl>> all;
    {
      std::lock_guard lock(table_mutex_);
      for (auto& [id, c] : calls_) all.push_back(c);
    }
    for (auto& c : all) {
      if (c->state() != call_state::disconnected && c->state() != call_state::idle)
        c->address_->provider().drop(++next_request_, c->id(), disconnect_code::normal);
      apply_state(*c, call_state::disconnected, call_state_cause::disconnect_normal);
      forget(*c);
    }
    for (auto& [id, done] : requests_)
      if (done) done(mspi::tapi_errc::not_initialized);
    requests_.clear();
    for (auto it = providers_.rbegin(); it != providers_.rend(); ++it) (*it)->shutdown();
    std::lock_guard lock(table_mutex_);
    addresses_.clear();
    registrations_.clear();
  }

  // Makes a call with its MSP call and enters it in the table; null with `ec` when the MSP refuses or
  // cannot set it up (an exception from either is turned into `ec`: nothing is left behind).
  std::shared_ptr<call_impl> make_call(const std::shared_ptr<address_impl>& a, call_info info, std::error_code& ec) {
    std::shared_ptr<call_impl> c;
    try {
      c = std::make_shared<call_impl>(weak_from_this(), a, std::move(info));
      c->msp_call_ = a->provider().create_msp_call(a->id(), c->id(), c->snapshot().media, ec);
      if (ec) return nullptr;
      {
        std::lock_guard lock(table_mutex_);
        calls_.emplace(c->id(), c);
      }
      c->counted_ = true;
      ++a->active_calls;
      return c;
    } catch (...) {
      ec = mspi::current_exception_error();
      if (c) forget(*c);
      return nullptr;
    }
  }

  // Releases a call (Release of its last reference, or shutdown): its MSP call is shut down, the TSP
  // closes it (TSPI_lineCloseCall) and it leaves the table; its handles become stale.
  void forget(call_impl& c) {
    if (c.released_.exchange(true)) return;
    end_gathering(c, gather_termination::cancel);
    c.gather_timer_.reset();  // on the core thread, before the core's io_context can go
    uncount(c);
    c.address_->provider().shutdown_msp_call(c.id());
    c.address_->provider().close_call(c.id());
    std::lock_guard lock(table_mutex_);
    calls_.erase(c.id());
  }

  // Applies a state change if TAPI 3's table allows it; emits the event and finishes waiters.
  void apply_state(call_impl& c, call_state to, call_state_cause cause) {
    const auto from = c.state();
    if (from == to) return;
    if (!is_legal_transition(from, to)) {
      ++illegal_transitions_;
      return;
    }
    if (to == call_state::disconnected) {
      uncount(c);
      leave_hub(c);  // the conference goes on without it
      end_gathering(c, gather_termination::cancel);  // TE_GATHERDIGITS before the state event
      cancel_generation(c);                          // TE_GENERATEEVENT too
      // Media stops first, so its stream_inactive events precede the disconnected state event.
      c.address_->provider().shutdown_msp_call(c.id());
    }
    c.set_state(to, cause);
    auto self = c.shared_from_this();
    emit(tapi_event::call_state, call_state_event{handle_of(self), to, cause});
    if (to == call_state::connected) {
      c.was_connected_ = true;
      finish_connect(c, {});
    } else if (to == call_state::disconnected) {
      finish_connect(c, make_error_code(connect_error(cause)));
      // Over: released as soon as no application handle refers to it (perhaps none does any more).
      (void)post([core = shared_from_this(), call = std::move(self)] { core->release_if_unreferenced(*call); });
    }
  }

  // The digit and tone requests of `c` still running end cancelled, one TE_GENERATEEVENT each (core thread).
  void cancel_generation(call_impl& c) {
    auto self = c.shared_from_this();
    for (std::size_t k = 0; k < 2; ++k)
      for (; c.generating_[k] > 0; --c.generating_[k])
        emit(tapi_event::generate_event, digit_generation_event{handle_of(self), generate_termination::cancel,
                                                               k ? generation_kind::tone : generation_kind::digits,
                                                               std::chrono::steady_clock::now()});
  }

  // Ends `c`'s gathering, if any, with `t`: TE_GATHERDIGITS, then its completion (core thread).
  void end_gathering(call_impl& c, gather_termination t) {
    if (!c.gatherer_) return;
    c.gatherer_->finish(t);
    auto result = c.gatherer_->result();
    c.gatherer_.reset();
    if (c.gather_timer_) c.gather_timer_->cancel();
    auto done = std::exchange(c.gather_done_, {});
    emit(tapi_event::gather_digits,
         digits_gathered_event{handle_of(c.shared_from_this()), result.digits, t, std::chrono::steady_clock::now()});
    const auto ec = t == gather_termination::cancel ? std::make_error_code(std::errc::operation_canceled) : std::error_code{};
    if (done) done(ec, std::move(result));
  }
  // (Re)arms `c`'s gathering timer at the gatherer's deadline, or stops it when there is none.
  void arm_gather_timer(const std::shared_ptr<call_impl>& c) {
    const auto when = c->gatherer_ ? c->gatherer_->deadline() : std::nullopt;
    if (!when) {
      if (c->gather_timer_) c->gather_timer_->cancel();
      return;
    }
    if (!c->gather_timer_) c->gather_timer_ = std::make_unique<boost::asio::steady_timer>(*core_io_);
    c->gather_timer_->expires_at(*when);
    c->gather_timer_->async_wait([self = shared_from_this(), weak = std::weak_ptr<call_impl>(c)](boost::system::error_code ec) {
      auto call = weak.lock();
      if (ec || !call || !call->gatherer_) return;
      if (auto t = call->gatherer_->on_deadline(std::chrono::steady_clock::now())) self->end_gathering(*call, *t);
      else self->arm_gather_timer(call);
    });
  }

  // Releases `c` if it is over and no application handle refers to it (core thread). Over: disconnected,
  // or an outgoing call still idle that was never dialled (nothing to hang up).
  void release_if_unreferenced(call_impl& c) {
    if (c.released_.load() || c.has_handles()) return;
    const auto s = c.state();
    if (s == call_state::disconnected || (s == call_state::idle && !c.dialed_ && !c.snapshot().incoming)) forget(c);
  }

  // An application handle of `c` (empty for none), for an event.
  static tspi::call handle_of(const std::shared_ptr<call_impl>& c) { return c ? tspi::call(c->handle()) : tspi::call(); }

  void finish_connect(call_impl& c, std::error_code ec) {
    auto waiters = std::move(c.connect_waiters_);
    c.connect_waiters_.clear();
    for (auto& w : waiters) w(ec);
  }

  // The checks Transfer and Conference share: same TAPI object and provider, owner of both, `c` connected
  // or held, `consult` idle (with a destination) or connected.
  std::error_code check_consultation(const std::shared_ptr<call_impl>& c, const std::shared_ptr<call_impl>& consult) {
    if (!consult) return mspi::tapi_errc::invalid_handle;
    if (consult.get() == c.get() || consult->core_.lock().get() != this || &consult->address_->provider() != &c->address_->provider())
      return mspi::tapi_errc::invalid_argument;
    if (auto ec = usable(*c)) return ec;
    if (auto ec = usable(*consult)) return ec;
    if (c->snapshot().privilege != call_privilege::owner || consult->snapshot().privilege != call_privilege::owner)
      return mspi::tapi_errc::not_owner;
    const auto s = c->state(), cs = consult->state();
    if ((s != call_state::connected && s != call_state::hold) || (cs != call_state::idle && cs != call_state::connected))
      return mspi::tapi_errc::invalid_call_state;
    if (consult->snapshot().called_id.empty()) return mspi::tapi_errc::invalid_argument;  // TAPI: E_INVALIDARG
    return {};
  }
  // Holds `c` when `hold`, then dials `consult` unless connected; `done` when `consult` is connected.
  // `hold_optional` (Conference): a provider without hold (loopback) leaves `c` connected instead.
  void hold_then_dial(const std::shared_ptr<call_impl>& c, const std::shared_ptr<call_impl>& consult, bool hold,
                      completion done, bool hold_optional = false) {
    auto dial = [self = shared_from_this(), consult, done = std::move(done), hold_optional](std::error_code ec) mutable {
      if (hold_optional && ec == mspi::tapi_errc::not_supported) ec.clear();
      if (ec || consult->state() == call_state::connected) return done(ec);
      self->connect(consult, std::move(done));
    };
    if (!hold) return dial({});
    const auto req = add_request(std::move(dial));
    c->address_->provider().control(req, c->id(), call_request{call_request::kind::hold, {}, 0});
  }
  void finish_conference(const std::shared_ptr<call_impl>& consult, completion done);
  void join_hub(const std::shared_ptr<call_impl>& c, const std::shared_ptr<hub_impl>& hub);
  void leave_hub(call_impl& c);

  template <class Event>
  void emit(tapi_event kind, Event e) {
    if (!has(static_cast<tapi_event>(event_filter.load()), kind)) return;
    if constexpr (!std::is_same_v<Event, call_notification_event> && requires { e.call; })
      if (e.call && !e.call.event_filter(kind)) return;  // the call's own filter (ITCallInfo2)
    boost::asio::post(event_executor_, [self = shared_from_this(), e = std::move(e)] {
      if constexpr (std::is_same_v<Event, call_notification_event>) self->signals.call_notification(e);
      else if constexpr (std::is_same_v<Event, call_state_event>) self->signals.call_state(e);
      else if constexpr (std::is_same_v<Event, call_media_event>) self->signals.call_media(e);
      else if constexpr (std::is_same_v<Event, file_terminal_event>) self->signals.file_terminal(e);
      else if constexpr (std::is_same_v<Event, digit_event>) self->signals.digit(e);
      else if constexpr (std::is_same_v<Event, call_info_change_event>) self->signals.call_info_change(e);
      else if constexpr (std::is_same_v<Event, digits_gathered_event>) self->signals.digits_gathered(e);
      else if constexpr (std::is_same_v<Event, tone_detection_event>) self->signals.tone_detection(e);
      else if constexpr (std::is_same_v<Event, digit_generation_event>) self->signals.digit_generation(e);
      else if constexpr (std::is_same_v<Event, call_hub_event>) self->signals.call_hub(e);
      else self->signals.address(e);
    });
  }

  request_id add_request(completion done) {
    const auto id = ++next_request_;
    requests_.emplace(id, std::move(done));
    return id;
  }

  std::shared_ptr<call_impl> find_call(call_id id) const {
    std::lock_guard lock(table_mutex_);
    auto it = calls_.find(id);
    return it == calls_.end() ? nullptr : it->second;
  }
  std::shared_ptr<address_impl> find_address(const provider_base& provider, std::size_t address_id) const {
    std::lock_guard lock(table_mutex_);
    for (const auto& a : addresses_)
      if (&a->provider() == &provider && a->id() == address_id) return a;
    return nullptr;
  }
  // Calls of `a` not yet disconnected (core thread; O(1): kept by make_call, apply_state and forget).
  static std::uint32_t active_calls(const address_impl& a) { return a.active_calls; }
  // `c` no longer counts in its address's active calls (disconnected or released; once).
  static void uncount(call_impl& c) {
    if (!c.counted_) return;
    c.counted_ = false;
    --c.address_->active_calls;
  }

  core_options options_;
  std::mutex setup_mutex_;
  std::mutex post_mutex_;
  bool accepting_ = false;  // guarded by post_mutex_
  std::atomic<bool> initialized_{false};
  std::vector<std::unique_ptr<provider_base>> providers_;

  std::optional<boost::asio::io_context> core_io_, event_io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> core_work_, event_work_;
  std::thread core_thread_, event_thread_;
  boost::asio::any_io_executor event_executor_;
  std::shared_ptr<mspi::media_pool> media_pool_;  // set while running (setup_mutex_)

  mutable std::mutex table_mutex_;
  std::vector<std::shared_ptr<address_impl>> addresses_;
  std::map<call_id, std::shared_ptr<call_impl>> calls_;
  std::vector<notification_registration> registrations_;
  std::uint64_t next_registration_ = 0;

  // core thread only
  call_id next_call_id_ = 0;
  request_id next_request_ = 0;
  std::unordered_map<request_id, completion> requests_;
  std::atomic<std::uint64_t> illegal_transitions_{0};
  std::atomic<std::uint64_t> handler_exceptions_{0};
  std::atomic<std::uint64_t> unnotified_calls_{0};
};

// The last application handle of a call is gone (any thread, even after the TAPI object).
inline call_anchor::~call_anchor() {
  if (!call) return;
  if (auto c = call->core_.lock()) c->on_handles_gone(std::move(call));
}

// ---- address_impl / call_impl members that need the core ----

inline std::shared_ptr<call_backend> address_impl::create_call(std::string_view destination, mspi::media_type media,
                                                               std::error_code& ec) {
  auto c = core_.lock();
  if (!c) {
    ec = mspi::tapi_errc::not_initialized;
    return nullptr;
  }
  return c->create_outgoing(shared_from_this(), destination, media, ec);
}

inline void address_impl::forward(forward_information f, completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->forward(shared_from_this(), std::move(f), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}

inline boost::asio::any_io_executor address_impl::executor() const {
  auto c = core_.lock();
  return c ? c->event_executor() : boost::asio::any_io_executor(boost::asio::system_executor());
}

inline std::vector<std::shared_ptr<call_backend>> address_impl::calls() const {
  auto c = core_.lock();
  return c ? c->calls_of(*this) : std::vector<std::shared_ptr<call_backend>>{};
}

inline std::error_code call_impl::check() const {
  auto c = core_.lock();
  if (!c) return mspi::tapi_errc::not_initialized;
  return c->usable(*this);
}

inline void call_impl::connect(completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->connect(shared_from_this(), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::answer(completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->answer(shared_from_this(), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::disconnect(disconnect_code code, completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->disconnect(shared_from_this(), code, std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::control(call_request r, completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->control(shared_from_this(), std::move(r), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::swap_hold(std::shared_ptr<call_backend> held, completion done) {
  if (auto c = core_.lock(); c && c->running())
    return c->swap_hold(shared_from_this(), std::dynamic_pointer_cast<call_impl>(held), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::transfer(std::shared_ptr<call_backend> consultation, completion done) {
  if (auto c = core_.lock(); c && c->running())
    return c->transfer(shared_from_this(), std::dynamic_pointer_cast<call_impl>(consultation), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::finish(finish_mode mode, completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->finish(shared_from_this(), mode, std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::conference(std::shared_ptr<call_backend> consultation, completion done) {
  if (auto c = core_.lock(); c && c->running())
    return c->conference(shared_from_this(), std::dynamic_pointer_cast<call_impl>(consultation), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::set_app_specific(std::uint32_t value, completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->set_app_specific(shared_from_this(), value, std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::feature(call_feature_request r, completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->call_feature(shared_from_this(), std::move(r), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::remove_from_conference(completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->remove_from_conference(shared_from_this(), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::gather_digits(gather_digits_options options, gather_completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->gather(shared_from_this(), std::move(options), std::move(done));
  done(mspi::tapi_errc::not_initialized, {});
}
inline void call_impl::tones(tone_media_request r, completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->tones(shared_from_this(), std::move(r), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline void call_impl::cancel_gather() {
  if (auto c = core_.lock(); c && c->running()) c->cancel_gather(shared_from_this());
}
inline std::error_code call_impl::release() {
  auto c = core_.lock();
  return c ? c->release(shared_from_this()) : make_error_code(mspi::tapi_errc::not_initialized);
}
inline boost::asio::any_io_executor call_impl::executor() const {
  auto c = core_.lock();
  return c ? c->event_executor() : boost::asio::any_io_executor(boost::asio::system_executor());
}

}  // namespace tspi::detail

// Conference, Finish(FM_ASCONFERENCE), the hub's membership and Clear.
#include <tspi/detail/conference_ops.hpp>
// Dial, ParkDirect/Indirect, Unpark, Pickup, HandoffDirect/Indirect, SetQOS.
#include <tspi/detail/call_feature_ops.hpp>
