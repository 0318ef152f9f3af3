// ptapi - portable TAPI
// tspi/impl/tapi.ipp: definitions of tspi/tapi.hpp and tspi/event_source.hpp (header-only: included by
// tapi.hpp; separate compilation: by ptapi/src.hpp).
#pragma once

#include <tspi/detail/core.hpp>
#include <tspi/detail/provider_pair.hpp>
#include <tspi/event_source.hpp>
#include <tspi/tapi.hpp>

#include <algorithm>
#include <thread>
#include <type_traits>

namespace tspi {

template <class Event>
boost::signals2::connection event_source<Event>::connect(handler_type handler) const {
  auto& s = core_->signals;
  if constexpr (std::is_same_v<Event, call_notification_event>) return s.call_notification.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, call_state_event>) return s.call_state.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, call_media_event>) return s.call_media.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, file_terminal_event>) return s.file_terminal.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, address_event>) return s.address.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, call_info_change_event>) return s.call_info_change.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, digits_gathered_event>) return s.digits_gathered.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, tone_detection_event>) return s.tone_detection.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, digit_generation_event>) return s.digit_generation.connect(std::move(handler));
  else if constexpr (std::is_same_v<Event, call_hub_event>) return s.call_hub.connect(std::move(handler));
  else return s.digit.connect(std::move(handler));
}

PTAPI_DECL tapi::tapi(tapi_options options)
    : core_(std::make_shared<detail::core>(detail::core_options{
          std::move(options.event_executor),
          options.media_threads ? options.media_threads : std::max(1u, std::thread::hardware_concurrency())})) {}

PTAPI_DECL tapi::~tapi() { shutdown(); }

PTAPI_DECL void tapi::add_provider(std::unique_ptr<detail::provider_base> pair) {
  if (core_->running()) throw std::system_error(mspi::tapi_errc::already_initialized, "register_provider");
  core_->add_provider(std::move(pair));
}

PTAPI_DECL void tapi::initialize(std::error_code& ec) { core_->initialize(ec); }

PTAPI_DECL void tapi::shutdown() { core_->shutdown(); }

PTAPI_DECL std::vector<address> tapi::addresses() const {
  std::vector<address> out;
  for (auto& a : core_->addresses()) out.emplace_back(a);
  return out;
}

PTAPI_DECL address tapi::find_address(std::string_view name, std::error_code& ec) const {
  for (auto& a : core_->addresses())
    if (a->info().name == name) {
      ec.clear();
      return address(a);
    }
  ec = mspi::tapi_errc::invalid_address;
  return {};
}

PTAPI_DECL void tapi::set_event_filter(tapi_event mask) noexcept {
  core_->event_filter.store(static_cast<std::uint32_t>(mask));
}

PTAPI_DECL tapi_event tapi::event_filter() const noexcept { return static_cast<tapi_event>(core_->event_filter.load()); }

PTAPI_DECL std::uint64_t tapi::register_call_notifications(const address& a, bool monitor, bool owner,
                                                          mspi::media_type media, std::error_code& ec) {
  auto impl = a ? std::dynamic_pointer_cast<detail::address_impl>(a.backend_ptr()) : nullptr;
  if (!impl) {
    ec = mspi::tapi_errc::invalid_handle;
    return 0;
  }
  if (!monitor && !owner) {
    ec = mspi::tapi_errc::invalid_argument;
    return 0;
  }
  if (!core_->running()) {
    ec = mspi::tapi_errc::not_initialized;
    return 0;
  }
  ec.clear();
  return core_->register_notifications(std::move(impl), monitor, owner, media);
}

PTAPI_DECL bool tapi::unregister_notifications(std::uint64_t registration) {
  return core_->unregister_notifications(registration);
}

PTAPI_DECL boost::asio::any_io_executor tapi::get_executor() const { return core_->event_executor(); }

PTAPI_DECL std::uint64_t tapi::illegal_transitions() const { return core_->illegal_transitions(); }

PTAPI_DECL std::size_t tapi::live_calls() const { return core_->live_calls(); }

PTAPI_DECL std::vector<call_hub> tapi::call_hubs() const {
  std::vector<call_hub> out;
  for (auto& h : core_->call_hubs()) out.emplace_back(std::move(h));
  return out;
}

PTAPI_DECL std::size_t tapi::provider_call_entries() const { return core_->provider_call_entries(); }

PTAPI_DECL std::uint64_t tapi::handler_exceptions() const { return core_->handler_exceptions(); }

PTAPI_DECL std::uint64_t tapi::unnotified_calls() const { return core_->unnotified_calls(); }

}  // namespace tspi
