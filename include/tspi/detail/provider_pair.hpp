// ptapi - portable TAPI
// tspi/detail/provider_pair.hpp: one TSP bound to its MSP at compile time. The pair is the TSP's
// line_event_sink and carries the TSP <-> MSP byte channel directly between the two policy types.
#pragma once

#include <tspi/detail/core.hpp>
#include <tspi/tsp.hpp>

#include <mspi/channel.hpp>
#include <mspi/msp.hpp>
#include <mspi/msp_event.hpp>
#include <mspi/provider_config.hpp>
#include <mspi/tones.hpp>

#include <concepts>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tspi::detail {

template <class Tsp, class Msp>
class provider_pair final : public provider_base, private line_event_sink {
 public:
  provider_pair(const typename Tsp::config_type& tsp_config, const typename Msp::config_type& msp_config)
      : tsp_(tsp_config), msp_config_(msp_config) {}

  [[nodiscard]] std::string_view name() const override { return tsp_.provider_name(); }

  void initialize(core& c, std::error_code& ec) override {
    core_ = &c;
    tsp_.provider_init(tsp_context{c.core_executor(), this}, ec);
    if (ec) return;
    const auto infos = tsp_.addresses();
    for (std::size_t i = 0; i < infos.size(); ++i) {
      auto msp = std::make_unique<Msp>(msp_config_);
      mspi::msp_context ctx{.address_name = infos[i].name,
                            .event_signal = [this, i] { (void)core_->post([this, i] { drain(i); }); },
                            .media = c.media_pool()};
      if constexpr (requires { { tsp_.media_address() } -> std::convertible_to<std::string>; })
        ctx.signalling_address = tsp_.media_address();  // the TSP's optional member: where its signalling is
      if constexpr (requires { { tsp_.signalling_secured() } -> std::convertible_to<bool>; })
        ctx.signalling_secured = tsp_.signalling_secured();  // optional too: TLS-protected signalling (SDES)
      msp->initialize(ctx, ec);
      if (ec) return;
      msps_.push_back(std::move(msp));
      tsp_.create_msp_instance(i);
    }
  }

  void shutdown() override {
    for (std::size_t i = 0; i < msps_.size(); ++i) tsp_.close_msp_instance(i);
    tsp_.provider_shutdown();
    for (auto& m : msps_) m->shutdown();
    msps_.clear();  // a later initialize creates them afresh
    calls_.clear();
    pending_.clear();
    tsp_knows_.clear();
  }

  [[nodiscard]] std::vector<address_info> addresses() const override { return tsp_.addresses(); }

  std::shared_ptr<mspi::stream_control> create_msp_call(std::size_t address_id, call_id call, mspi::media_type media,
                                                        std::error_code& ec) override {
    if (address_id >= msps_.size()) {
      ec = mspi::tapi_errc::invalid_address;
      return nullptr;
    }
    try {  // the MSP contract reports through `ec`; an MSP that throws anyway refuses the call the same way
      auto mc = msps_[address_id]->create_msp_call(call, media, ec);
      if (ec) return nullptr;
      if (mc) calls_[call] = {address_id, mc};
      return mc;
    } catch (...) {
      ec = mspi::current_exception_error();
      calls_.erase(call);
      return nullptr;
    }
  }

  [[nodiscard]] std::size_t call_entries() const override { return calls_.size() + pending_.size() + tsp_knows_.size(); }

  // Once per call: the core asks when the call disconnects and again when it is released.
  void shutdown_msp_call(call_id call) override {
    auto it = calls_.find(call);
    if (it == calls_.end() || !it->second.msp_call || it->second.shut_down) return;
    it->second.shut_down = true;
    const auto address_id = it->second.address_id;
    msps_[address_id]->shutdown_msp_call(it->second.msp_call);
    drain(address_id);  // its final media events go out now, before the call's disconnected event
  }

  mspi::terminal_support& terminals(std::size_t address_id) override { return msps_.at(address_id)->terminals(); }

  void make_call(request_id req, std::size_t address_id, call_id call, std::string_view destination,
                 mspi::media_type media, const call_params& params) override {
    tsp_knows_.insert(call);
    if constexpr (has_call_params<Tsp>) tsp_.make_call(req, address_id, call, destination, media, params);
    else tsp_.make_call(req, address_id, call, destination, media);
    flush_pending(call);
  }
  void unpark(request_id req, std::size_t address_id, call_id call, std::string_view destination,
              mspi::media_type media) override {
    if constexpr (has_unpark<Tsp>) {
      tsp_knows_.insert(call);
      tsp_.unpark(req, address_id, call, destination, media);
      flush_pending(call);
    } else {
      core_->on_completion(req, mspi::tapi_errc::not_supported);
    }
  }
  void pickup(request_id req, std::size_t address_id, call_id call, std::string_view destination,
              std::string_view group_id, mspi::media_type media) override {
    if constexpr (has_pickup<Tsp>) {
      tsp_knows_.insert(call);
      tsp_.pickup(req, address_id, call, destination, group_id, media);
      flush_pending(call);
    } else {
      core_->on_completion(req, mspi::tapi_errc::not_supported);
    }
  }
  void answer(request_id req, call_id call) override { tsp_.answer(req, call); }
  void drop(request_id req, call_id call, disconnect_code code) override { tsp_.drop(req, call, code); }
  // The TSP's optional members, or not_supported when it lacks the one asked for.
  [[nodiscard]] bool local_conference() const override {
    return requires(const Msp& m) { m.create_conference_bridge(); };
  }
  [[nodiscard]] provider_features features() const override {
    using k = call_request::kind;
    using msp_call = typename Msp::call_type;
    provider_features f;
    f.hold = has_call_request<Tsp, k::hold>;
    f.unhold = has_call_request<Tsp, k::unhold>;
    f.blind_transfer = has_call_request<Tsp, k::blind_transfer>;
    f.complete_transfer = has_call_request<Tsp, k::complete_transfer>;
    f.generate_digits = has_call_request<Tsp, k::generate_digits>;
    f.forward = has_forward<Tsp>;
    f.park = has_call_request<Tsp, k::park>;
    f.unpark = has_unpark<Tsp>;
    f.pickup = has_pickup<Tsp>;
    f.qos = requires(msp_call& c, mspi::qos_service_level l) { { c.set_qos(l) } -> std::same_as<std::error_code>; };
    f.local_conference = local_conference();
    // An MSP configuration with an `mspi::tone_factory tones` (rtp_opus_config) says which makers it has.
    bool generator = true, detector = true;
    if constexpr (requires { { msp_config_.tones } -> std::convertible_to<const mspi::tone_factory&>; }) {
      generator = static_cast<bool>(msp_config_.tones.generator);
      detector = static_cast<bool>(msp_config_.tones.detector);
    }
    f.tone_generation = generator && requires(msp_call& c, const mspi::tone_generation& t) { c.generate_tone(t); };
    f.tone_detection = detector && requires(msp_call& c, std::span<const mspi::detect_tone> t) { c.detect_tones(t); };
    if constexpr (requires { { tsp_.protocol() } -> std::convertible_to<std::string_view>; }) f.protocol = std::string(tsp_.protocol());
    return f;
  }
  void conference_media(call_id call, std::uint64_t hub, bool join) override {
    const auto frame = join ? mspi::encode_channel_message(mspi::channel_message_type::conference_join, std::to_string(hub))
                            : mspi::encode_channel_message(mspi::channel_message_type::conference_leave);
    send_msp_data(call, frame);
  }
  std::error_code tone_media(call_id call, const tone_media_request& r) override {
    auto it = calls_.find(call);
    if (it == calls_.end() || it->second.shut_down || !it->second.msp_call) return mspi::tapi_errc::invalid_call_state;
    using msp_call = typename Msp::call_type;
    auto& m = *it->second.msp_call;
    if (const auto* g = std::get_if<mspi::tone_generation>(&r)) {
      if constexpr (requires(msp_call& c, const mspi::tone_generation& t) { c.generate_tone(t); }) return m.generate_tone(*g);
    } else if (const auto* d = std::get_if<std::vector<mspi::detect_tone>>(&r)) {
      if constexpr (requires(msp_call& c, std::span<const mspi::detect_tone> t) { c.detect_tones(t); })
        return m.detect_tones(std::span<const mspi::detect_tone>(*d));
    }
    return mspi::tapi_errc::not_supported;
  }
  std::error_code qos_media(call_id call, mspi::qos_service_level level) override {
    auto it = calls_.find(call);
    if (it == calls_.end() || it->second.shut_down || !it->second.msp_call) return mspi::tapi_errc::invalid_call_state;
    if constexpr (requires(typename Msp::call_type& c, mspi::qos_service_level l) { c.set_qos(l); })
      return it->second.msp_call->set_qos(level);
    return mspi::tapi_errc::not_supported;
  }
  void control(request_id req, call_id call, const call_request& r) override {
    using k = call_request::kind;
    switch (r.what) {
      case k::hold:
        if constexpr (has_call_request<Tsp, k::hold>) return tsp_.hold(req, call);
        break;
      case k::unhold:
        if constexpr (has_call_request<Tsp, k::unhold>) return tsp_.unhold(req, call);
        break;
      case k::blind_transfer:
        if constexpr (has_call_request<Tsp, k::blind_transfer>) return tsp_.blind_transfer(req, call, r.argument);
        break;
      case k::generate_digits:
        if constexpr (requires { tsp_.generate_digits(req, call, r.argument, r.duration); })
          return tsp_.generate_digits(req, call, r.argument, r.duration);
        else if constexpr (has_call_request<Tsp, k::generate_digits>)
          if (r.duration.count() == 0) return tsp_.generate_digits(req, call, r.argument);
        break;
      case k::complete_transfer:
        if constexpr (has_call_request<Tsp, k::complete_transfer>) return tsp_.complete_transfer(req, call, r.consultation);
        break;
      case k::park:
        if constexpr (has_call_request<Tsp, k::park>) return tsp_.park(req, call, r.argument);
        break;
    }
    core_->on_completion(req, mspi::tapi_errc::not_supported);
  }
  void forward(request_id req, std::size_t address_id, const forward_information& f) override {
    if constexpr (has_forward<Tsp>) return tsp_.forward(req, address_id, f);
    core_->on_completion(req, mspi::tapi_errc::not_supported);
  }
  void close_call(call_id call) override {
    tsp_.close_call(call);
    calls_.erase(call);
    pending_.erase(call);
    tsp_knows_.erase(call);
  }

 private:
  struct msp_call_entry {
    std::size_t address_id = 0;
    std::shared_ptr<typename Msp::call_type> msp_call;
    bool shut_down = false;  // ITMSPAddress::ShutdownMSPCall done: no more TSP data for it
  };

  // ---- line_event_sink: the TSP reports ----
  void completion(request_id id, std::error_code ec) override { core_->on_completion(id, ec); }
  using line_event_sink::new_call;
  call_id new_call(const incoming_call_info& info, std::error_code& ec) override {
    const auto id = core_->on_new_call(*this, info, ec);
    if (id) tsp_knows_.insert(id);
    return id;
  }
  void call_state(call_id call, line_call_state state, std::uint32_t mode) override {
    core_->on_call_state(call, state, mode);
  }
  // LINE_SENDMSPDATA: straight to the paired MSP's ReceiveTSPData (compile-time bound, in order).
  void send_msp_data(call_id call, std::span<const std::byte> data) override {
    auto it = calls_.find(call);
    if (it == calls_.end() || it->second.shut_down) return;
    msps_[it->second.address_id]->receive_tsp_data(it->second.msp_call, data);
  }
  void address_state_changed(std::size_t address_id, address_state state) override {
    core_->on_address_state(*this, address_id, state);
  }
  void digit_detected(call_id call, char digit) override { core_->on_digit(call, digit); }
  void inband_digit_detected(call_id call, char digit) override { core_->on_digit(call, digit, digit_source::in_band); }
  void tone_detected(call_id call, std::uint32_t app_specific) override { core_->on_tone(call, app_specific); }
  void generation_ended(call_id call, generation_kind kind, generate_termination t) override {
    core_->on_generation_ended(call, kind, t);
  }
  void call_info_changed(call_id call, const provider_call_info& info) override { core_->on_call_info(call, info); }

  // Drains one MSP's event queue (ITMSPAddress::GetEvent until TAPI_E_NOEVENT): TSP data goes to the TSP
  // (held back while the TSP does not know the call yet), everything else to the core.
  void drain(std::size_t address_id) {
    if (address_id >= msps_.size()) return;
    std::error_code ec;
    while (auto e = msps_[address_id]->get_event(ec)) {
      if (auto* data = std::get_if<mspi::msp_tsp_data>(&e->info)) {
        if (e->call == 0 || tsp_knows_.count(e->call)) {
          tsp_.receive_msp_data(e->call, std::span<const std::byte>(data->data));
        } else if (auto it = calls_.find(e->call); it != calls_.end() && !it->second.shut_down) {
          pending_[e->call].push_back(std::move(data->data));
        }  // else: the call was shut down or released; its late data goes nowhere
        continue;
      }
      core_->on_msp_event(*this, address_id, std::move(*e));
    }
  }

  void flush_pending(call_id call) {
    auto it = pending_.find(call);
    if (it == pending_.end()) return;
    auto queued = std::move(it->second);
    pending_.erase(it);
    for (auto& d : queued) tsp_.receive_msp_data(call, std::span<const std::byte>(d));
  }

  Tsp tsp_;
  typename Msp::config_type msp_config_;
  core* core_ = nullptr;
  std::vector<std::unique_ptr<Msp>> msps_;  // one MSP address object per address, as TAPI creates them
  std::map<call_id, msp_call_entry> calls_;
  std::map<call_id, std::vector<std::vector<std::byte>>> pending_;  // MSP -> TSP data before the TSP knows the call
  std::set<call_id> tsp_knows_;
};

// Declared in tspi/tapi.hpp: checks both policy types against their concepts (the message a wrong type
// gets) and binds them.
template <class Tsp, class Msp>
std::unique_ptr<provider_base> make_provider_pair(const mspi::provider_config_t<Tsp>& tsp_config,
                                                  const mspi::provider_config_t<Msp>& msp_config) {
  static_assert(telephony_service_provider<Tsp>,
                "ptapi: the TSP type does not model tspi::telephony_service_provider (see tspi/tsp.hpp)");
  static_assert(mspi::media_service_provider<Msp>,
                "ptapi: the MSP type does not model mspi::media_service_provider (see mspi/msp.hpp)");
  if constexpr (telephony_service_provider<Tsp> && mspi::media_service_provider<Msp>)
    return std::make_unique<provider_pair<Tsp, Msp>>(tsp_config, msp_config);
  else
    return nullptr;
}

}  // namespace tspi::detail
