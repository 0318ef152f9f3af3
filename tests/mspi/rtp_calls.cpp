// RTP/Opus MSP calls driven through the TSP <-> MSP channel in one process: codec choice (Opus, G.711),
// hold by re-offer, RFC 4733 DTMF both ways, and peers with another packet time.
// Drives the shipped providers' own members (or pairs them anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/rtp_call_support.hpp"

#include <mspi/codec/g711.hpp>
#include <mspi/codec/opus.hpp>
#include <mspi/rtp/telephone_event.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mspi::channel_message_type;
using ptapi_test::msp_side;

std::vector<std::int16_t> sine(std::size_t n, double hz, int rate, double amplitude, std::size_t offset = 0) {
  std::vector<std::int16_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * static_cast<double>(i + offset) / rate)));
  return v;
}

using ptapi_test::eventually;

std::uint64_t session_version(const std::string& sdp) {
  auto sd = mspi::parse_sdp(sdp);
  REQUIRE(sd);
  return sd->session_version;
}

bool has_line(const std::string& sdp, const std::string& line) { return sdp.find(line + "\r\n") != std::string::npos; }

// The RTP port of the SDP's first m-line.
std::uint16_t audio_port(const std::string& sdp) {
  auto sd = mspi::parse_sdp(sdp);
  REQUIRE(sd);
  REQUIRE_FALSE(sd->media.empty());
  return sd->media.front().port;
}

// `a` answers `peer`'s offer of G.711 payload type `pt` (0 PCMU or 8 PCMA) with telephone-event 101 and starts
// media towards it; returns the answer.
std::string start_g711_with_events(msp_side& a, ptapi_test::raw_peer& peer, int pt) {
  const std::string codec = pt == 0 ? "PCMU" : "PCMA";
  a.send(channel_message_type::remote_offer,
         peer.offer(std::to_string(pt) + " 101", "a=rtpmap:" + std::to_string(pt) + " " + codec +
                                                     "/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"));
  auto answer = a.take(channel_message_type::local_answer);
  REQUIRE(answer);
  peer.target = {boost::asio::ip::make_address("127.0.0.1"), ptapi_test::rtp_port_of(answer->body)};
  a.send(channel_message_type::start_media);
  return answer->body;
}

}  // namespace

TEST_CASE("a call that prefers PCMU gets it, and a tone crosses as 8 kHz G.711", "[mspi][rtp_opus][g711]") {
  mspi::rtp_opus_config pcmu_first;
  pcmu_first.codecs = {mspi::audio_codec::pcmu, mspi::audio_codec::opus, mspi::audio_codec::pcma};
  msp_side a(pcmu_first), b;
  const auto [offer, answer] = ptapi_test::connect(a, b);
  CHECK(offer.find(" RTP/AVP 0 111 8 101\r\n") != std::string::npos);
  // The answer holds the one codec chosen and telephone-event, with the offerer's payload types.
  CHECK(answer.find(" RTP/AVP 0 101\r\n") != std::string::npos);
  CHECK(has_line(answer, "a=rtpmap:0 PCMU/8000"));
  CHECK(has_line(answer, "a=fmtp:101 0-15"));
  CHECK(answer.find("opus") == std::string::npos);

  const auto tone = sine(48000, 1000, 48000, 8000);
  REQUIRE(a.out->write(tone) == tone.size());
  REQUIRE(eventually([&] { return b.received_packets() >= 50; }));
  std::this_thread::sleep_for(300ms);
  const auto heard = b.read_all();
  // One 20 ms G.711 packet is 160 octets (8 kHz, one octet per sample).
  const auto rx = b.call->render_stream()->statistics();
  REQUIRE(rx.packets > 0);
  CHECK(rx.octets == 160 * rx.packets);
  // Both streams name what was negotiated and where the peer is.
  for (const auto& s : {rx, b.call->capture_stream()->statistics(), a.call->render_stream()->statistics()}) {
    CHECK(s.codec == "PCMU");
    CHECK(s.payload_type == 0);
    CHECK(s.clock_rate_hz == 8000);
    CHECK(s.ptime_ms == 20);
    CHECK(s.remote_address == "127.0.0.1");
    CHECK_FALSE(s.secured);
  }
  CHECK(rx.remote_port == audio_port(offer));  // a's RTP port, as a offered it
  CHECK(a.call->render_stream()->statistics().remote_port == audio_port(answer));

  // The middle of what bob heard is the 1 kHz tone: level and frequency survive G.711 and resampling.
  std::size_t first = 0;
  while (first < heard.size() && std::abs(heard[first]) < 2000) ++first;
  REQUIRE(first + 24000 < heard.size());
  const std::vector<std::int16_t> part(heard.begin() + static_cast<std::ptrdiff_t>(first + 4800),
                                       heard.begin() + static_cast<std::ptrdiff_t>(first + 24000));
  double energy = 0;
  int crossings = 0;
  for (std::size_t i = 1; i < part.size(); ++i) {
    energy += double(part[i]) * part[i];
    crossings += (part[i - 1] < 0) != (part[i] < 0);
  }
  const double level = std::sqrt(energy / static_cast<double>(part.size()));
  CHECK(level == Approx(8000 / std::sqrt(2)).epsilon(0.05));
  CHECK(crossings / 2.0 / (static_cast<double>(part.size()) / 48000) == Approx(1000).epsilon(0.01));
}

TEST_CASE("RTCP reports give both streams the round-trip time (RFC 3550 §6.4.1)", "[mspi][rtp_opus][rtcp]") {
  mspi::rtp_opus_config cfg;
  cfg.rtcp_interval = std::chrono::milliseconds(200);  // first report after 100 ms
  msp_side a(cfg), b(cfg);
  CHECK(a.call->capture_stream()->statistics().round_trip_ms == -1);  // nothing negotiated, nothing measured
  CHECK(a.call->capture_stream()->statistics().codec.empty());
  (void)ptapi_test::connect(a, b);
  const auto tone = sine(48000, 440, 48000, 8000);
  REQUIRE(a.out->write(tone) == tone.size());
  REQUIRE(b.out->write(tone) == tone.size());
  // a's SR reaches b, b's next report carries LSR/DLSR for it, and a measures; likewise the other way.
  REQUIRE(eventually([&] { return a.call->capture_stream()->statistics().round_trip_ms >= 0; }, 5s));
  REQUIRE(eventually([&] { return b.call->render_stream()->statistics().round_trip_ms >= 0; }, 5s));
  const auto sa = a.call->capture_stream()->statistics();
  INFO("round trip on 127.0.0.1: " << sa.round_trip_ms << " ms");
  CHECK(sa.round_trip_ms < 100);  // both ends in this process, over the loopback interface
  CHECK(a.call->render_stream()->statistics().round_trip_ms >= 0);  // the render stream shows the same link
  CHECK(sa.codec == "opus");
  CHECK(sa.clock_rate_hz == 48000);
  CHECK(sa.payload_type == 111);
}

TEST_CASE("hold: a sendonly re-offer stops media one way, a sendrecv re-offer resumes it", "[mspi][rtp_opus][hold]") {
  mspi::rtp_opus_config pcma_only;
  pcma_only.codecs = {mspi::audio_codec::pcma};
  msp_side a, b(pcma_only);
  const auto [offer1, answer1] = ptapi_test::connect(a, b);
  CHECK(answer1.find(" RTP/AVP 8 101\r\n") != std::string::npos);
  auto flowing = [](msp_side& from, msp_side& to) {
    const auto s0 = from.sent_packets(), r0 = to.received_packets();
    return eventually([&] { return from.sent_packets() >= s0 + 10 && to.received_packets() >= r0 + 10; });
  };
  REQUIRE(flowing(a, b));
  REQUIRE(flowing(b, a));

  // Alice holds bob: she keeps sending (music on hold), bob's audio no longer flows to her.
  const auto [offer2, answer2] = ptapi_test::offer_answer(a, b, "sendonly");
  CHECK(has_line(offer2, "a=sendonly"));
  CHECK(has_line(answer2, "a=recvonly"));
  CHECK(offer2.find(" RTP/AVP 8 111 0 101\r\n") != std::string::npos);  // the session's codec stays first
  CHECK(session_version(offer2) > session_version(offer1));
  CHECK(session_version(answer2) > session_version(answer1));
  CHECK(mspi::parse_sdp(offer2)->session_id == mspi::parse_sdp(offer1)->session_id);
  REQUIRE(eventually([&] { return !b.call->capture_stream()->active() && !a.call->render_stream()->active(); }));
  CHECK(a.call->capture_stream()->active());
  CHECK(b.call->render_stream()->active());
  std::this_thread::sleep_for(150ms);  // packets in flight land
  const auto b_sent = b.sent_packets(), a_received = a.received_packets();
  REQUIRE(flowing(a, b));
  std::this_thread::sleep_for(100ms);
  CHECK(b.sent_packets() == b_sent);
  CHECK(a.received_packets() == a_received);

  // Bob re-offers while held: his answer-side direction must not undo alice's hold.
  const auto [offer3, answer3] = ptapi_test::offer_answer(b, a);
  CHECK(has_line(offer3, "a=sendrecv"));
  CHECK(has_line(answer3, "a=sendonly"));
  std::this_thread::sleep_for(150ms);
  CHECK(b.sent_packets() == b_sent);

  // A direction the MSP does not know is refused, and changes nothing.
  a.send(channel_message_type::request_offer, "hold");
  auto refused = a.take(channel_message_type::media_error);
  REQUIRE(refused);
  CHECK(refused->body.find("direction") != std::string::npos);
  CHECK(a.count(channel_message_type::local_offer) == 0);

  // Alice resumes: both ways again, and the render side plays sound once more.
  const auto [offer4, answer4] = ptapi_test::offer_answer(a, b, "sendrecv");
  CHECK(has_line(offer4, "a=sendrecv"));
  CHECK(has_line(answer4, "a=sendrecv"));
  CHECK(session_version(offer4) > session_version(answer3));
  REQUIRE(eventually([&] { return b.call->capture_stream()->active() && a.call->render_stream()->active(); }));
  REQUIRE(flowing(b, a));
  REQUIRE(flowing(a, b));
  (void)a.read_all();
  REQUIRE(b.out->write(sine(9600, 500, 48000, 8000)) == 9600);
  REQUIRE(eventually([&] {
    const auto got = a.read_all();
    return std::any_of(got.begin(), got.end(), [](std::int16_t x) { return std::abs(x) > 4000; });
  }));
}

TEST_CASE("DTMF digits sent by one call are detected once each by the other", "[mspi][rtp_opus][dtmf]") {
  msp_side a, b;
  ptapi_test::connect(a, b);
  REQUIRE(eventually([&] { return b.received_packets() >= 5; }));
  a.send(channel_message_type::generate_digits, "1#9D");
  std::string heard;
  for (int i = 0; i < 4; ++i) {
    auto d = b.take(channel_message_type::digit_detected);
    REQUIRE(d);
    heard += d->body;
  }
  CHECK(heard == "1#9D");
  auto done = a.take(channel_message_type::digits_generated);
  REQUIRE(done);
  CHECK(done->body.empty());
  std::this_thread::sleep_for(300ms);
  CHECK(b.count(channel_message_type::digit_detected) == 0);
  CHECK(a.count(channel_message_type::generate_failed) == 0);
  // Audio carries on after the events.
  const auto before = b.received_packets();
  REQUIRE(eventually([&] { return b.received_packets() >= before + 10; }));
}

TEST_CASE("generate_digits is refused or abandoned with generate_failed", "[mspi][rtp_opus][dtmf]") {
  SECTION("bad digits, before media starts, and when media stops first") {
    msp_side a, b;
    ptapi_test::offer_answer(a, b);
    for (const char* bad : {"12x", "", "1 2", "abc"}) {
      a.send(channel_message_type::generate_digits, bad);
      auto f = a.take(channel_message_type::generate_failed);
      REQUIRE(f);
      CHECK_FALSE(f->body.empty());
    }
    a.send(channel_message_type::generate_digits, "1");  // negotiated, not started
    REQUIRE(a.take(channel_message_type::generate_failed));
    a.send(channel_message_type::start_media);
    b.send(channel_message_type::start_media);
    a.send(channel_message_type::generate_digits, "123456789");
    a.send(channel_message_type::generate_digits, "0");
    std::this_thread::sleep_for(100ms);
    a.send(channel_message_type::stop_media);
    auto f1 = a.take(channel_message_type::generate_failed);
    auto f2 = a.take(channel_message_type::generate_failed);
    REQUIRE(f1);
    REQUIRE(f2);  // one reply per request
    CHECK(f1->body.find("stopped") != std::string::npos);
    CHECK(a.count(channel_message_type::digits_generated) == 0);
  }
  SECTION("no telephone-event in the remote offer") {
    msp_side a;
    ptapi_test::raw_peer peer;
    a.send(channel_message_type::remote_offer, peer.offer("0", "a=rtpmap:0 PCMU/8000\r\n"));
    auto answer = a.take(channel_message_type::local_answer);
    REQUIRE(answer);
    CHECK(answer->body.find(" RTP/AVP 0\r\n") != std::string::npos);
    a.send(channel_message_type::start_media);
    a.send(channel_message_type::generate_digits, "5");
    auto f = a.take(channel_message_type::generate_failed);
    REQUIRE(f);
    CHECK(f->body.find("telephone-event") != std::string::npos);
  }
  SECTION("a remote that only sends: we may not send events either") {
    msp_side a;
    ptapi_test::raw_peer peer;
    a.send(channel_message_type::remote_offer,
           peer.offer("0 101", "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendonly\r\n"));
    auto answer = a.take(channel_message_type::local_answer);
    REQUIRE(answer);
    CHECK(has_line(answer->body, "a=recvonly"));
    a.send(channel_message_type::start_media);
    a.send(channel_message_type::generate_digits, "5");
    REQUIRE(a.take(channel_message_type::generate_failed));
  }
}

TEST_CASE("on the wire: G.711 at 8 kHz, and RFC 4733 events in place of audio", "[mspi][rtp_opus][g711][dtmf]") {
  msp_side a;
  ptapi_test::raw_peer peer;
  CHECK(start_g711_with_events(a, peer, 0).find(" RTP/AVP 0 101\r\n") != std::string::npos);

  auto audio = peer.receive_for(300ms);
  REQUIRE(audio.size() >= 8);
  for (std::size_t i = 1; i < audio.size(); ++i) {
    CHECK(audio[i].header.payload_type == 0);
    CHECK(audio[i].payload.size() == 160);
    CHECK(static_cast<std::uint16_t>(audio[i].header.sequence - audio[i - 1].header.sequence) == 1);
    CHECK(audio[i].header.timestamp - audio[i - 1].header.timestamp == 160);  // 20 ms at 8 kHz
  }

  a.send(channel_message_type::generate_digits, "7");
  auto packets = audio;  // the last audio packets come before the event
  for (auto& p : peer.receive_for(450ms)) packets.push_back(std::move(p));
  REQUIRE(a.take(channel_message_type::digits_generated, 1s));
  std::vector<std::size_t> events;
  for (std::size_t i = 0; i < packets.size(); ++i)
    if (packets[i].header.payload_type == 101) events.push_back(i);
  REQUIRE(events.size() == 7);  // 5 packets of tone (100 ms), then the end packet twice more
  const std::size_t first = events.front(), last = events.back();
  REQUIRE(first > 0);
  REQUIRE(last + 1 < packets.size());
  CHECK(last - first == 6);  // no audio packet among them
  const auto ts = packets[first].header.timestamp;
  for (std::size_t k = 0; k < 7; ++k) {
    const auto& p = packets[first + k];
    INFO("event packet " << k);
    CHECK(p.header.timestamp == ts);
    CHECK(p.header.marker == (k == 0));
    auto e = mspi::parse_telephone_event(p.payload);
    REQUIRE(e);
    CHECK(e->event == 7);
    CHECK(e->end == (k >= 4));
    CHECK(e->duration == 160 * std::min<std::size_t>(k + 1, 5));
    CHECK(static_cast<std::uint16_t>(p.header.sequence - packets[first - 1].header.sequence) == k + 1);
  }
  // The send clock ran on underneath: the audio packets around the event are 8 ticks apart.
  CHECK(packets[first - 1].header.timestamp + 160 == ts);
  CHECK(packets[last + 1].header.payload_type == 0);
  CHECK(packets[last + 1].header.timestamp == ts + 7 * 160);
  CHECK(packets[last + 1].header.marker);
}

TEST_CASE("GenerateDigits2 on the wire: each event lasts the asked duration, a duration out of range is refused",
          "[mspi][rtp_opus][g711][dtmf]") {
  msp_side a;
  ptapi_test::raw_peer peer;
  start_g711_with_events(a, peer, 0);
  REQUIRE_FALSE(peer.receive_for(100ms).empty());

  a.send(channel_message_type::generate_digits, "7 30");  // below min_digit_duration_ms
  auto refused = a.take(channel_message_type::generate_failed, 1s);
  REQUIRE(refused);
  CHECK(refused->body.find("40..1000 ms") != std::string::npos);

  a.send(channel_message_type::generate_digits, mspi::generate_digits_body("79", 240));
  const auto packets = peer.receive_for(1500ms);
  REQUIRE(a.take(channel_message_type::digits_generated, 1s));
  std::vector<std::size_t> events;
  for (std::size_t i = 0; i < packets.size(); ++i)
    if (packets[i].header.payload_type == 101) events.push_back(i);
  REQUIRE(events.size() == 2 * 14);  // per digit 12 packets of tone (240 ms), then the end packet twice more
  for (std::size_t d = 0; d < 2; ++d) {
    const auto first = events[d * 14];
    INFO("digit " << d);
    const auto e = mspi::parse_telephone_event(packets[first + 13].payload);
    REQUIRE(e);
    CHECK(e->event == (d == 0 ? 7 : 9));
    CHECK(e->end);
    CHECK(e->duration == 12 * 160);  // 240 ms at 8 kHz
    CHECK(events[d * 14 + 13] - first == 13);  // no audio among them
  }
  // The pause between the digits is the duration too: 12 ticks after the tone, 2 of them end packets.
  CHECK(packets[events[14]].header.timestamp - packets[events[0]].header.timestamp == 24 * 160);
}

TEST_CASE("received events are reported once each, also when only end packets arrive", "[mspi][rtp_opus][dtmf]") {
  msp_side a;
  ptapi_test::raw_peer peer;
  start_g711_with_events(a, peer, 8);
  std::this_thread::sleep_for(50ms);

  std::uint16_t seq = 100;
  std::array<std::byte, 160> silence{};
  silence.fill(std::byte{0xD5});
  auto audio = [&](std::uint32_t ts) { peer.send({false, 8, seq++, ts, 0x1234}, silence); };
  auto event = [&](std::uint32_t ts, std::uint8_t code, bool end, std::uint16_t duration, bool marker = false) {
    std::array<std::byte, 4> p{};
    REQUIRE(mspi::write_telephone_event(p, {code, end, 10, duration}) == 4);
    peer.send({marker, 101, seq++, ts, 0x1234}, p);
  };
  audio(0);
  audio(160);
  for (int i = 0; i < 3; ++i) event(320, 4, true, 800);  // '4': the start was lost, only end packets
  for (int i = 0; i < 3; ++i) event(1440, 10, false, static_cast<std::uint16_t>(160 * (i + 1)), i == 0);  // '*'
  for (int i = 0; i < 3; ++i) event(1440, 10, true, 640);
  event(320, 4, true, 800);  // a late copy of the first event: not again
  event(2560, 16, false, 160, true);  // flash: an event, not a digit
  event(2560, 16, true, 320);
  audio(2880);
  event(3040, 15, false, 160, true);  // 'D'
  std::string heard;
  for (int i = 0; i < 3; ++i) {
    auto d = a.take(channel_message_type::digit_detected);
    REQUIRE(d);
    heard += d->body;
  }
  CHECK(heard == "4*D");
  std::this_thread::sleep_for(200ms);
  CHECK(a.count(channel_message_type::digit_detected) == 0);
  // Event packets are part of the stream: nothing counts as lost.
  CHECK(a.call->render_stream()->statistics().packets_lost == 0);
}

namespace {

// A peer sends a 440 Hz tone in packets of `packet_ms` (our ptime is 20 ms); what the call renders must
// be one continuous sine: each sample follows from the two before it (x[n] = 2cos(w) x[n-1] - x[n-2]),
// so padding, cuts or concealment in the middle show up as a large residual (a slip of one sample
// already gives about 460; G.711 noise and the resampler leave under 30).
void check_continuous_playout(std::string_view formats, std::string_view attributes, int packet_ms, int rate,
                              const std::function<std::vector<std::byte>(std::span<const std::int16_t>)>& encode,
                              double max_residual) {
  mspi::rtp_opus_config cfg;
  cfg.jitter_min_packets = 3;  // margin for a loaded machine: the test is about continuity, not delay
  cfg.playout_lead = std::chrono::milliseconds(40);
  msp_side a(cfg);
  ptapi_test::raw_peer peer;
  a.send(channel_message_type::remote_offer, peer.offer(formats, attributes));
  auto answer = a.take(channel_message_type::local_answer);
  REQUIRE(answer);
  peer.target = {boost::asio::ip::make_address("127.0.0.1"), ptapi_test::rtp_port_of(answer->body)};
  a.send(channel_message_type::start_media);

  const std::size_t per_packet = static_cast<std::size_t>(rate / 1000 * packet_ms);
  const int packets = 1200 / packet_ms;  // 1.2 s
  const auto tone = sine(per_packet * static_cast<std::size_t>(packets), 440, rate, 8000);
  auto next = std::chrono::steady_clock::now();
  for (int k = 0; k < packets; ++k) {
    const auto pcm = std::span<const std::int16_t>(tone).subspan(static_cast<std::size_t>(k) * per_packet, per_packet);
    const auto payload = encode(pcm);
    peer.send({k == 0, static_cast<std::uint8_t>(mspi::parse_sdp(answer->body)->media[0].formats[0].payload_type),
               static_cast<std::uint16_t>(k), static_cast<std::uint32_t>(static_cast<std::size_t>(k) * per_packet), 0x55},
              payload);
    next += std::chrono::milliseconds(packet_ms);
    std::this_thread::sleep_until(next);
  }
  std::this_thread::sleep_for(300ms);
  const auto heard = a.read_all();
  const auto stats = a.call->render_stream()->statistics();
  CHECK(stats.packets == static_cast<std::uint64_t>(packets));

  std::size_t first = 0, last = heard.size();
  while (first < heard.size() && std::abs(heard[first]) < 2000) ++first;
  while (last > first && std::abs(heard[last - 1]) < 2000) --last;
  first += 4800;  // skip the onset (100 ms) and the fade-out at the end
  last = last > 4800 ? last - 4800 : 0;
  INFO("tone heard from sample " << first << " to " << last << " of " << heard.size() << "; concealed "
                                 << stats.concealed);
  REQUIRE(last > first + 40000);  // most of the 1.2 s
  const double c = 2 * std::cos(2 * M_PI * 440 / 48000);
  double worst = 0, energy = 0;
  for (std::size_t n = first; n < last; ++n) {
    worst = std::max(worst, std::abs(heard[n] - c * heard[n - 1] + heard[n - 2]));
    energy += double(heard[n]) * heard[n];
  }
  CHECK(worst < max_residual);
  CHECK(std::sqrt(energy / static_cast<double>(last - first)) == Approx(8000 / std::sqrt(2)).epsilon(0.1));
}

}  // namespace

TEST_CASE("a peer sending 10 ms or 30 ms packets is played out as one continuous signal", "[mspi][rtp_opus][ptime]") {
  auto pcmu = [](std::span<const std::int16_t> pcm) {
    std::vector<std::byte> out(pcm.size());
    mspi::encode_pcmu(pcm, out);
    return out;
  };
  SECTION("PCMU, 30 ms packets") {
    check_continuous_playout("0", "a=rtpmap:0 PCMU/8000\r\na=ptime:30\r\n", 30, 8000, pcmu, 250);
  }
  SECTION("PCMU, 10 ms packets") {
    check_continuous_playout("0", "a=rtpmap:0 PCMU/8000\r\na=ptime:10\r\n", 10, 8000, pcmu, 250);
  }
  SECTION("Opus, 10 ms packets") {
    mspi::opus_config oc;
    oc.bitrate_bps = 64000;
    auto encoder = std::make_shared<mspi::opus_encoder>(oc);
    auto opus = [encoder](std::span<const std::int16_t> pcm) {
      std::vector<std::byte> out(1275);
      std::error_code ec;
      out.resize(encoder->encode(pcm, out, ec));
      REQUIRE_FALSE(ec);
      return out;
    };
    check_continuous_playout("96", "a=rtpmap:96 opus/48000/2\r\na=ptime:10\r\n", 10, 48000, opus, 400);
  }
}
