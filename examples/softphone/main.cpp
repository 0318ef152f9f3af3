// softphone: a ptapi example. `softphone demo` places a call between two loopback addresses and
// measures it; `softphone devices` lists the sound devices. See README.md next to this file.
#include "demo.hpp"
#include "devices.hpp"
#include "speech.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"ptapi softphone: TAPI 3 calls over RTP/Opus"};
  app.require_subcommand(1);

  softphone::demo_options demo;
  auto* demo_cmd = app.add_subcommand("demo", "Call bob from alice over the loopback provider and measure the call");
  demo_cmd->add_option("--play", demo.play, "WAV alice plays (mono/stereo 16-bit, 8-48 kHz; default: alsa-utils speech)");
  demo_cmd->add_option("--record", demo.record, "WAV where bob records what he hears (default: a temporary file)");
  demo_cmd->add_option("--seconds", demo.seconds, "How long the call stays up (default: the input's length + 1 s)")
      ->check(CLI::Range(0.1, 3600.0));
  demo_cmd->add_option("--ptime", demo.ptime_ms, "RTP packet time in ms: 10, 20, 40 or 60")->capture_default_str();
  demo_cmd->add_flag("--json", demo.json, "Also print the report as one JSON object on the last line");
  demo_cmd->add_flag("--device", demo.device, "Alice talks through the default microphone and speakers (needs a sound card)");

  auto* devices_cmd = app.add_subcommand("devices", "List the PortAudio sound devices");

  CLI11_PARSE(app, argc, argv);

  try {
    if (devices_cmd->parsed()) return softphone::list_devices();
    return softphone::run_demo(demo);
  } catch (const softphone::input_error& e) {
    std::cerr << "softphone: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "softphone: " << e.what() << '\n';
    return 1;
  }
}
