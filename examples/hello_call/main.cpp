// Hello call: alice calls bob on the loopback provider and plays speech to him.
// Built with PTAPI_SEPARATE_COMPILATION: ptapi_src.cpp compiles the library once, this file only uses it.
#include <tspi/loopback/tsp.hpp>
#include <tspi/tapi.hpp>
#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/file_playback.hpp>

#include <chrono>
#include <iostream>
#include <thread>

int main() {
  tspi::tapi tapi;
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();  // addresses alice and bob, Opus over RTP
  tapi.set_event_filter(tspi::tapi_event::call_notification | tspi::tapi_event::call_state);
  tapi.on_call_state().connect([](const tspi::call_state_event& e) {
    std::cout << (e.call.info().incoming ? "bob: " : "alice: ") << tspi::to_string(e.state) << std::endl;
  });
  tapi.on_call_notification().connect([](const tspi::call_notification_event& e) {
    e.call.answer();  // bob picks up
  });
  tapi.initialize();
  tapi.register_call_notifications(tapi.find_address("bob"));

  auto alice = tapi.find_address("alice");
  auto call = alice.create_call("bob");
  auto speech = alice.terminals().create_file_playback_terminal({"/usr/share/sounds/alsa/Front_Center.wav"});
  call.select_terminal_on_call(speech);  // on the capture stream: alice's side of the conversation
  speech->start();
  std::error_code ec;
  call.connect(ec);  // waits until bob answers (or the call fails)
  if (ec) {
    std::cerr << "connect: " << ec.message() << '\n';
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  call.disconnect();
  return 0;
}
