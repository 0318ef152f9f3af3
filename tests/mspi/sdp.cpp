#include <mspi/sdp.hpp>

#include <mspi/channel.hpp>
#include <mspi/rtp_opus/detail/negotiation.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

namespace {
const std::vector<mspi::audio_codec> all_codecs{mspi::audio_codec::opus, mspi::audio_codec::pcmu, mspi::audio_codec::pcma};
}

TEST_CASE("an offer lists Opus, PCMU, PCMA and telephone-event and survives to_string and parse_sdp", "[mspi][sdp]") {
  mspi::rtp_opus_config cfg;
  cfg.local_address = "127.0.0.1";  // the MSP fills an empty one at initialize; here the SDP is built directly
  cfg.opus.inband_fec = true;
  auto sd = mspi::detail::local_description(cfg, 42, 7, 40000, 40001, mspi::detail::offer_formats(cfg, nullptr),
                                            mspi::media_direction::sendrecv);
  const auto text = to_string(sd);
  CHECK(text.find("m=audio 40000 RTP/AVP 111 0 8 101\r\n") != std::string::npos);
  CHECK(text.find("a=rtpmap:111 opus/48000/2\r\n") != std::string::npos);
  CHECK(text.find("a=rtpmap:0 PCMU/8000\r\n") != std::string::npos);
  CHECK(text.find("a=rtpmap:8 PCMA/8000\r\n") != std::string::npos);
  CHECK(text.find("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n") != std::string::npos);
  CHECK(text.find("useinbandfec=1") != std::string::npos);
  auto back = mspi::parse_sdp(text);
  REQUIRE(back);
  CHECK(back->session_id == 42);
  CHECK(back->session_version == 7);
  REQUIRE(back->media.size() == 1);
  CHECK(back->media[0].port == 40000);
  CHECK(back->media[0].rtcp_port == 40001);
  CHECK(back->media[0].ptime_ms == 20);
  CHECK(back->media[0].address == "127.0.0.1");
  REQUIRE(back->media[0].formats.size() == 4);
  CHECK(back->media[0].formats[0].encoding == "opus");
  CHECK(back->media[0].formats[0].channels == 2);
  CHECK(back->media[0].formats[3].fmtp == "0-15");

  // A user who prefers G.711 μ-law puts it first; codecs left out are not offered.
  cfg.codecs = {mspi::audio_codec::pcmu, mspi::audio_codec::opus};
  cfg.telephone_event_payload_type = 96;
  auto pcmu_first = to_string(mspi::detail::local_description(cfg, 1, 1, 5000, 5001, mspi::detail::offer_formats(cfg, nullptr),
                                                              mspi::media_direction::sendonly));
  CHECK(pcmu_first.find("m=audio 5000 RTP/AVP 0 111 96\r\n") != std::string::npos);
  CHECK(pcmu_first.find("PCMA") == std::string::npos);
  CHECK(pcmu_first.find("a=sendonly\r\n") != std::string::npos);
}

TEST_CASE("a re-offer keeps the session's codec first, with its payload types", "[mspi][sdp]") {
  mspi::rtp_opus_config cfg;
  mspi::detail::negotiated_media current;
  current.codec = mspi::audio_codec::pcma;
  current.payload_type = 8;
  current.telephone_event_payload_type = 111;  // the remote's choice collides with our Opus payload type
  auto f = mspi::detail::offer_formats(cfg, &current);
  REQUIRE(f.size() == 4);
  CHECK((f[0].encoding == "PCMA" && f[0].payload_type == 8));
  CHECK((f[1].encoding == "opus" && f[1].payload_type == 96));  // moved to a free dynamic type
  CHECK((f[2].encoding == "PCMU" && f[2].payload_type == 0));
  CHECK((f[3].encoding == "telephone-event" && f[3].payload_type == 111));
}

TEST_CASE("negotiation picks the offer's first supported codec and honours its direction", "[mspi][sdp]") {
  // Shaped like baresip's offers: LF line ends, several codecs, Opus not first.
  const char* offer =
      "v=0\no=- 123 456 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
      "m=audio 20000 RTP/AVP 0 8 96 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\n"
      "a=rtpmap:96 OPUS/48000/2\na=fmtp:96 stereo=1\na=rtpmap:101 telephone-event/8000\na=ptime:30\na=sendonly\n";
  auto sd = mspi::parse_sdp(offer);
  REQUIRE(sd);
  auto n = mspi::detail::negotiate(*sd, all_codecs);
  REQUIRE(n);
  CHECK(n->codec == mspi::audio_codec::pcmu);  // the offerer's preference wins (RFC 3264 §6.1)
  CHECK(n->payload_type == 0);
  CHECK(n->telephone_event_payload_type == 101);
  CHECK(n->telephone_event_rate == 8000);
  CHECK(n->remote_ptime_ms == 30);
  CHECK(n->remote_rtp_port == 20000);
  CHECK(n->remote_rtcp_port == 20001);
  CHECK_FALSE(n->send);  // the remote only sends
  CHECK(n->receive);
  CHECK(mspi::detail::answer_direction(*n) == mspi::media_direction::recvonly);

  // Only what we support counts: without G.711 in our list, Opus (PT 96) is chosen.
  n = mspi::detail::negotiate(*sd, {mspi::audio_codec::opus});
  REQUIRE(n);
  CHECK((n->codec == mspi::audio_codec::opus && n->payload_type == 96));

  // Our answer: the chosen codec and telephone-event, with the offerer's payload types.
  mspi::rtp_opus_config cfg;
  auto answer = mspi::detail::answer_formats(cfg, *mspi::detail::negotiate(*sd, all_codecs));
  REQUIRE(answer.size() == 2);
  CHECK((answer[0].encoding == "PCMU" && answer[0].payload_type == 0 && answer[0].clock_rate == 8000));
  CHECK((answer[1].encoding == "telephone-event" && answer[1].payload_type == 101 && answer[1].fmtp == "0-15"));

  // A static payload type needs no rtpmap (RFC 3551 Table 4); no telephone-event means none negotiated.
  auto static_only = mspi::parse_sdp("v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 9 RTP/AVP 18 8\n");
  REQUIRE(static_only);
  n = mspi::detail::negotiate(*static_only, all_codecs);
  REQUIRE(n);
  CHECK((n->codec == mspi::audio_codec::pcma && n->payload_type == 8));
  CHECK(n->telephone_event_payload_type == -1);
  CHECK(mspi::detail::answer_formats(cfg, *n).size() == 1);
  CHECK_FALSE(mspi::detail::negotiate(*static_only, {mspi::audio_codec::opus}));

  // telephone-event at the codec's clock is preferred (RFC 4733 §2.1).
  auto two_te = mspi::parse_sdp(
      "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 9 RTP/AVP 109 100 101\n"
      "a=rtpmap:109 opus/48000/2\na=rtpmap:100 telephone-event/8000\na=rtpmap:101 telephone-event/48000\n");
  REQUIRE(two_te);
  n = mspi::detail::negotiate(*two_te, all_codecs);
  REQUIRE(n);
  CHECK((n->telephone_event_payload_type == 101 && n->telephone_event_rate == 48000));
}

TEST_CASE("directions: parsing, restricting and what each side may do (RFC 3264 §6.1)", "[mspi][sdp]") {
  using mspi::media_direction;
  CHECK(mspi::detail::parse_direction("") == media_direction::sendrecv);
  CHECK(mspi::detail::parse_direction("sendonly") == media_direction::sendonly);
  CHECK(mspi::detail::parse_direction("recvonly") == media_direction::recvonly);
  CHECK(mspi::detail::parse_direction("inactive") == media_direction::inactive);
  CHECK_FALSE(mspi::detail::parse_direction("hold"));
  mspi::detail::negotiated_media remote_sendrecv, remote_sendonly;
  remote_sendonly.send = false;
  CHECK(mspi::detail::restrict_direction(media_direction::sendrecv, remote_sendrecv) == media_direction::sendrecv);
  CHECK(mspi::detail::restrict_direction(media_direction::sendonly, remote_sendrecv) == media_direction::sendonly);
  CHECK(mspi::detail::restrict_direction(media_direction::sendrecv, remote_sendonly) == media_direction::recvonly);
  CHECK(mspi::detail::restrict_direction(media_direction::sendonly, remote_sendonly) == media_direction::inactive);
}

TEST_CASE("malformed SDP is rejected, never crashes", "[mspi][sdp]") {
  CHECK_FALSE(mspi::parse_sdp(""));
  CHECK_FALSE(mspi::parse_sdp("v=1\no=- 1 1 IN IP4 a\nm=audio 1 RTP/AVP 0\nc=IN IP4 a\n"));
  CHECK_FALSE(mspi::parse_sdp("v=0\no=- x 1 IN IP4 a\nc=IN IP4 a\nm=audio 1 RTP/AVP 0\n"));
  CHECK_FALSE(mspi::parse_sdp("v=0\no=- 1 1 IN IP4 a\nc=IN IP4 a\nm=audio 70000 RTP/AVP 0\n"));
  CHECK_FALSE(mspi::parse_sdp("v=0\no=- 1 1 IN IP4 a\nc=IN IP4 a\nm=audio 1 RTP/AVP 300\n"));
  CHECK_FALSE(mspi::parse_sdp("v=0\no=- 1 1 IN IP4 a\nm=audio 1 RTP/AVP 0\n"));  // no connection address
  CHECK_FALSE(mspi::parse_sdp(std::string(mspi::sdp_max_bytes + 1, 'a')));
  std::mt19937 rng(7);
  const std::string valid = "v=0\r\no=- 1 1 IN IP4 a\r\nc=IN IP4 a\r\nm=audio 9 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";
  for (int i = 0; i < 2000; ++i) {  // random corruptions of a valid body: parse or reject, within bounds
    std::string s = valid;
    for (int k = 0; k < 3; ++k) s[rng() % s.size()] = static_cast<char>(rng() % 256);
    s.resize(rng() % (s.size() + 1));
    auto r = mspi::parse_sdp(s);
    if (r) CHECK(r->media.size() <= mspi::sdp_max_media);
  }
}

TEST_CASE("channel frames round-trip and reject bad lengths and versions", "[mspi][channel]") {
  // The message types are wire values: they must never change.
  STATIC_REQUIRE(static_cast<int>(mspi::channel_message_type::generate_digits) == 0x06);
  STATIC_REQUIRE(static_cast<int>(mspi::channel_message_type::digit_detected) == 0x84);
  STATIC_REQUIRE(static_cast<int>(mspi::channel_message_type::generate_failed) == 0x85);
  STATIC_REQUIRE(static_cast<int>(mspi::channel_message_type::digits_generated) == 0x86);
  auto frame = mspi::encode_channel_message(mspi::channel_message_type::remote_offer, "v=0");
  auto m = mspi::decode_channel_message(frame);
  REQUIRE(m);
  CHECK(m->type == mspi::channel_message_type::remote_offer);
  CHECK(m->body == "v=0");
  auto truncated = frame;
  truncated.pop_back();
  CHECK_FALSE(mspi::decode_channel_message(truncated));
  auto wrong_version = frame;
  wrong_version[0] = std::byte{2};
  CHECK_FALSE(mspi::decode_channel_message(wrong_version));
  CHECK(mspi::decode_channel_message(mspi::encode_channel_message(mspi::channel_message_type::start_media))->body.empty());
}
