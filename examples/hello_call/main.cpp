// Hello call: alice calls bob on the loopback provider and plays speech to him, in a C++20 coroutine.
#include <tspi/loopback/tsp.hpp>
#include <tspi/tapi.hpp>
#include <mspi/rtp_opus/msp.hpp>
#include <boost/asio.hpp>
#include <iostream>

namespace asio = boost::asio;

int main() {
  asio::io_context io;  // declared first: it receives completions from the TAPI object, so it outlives it
  tspi::tapi tapi;
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();  // addresses alice and bob, Opus over RTP
  tapi.set_event_filter(tspi::tapi_event::call_notification | tspi::tapi_event::call_state);
  tapi.on_call_state().connect([](const tspi::call_state_event& e) {
    std::cout << (e.call.info().incoming ? "bob: " : "alice: ") << tspi::to_string(e.state) << '\n';
  });
  tapi.on_call_notification().connect([](const tspi::call_notification_event& e) {
    tspi::call(e.call).async_answer(asio::detached);  // bob picks up
  });
  tapi.initialize();
  auto alice = tapi.find_address("alice");
  tapi.register_call_notifications(tapi.find_address("bob"));

  int status = 1;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto call = alice.create_call("bob");
    auto speech = alice.terminals().create_file_playback_terminal({"/usr/share/sounds/alsa/Front_Center.wav"});
    call.select_terminal_on_call(speech);  // on the capture stream: alice's side of the conversation
    speech->start();
    if (auto ec = co_await call.async_connect(asio::use_awaitable)) {
      std::cerr << "connect: " << ec.message() << '\n';
      co_return;
    }
    co_await asio::steady_timer(io, std::chrono::seconds(2)).async_wait(asio::use_awaitable);
    status = co_await call.async_disconnect(tspi::disconnect_code::normal, asio::use_awaitable) ? 1 : 0;
  }, asio::detached);
  io.run();
  return status;
}
