// The receive guard of RTP/Opus MSP calls (issue 7, points 5, 6, 9): RTP and RTCP only from the negotiated
// peer, symmetric-RTP latching as an explicit policy, SSRC changes after RFC 3550 A.1 probation, rejected
// packets counted, and unpredictable SSRC / sequence / timestamp; and the DiffServ mark SetQOS puts on what a
// call sends.
// Drives the shipped providers' own members (or pairs them anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/rtp_call_support.hpp"
#include "support/speech_match.hpp"

#include <mspi/audio_file.hpp>
#include <mspi/codec/g711.hpp>
#include <mspi/codec/opus.hpp>
#include <mspi/codec/resampler.hpp>
#include <mspi/dsp/dtmf_detector.hpp>
#include <mspi/rtp/rtcp.hpp>

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <mspi/detail/random.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mspi::channel_message_type;
using ptapi_test::eventually;
using ptapi_test::msp_side;
using ptapi_test::raw_peer;
using udp = boost::asio::ip::udp;

const auto localhost = boost::asio::ip::make_address("127.0.0.1");

// ~2.9 s of a real voice (Debian alsa-utils), 48 kHz mono, padded to whole 20 ms frames.
std::vector<std::int16_t> speech() {
  std::vector<std::int16_t> all;
  for (const char* f : {"Front_Center", "Front_Left"}) {
    auto part = mspi::read_audio_file(std::string("/usr/share/sounds/alsa/") + f + ".wav");
    all.insert(all.end(), part.begin(), part.end());
  }
  all.resize((all.size() + 959) / 960 * 960);
  return all;
}

std::vector<std::int16_t> tone(std::size_t n, double hz, double amplitude, std::size_t offset) {
  std::vector<std::int16_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * static_cast<double>(i + offset) / 48000)));
  return v;
}

// Feeds `pcm` into a capture terminal (its ring holds 1 s) as fast as the call takes it, and returns
// once the call has read all of it (the ring ran dry).
void play(mspi::media_streaming_terminal& out, std::span<const std::int16_t> pcm) {
  for (std::size_t done = 0; done < pcm.size(); std::this_thread::sleep_for(20ms)) done += out.write(pcm.subspan(done));
  const auto underruns = out.underrun_samples();
  REQUIRE(eventually([&] { return out.underrun_samples() > underruns; }));
}

// The recording's best alignment with `sent`, searched over the whole recording; then the per-segment
// match from there (segments may lag up to 200 ms more).
ptapi_test::speech_match match_anywhere(std::span<const std::int16_t> sent, std::span<const std::int16_t> recorded) {
  const auto d = mspi::estimate_delay(sent, recorded, recorded.size());
  const std::size_t from = static_cast<std::size_t>(std::max<long>(0, d.lag_samples - 4800));
  return ptapi_test::match_speech(sent, recorded.subspan(from), 14400);
}

std::string rtpmap_pcmu() { return "a=rtpmap:0 PCMU/8000\r\n"; }

// A raw peer's offer announcing `rtcp` as its RTCP port (RFC 3605).
std::string offer_with_rtcp(const raw_peer& rtp, const raw_peer& rtcp) {
  return rtp.offer("0", rtpmap_pcmu() + "a=rtcp:" + std::to_string(rtcp.port()) + "\r\n");
}

// Sends `count` PCMU packets of silence from `peer`, consecutive sequence numbers, 20 ms apart.
void send_silence(raw_peer& peer, std::uint32_t ssrc, std::uint16_t& seq, std::uint32_t& ts, int count) {
  std::array<std::byte, 160> silence{};
  silence.fill(std::byte{0xFF});  // μ-law zero
  for (int i = 0; i < count; ++i) {
    peer.send({false, 0, seq++, ts, ssrc}, silence);
    ts += 160;
    std::this_thread::sleep_for(20ms);
  }
}

std::vector<std::byte> receiver_report(std::uint32_t about_ssrc, std::int32_t lost, std::uint32_t highest, std::uint32_t jitter) {
  mspi::report_block b{about_ssrc, 0, lost, highest, jitter, 0, 0};
  std::vector<std::byte> out(64);
  out.resize(mspi::write_receiver_report(out, 0x0BADF00D, &b));
  REQUIRE(!out.empty());
  return out;
}

// Answers `peer`'s PCMU offer on `a` and starts media; returns the answer.
std::string answer_pcmu(msp_side& a, raw_peer& peer, const std::string& offer) {
  a.send(channel_message_type::remote_offer, offer);
  auto answer = a.take(channel_message_type::local_answer);
  REQUIRE(answer);
  peer.target = {localhost, ptapi_test::rtp_port_of(answer->body)};
  a.send(channel_message_type::start_media);
  return answer->body;
}

// The traffic class byte (IPv4 TOS: DSCP << 2 | ECN) of the next datagram `peer` receives within `timeout`
// (IP_RECVTOS ancillary data), or -1 when none arrived or it carried no TOS.
int next_traffic_class(raw_peer& peer, std::chrono::milliseconds timeout) {
  const int fd = peer.socket.native_handle();
  int on = 1;
  REQUIRE(::setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof on) == 0);
  peer.socket.non_blocking(true);
  for (auto end = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < end;) {
    ptapi_test::datagram_with_control d;
    if (d.receive(fd) < 0) {
      std::this_thread::sleep_for(2ms);
      continue;
    }
    for (auto* c = CMSG_FIRSTHDR(&d.msg); c; c = CMSG_NXTHDR(&d.msg, c))
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) return *reinterpret_cast<unsigned char*>(CMSG_DATA(c));
    return -1;
  }
  return -1;
}

}  // namespace

TEST_CASE("SetQOS marks a call's RTP with DSCP EF, best effort takes the mark off (RFC 2474, RFC 3246)",
          "[mspi][rtp_opus][qos]") {
  msp_side a;
  raw_peer peer;
  CHECK(a.call->set_qos(static_cast<mspi::qos_service_level>(0)) == mspi::tapi_errc::invalid_argument);
  CHECK(next_traffic_class(peer, 0ms) == -1);
  REQUIRE_FALSE(a.call->set_qos(mspi::qos_service_level::needed));  // before media: it starts marked
  answer_pcmu(a, peer, peer.offer("0", rtpmap_pcmu()));
  CHECK(next_traffic_class(peer, 3s) == 46 << 2);  // EF: 0xB8
  REQUIRE_FALSE(a.call->set_qos(mspi::qos_service_level::best_effort));
  CHECK(eventually([&] { return next_traffic_class(peer, 1s) == 0; }));
  REQUIRE_FALSE(a.call->set_qos(mspi::qos_service_level::if_available));
  CHECK(eventually([&] { return next_traffic_class(peer, 1s) == 46 << 2; }));
}

TEST_CASE("RTP sprayed at a callee from another address is not played, and is counted", "[mspi][rtp_opus][rtp_guard]") {
  mspi::rtp_opus_config cfg;
  cfg.opus.bitrate_bps = 64000;
  cfg.jitter_min_packets = 3;  // margin for a loaded machine: the test is about who is heard
  msp_side a(cfg), b(cfg);
  const auto [offer, answer] = ptapi_test::offer_answer(a, b);
  const auto pt = static_cast<std::uint8_t>(mspi::parse_sdp(answer)->media[0].formats[0].payload_type);

  // The attacker streams a loud tone with the negotiated payload type and its own SSRC at bob's RTP
  // port, from before the first legitimate packet until the end. (No Catch assertion on its thread.)
  std::atomic<bool> stop{false};
  std::atomic<int> sprayed{0};
  std::thread attacker([&, victim = udp::endpoint(localhost, ptapi_test::rtp_port_of(answer))] {
    boost::asio::io_context io;
    udp::socket evil(io, udp::endpoint(localhost, 0));
    std::vector<std::byte> packet(1500);
    mspi::opus_config oc;
    oc.bitrate_bps = 64000;
    mspi::opus_encoder encoder(oc);
    std::vector<std::byte> payload(1275);
    std::uint16_t seq = 4242;
    std::uint32_t ts = 0;
    for (auto next = std::chrono::steady_clock::now(); !stop; next += 20ms) {
      std::error_code ec;
      const auto pcm = tone(960, 1000, 20000, ts);
      const std::size_t n = encoder.encode(pcm, payload, ec);
      const std::size_t size =
          mspi::write_rtp(packet, {seq == 4242, pt, seq++, ts, 0x5EED0BAD}, std::span<const std::byte>(payload.data(), n));
      boost::system::error_code sec;
      evil.send_to(boost::asio::buffer(packet.data(), size), victim, 0, sec);
      if (!ec && size > 0 && !sec) ++sprayed;  // counted only when sent
      ts += 960;
      std::this_thread::sleep_until(next + 20ms);
    }
  });
  REQUIRE(eventually([&] { return sprayed >= 10; }));

  const auto input = speech();
  a.send(channel_message_type::start_media);
  b.send(channel_message_type::start_media);
  play(*a.out, input);
  std::this_thread::sleep_for(300ms);  // the end of the speech crosses and is played
  stop = true;
  attacker.join();
  a.send(channel_message_type::stop_media);
  std::this_thread::sleep_for(200ms);  // packets in flight land

  const auto rx = b.call->render_stream()->statistics();
  const auto tx = a.call->capture_stream()->statistics();
  INFO("attacker sent " << sprayed << ", rejected_source " << rx.rejected_source << "; alice sent " << tx.packets
                        << ", bob received " << rx.packets);
  CHECK(rx.rejected_source == static_cast<std::uint64_t>(sprayed.load()));
  CHECK(rx.packets == tx.packets);  // every legitimate packet is counted
  CHECK(rx.rejected_ssrc == 0);
  CHECK(rx.malformed == 0);
  CHECK(rx.ssrc_changes == 0);
  CHECK(rx.packets_lost == 0);

  const auto recorded = b.read_all();
  const auto match = ptapi_test::match_speech(input, recorded, 9600);
  WARN("injection: legit speech correlation " << match.median_correlation << " over " << match.voiced_segments
                                              << " voiced segments; " << rx.rejected_source << " sprayed packets rejected, "
                                              << rx.packets << " of " << tx.packets << " legit packets received");
  CHECK(match.voiced_segments >= 6);
  CHECK(match.median_correlation >= 0.85);
}

TEST_CASE("RTCP reports from another address, or impossible ones, leave the capture statistics alone", "[mspi][rtp_opus][rtp_guard][rtcp]") {
  msp_side a;
  raw_peer peer, peer_rtcp, evil;
  const auto answer = answer_pcmu(a, peer, offer_with_rtcp(peer, peer_rtcp));
  const udp::endpoint a_rtcp(localhost, mspi::parse_sdp(answer)->media[0].rtcp_port);
  REQUIRE(a_rtcp.port() != 0);
  const auto got = peer.receive_for(200ms);
  REQUIRE(got.size() >= 3);
  const std::uint32_t ssrc = got.back().header.ssrc, highest = got.back().header.sequence;

  const auto rejected_before = a.call->render_stream()->statistics();
  // The attack of the issue: 777,777 lost and 1 s of jitter (8000 units at 8 kHz), from a stranger...
  evil.socket.send_to(boost::asio::buffer(receiver_report(ssrc, 777777, highest, 8000)), a_rtcp);
  // ...and from the peer's own RTCP address: more lost than we sent, a sequence number we never sent,
  // 20 s of jitter.
  for (const auto& rr : {receiver_report(ssrc, 777777, highest, 80), receiver_report(ssrc, 0, highest + 500, 80),
                         receiver_report(ssrc, 0, highest, 8000 * 20)})
    peer_rtcp.socket.send_to(boost::asio::buffer(rr), a_rtcp);
  REQUIRE(eventually([&] {
    const auto s = a.call->render_stream()->statistics();
    return s.rejected_source >= rejected_before.rejected_source + 1 && s.malformed >= rejected_before.malformed + 3;
  }));
  auto tx = a.call->capture_stream()->statistics();
  CHECK(tx.packets_lost == 0);
  CHECK(tx.jitter_ms == 0);
  const auto rx = a.call->render_stream()->statistics();
  CHECK(rx.rejected_source == rejected_before.rejected_source + 1);
  CHECK(rx.malformed == rejected_before.malformed + 3);

  // Control: a plausible report from the peer's RTCP address is taken (3 lost, 10 ms of jitter).
  peer_rtcp.socket.send_to(boost::asio::buffer(receiver_report(ssrc, 3, highest, 80)), a_rtcp);
  REQUIRE(eventually([&] { return a.call->capture_stream()->statistics().packets_lost == 3; }));
  CHECK(a.call->capture_stream()->statistics().jitter_ms == Approx(10));
}

TEST_CASE("an SSRC change from the peer keeps audio flowing after probation", "[mspi][rtp_opus][rtp_guard]") {
  mspi::rtp_opus_config cfg;
  cfg.jitter_min_packets = 3;
  cfg.playout_lead = std::chrono::milliseconds(40);
  msp_side a(cfg);
  raw_peer peer;
  answer_pcmu(a, peer, peer.offer("0", rtpmap_pcmu()));

  // What the peer sends (speech through 8 kHz PCMU) and what the call must play (the same decoded and
  // interpolated back to 48 kHz).
  const auto input = speech();
  mspi::decimator_48k_to_8k down;
  mspi::interpolator_8k_to_48k up;
  std::vector<std::vector<std::byte>> packets;
  std::vector<std::int16_t> reference;
  for (std::size_t off = 0; off < input.size(); off += 960) {
    std::array<std::int16_t, 160> narrow{}, decoded{};
    std::array<std::int16_t, 960> wide{};
    down.process(std::span<const std::int16_t>(input).subspan(off, 960), narrow);
    std::vector<std::byte> payload(160);
    mspi::encode_pcmu(narrow, payload);
    mspi::decode_pcmu(payload, decoded);
    const std::size_t n = up.process(decoded, wide);
    reference.insert(reference.end(), wide.begin(), wide.begin() + static_cast<std::ptrdiff_t>(n));
    packets.push_back(std::move(payload));
  }
  const std::size_t half = 72;  // the second word ("Front", "Left") starts here: 1.44 s
  REQUIRE(packets.size() > half + 40);

  // First SSRC from sequence 1000; the second (a PBX switching source) with new sequence and timestamp
  // bases; three late packets of the first SSRC cross the switch.
  std::uint16_t seq_old = 1000, seq_new = 40000;
  std::uint32_t ts_old = 5000, ts_new = 900000;
  auto next = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < packets.size(); ++k) {
    if (k < half) {
      peer.send({k == 0, 0, seq_old++, ts_old, 0x1111}, packets[k]);
      ts_old += 160;
    } else {
      peer.send({k == half, 0, seq_new++, ts_new, 0x2222}, packets[k]);
      ts_new += 160;
    }
    if (k == half + 3)
      for (int i = 0; i < 3; ++i) {
        peer.send({false, 0, seq_old++, ts_old, 0x1111}, packets[k]);
        ts_old += 160;
      }
    next += 20ms;
    std::this_thread::sleep_until(next);
  }
  std::this_thread::sleep_for(300ms);

  const auto rx = a.call->render_stream()->statistics();
  INFO("received " << rx.packets << " of " << packets.size() << ", lost " << rx.packets_lost << ", rejected_ssrc "
                   << rx.rejected_ssrc << ", concealed " << rx.concealed);
  CHECK(rx.ssrc_changes == 1);
  CHECK(rx.rejected_ssrc == 1 + 3);  // the new SSRC's first packet (probation) and the late old ones
  CHECK(rx.packets == packets.size() - 1);
  CHECK(rx.packets_lost >= 0);
  CHECK(rx.packets_lost <= 1);
  CHECK(rx.rejected_source == 0);

  const auto recorded = a.read_all();
  const auto second = std::span<const std::int16_t>(reference).subspan(half * 960);
  const auto first = std::span<const std::int16_t>(reference).first(half * 960);
  const auto m2 = match_anywhere(second, recorded);
  const auto m1 = match_anywhere(first, recorded);
  WARN("SSRC change: speech correlation before the switch " << m1.median_correlation << " (" << m1.voiced_segments
                                                           << " segments), after it " << m2.median_correlation << " ("
                                                           << m2.voiced_segments << " segments); lost " << rx.packets_lost);
  CHECK(m2.voiced_segments >= 3);
  CHECK(m2.median_correlation >= 0.85);
  CHECK(m1.median_correlation >= 0.85);
}

TEST_CASE("a stray SSRC is not taken, the replaced SSRC may return once the new one is quiet", "[mspi][rtp_opus][rtp_guard]") {
  msp_side a;
  raw_peer peer;
  answer_pcmu(a, peer, peer.offer("0", rtpmap_pcmu()));
  std::uint16_t seq_a = 100, seq_b = 9000, seq_c = 5;
  std::uint32_t ts_a = 0, ts_b = 77777, ts_c = 0;
  auto rx = [&] { return a.call->render_stream()->statistics(); };
  send_silence(peer, 0xA, seq_a, ts_a, 5);
  send_silence(peer, 0xC, seq_c, ts_c, 1);  // one stray packet of another SSRC: probation, never completed
  send_silence(peer, 0xA, seq_a, ts_a, 5);
  std::this_thread::sleep_for(60ms);
  CHECK(rx().packets == 10);
  CHECK(rx().rejected_ssrc == 1);
  CHECK(rx().ssrc_changes == 0);

  send_silence(peer, 0xB, seq_b, ts_b, 5);  // the source switches: 1 probation packet, then 4 received
  send_silence(peer, 0xA, seq_a, ts_a, 5);  // the old SSRC right after: refused, even in sequence
  std::this_thread::sleep_for(60ms);
  CHECK(rx().ssrc_changes == 1);
  CHECK(rx().packets == 14);
  CHECK(rx().rejected_ssrc == 1 + 1 + 5);

  std::this_thread::sleep_for(mspi::detail::rtp_media::retired_ssrc_quiet + 100ms);
  send_silence(peer, 0xA, seq_a, ts_a, 5);  // B has been quiet: A comes back after probation
  std::this_thread::sleep_for(60ms);
  const auto s = rx();
  CHECK(s.ssrc_changes == 2);
  CHECK(s.packets == 18);
  CHECK(s.rejected_ssrc == 1 + 1 + 5 + 1);
  CHECK(s.packets_lost == 0);  // three sources in turn, none lost a packet
}

TEST_CASE("symmetric RTP latches a NAT'd peer once per offer/answer, strict mode refuses it", "[mspi][rtp_opus][rtp_guard]") {
  raw_peer announced, nat, third;  // the SDP names `announced`; the peer really sends from `nat`
  std::uint16_t seq = 7, seq3 = 300;
  std::uint32_t ts = 0, ts3 = 0;
  SECTION("strict (default): the other address is not heard") {
    msp_side a;
    answer_pcmu(a, announced, announced.offer("0", rtpmap_pcmu()));
    nat.target = announced.target;
    send_silence(nat, 0xAA, seq, ts, 10);
    std::this_thread::sleep_for(100ms);
    const auto rx = a.call->render_stream()->statistics();
    CHECK(rx.packets == 0);
    CHECK(rx.rejected_source == 10);
    CHECK(announced.receive_for(100ms).size() >= 2);  // media still goes where the SDP says
    CHECK(nat.receive_for(100ms).empty());
  }
  SECTION("symmetric_rtp: latched after probation, then only that source") {
    mspi::rtp_opus_config cfg;
    cfg.symmetric_rtp = true;
    msp_side a(cfg);
    const auto offer = announced.offer("0", rtpmap_pcmu());
    answer_pcmu(a, announced, offer);
    nat.target = third.target = announced.target;
    CHECK(announced.receive_for(100ms).size() >= 2);  // before the latch: to the SDP's address
    send_silence(nat, 0xAA, seq, ts, 10);
    std::this_thread::sleep_for(100ms);
    auto rx = a.call->render_stream()->statistics();
    CHECK(rx.packets == 9);  // the first packet was the source's probation
    CHECK(rx.rejected_source == 1);
    (void)announced.receive_for(60ms);  // packets sent before the latch
    CHECK(nat.receive_for(150ms).size() >= 3);  // media now goes to the latched source...
    CHECK(announced.receive_for(100ms).empty());  // ...and no longer to the SDP's address

    // A third source after the latch is refused, however valid its stream.
    send_silence(third, 0xBB, seq3, ts3, 10);
    std::this_thread::sleep_for(100ms);
    rx = a.call->render_stream()->statistics();
    CHECK(rx.packets == 9);
    CHECK(rx.rejected_source == 11);

    // A new offer/answer re-arms the latch: the third source may take it now (after probation).
    a.send(channel_message_type::remote_offer, offer);
    REQUIRE(a.take(channel_message_type::local_answer));
    std::this_thread::sleep_for(50ms);
    send_silence(third, 0xBB, seq3, ts3, 10);
    send_silence(nat, 0xAA, seq, ts, 3);  // the old latch is gone
    std::this_thread::sleep_for(100ms);
    rx = a.call->render_stream()->statistics();
    CHECK(rx.packets == 9 + 9);
    CHECK(rx.rejected_source == 11 + 1 + 3);
    CHECK(rx.ssrc_changes == 1);
    (void)third.receive_for(60ms);
    CHECK(third.receive_for(150ms).size() >= 3);
  }
}

TEST_CASE("SSRC, first sequence number and first timestamp are unpredictable (RFC 3550 §5.1)", "[mspi][rtp_opus][rtp_guard]") {
  // Weak but real: 8 calls draw 8 different SSRCs and timestamps, not all sequence numbers are equal,
  // and not every SSRC is odd (the std::random_device code forced the low bit).
  std::set<std::uint32_t> ssrcs, timestamps;
  std::set<std::uint16_t> sequences;
  int odd = 0;
  for (int i = 0; i < 8; ++i) {
    msp_side a;
    raw_peer peer;
    answer_pcmu(a, peer, peer.offer("0", rtpmap_pcmu()));
    // The call's first packet, however late it comes (it was due within ~20 ms; TSan on a loaded machine once
    // took longer than the 120 ms this waited).
    const auto got = peer.receive_first(10s);
    REQUIRE(got);
    const auto& h = got->header;
    INFO("call " << i << ": ssrc " << h.ssrc << " seq " << h.sequence << " ts " << h.timestamp);
    ssrcs.insert(h.ssrc);
    timestamps.insert(h.timestamp);
    sequences.insert(h.sequence);
    odd += h.ssrc & 1U;
  }
  CHECK(ssrcs.size() == 8);
  CHECK(timestamps.size() == 8);
  CHECK(sequences.size() > 1);
  CHECK(odd < 8);
  // The values come from OpenSSL's generator (mspi::detail::random_value): 1000 draws of 16 bits show
  // at least 950 distinct values (a birthday bound; a constant or a short cycle would not).
  std::set<std::uint16_t> draws;
  for (int i = 0; i < 1000; ++i) draws.insert(mspi::detail::random_value<std::uint16_t>());
  CHECK(draws.size() >= 950);
}

TEST_CASE("in-band DTMF: a packet lost in the middle of a tone neither splits its digit nor loses it",
          "[mspi][rtp_opus][rtp_guard][dsp]") {
  mspi::rtp_opus_config cfg;
  cfg.codecs = {mspi::audio_codec::pcmu};
  cfg.inband_digits = mspi::dsp::dtmf_detection();
  msp_side a(cfg);
  raw_peer peer;
  answer_pcmu(a, peer, peer.offer("0", rtpmap_pcmu()));
  // "558" from spandsp's dtmf_tx (-10 dBm0): 100 ms of tone and 100 ms of pause each, in 20 ms PCMU packets
  // (packets 10k..10k+4 carry digit k's tone); the third packet of every tone is never sent, so the
  // receiver conceals it (G.711: silence) in the middle of the tone. Two equal digits in a row check that
  // the pause between them still separates them.
  std::unique_ptr<dtmf_tx_state_t, int (*)(dtmf_tx_state_t*)> tx(dtmf_tx_init(nullptr), &dtmf_tx_free);
  REQUIRE(tx);
  dtmf_tx_set_timing(tx.get(), 100, 100);
  dtmf_tx_put(tx.get(), "558", -1);
  std::vector<std::int16_t> pcm(8000 * 7 / 10 + 1600, 0);  // 0.6 s of digits, then silence
  REQUIRE(dtmf_tx(tx.get(), pcm.data(), static_cast<int>(pcm.size())) > 4000);
  std::uint16_t seq = 7000;
  std::uint32_t ts = 123456;
  auto next = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k * 160 < pcm.size(); ++k) {
    std::array<std::byte, 160> payload{};
    mspi::encode_pcmu(std::span<const std::int16_t>(pcm).subspan(k * 160, 160), payload);
    if (k % 10 != 2 || k >= 30) peer.send({k == 0, 0, seq, ts, 0x5151}, payload);
    ++seq;
    ts += 160;
    next += 20ms;
    std::this_thread::sleep_until(next);
  }
  std::string digits;
  while (auto m = a.take(channel_message_type::inband_digit_detected, 600ms)) digits += m->body;
  const auto rx = a.call->render_stream()->statistics();
  INFO("received " << rx.packets << ", lost " << rx.packets_lost << ", concealed " << rx.concealed);
  CHECK(rx.packets_lost >= 3);  // the three packets were missed, and concealed
  CHECK(rx.concealed >= 3);
  CHECK(digits == "558");
}
