#include "temp_file.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <system_error>

namespace softphone {

temp_file::temp_file(std::string_view stem) {
  static std::atomic<int> counter{0};
  const auto name = "softphone-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                    std::string(stem) + ".wav";
  path_ = (std::filesystem::temp_directory_path() / name).string();
}

temp_file::~temp_file() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace softphone
