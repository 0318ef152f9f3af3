// ptapi - portable TAPI
// tspi/detail/media_reports.hpp: the MSP -> TSP channel messages that every TSP passes on to the TAPI
// object unchanged (received digits and tones, the end of digit and tone generation), in one place.
#pragma once

#include <tspi/tsp.hpp>

#include <mspi/channel.hpp>

namespace tspi::detail {

/// Passes `msg`, a message from call `call`'s MSP, to `sink` when it is a media report: digit_detected
/// and inband_digit_detected (LINE_MONITORDIGITS), tone_detected (LINE_MONITORTONE), digits_generated,
/// generate_failed, tone_generated and tone_cancelled (LINE_GENERATE, `line_event_sink::generation_ended`).
/// A malformed body (a digit body that is not one character, a bad app-specific value) is dropped.
/// Returns whether `msg` was one of these types (the TSP handles the others). Thread: the TSP's.
inline bool report_media_event(line_event_sink& sink, call_id call, const mspi::channel_message_view& msg) {
  using T = mspi::channel_message_type;
  switch (msg.type) {
    case T::digit_detected:
      if (msg.body.size() == 1) sink.digit_detected(call, msg.body[0]);
      return true;
    case T::inband_digit_detected:
      if (msg.body.size() == 1) sink.inband_digit_detected(call, msg.body[0]);
      return true;
    case T::tone_detected:
      if (auto app = mspi::parse_tone_detected(msg.body)) sink.tone_detected(call, *app);
      return true;
    case T::digits_generated: sink.generation_ended(call, generation_kind::digits, generate_termination::done); return true;
    case T::generate_failed: sink.generation_ended(call, generation_kind::digits, generate_termination::cancel); return true;
    case T::tone_generated: sink.generation_ended(call, generation_kind::tone, generate_termination::done); return true;
    case T::tone_cancelled: sink.generation_ended(call, generation_kind::tone, generate_termination::cancel); return true;
    default: return false;
  }
}

}  // namespace tspi::detail
