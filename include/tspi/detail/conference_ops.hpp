// ptapi - portable TAPI
// tspi/detail/conference_ops.hpp: the core's local conference: Conference, Finish(FM_ASCONFERENCE),
// RemoveFromConference, call hub membership (ITCallHub, TE_CALLHUB events), Clear and EnumerateCallHubs. Both
// legs are ordinary calls of the provider; the MSP mixes them (`provider_base::conference_media`,
// mspi::conference_bridge, at most `mspi::conference_bridge::max_parties` per hub).
#pragma once

#include <tspi/call_hub.hpp>
#include <tspi/detail/call_hub_impl.hpp>
#include <tspi/detail/core.hpp>

#include <mspi/conference_bridge.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <system_error>

namespace tspi::detail {

// Conference: `c` gets a hub unless it has one; then as Transfer (hold `c` unless held, conferenced with
// others, `consult` connected already, or the provider has no hold; dial `consult` unless connected), with
// `consult` flagged for Finish(FM_ASCONFERENCE).
inline void core::conference(const std::shared_ptr<call_impl>& c, std::shared_ptr<call_impl> consult, completion done) {
  post_op(std::move(done), [self = shared_from_this(), c, consult = std::move(consult)](completion done) {
    if (auto ec = self->check_consultation(c, consult)) return done(ec);
    if (!c->address_->provider().local_conference()) return done(mspi::tapi_errc::not_supported);
    auto hub = std::static_pointer_cast<hub_impl>(c->hub());
    if (hub && hub->members().size() >= mspi::conference_bridge::max_parties)  // refused before dialling
      return done(mspi::tapi_errc::conference_full);
    if (!hub) {
      static std::atomic<std::uint64_t> hubs_made{0};  // hub numbers are unique in the process: the MSPs'
      hub = std::make_shared<hub_impl>(self->weak_from_this(), ++hubs_made);  // bridges are keyed by them
      self->emit(tapi_event::call_hub, call_hub_event{call_hub(hub), handle_of(c), call_hub_event_kind::hub_created});
      self->join_hub(c, hub);
    }
    consult->conference_of_ = c;
    consult->transfer_of_.reset();
    self->relate(consult, *c);
    const bool others = hub->members().size() > 1;  // a running conference keeps talking meanwhile
    const bool ringing = consult->state() != call_state::connected;  // nothing to wait for: no hold
    self->hold_then_dial(c, consult, c->state() != call_state::hold && !others && ringing, std::move(done), true);
  });
}

// Finish(FM_ASCONFERENCE) on `consult` (core thread): joins the primary call's hub, then unholds the primary.
inline void core::finish_conference(const std::shared_ptr<call_impl>& consult, completion done) {
  auto primary = consult->conference_of_.lock();
  if (!primary) return done(mspi::tapi_errc::invalid_call_state);  // not flagged as a conference
  if (auto ec = usable(*primary)) return done(ec);
  if (consult->snapshot().privilege != call_privilege::owner || primary->snapshot().privilege != call_privilege::owner)
    return done(mspi::tapi_errc::not_owner);
  const auto ps = primary->state();
  auto hub = std::static_pointer_cast<hub_impl>(primary->hub());
  if (!hub || consult->state() != call_state::connected || (ps != call_state::hold && ps != call_state::connected))
    return done(mspi::tapi_errc::invalid_call_state);
  // Filled meanwhile by other consultation calls: this one stays a separate call, still flagged.
  if (hub->members().size() >= mspi::conference_bridge::max_parties) return done(mspi::tapi_errc::conference_full);
  consult->conference_of_.reset();
  join_hub(consult, hub);
  if (ps != call_state::hold) return done({});
  const auto req = add_request(std::move(done));
  primary->address_->provider().control(req, primary->id(), call_request{call_request::kind::unhold, {}, 0});
}

inline void core::join_hub(const std::shared_ptr<call_impl>& c, const std::shared_ptr<hub_impl>& hub) {
  hub->add(c);
  c->set_hub(hub);
  c->address_->provider().conference_media(c->id(), hub->id(), true);
  emit(tapi_event::call_hub, call_hub_event{call_hub(hub), handle_of(c), call_hub_event_kind::call_joined});
}

// RemoveFromConference (TSPI_lineRemoveFromConference's role): `c`, connected in a hub, leaves the MSP's
// bridge and the hub; it stays connected (a two-party call with the local user), the others go on.
inline void core::remove_from_conference(const std::shared_ptr<call_impl>& c, completion done) {
  post_op(std::move(done), [self = shared_from_this(), c](completion done) {
    if (auto ec = self->usable(*c)) return done(ec);
    if (c->snapshot().privilege != call_privilege::owner) return done(mspi::tapi_errc::not_owner);
    auto hub = c->hub();
    if (!hub) return done(mspi::tapi_errc::no_conference);
    if (c->state() != call_state::connected) return done(mspi::tapi_errc::invalid_call_state);
    c->address_->provider().conference_media(c->id(), hub->id(), false);
    self->leave_hub(*c);
    done({});
  });
}

inline std::vector<std::shared_ptr<hub_backend>> core::call_hubs() const {
  std::vector<std::shared_ptr<hub_backend>> out;
  {
    std::lock_guard lock(table_mutex_);
    for (const auto& [id, c] : calls_)
      if (auto h = c->hub(); h && std::find(out.begin(), out.end(), h) == out.end()) out.push_back(std::move(h));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });
  return out;
}

// `c` disconnects (core thread): it leaves its hub (its MSP call stops, which takes it out of the mix).
inline void core::leave_hub(call_impl& c) {
  auto hub = std::static_pointer_cast<hub_impl>(c.hub());
  if (!hub) return;
  c.set_hub(nullptr);
  const bool last = hub->remove(c);
  emit(tapi_event::call_hub, call_hub_event{call_hub(hub), handle_of(c.shared_from_this()), call_hub_event_kind::call_left});
  if (last) emit(tapi_event::call_hub, call_hub_event{call_hub(hub), tspi::call(), call_hub_event_kind::hub_idle});
}

// ITCallHub::Clear: disconnects every member; `done` once all have completed, with the first error.
inline void core::clear_hub(std::shared_ptr<hub_impl> hub, completion done) {
  post_op(std::move(done), [self = shared_from_this(), hub = std::move(hub)](completion done) {
    const auto members = hub->members();
    if (members.empty()) return done({});
    struct pending {
      std::size_t left;
      std::error_code first;
      completion done;
    };
    auto p = std::make_shared<pending>(pending{members.size(), {}, std::move(done)});
    for (const auto& m : members)
      self->disconnect(m, disconnect_code::normal, [p](std::error_code ec) {
        if (ec && !p->first) p->first = ec;
        if (--p->left == 0) p->done(p->first);
      });
  });
}

inline void hub_impl::clear(completion done) {
  if (auto c = core_.lock(); c && c->running()) return c->clear_hub(shared_from_this(), std::move(done));
  done(mspi::tapi_errc::not_initialized);
}
inline boost::asio::any_io_executor hub_impl::executor() const {
  auto c = core_.lock();
  return c ? c->event_executor() : boost::asio::any_io_executor(boost::asio::system_executor());
}

}  // namespace tspi::detail
