// softphone: a path in the system temp directory, removed when the object goes away (unless kept).
#pragma once

#include <string>
#include <string_view>

namespace softphone {

/// A unique path under the temp directory ("softphone-<pid>-<n>-<stem>.wav"). Nothing is created here;
/// whatever the program writes there is removed by the destructor unless `keep()` was called.
class temp_file {
 public:
  explicit temp_file(std::string_view stem);
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Leave the file behind (for example a recording the user asked to hear).
  void keep() noexcept { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace softphone
