// softphone: the terminal of `listen` and `call`: event lines, a live status line, single-key commands.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <termios.h>

namespace softphone {

/// Prints `line` on its own line on stdout (from any thread), first clearing the live status line if one
/// is shown.
void say(std::string_view line);

/// The console of an interactive session. Interactive when stdin is a TTY: then stdin goes to raw mode
/// (no line buffering, no echo; Ctrl-C still raises SIGINT) until `restore()` or destruction, and keys are
/// read one at a time. When stdin is not a TTY nothing is read and the terminal is left alone.
/// SIGINT, SIGTERM and SIGHUP set `stop_requested()` instead of killing the process, so that every exit
/// path goes through the destructor (terminal restored, recordings finalized).
class console {
 public:
  console();
  console(const console&) = delete;
  console& operator=(const console&) = delete;
  ~console() { restore(); }

  [[nodiscard]] bool interactive() const noexcept { return interactive_; }
  /// Waits up to `timeout` for a key (interactive only; otherwise just sleeps). nullopt: none, or end of
  /// input (then `eof()`).
  std::optional<char> poll_key(std::chrono::milliseconds timeout);
  [[nodiscard]] bool eof() const noexcept { return eof_; }
  /// Reads one line in cooked mode (echoed), after printing `prompt`; raw mode resumes afterwards.
  std::string read_line(std::string_view prompt);
  /// Shows `text` as the live status line (rewritten in place with '\r'); only when interactive and
  /// stdout is a terminal.
  void status(std::string_view text);
  /// Puts the terminal back as it was (idempotent).
  void restore();

  /// A stop signal (SIGINT, SIGTERM, SIGHUP) arrived.
  [[nodiscard]] static bool stop_requested() noexcept;

 private:
  bool interactive_ = false;
  bool raw_ = false;
  bool eof_ = false;
  bool status_ok_ = false;
  termios saved_{};
};

}  // namespace softphone
