// Test helpers for driving `rtp_opus_call`s through the TSP <-> MSP channel without a TSP: one MSP and one
// call per side, media streaming terminals on both streams, and a raw UDP peer that speaks RTP itself.
#pragma once

#include <mspi/channel.hpp>
#include <mspi/rtp/packet.hpp>
#include <mspi/rtp_opus/msp.hpp>
#include <mspi/sdp.hpp>
#include <mspi/terminals/media_streaming.hpp>

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ptapi_test {

using namespace std::chrono_literals;

/// One channel message the MSP sent to the (absent) TSP.
struct channel_msg {
  mspi::channel_message_type type;
  std::string body;
};

/// One side of a call: an initialized RTP/Opus MSP with one call, a capture and a render media streaming
/// terminal selected on it. `send` plays the TSP; `take` collects what the MSP tells the TSP.
struct msp_side {
  mspi::rtp_opus_msp msp;
  std::shared_ptr<mspi::rtp_opus_call> call;
  std::shared_ptr<mspi::media_streaming_terminal> out =
      std::make_shared<mspi::media_streaming_terminal>(mspi::terminal_direction::capture);
  std::shared_ptr<mspi::media_streaming_terminal> in =
      std::make_shared<mspi::media_streaming_terminal>(mspi::terminal_direction::render, 5 * 48000);
  std::vector<channel_msg> messages;  // received and not yet taken, in order
  std::vector<mspi::stream_event> stream_events;  // the streams' events, in order (kept by `drain`)

  /// `pool`: the media threads to run on (as a TAPI object gives them); null: the MSP's own thread.
  explicit msp_side(const mspi::rtp_opus_config& cfg = {}, std::shared_ptr<mspi::media_pool> pool = {}) : msp(cfg) {
    std::error_code ec;
    msp.initialize(mspi::msp_context{.address_name = "test", .event_signal = [] {}, .media = std::move(pool)}, ec);
    REQUIRE_FALSE(ec);
    call = msp.create_msp_call(1, mspi::media_type::audio, ec);
    REQUIRE(call);
    call->capture_stream()->select_terminal(out);
    call->render_stream()->select_terminal(in);
  }
  msp_side(const msp_side&) = delete;
  msp_side& operator=(const msp_side&) = delete;
  ~msp_side() { msp.shutdown(); }

  /// The TSP sends a message to this side's call.
  void send(mspi::channel_message_type type, std::string_view body = {}) {
    auto frame = mspi::encode_channel_message(type, body);
    msp.receive_tsp_data(call, frame);
  }

  /// Moves the MSP's queued channel messages into `messages` and its stream events into `stream_events`.
  void drain() {
    std::error_code ec;
    while (auto e = msp.get_event(ec))
      if (auto* d = std::get_if<mspi::msp_tsp_data>(&e->info)) {
        auto m = mspi::decode_channel_message(d->data);
        REQUIRE(m);
        messages.push_back({m->type, std::string(m->body)});
      } else if (auto* s = std::get_if<mspi::stream_event>(&e->info)) {
        stream_events.push_back(*s);
      }
  }

  /// Removes and returns the first message of `type`, waiting up to `timeout` for it.
  std::optional<channel_msg> take(mspi::channel_message_type type, std::chrono::milliseconds timeout = 3s) {
    for (auto end = std::chrono::steady_clock::now() + timeout;;) {
      drain();
      for (auto it = messages.begin(); it != messages.end(); ++it)
        if (it->type == type) {
          auto m = *it;
          messages.erase(it);
          return m;
        }
      if (std::chrono::steady_clock::now() >= end) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

  /// How many messages of `type` are waiting (after a drain).
  std::size_t count(mspi::channel_message_type type) {
    drain();
    std::size_t n = 0;
    for (const auto& m : messages) n += m.type == type;
    return n;
  }

  [[nodiscard]] std::uint64_t sent_packets() const { return call->capture_stream()->statistics().packets; }
  [[nodiscard]] std::uint64_t received_packets() const { return call->render_stream()->statistics().packets; }

  /// Everything the render terminal holds now.
  std::vector<std::int16_t> read_all() {
    std::vector<std::int16_t> all, chunk(4800);
    while (auto n = in->read(chunk)) all.insert(all.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    return all;
  }
};

/// `offerer` makes an offer with `direction` (request_offer body), `answerer` answers, the answer goes
/// back. Returns {offer, answer} SDP text.
inline std::pair<std::string, std::string> offer_answer(msp_side& offerer, msp_side& answerer, std::string_view direction = {}) {
  offerer.send(mspi::channel_message_type::request_offer, direction);
  auto offer = offerer.take(mspi::channel_message_type::local_offer);
  REQUIRE(offer);
  answerer.send(mspi::channel_message_type::remote_offer, offer->body);
  auto answer = answerer.take(mspi::channel_message_type::local_answer);
  REQUIRE(answer);
  offerer.send(mspi::channel_message_type::remote_answer, answer->body);
  return {offer->body, answer->body};
}

/// Negotiates sendrecv and starts media on both sides.
inline std::pair<std::string, std::string> connect(msp_side& a, msp_side& b) {
  auto sdp = offer_answer(a, b);
  a.send(mspi::channel_message_type::start_media);
  b.send(mspi::channel_message_type::start_media);
  return sdp;
}

/// The RTP port of the first m-line of an SDP body.
inline std::uint16_t rtp_port_of(const std::string& sdp) {
  auto sd = mspi::parse_sdp(sdp);
  REQUIRE(sd);
  REQUIRE_FALSE(sd->media.empty());
  return sd->media[0].port;
}

/// Waits until `f()` holds, polling every 10 ms; false on timeout.
template <class F>
bool eventually(F&& f, std::chrono::milliseconds timeout = 3s) {
  for (auto end = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < end;) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

/// One datagram read with its ancillary data (recvmsg): `receive` fills `data` and `msg` (whose control
/// part iterates with CMSG_FIRSTHDR / CMSG_NXTHDR). `msg` points into the object: use it where it is.
struct datagram_with_control {
  std::array<std::byte, 2000> data{};
  alignas(cmsghdr) std::array<char, 256> control{};
  iovec iov{};
  msghdr msg{};
  /// Reads the next datagram waiting on `fd` (which the caller made non-blocking): its size, or -1 when none waits.
  long receive(int fd) {
    iov = {data.data(), data.size()};
    msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    return static_cast<long>(::recvmsg(fd, &msg, 0));
  }
};

/// A remote party that is just a UDP socket on 127.0.0.1: the test writes and reads RTP itself.
struct raw_peer {
  boost::asio::io_context io;
  boost::asio::ip::udp::socket socket{io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)};
  boost::asio::ip::udp::endpoint target;  // the call's RTP socket

  [[nodiscard]] std::uint16_t port() const { return socket.local_endpoint().port(); }

  /// An SDP offer from this peer: `formats` is the m-line's payload-type list and `attributes` the lines
  /// after it (CRLF-terminated).
  [[nodiscard]] std::string offer(std::string_view formats, std::string_view attributes) const {
    std::string s = "v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ";
    s += std::to_string(port());
    s += " RTP/AVP ";
    s += formats;
    s += "\r\n";
    s += attributes;
    return s;
  }

  /// Sends one RTP packet to the call.
  void send(const mspi::rtp_header& h, std::span<const std::byte> payload) {
    std::vector<std::byte> packet(12 + payload.size());
    REQUIRE(mspi::write_rtp(packet, h, payload) == packet.size());
    socket.send_to(boost::asio::buffer(packet), target);
  }

  /// Receives RTP packets for `duration` (parsed; RTCP and junk skipped).
  struct packet {
    mspi::rtp_header header;
    std::vector<std::byte> payload;
  };
  std::vector<packet> receive_for(std::chrono::milliseconds duration) { return receive(duration, false); }

  /// The first RTP packet that arrives within `timeout` (RTCP and junk skipped), or none: returns as soon as
  /// one came, so a slow machine (sanitizers, load) only makes it wait longer.
  std::optional<packet> receive_first(std::chrono::milliseconds timeout) {
    auto got = receive(timeout, true);
    if (got.empty()) return std::nullopt;
    return std::move(got.front());
  }

 private:
  std::vector<packet> receive(std::chrono::milliseconds duration, bool first_only) {
    std::vector<packet> got;
    socket.non_blocking(true);
    std::vector<std::byte> buf(2000);
    for (auto end = std::chrono::steady_clock::now() + duration; std::chrono::steady_clock::now() < end;) {
      boost::system::error_code ec;
      boost::asio::ip::udp::endpoint from;
      const std::size_t n = socket.receive_from(boost::asio::buffer(buf), from, 0, ec);
      if (ec == boost::asio::error::would_block) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      if (ec) break;
      if (auto v = mspi::parse_rtp(std::span<const std::byte>(buf.data(), n))) {
        got.push_back({v->header, std::vector<std::byte>(v->payload.begin(), v->payload.end())});
        if (first_only) break;
      }
    }
    return got;
  }
};

}  // namespace ptapi_test
