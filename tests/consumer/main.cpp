// A consumer of the installed (find_package) or embedded (add_subdirectory) ptapi package. It places a
// loopback call (Opus, RTP sockets), reads a WAV (libsndfile, libsamplerate) and asks PortAudio for its
// version, so every dependency the package exports must be found and linked.
#include <tspi/loopback/tsp.hpp>
#include <tspi/tapi.hpp>

#include <mspi/audio_file.hpp>
#include <mspi/rtp_opus/msp.hpp>

#include <portaudio.h>

#include <cstdio>

int main() {
  tspi::tapi tapi;
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();
  tapi.initialize();
  tapi.register_call_notifications(tapi.find_address("bob"));
  tapi.set_event_filter(tspi::tapi_event::call_notification);
  tapi.on_call_notification().connect([](const tspi::call_notification_event& e) {
    tspi::call(e.call).async_answer([](std::error_code) {});
  });
  auto call = tapi.find_address("alice").create_call("bob");
  std::error_code ec;
  call.connect(ec);
  const bool connected = !ec && call.state() == tspi::call_state::connected;
  call.disconnect(tspi::disconnect_code::normal, ec);
  tapi.shutdown();

  const auto speech = mspi::read_audio_file("/usr/share/sounds/alsa/Front_Center.wav", ec);
  std::printf("connected %d, speech samples %zu, %s\n", connected, speech.size(), Pa_GetVersionText());
  return connected && !ec && !speech.empty() && Pa_GetVersion() > 0 ? 0 : 1;
}
