// Test support for the SIP stack: the far side as plain Asio sockets that send literal SIP text and
// record what arrives, and a loop runner. Everything runs on one io_context in the test's thread.
#pragma once

#include <tspi/sip/message.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ptapi_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using sclock = std::chrono::steady_clock;

/// Runs `io` until `pred()` holds or `timeout` passes; returns pred().
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds timeout = 3000ms) {
  const auto deadline = sclock::now() + timeout;
  while (!pred()) {
    if (sclock::now() >= deadline) return false;
    io.run_for(1ms);
    if (io.stopped()) io.restart();
  }
  return true;
}

/// Runs `io` for `d`, whatever happens.
inline void run_for(asio::io_context& io, std::chrono::milliseconds d) {
  const auto deadline = sclock::now() + d;
  while (sclock::now() < deadline) {
    io.run_for(1ms);
    if (io.stopped()) io.restart();
  }
}

/// One datagram or stream message received by a raw peer.
struct raw_received {
  std::string text;
  std::optional<tspi::sip::message> msg;  // parsed (nullopt when it does not parse)
  sclock::time_point at;
};

/// A UDP socket on an ephemeral port that records every datagram. Its receive handler owns the state,
/// so the peer may be destroyed before the io_context runs again.
class raw_udp_peer {
 public:
  using udp = asio::ip::udp;
  explicit raw_udp_peer(asio::io_context& io, const asio::ip::address& addr = asio::ip::make_address("127.0.0.1"))
      : s_(std::make_shared<state>(io, udp::endpoint(addr, 0))) {
    receive(s_);
  }
  ~raw_udp_peer() {
    boost::system::error_code ig;
    s_->socket.close(ig);
  }
  raw_udp_peer(const raw_udp_peer&) = delete;
  raw_udp_peer& operator=(const raw_udp_peer&) = delete;

  [[nodiscard]] udp::endpoint endpoint() const { return s_->socket.local_endpoint(); }
  [[nodiscard]] std::uint16_t port() const { return endpoint().port(); }
  void send(std::string_view text, const udp::endpoint& to) { s_->socket.send_to(asio::buffer(text.data(), text.size()), to); }
  void send(const tspi::sip::message& m, const udp::endpoint& to) { send(m.to_string(), to); }
  /// Everything received so far, in order.
  [[nodiscard]] const std::vector<raw_received>& inbox() const { return s_->inbox; }
  /// Received requests with method `method`.
  [[nodiscard]] std::vector<const raw_received*> requests(std::string_view method) const {
    std::vector<const raw_received*> out;
    for (const auto& r : s_->inbox)
      if (r.msg && r.msg->method == method) out.push_back(&r);
    return out;
  }
  /// Received responses with status `status` (0: any) whose CSeq method is `cseq_method` (empty: any).
  [[nodiscard]] std::vector<const raw_received*> responses(int status = 0, std::string_view cseq_method = {}) const {
    std::vector<const raw_received*> out;
    for (const auto& r : s_->inbox) {
      if (!r.msg || r.msg->is_request() || (status && r.msg->status != status)) continue;
      if (!cseq_method.empty()) {
        auto cs = r.msg->header("CSeq").value_or("");
        if (cs.size() < cseq_method.size() || cs.substr(cs.size() - cseq_method.size()) != cseq_method) continue;
      }
      out.push_back(&r);
    }
    return out;
  }

 private:
  struct state {
    state(asio::io_context& io, const udp::endpoint& ep) : socket(io, ep) {}
    udp::socket socket;
    udp::endpoint from;
    std::array<char, 65536> buf{};
    std::vector<raw_received> inbox;
  };
  static void receive(const std::shared_ptr<state>& s) {
    s->socket.async_receive_from(asio::buffer(s->buf), s->from, [s](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      std::string text(s->buf.data(), n);
      auto m = tspi::sip::parse_message(text);
      s->inbox.push_back({std::move(text), std::move(m), sclock::now()});
      receive(s);
    });
  }
  std::shared_ptr<state> s_;
};

/// A TCP connection driven by the test: writes raw bytes and frames what it reads (Content-Length).
class raw_tcp_stream {
 public:
  using tcp = asio::ip::tcp;
  explicit raw_tcp_stream(tcp::socket s) : s_(std::make_shared<state>(std::move(s))) { receive(s_); }
  ~raw_tcp_stream() { close(); }
  raw_tcp_stream(const raw_tcp_stream&) = delete;
  raw_tcp_stream& operator=(const raw_tcp_stream&) = delete;

  /// Connects (blocking; fine on loopback with a listening peer).
  static std::unique_ptr<raw_tcp_stream> connect(asio::io_context& io, const tcp::endpoint& to) {
    tcp::socket s(io);
    s.connect(to);
    s.set_option(tcp::no_delay(true));
    return std::make_unique<raw_tcp_stream>(std::move(s));
  }
  void write(std::string_view bytes) { asio::write(s_->socket, asio::buffer(bytes.data(), bytes.size())); }
  void close() {
    boost::system::error_code ig;
    s_->socket.close(ig);
  }
  [[nodiscard]] tcp::endpoint local_endpoint() const { return s_->socket.local_endpoint(); }
  /// Messages framed from the stream so far.
  [[nodiscard]] const std::vector<raw_received>& inbox() const { return s_->inbox; }
  /// Raw bytes received that are not (yet) part of a framed message.
  [[nodiscard]] const std::string& pending() const { return s_->bytes; }
  /// True once the other side closed the connection (or an error ended it).
  [[nodiscard]] bool eof() const { return s_->eof; }

 private:
  struct state {
    explicit state(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::array<char, 8192> buf{};
    std::string bytes;
    std::vector<raw_received> inbox;
    bool eof = false;
  };
  static void receive(const std::shared_ptr<state>& s) {
    s->socket.async_read_some(asio::buffer(s->buf), [s](const boost::system::error_code& ec, std::size_t n) {
      if (ec) {
        s->eof = true;
        return;
      }
      s->bytes.append(s->buf.data(), n);
      for (;;) {
        auto len = tspi::sip::framed_length(s->bytes);
        if (!len || *len == 0) break;
        std::string text = s->bytes.substr(0, *len);
        s->bytes.erase(0, *len);
        auto m = tspi::sip::parse_message(text);
        s->inbox.push_back({std::move(text), std::move(m), sclock::now()});
      }
      receive(s);
    });
  }
  std::shared_ptr<state> s_;
};

/// A TCP acceptor on an ephemeral port whose accepted connections are raw_tcp_streams.
class raw_tcp_listener {
 public:
  using tcp = asio::ip::tcp;
  explicit raw_tcp_listener(asio::io_context& io, const asio::ip::address& addr = asio::ip::make_address("127.0.0.1"))
      : s_(std::make_shared<state>(io, tcp::endpoint(addr, 0))) {
    accept(s_);
  }
  ~raw_tcp_listener() {
    boost::system::error_code ig;
    s_->acceptor.close(ig);
  }
  [[nodiscard]] tcp::endpoint endpoint() const { return s_->acceptor.local_endpoint(); }
  [[nodiscard]] std::uint16_t port() const { return endpoint().port(); }
  /// Connections accepted so far.
  [[nodiscard]] std::vector<std::unique_ptr<raw_tcp_stream>>& streams() { return s_->streams; }

 private:
  struct state {
    state(asio::io_context& io, const tcp::endpoint& ep) : acceptor(io, ep) {}
    tcp::acceptor acceptor;
    std::vector<std::unique_ptr<raw_tcp_stream>> streams;
  };
  static void accept(const std::shared_ptr<state>& s) {
    s->acceptor.async_accept([s](const boost::system::error_code& ec, tcp::socket sock) {
      if (ec) return;
      s->streams.push_back(std::make_unique<raw_tcp_stream>(std::move(sock)));
      accept(s);
    });
  }
  std::shared_ptr<state> s_;
};

/// How `sip_request` writes a request; chain the setters: `opts().port(p).body("x")`.
struct request_options {
  std::uint16_t port_ = 5060;             // Via sent-by port
  std::string host_ = "127.0.0.1";        // Via sent-by host
  bool rport_ = true;                     // `;rport` in the Via (RFC 3581)
  std::string proto_ = "UDP";             // Via transport
  std::string to_tag_;                    // To tag (ACK of a 2xx, in-dialog requests)
  std::string extra_;                     // lines inserted before Content-Length, each ending in CRLF
  std::string body_;                      // body
  request_options& port(std::uint16_t v) { port_ = v; return *this; }
  request_options& host(std::string_view v) { host_ = v; return *this; }
  request_options& rport(bool v) { rport_ = v; return *this; }
  request_options& proto(std::string_view v) { proto_ = v; return *this; }
  request_options& to_tag(std::string_view v) { to_tag_ = v; return *this; }
  request_options& extra(std::string_view v) { extra_ = v; return *this; }
  request_options& body(std::string_view v) { body_ = v; return *this; }
};
inline request_options opts() { return {}; }

/// A request as a UAC would write it: `method sip:bob@127.0.0.1`, one Via with `branch`, From with a tag,
/// To, Call-ID `call_id`, CSeq `cseq method`.
inline std::string sip_request(std::string_view method, std::string_view branch, std::string_view call_id, int cseq,
                               const request_options& o = opts()) {
  std::string s;
  s += method;
  s += " sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/";
  s += o.proto_;
  s += ' ';
  s += o.host_;
  s += ':';
  s += std::to_string(o.port_);
  s += ";branch=";
  s += branch;
  if (o.rport_) s += ";rport";
  s += "\r\nMax-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@127.0.0.1>;tag=fromtag1\r\nTo: <sip:bob@127.0.0.1>";
  if (!o.to_tag_.empty()) {
    s += ";tag=";
    s += o.to_tag_;
  }
  s += "\r\nCall-ID: ";
  s += call_id;
  s += "\r\nCSeq: ";
  s += std::to_string(cseq);
  s += ' ';
  s += method;
  s += "\r\n";
  s += o.extra_;
  s += "Content-Length: ";
  s += std::to_string(o.body_.size());
  s += "\r\n\r\n";
  s += o.body_;
  return s;
}

}  // namespace ptapi_test
