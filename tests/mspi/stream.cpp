#include <mspi/stream.hpp>

#include <mspi/stream_control.hpp>

#include <catch2/catch.hpp>

#include <vector>

using mspi::call_media_kind;
using mspi::terminal_direction;

namespace {
// A terminal that records how the stream drives it, and can refuse to start (a broken device).
struct probe_terminal : mspi::terminal {
  probe_terminal(terminal_direction d, bool broken = false, mspi::media_type m = mspi::media_type::audio)
      : terminal("probe", mspi::terminal_classes::media_streaming, mspi::terminal_type::dynamic_terminal, m, d),
        broken_(broken) {}
  std::error_code on_stream_active(bool active) noexcept override {
    if (broken_ && active) return mspi::tapi_errc::no_device;
    running = active;
    return {};
  }
  bool running = false;
  bool broken_;
};

struct recorder {
  std::vector<mspi::stream_event> events;
  mspi::stream_ptr make(terminal_direction d) {
    return std::make_shared<mspi::stream>(mspi::media_type::audio, d, "Audio",
                                          [this](mspi::stream_event e) { events.push_back(std::move(e)); });
  }
  std::vector<call_media_kind> kinds() const {
    std::vector<call_media_kind> out;
    for (auto& e : events) out.push_back(e.event);
    return out;
  }
};
}  // namespace

TEST_CASE("selecting a terminal follows TAPI's rules", "[mspi][stream]") {
  recorder r;
  auto capture = r.make(terminal_direction::capture);
  auto render = r.make(terminal_direction::render);
  auto mic = std::make_shared<probe_terminal>(terminal_direction::capture);
  std::error_code ec;

  capture->select_terminal(nullptr, ec);
  CHECK(ec == mspi::tapi_errc::invalid_terminal);
  render->select_terminal(mic, ec);
  CHECK(ec == mspi::tapi_errc::invalid_direction);
  capture->select_terminal(std::make_shared<probe_terminal>(terminal_direction::capture, false, mspi::media_type::video), ec);
  CHECK(ec == mspi::tapi_errc::invalid_media_type);

  capture->select_terminal(mic, ec);
  CHECK_FALSE(ec);
  CHECK(mic->state() == mspi::terminal_state::in_use);
  auto other = r.make(terminal_direction::capture);
  other->select_terminal(mic, ec);  // a terminal is on one stream at a time
  CHECK(ec == mspi::tapi_errc::terminal_in_use);
  capture->select_terminal(mic, ec);
  CHECK(ec == mspi::tapi_errc::terminal_in_use);

  capture->unselect_terminal(mic, ec);
  CHECK_FALSE(ec);
  CHECK(mic->state() == mspi::terminal_state::not_in_use);
  capture->unselect_terminal(mic, ec);
  CHECK(ec == mspi::tapi_errc::invalid_terminal);
  other->select_terminal(mic, ec);  // free again
  CHECK_FALSE(ec);
}

TEST_CASE("media flows when desired running, a terminal is selected and the transport is ready", "[mspi][stream]") {
  recorder r;
  auto s = r.make(terminal_direction::capture);
  auto t = std::make_shared<probe_terminal>(terminal_direction::capture);
  s->set_transport_ready(true, mspi::call_media_cause::remote_request);
  CHECK_FALSE(s->active());  // no terminal yet
  s->select_terminal(t);     // selecting starts the stream: desired state is running by default
  CHECK(s->active());
  CHECK(t->running);
  s->pause_stream();
  CHECK_FALSE(s->active());
  CHECK_FALSE(t->running);
  s->unselect_terminal(t);
  s->select_terminal(t);  // paused more recently than started: selecting does not start it
  CHECK_FALSE(s->active());
  s->start_stream();
  CHECK(s->active());
  s->set_transport_ready(false, mspi::call_media_cause::remote_request);
  CHECK_FALSE(s->active());
  CHECK(r.kinds() == std::vector<call_media_kind>{call_media_kind::stream_active, call_media_kind::stream_inactive,
                                                   call_media_kind::stream_active, call_media_kind::stream_inactive});
  CHECK(r.events[0].cause == mspi::call_media_cause::local_request);
  CHECK(r.events[3].cause == mspi::call_media_cause::remote_request);
  CHECK(r.events[0].source == s);
}

TEST_CASE("a terminal that cannot start fails and is unselected", "[mspi][stream]") {
  recorder r;
  auto s = r.make(terminal_direction::render);
  s->set_transport_ready(true, mspi::call_media_cause::remote_request);
  auto broken = std::make_shared<probe_terminal>(terminal_direction::render, true);
  s->select_terminal(broken);
  CHECK_FALSE(s->active());
  CHECK(s->terminals().empty());
  CHECK(broken->state() == mspi::terminal_state::not_in_use);
  REQUIRE(r.kinds() == std::vector<call_media_kind>{call_media_kind::terminal_fail, call_media_kind::stream_fail});
  CHECK(r.events[0].terminal == broken);
  CHECK(r.events[0].error == mspi::tapi_errc::no_device);
}

TEST_CASE("with_active_terminals hands the terminals over only while media flows", "[mspi][stream]") {
  recorder r;
  auto s = r.make(terminal_direction::capture);
  auto a = std::make_shared<probe_terminal>(terminal_direction::capture);
  auto b = std::make_shared<probe_terminal>(terminal_direction::capture);
  s->select_terminal(a);
  s->select_terminal(b);
  std::size_t seen = 0;
  CHECK_FALSE(s->with_active_terminals([&](auto ts) { seen = ts.size(); }));
  CHECK(seen == 0);
  s->set_transport_ready(true, mspi::call_media_cause::remote_request);
  CHECK(s->with_active_terminals([&](auto ts) { seen = ts.size(); }));
  CHECK(seen == 2);
  s->shutdown(mspi::call_media_cause::local_request);
  CHECK(s->terminals().empty());
  CHECK(a->state() == mspi::terminal_state::not_in_use);
  CHECK(r.kinds().back() == call_media_kind::stream_inactive);
}
