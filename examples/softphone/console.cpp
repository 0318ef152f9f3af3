#include "console.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>

#include <poll.h>
#include <unistd.h>

namespace softphone {

namespace {

std::mutex out_mutex;
bool status_shown = false;  // guarded by out_mutex
std::atomic<bool> stop_flag{false};

extern "C" void on_stop_signal(int) { stop_flag = true; }

void clear_status_locked() {
  if (!status_shown) return;
  std::cout << "\r\033[K";
  status_shown = false;
}

}  // namespace

void say(std::string_view line) {
  std::lock_guard lock(out_mutex);
  clear_status_locked();
  std::cout << line << std::endl;
}

console::console() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
  interactive_ = isatty(STDIN_FILENO) != 0;
  status_ok_ = interactive_ && isatty(STDOUT_FILENO) != 0;
  if (interactive_ && tcgetattr(STDIN_FILENO, &saved_) == 0) {
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));  // keep ISIG: Ctrl-C still signals
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    raw_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
}

void console::restore() {
  {
    std::lock_guard lock(out_mutex);
    clear_status_locked();
    std::cout.flush();
  }
  if (raw_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  raw_ = false;
}

bool console::stop_requested() noexcept { return stop_flag; }

std::optional<char> console::poll_key(std::chrono::milliseconds timeout) {
  if (!interactive_ || eof_) {
    usleep(static_cast<useconds_t>(timeout.count()) * 1000);
    return std::nullopt;
  }
  pollfd p{STDIN_FILENO, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  char c = 0;
  const auto n = read(STDIN_FILENO, &c, 1);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
    eof_ = true;
    return std::nullopt;
  }
  if (n < 0) return std::nullopt;
  if (c == 4) {  // Ctrl-D in raw mode: end of input
    eof_ = true;
    return std::nullopt;
  }
  return c;
}

std::string console::read_line(std::string_view prompt) {
  if (!interactive_) return {};
  {
    std::lock_guard lock(out_mutex);
    clear_status_locked();
    std::cout << prompt << std::flush;
  }
  if (raw_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  std::string line;
  char c = 0;
  while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n') line += c;
  if (raw_) {
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  return line;
}

void console::status(std::string_view text) {
  if (!status_ok_) return;
  std::lock_guard lock(out_mutex);
  std::cout << "\r\033[K" << text << std::flush;
  status_shown = true;
}

}  // namespace softphone
