// Drives the shipped providers' own members (or pairs them anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include <mspi/rtp_opus/msp.hpp>

#include <mspi/stream.hpp>

#include "support/fd_limit.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <system_error>
#include <vector>

using ptapi_test::open_descriptors;
using ptapi_test::soft_fd_limit;

namespace {
mspi::msp_context context() { return mspi::msp_context{.address_name = "test", .event_signal = [] {}}; }

std::error_code initialize_with(const mspi::rtp_opus_config& cfg) {
  mspi::rtp_opus_msp msp(cfg);
  std::error_code ec;
  msp.initialize(context(), ec);
  return ec;
}

// A terminal whose events the test fires itself.
struct firing_terminal : mspi::terminal {
  firing_terminal()
      : terminal("firing", mspi::terminal_classes::media_streaming, mspi::terminal_type::dynamic_terminal,
                 mspi::media_type::audio, mspi::terminal_direction::render) {}
  void fire() { fire_event(mspi::terminal_event{}); }
};
}  // namespace

TEST_CASE("rtp_opus_msp::initialize rejects settings that would break call creation", "[mspi][rtp_opus]") {
  CHECK_FALSE(initialize_with({}));

  mspi::rtp_opus_config cfg;
  cfg.jitter_max_packets = 17;  // above the engine's 16 jitter-buffer slots: the call would throw
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.jitter_min_packets = 0;
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.opus.bitrate_bps = -5;  // libopus refuses it: the call's encoder would throw
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.rtcp_interval = std::chrono::milliseconds(0);
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.ptime = std::chrono::milliseconds(30);  // Opus frames are 10, 20, 40 or 60 ms here
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.playout_lead = std::chrono::seconds(2);  // beyond 1000 ms
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);
  cfg.playout_lead = std::chrono::milliseconds(0);  // starting playout at the first packet is allowed
  CHECK_FALSE(initialize_with(cfg));

  cfg = {};
  cfg.cname.clear();
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.codecs.clear();  // nothing to offer
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.codecs = {mspi::audio_codec::pcmu, mspi::audio_codec::pcmu};
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.telephone_event_payload_type = cfg.payload_type;  // two formats on one payload type
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.telephone_event_payload_type = 8;  // static types belong to RFC 3551
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);

  cfg = {};
  cfg.codecs = {mspi::audio_codec::pcma};  // G.711 alone is fine
  CHECK_FALSE(initialize_with(cfg));
}

TEST_CASE("a destroyed stream stops forwarding its terminals' events", "[mspi][stream]") {
  int forwarded = 0;
  auto t = std::make_shared<firing_terminal>();
  {
    auto s = std::make_shared<mspi::stream>(mspi::media_type::audio, mspi::terminal_direction::render, "Audio",
                                            mspi::stream::event_sink{},
                                            [&](const mspi::terminal_ptr&, const mspi::terminal_event&) { ++forwarded; });
    s->select_terminal(t);
    t->fire();
    CHECK(forwarded == 1);
  }
  CHECK(t->state() == mspi::terminal_state::not_in_use);
  t->fire();
  CHECK(forwarded == 1);
}

TEST_CASE("an offer the MSP cannot use is refused over the channel, with stream_not_used", "[mspi][rtp_opus]") {
  mspi::rtp_opus_msp msp;
  std::error_code ec;
  msp.initialize(context(), ec);
  REQUIRE_FALSE(ec);
  auto call = msp.create_msp_call(7, mspi::media_type::audio, ec);
  REQUIRE(call);
  for (const char* offer : {
           // a host name where an IP literal belongs
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 peer.example\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\n"
           "a=rtpmap:96 opus/48000/2\r\n",
           // no codec we carry (G.729, and telephone-event alone is no audio codec)
           "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18 101\r\n"
           "a=rtpmap:101 telephone-event/8000\r\n"}) {
    auto frame = mspi::encode_channel_message(mspi::channel_message_type::remote_offer, offer);
    msp.receive_tsp_data(call, frame);
    int media_errors = 0, not_used = 0;
    while (auto e = msp.get_event(ec)) {
      CHECK(e->call == 7);
      if (auto* d = std::get_if<mspi::msp_tsp_data>(&e->info)) {
        auto m = mspi::decode_channel_message(d->data);
        REQUIRE(m);
        media_errors += m->type == mspi::channel_message_type::media_error;
        CHECK(m->type != mspi::channel_message_type::local_answer);
      } else if (auto* s = std::get_if<mspi::stream_event>(&e->info)) {
        not_used += s->event == mspi::call_media_kind::stream_not_used;
      }
    }
    CHECK(ec == mspi::tapi_errc::no_event);
    CHECK(media_errors == 1);
    CHECK(not_used == 2);
  }
  msp.shutdown_msp_call(call);
}

TEST_CASE("rtp_opus_msp admits max_calls calls, a shut-down call frees its place", "[mspi][rtp_opus][capacity]") {
  mspi::rtp_opus_config cfg;
  cfg.max_calls = 3;
  mspi::rtp_opus_msp msp(cfg);
  std::error_code ec;
  msp.initialize(context(), ec);
  REQUIRE_FALSE(ec);
  std::vector<std::shared_ptr<mspi::rtp_opus_call>> calls;
  for (mspi::msp_handle h = 1; h <= 3; ++h) {
    calls.push_back(msp.create_msp_call(h, mspi::media_type::audio, ec));
    REQUIRE_FALSE(ec);
  }
  CHECK(msp.create_msp_call(4, mspi::media_type::audio, ec) == nullptr);
  CHECK(ec == mspi::tapi_errc::call_unavailable);
  msp.shutdown_msp_call(calls[1]);  // disconnected: its media no longer counts, though the object lives on
  calls.push_back(msp.create_msp_call(5, mspi::media_type::audio, ec));
  CHECK(calls.back() != nullptr);
  CHECK_FALSE(ec);
  CHECK(msp.create_msp_call(6, mspi::media_type::audio, ec) == nullptr);
  CHECK(ec == mspi::tapi_errc::call_unavailable);
  calls.clear();  // released: gone from the count
  CHECK(msp.create_msp_call(7, mspi::media_type::audio, ec) != nullptr);

  cfg.max_calls = 0;
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);
  cfg.max_calls = 1;
  cfg.reserved_fds = -1;
  CHECK(initialize_with(cfg) == mspi::tapi_errc::invalid_argument);
}

TEST_CASE("rtp_opus_msp refuses calls near RLIMIT_NOFILE and survives running out of descriptors",
          "[mspi][rtp_opus][capacity]") {
  mspi::rtp_opus_config cfg;
  cfg.reserved_fds = 0;
  mspi::rtp_opus_msp msp(cfg);  // no call yet: its media thread has no reactor
  std::error_code ec;
  msp.initialize(context(), ec);
  REQUIRE_FALSE(ec);
  {
    soft_fd_limit limit(open_descriptors() + 1);  // not even the call's two sockets fit
    CHECK(msp.create_msp_call(1, mspi::media_type::audio, ec) == nullptr);
    CHECK(ec == mspi::tapi_errc::call_unavailable);
  }
  {
    // The count allows two descriptors; the reactor (eventfd, epoll) takes them on this first call and
    // the sockets meet EMFILE: an error, not an exception out of create_msp_call.
    soft_fd_limit limit(open_descriptors() + 2);
    std::shared_ptr<mspi::rtp_opus_call> c;
    CHECK_NOTHROW(c = msp.create_msp_call(2, mspi::media_type::audio, ec));
    CHECK(c == nullptr);
    CHECK(ec == std::errc::too_many_files_open);
  }
  CHECK(msp.create_msp_call(3, mspi::media_type::audio, ec) != nullptr);  // the limit is back: calls work
  CHECK_FALSE(ec);

  mspi::rtp_opus_config headroom;  // the default keeps 64 descriptors free
  mspi::rtp_opus_msp guarded(headroom);
  guarded.initialize(context(), ec);
  REQUIRE_FALSE(ec);
  {
    soft_fd_limit limit(open_descriptors() + 32);
    CHECK(guarded.create_msp_call(1, mspi::media_type::audio, ec) == nullptr);
    CHECK(ec == mspi::tapi_errc::call_unavailable);
  }
  CHECK(guarded.create_msp_call(2, mspi::media_type::audio, ec) != nullptr);
  CHECK(msp.handler_exceptions() == 0);
}
