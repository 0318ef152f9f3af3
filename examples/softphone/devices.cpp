#include "devices.hpp"

#include <mspi/portaudio.hpp>
#include <mspi/terminals/device.hpp>

#include <fmt/format.h>

#include <iostream>

namespace softphone {

int list_devices() {
  std::error_code ec;
  const auto devices = mspi::enumerate_audio_devices(ec);
  if (ec) {
    std::cerr << "softphone: cannot list audio devices: " << ec.message() << '\n';
    return 1;
  }
  std::cout << fmt::format("{:>3}  {:<32} {:<10} {:>3} {:>3} {:>8}\n", "#", "name", "host API", "in", "out", "rate");
  for (const auto& d : devices) {
    std::string marks;
    if (d.default_input) marks += " [default input]";
    if (d.default_output) marks += " [default output]";
    std::cout << fmt::format("{:>3}  {:<32} {:<10} {:>3} {:>3} {:>8.0f}{}\n", d.index, d.name, d.host_api,
                             d.max_input_channels, d.max_output_channels, d.default_sample_rate, marks);
  }
  if (devices.empty()) std::cout << "(no devices)\n";
  return 0;
}

std::string apply_aec(const mspi::terminal_ptr& mic, const mspi::terminal_ptr& speakers, const aec_options& o) {
  auto* m = dynamic_cast<mspi::audio_device_terminal*>(mic.get());
  auto* s = dynamic_cast<mspi::audio_device_terminal*>(speakers.get());
  if (m == nullptr || s == nullptr) return "not device terminals";
  std::error_code ec;
  if (o.mode == "off") {
    if (!(ec = m->attach_echo_canceller(nullptr))) ec = s->attach_echo_canceller(nullptr);
  } else {
    mspi::audio_processing_settings settings;
    settings.tail_ms = o.tail_ms;
    mspi::enable_echo_cancellation(*m, *s, settings, ec);
  }
  return ec ? ec.message() : std::string{};
}

}  // namespace softphone
