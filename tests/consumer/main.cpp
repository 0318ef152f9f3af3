// A consumer of the installed (find_package) or embedded (add_subdirectory) ptapi package. It places a
// loopback call (Opus, RTP sockets), reads a WAV (libsndfile, libsamplerate), asks PortAudio for its
// version and computes a SIP Digest response (OpenSSL libcrypto), so every dependency the package
// exports must be found and linked.
#include <tspi/loopback/tsp.hpp>
#include <tspi/sip/digest.hpp>
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

  // RFC 2617 §3.5's example through libcrypto.
  std::error_code digest_ec;
  auto challenge = tspi::sip::parse_digest_challenge(
      R"(Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")", digest_ec);
  auto response = challenge ? tspi::sip::make_digest_response(*challenge, {"Mufasa", "Circle Of Life"}, "GET", "/dir/index.html", "",
                                                                "0a4f113b", 1, digest_ec)
                            : std::nullopt;
  const bool digest_ok = response && response->response == "6629fae49393a05397450978507c4ef1";
  std::printf("digest %s\n", digest_ok ? "ok" : "wrong");
  return connected && !ec && !speech.empty() && Pa_GetVersion() > 0 && digest_ok ? 0 : 1;
}
