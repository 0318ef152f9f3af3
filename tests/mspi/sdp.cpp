#include <mspi/sdp.hpp>

#include <mspi/channel.hpp>
#include <mspi/rtp_opus/detail/negotiation.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>

TEST_CASE("an Opus offer survives to_string and parse_sdp", "[mspi][sdp]") {
  mspi::rtp_opus_config cfg;
  cfg.opus.inband_fec = true;
  auto sd = mspi::detail::local_description(cfg, 42, 7, 40000, 40001, 111, mspi::media_direction::sendrecv);
  const auto text = to_string(sd);
  CHECK(text.find("a=rtpmap:111 opus/48000/2\r\n") != std::string::npos);
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
  REQUIRE(back->media[0].formats.size() == 1);
  CHECK(back->media[0].formats[0].encoding == "opus");
  CHECK(back->media[0].formats[0].channels == 2);
}

TEST_CASE("negotiation picks Opus from a foreign offer and honours its direction", "[mspi][sdp]") {
  // Shaped like baresip's offers: LF line ends, several codecs, Opus not first.
  const char* offer =
      "v=0\no=- 123 456 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
      "m=audio 20000 RTP/AVP 0 8 96 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\n"
      "a=rtpmap:96 OPUS/48000/2\na=fmtp:96 stereo=1\na=rtpmap:101 telephone-event/8000\na=sendonly\n";
  auto sd = mspi::parse_sdp(offer);
  REQUIRE(sd);
  auto n = mspi::detail::negotiate(*sd);
  REQUIRE(n);
  CHECK(n->payload_type == 96);
  CHECK(n->remote_rtp_port == 20000);
  CHECK(n->remote_rtcp_port == 20001);
  CHECK_FALSE(n->send);  // the remote only sends
  CHECK(n->receive);
  CHECK(mspi::detail::answer_direction(*n) == mspi::media_direction::recvonly);

  auto pcmu_only = mspi::parse_sdp("v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 9 RTP/AVP 0\n");
  REQUIRE(pcmu_only);
  CHECK_FALSE(mspi::detail::negotiate(*pcmu_only));
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
