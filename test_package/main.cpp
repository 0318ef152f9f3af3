// test_package: a consumer of the installed ptapi package (Conan's test_package, vcpkg's usage, and the
// `package.test_package` ctest with plain CMake). It places a loopback call from alice to bob with Opus
// over RTP and no terminals: signalling and RTP only, so it links ptapi::tspi and needs neither
// PortAudio nor libsndfile nor libsamplerate. Exit 0 when the call connected and then disconnected.
#include <tspi/loopback/tsp.hpp>
#include <tspi/tapi.hpp>
#include <mspi/rtp_opus/msp.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <system_error>

int main() {
  tspi::tapi tapi;
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();  // addresses alice and bob
  tapi.set_event_filter(tspi::tapi_event::call_notification | tspi::tapi_event::call_state);
  std::promise<void> alice_disconnected;  // TE_CALLSTATE `disconnected` of the outgoing call: its last event
  tapi.on_call_state().connect([&](const tspi::call_state_event& e) {
    if (!e.call.info().incoming && e.state == tspi::call_state::disconnected) alice_disconnected.set_value();
  });
  tapi.on_call_notification().connect([](const tspi::call_notification_event& e) {
    tspi::call(e.call).async_answer([](std::error_code) {});  // bob picks up
  });
  tapi.initialize();
  tapi.register_call_notifications(tapi.find_address("bob"));

  auto call = tapi.find_address("alice").create_call("bob");
  std::error_code connect_ec;
  call.connect(connect_ec);
  const bool connected = !connect_ec && call.state() == tspi::call_state::connected;
  std::error_code disconnect_ec;
  call.disconnect(tspi::disconnect_code::normal, disconnect_ec);
  const bool disconnected = !disconnect_ec &&
      alice_disconnected.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready &&
      call.state() == tspi::call_state::disconnected;
  tapi.shutdown();

  std::printf("ptapi test_package: connect %s, disconnect %s\n", connect_ec ? connect_ec.message().c_str() : "ok",
              disconnected ? "ok" : (disconnect_ec ? disconnect_ec.message().c_str() : "state not disconnected"));
  return connected && disconnected ? 0 : 1;
}
