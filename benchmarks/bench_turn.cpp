// ptapi - portable TAPI
// benchmarks/bench_turn.cpp: CPU per relayed datagram of the TURN client (mspi/turn/allocation.hpp):
// wrapping (send_to: ChannelData or Send indication, against a plain socket send_to of the same payload)
// and unwrapping (handle: ChannelData, Data indication, a datagram from another source). An in-process
// TURN server on 127.0.0.1 answers Allocate, CreatePermission and ChannelBind without credentials, so the
// figures are the client's alone. Usage: ptapi_bench_turn [iterations] [payload bytes]   (default 200000 172)
#include <mspi/turn/allocation.hpp>

#include <boost/asio/io_context.hpp>

#include <time.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace stun = mspi::stun;
namespace turn = mspi::turn;
using udp = asio::ip::udp;

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs `f` `n` times; prints CPU ns per call.
void measure(const char* what, std::size_t n, const std::function<void()>& f) {
  for (std::size_t i = 0; i < n / 10; ++i) f();  // warm-up
  const double t0 = cpu_seconds();
  for (std::size_t i = 0; i < n; ++i) f();
  const double t1 = cpu_seconds();
  std::printf("  %-44s %8.0f ns CPU per datagram\n", what, (t1 - t0) * 1e9 / static_cast<double>(n));
}

// Answers every request with a success response of its method (an Allocate's with a relayed address).
struct fake_server {
  explicit fake_server(asio::io_context& io) : socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    receive();
  }
  void receive() {
    socket.async_receive_from(asio::buffer(in), client, [this](boost::system::error_code ec, std::size_t n) {
      if (ec) return;
      stun::message_view m;
      if (!stun::message_view::parse(std::span(in).first(n), m) && m.klass() == stun::message_class::request) {
        std::array<std::byte, 200> out{};
        stun::message_writer w(out, m.method(), stun::message_class::success_response, m.transaction());
        if (m.method() == stun::method::allocate)
          w.add_xor_address(stun::attribute_type::xor_relayed_address, relayed).add_u32(stun::attribute_type::lifetime, 600);
        socket.send_to(asio::buffer(w.bytes().data(), w.bytes().size()), client);
      }
      receive();
    });
  }
  udp::socket socket;
  udp::endpoint client;
  udp::endpoint relayed{asio::ip::make_address("192.0.2.50"), 50000};
  std::array<std::byte, 2048> in{};
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  const std::size_t size = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 172;
  asio::io_context io;
  fake_server server(io);
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  udp::socket sink(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));  // a peer that never reads
  turn::allocation a(socket, server.socket.local_endpoint(), {"u", "p"});
  const udp::endpoint channel_peer(asio::ip::make_address("192.0.2.7"), 40000);
  const udp::endpoint indication_peer(asio::ip::make_address("192.0.2.7"), 40002);
  int steps = 0;
  a.async_allocate([&](std::error_code ec, turn::allocate_result) {
    if (ec) return std::fprintf(stderr, "allocate: %s\n", ec.message().c_str()), std::exit(1);
    a.async_bind_channel(channel_peer, [&](std::error_code e, std::uint16_t) {
      if (e) return std::fprintf(stderr, "bind: %s\n", e.message().c_str()), std::exit(1);
      ++steps;
    });
  });
  while (steps == 0) io.run_one_for(std::chrono::seconds(5));
  const std::uint16_t channel = a.channel_of(channel_peer);

  std::vector<std::byte> payload(size, std::byte{0x80});
  std::vector<std::byte> channel_data(4 + size);
  const auto head = turn::channel_data_header(channel, size);
  std::copy(head.begin(), head.end(), channel_data.begin());
  std::vector<std::byte> indication(2048);
  stun::message_writer w(indication, stun::method::data, stun::message_class::indication, stun::transaction_id{});
  w.add_xor_address(stun::attribute_type::xor_peer_address, indication_peer).add(stun::attribute_type::data, payload);
  indication.resize(w.bytes().size());
  const udp::endpoint stranger(asio::ip::make_address("127.0.0.1"), 9);
  const udp::endpoint server_ep = server.socket.local_endpoint();  // getsockname: once, not per datagram

  std::printf("ptapi_bench_turn: %zu datagrams of %zu bytes each (one thread, 127.0.0.1)\n", n, size);
  std::printf(" wrap (includes the sendmsg system call):\n");
  const auto sink_ep = sink.local_endpoint();
  measure("plain udp::socket::send_to (reference)", n, [&] {
    boost::system::error_code ec;
    socket.send_to(asio::buffer(payload), sink_ep, 0, ec);
  });
  measure("allocation::send_to, ChannelData", n, [&] { (void)a.send_to(channel_peer, payload); });
  measure("allocation::send_to, Send indication", n, [&] { (void)a.send_to(indication_peer, payload); });
  std::printf(" unwrap (allocation::handle, no system call):\n");
  std::size_t delivered = 0;
  measure("ChannelData on a bound channel", n, [&] {
    delivered += a.handle(server_ep, channel_data).payload.size() == size;
  });
  measure("Data indication from a permitted peer", n, [&] {
    delivered += a.handle(server_ep, indication).payload.size() == size;
  });
  measure("datagram from another source (not TURN)", n, [&] {
    delivered += a.handle(stranger, channel_data).what == turn::received::kind::not_from_server;
  });
  const auto& s = a.statistics();
  std::printf(" checks: %zu of %zu unwrapped as expected; sent %llu ChannelData, %llu Send indications\n", delivered,
              3 * (n + n / 10), static_cast<unsigned long long>(s.channel_data_sent),
              static_cast<unsigned long long>(s.send_indications_sent));
  return delivered == 3 * (n + n / 10) ? 0 : 1;
}
