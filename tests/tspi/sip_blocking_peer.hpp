// A hand-driven SIP peer with blocking receives, for tests whose SIP stack runs on a TAPI object's own
// thread (support/sip_raw_peer.hpp is the asynchronous kind, for stacks on the test's io_context): one
// UDP socket on 127.0.0.1 that sends literal SIP text and waits for parsed messages, so tests can play
// the far end (a registrar, a transferee, a misbehaving UA).
#pragma once

#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction/builders.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace ptapi_test {

class sip_blocking_peer {
 public:
  using udp = boost::asio::ip::udp;
  sip_blocking_peer() : socket_(io_, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    socket_.non_blocking(true);
  }
  [[nodiscard]] std::uint16_t port() const { return socket_.local_endpoint().port(); }
  // "SIP/2.0/UDP 127.0.0.1:<port>;branch=<new branch>;rport"
  [[nodiscard]] std::string via() const {
    return "SIP/2.0/UDP 127.0.0.1:" + std::to_string(port()) + ";branch=" + tspi::sip::make_branch() + ";rport";
  }
  void send(const std::string& text, std::uint16_t to_port) {
    socket_.send_to(boost::asio::buffer(text), udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), to_port));
  }
  void send(const tspi::sip::message& m, std::uint16_t to_port) { send(m.to_string(), to_port); }
  // The next message that satisfies `want` (others are skipped), or nullopt after `timeout`.
  template <class Pred>
  std::optional<tspi::sip::message> receive(Pred want, std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    while (std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      udp::endpoint from;
      const auto n = socket_.receive_from(boost::asio::buffer(buf), from, 0, ec);
      if (ec == boost::asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (ec) return std::nullopt;
      last_from_port = from.port();
      auto m = tspi::sip::parse_message(std::string_view(buf, n));
      if (m && want(*m)) return m;
    }
    return std::nullopt;
  }
  // The next response with `status` (provisional ones skipped unless asked for).
  std::optional<tspi::sip::message> response(int status, std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    return receive([status](const tspi::sip::message& m) { return m.status == status; }, timeout);
  }
  // The next request with `method`.
  std::optional<tspi::sip::message> request(const std::string& method, std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    return receive([&method](const tspi::sip::message& m) { return m.method == method; }, timeout);
  }
  // Plays the callee of the next INVITE: answers it 200 (To tag "far", our Contact, `sdp` as the answer)
  // and waits for the ACK. Returns the INVITE, or nullopt when no INVITE or no ACK came.
  std::optional<tspi::sip::message> answer_invite(const std::string& sdp) {
    auto invite = request("INVITE");
    if (!invite) return std::nullopt;
    auto ok = tspi::sip::make_response(*invite, 200, "far");
    ok.add("Contact", "<sip:raw@127.0.0.1:" + std::to_string(port()) + ">");
    ok.add("Content-Type", "application/sdp");
    ok.body = sdp;
    send(ok, last_from_port);
    return request("ACK") ? invite : std::nullopt;
  }
  std::uint16_t last_from_port = 0;

 private:
  boost::asio::io_context io_;
  udp::socket socket_;
};

}  // namespace ptapi_test
