#include "devices.hpp"

#include <mspi/portaudio.hpp>

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

}  // namespace softphone
