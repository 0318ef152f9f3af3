// ptapi - portable TAPI
// tspi/detail/digit_gatherer.hpp: the rules of one digit gathering (TSPI_lineGatherDigits), without
// threads or timers: the core feeds it digits and the time, and arms one timer at its deadline.
#pragma once

#include <tspi/digit_gathering.hpp>

#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace tspi::detail {

/// One gathering in progress. Not thread-safe (the core thread owns it).
class digit_gatherer {
 public:
  using clock = std::chrono::steady_clock;

  /// Starts at `now` with checked `options`.
  digit_gatherer(gather_digits_options options, clock::time_point now) : options_(std::move(options)) {
    for (auto& d : options_.terminators) d = static_cast<char>(std::toupper(static_cast<unsigned char>(d)));
    if (options_.first_timeout.count() > 0) deadline_ = now + options_.first_timeout;
  }

  /// A digit arrived: the termination when it ends the gathering (terminator, buffer full), else nullopt
  /// and the inter-digit deadline restarts.
  std::optional<gather_termination> on_digit(char digit, clock::time_point now) {
    digit = static_cast<char>(std::toupper(static_cast<unsigned char>(digit)));
    result_.digits.push_back(digit);
    if (options_.terminators.find(digit) != std::string::npos) return finish(gather_termination::term_digit);
    if (result_.digits.size() >= options_.max_digits) return finish(gather_termination::buffer_full);
    deadline_.reset();
    if (options_.inter_timeout.count() > 0) deadline_ = now + options_.inter_timeout;
    return std::nullopt;
  }

  /// The time at which `on_deadline` must be called, if any.
  [[nodiscard]] std::optional<clock::time_point> deadline() const { return deadline_; }

  /// The deadline passed: the timeout that ended the gathering (first or inter-digit), nullopt when the
  /// deadline moved meanwhile (a digit arrived) and has not passed at `now`.
  std::optional<gather_termination> on_deadline(clock::time_point now) {
    if (!deadline_ || now < *deadline_) return std::nullopt;
    return finish(result_.digits.empty() ? gather_termination::first_timeout : gather_termination::inter_timeout);
  }

  /// Ends the gathering with `t` (cancel from outside).
  gather_termination finish(gather_termination t) {
    result_.termination = t;
    deadline_.reset();
    return t;
  }

  /// The digits so far and, once finished, the termination.
  [[nodiscard]] const gathered_digits& result() const noexcept { return result_; }

 private:
  gather_digits_options options_;
  gathered_digits result_;
  std::optional<clock::time_point> deadline_;
};

}  // namespace tspi::detail
