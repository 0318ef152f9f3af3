// ptapi - portable TAPI
// mspi/call_media_event.hpp: TAPI's call-media events (CALL_MEDIA_EVENT) and their causes.
#pragma once

#include <cstdint>
#include <string_view>

namespace mspi {

/// TAPI's `CALL_MEDIA_EVENT` (= the MSP's `MSP_CALL_EVENT`, ITCallMediaEvent::get_Event): what happened
/// to a stream or terminal. Named `_kind`, as `tspi::call_notification_kind` for CALL_NOTIFICATION_EVENT,
/// so that `tspi::call_media_event` is the event (ITCallMediaEvent) itself.
enum class call_media_kind : std::uint8_t {
  new_stream,       ///< CME_NEW_STREAM: the call created a stream (select a terminal or remove it).
  stream_fail,      ///< CME_STREAM_FAIL: the stream failed to set up or start.
  terminal_fail,    ///< CME_TERMINAL_FAIL: a terminal failed or could not connect.
  stream_not_used,  ///< CME_STREAM_NOT_USED: the remote party rejected the stream.
  stream_active,    ///< CME_STREAM_ACTIVE: media flows on the stream.
  stream_inactive,  ///< CME_STREAM_INACTIVE: media stopped flowing.
};

/// TAPI's `CALL_MEDIA_EVENT_CAUSE` (= `MSP_CALL_EVENT_CAUSE`, ITCallMediaEvent::get_Cause).
enum class call_media_cause : std::uint8_t {
  unknown,             ///< CMC_UNKNOWN
  bad_device,          ///< CMC_BAD_DEVICE
  connect_fail,        ///< CMC_CONNECT_FAIL
  local_request,       ///< CMC_LOCAL_REQUEST: the application called a stream method.
  remote_request,      ///< CMC_REMOTE_REQUEST: the remote party (through the TSP) asked.
  media_timeout,       ///< CMC_MEDIA_TIMEOUT: media temporarily unavailable.
  media_recovered,     ///< CMC_MEDIA_RECOVERED
  quality_of_service,  ///< CMC_QUALITY_OF_SERVICE
};

/// "stream_active", ...; for messages and logs.
constexpr std::string_view to_string(call_media_kind e) noexcept {
  switch (e) {
    case call_media_kind::new_stream: return "new_stream";
    case call_media_kind::stream_fail: return "stream_fail";
    case call_media_kind::terminal_fail: return "terminal_fail";
    case call_media_kind::stream_not_used: return "stream_not_used";
    case call_media_kind::stream_active: return "stream_active";
    case call_media_kind::stream_inactive: return "stream_inactive";
  }
  return "?";
}

/// "local_request", ...; for messages and logs.
constexpr std::string_view to_string(call_media_cause c) noexcept {
  switch (c) {
    case call_media_cause::unknown: return "unknown";
    case call_media_cause::bad_device: return "bad_device";
    case call_media_cause::connect_fail: return "connect_fail";
    case call_media_cause::local_request: return "local_request";
    case call_media_cause::remote_request: return "remote_request";
    case call_media_cause::media_timeout: return "media_timeout";
    case call_media_cause::media_recovered: return "media_recovered";
    case call_media_cause::quality_of_service: return "quality_of_service";
  }
  return "?";
}

}  // namespace mspi
