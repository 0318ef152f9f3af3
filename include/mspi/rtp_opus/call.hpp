// ptapi - portable TAPI
// mspi/rtp_opus/call.hpp: the MSP call object of the RTP/Opus MSP (CMSPCallBase's role): two streams,
// SDP offer/answer over the TSP channel, and the media engine.
#pragma once

#include <mspi/channel.hpp>
#include <mspi/msp_event.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/rtp_opus/detail/negotiation.hpp>
#include <mspi/rtp_opus/detail/rtp_media.hpp>
#include <mspi/sdp.hpp>
#include <mspi/stream_control.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <system_error>

namespace mspi {

/// The MSP call of `rtp_opus_msp`: one audio capture stream ("Audio capture", local → remote) and one
/// audio render stream ("Audio render", remote → local), carried as Opus (RFC 7587) in RTP (RFC 3550)
/// over UDP, negotiated with SDP offer/answer (RFC 3264) through the TSP channel.
///
/// Channel protocol (see `channel.hpp`): `request_offer` → `local_offer`; `remote_offer` →
/// `local_answer`; `remote_answer` completes our offer; `start_media`/`stop_media` follow the call's
/// signalling. A description without usable Opus, or whose connection address is not an IP literal,
/// gives `media_error` and `stream_not_used` on both streams.
///
/// Source: TAPI 3's MSP call object (ITStreamControl, CMSPCallBase); RFC 3264 §5-§6 for offer/answer.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: stream operations and the getters are safe from any thread;
/// `receive_tsp_data` and `shutdown` must be called from one thread at a time (the MSP address calls them
/// on the TAPI object's thread); the media runs on the MSP's media thread.
class rtp_opus_call final : public stream_control, public std::enable_shared_from_this<rtp_opus_call> {
 public:
  /// Keeps the settings and picks a random SDP session id; creates nothing else (public only for
  /// `std::make_shared`). Use `create`. Throws only std::bad_alloc and what std::random_device throws.
  rtp_opus_call(std::shared_ptr<boost::asio::io_context> media, msp_handle handle, const rtp_opus_config& cfg,
                std::shared_ptr<msp_event_queue> events)
      : media_io_(std::move(media)), handle_(handle), cfg_(cfg), events_(std::move(events)) {
    std::random_device rd;
    session_id_ = (static_cast<std::uint64_t>(rd()) << 32 | rd()) & 0x7fffffffffffffffULL;
  }

  /// Makes a call object with its two streams and bound RTP/RTCP sockets.
  /// Errors: `std::errc::invalid_argument` when `cfg.local_address` is not an IP address; the system error
  /// when a socket cannot be opened or bound (null then). @throws std::system_error when `cfg` holds Opus or
  /// jitter-buffer settings out of range (`rtp_opus_msp::initialize` rejects those first).
  static std::shared_ptr<rtp_opus_call> create(std::shared_ptr<boost::asio::io_context> media, msp_handle handle,
                                               const rtp_opus_config& cfg, std::shared_ptr<msp_event_queue> events,
                                               std::error_code& ec) {
    auto call = std::make_shared<rtp_opus_call>(std::move(media), handle, cfg, std::move(events));
    call->init(ec);
    if (ec) return nullptr;
    return call;
  }

  /// The TAPI object's identifier of this call (MSP_HANDLE). Never throws.
  [[nodiscard]] msp_handle handle() const noexcept { return handle_; }

  /// The capture stream (audio sent to the remote party). Never throws.
  [[nodiscard]] stream_ptr capture_stream() const { return capture_; }
  /// The render stream (audio received from the remote party). Never throws.
  [[nodiscard]] stream_ptr render_stream() const { return render_; }

  /// ITMSPAddress::ReceiveTSPData for this call: one framed channel message from the TSP.
  /// No errors: malformed frames and unknown types are ignored; a remote description without usable
  /// Opus is answered with `media_error` and raises CME_STREAM_NOT_USED on both streams; `start_media`
  /// before any negotiation raises CME_STREAM_FAIL (connect_fail) on both.
  void receive_tsp_data(std::span<const std::byte> data) {
    auto msg = decode_channel_message(data);
    if (!msg) return;
    switch (msg->type) {
      case channel_message_type::request_offer: send_local(channel_message_type::local_offer, media_direction::sendrecv); break;
      case channel_message_type::remote_offer:
        if (auto n = read_remote(msg->body)) send_local(channel_message_type::local_answer, detail::answer_direction(*n));
        break;
      case channel_message_type::remote_answer: (void)read_remote(msg->body); break;
      case channel_message_type::start_media: start_media(); break;
      case channel_message_type::stop_media: stop_media(call_media_cause::remote_request); break;
      default: break;
    }
  }

  /// Stops media and unselects every terminal (ITMSPAddress::ShutdownMSPCall). No errors.
  void shutdown() {
    stop_media(call_media_cause::local_request);
    capture_->shutdown(call_media_cause::local_request);
    render_->shutdown(call_media_cause::local_request);
  }

  /// Opus encoder lookahead in samples at 48 kHz (part of the mouth-to-ear delay). Never throws.
  [[nodiscard]] int codec_lookahead_samples() const noexcept { return lookahead_; }

 private:
  void init(std::error_code& ec) {
    // The streams may outlive this call object (applications hold stream_ptr): their sinks capture the
    // shared queue and the handle, never `this`.
    auto post_stream_event = [q = events_, h = handle_](stream_event e) { q->post(msp_event{h, std::move(e)}); };
    auto post_terminal_event = [q = events_, h = handle_](const terminal_ptr& t, const terminal_event& e) {
      q->post(msp_event{h, msp_file_terminal_event{t, e}});
    };
    auto tx = std::make_shared<detail::rtp_counters>();
    auto rx = std::make_shared<detail::rtp_counters>();
    capture_ = std::make_shared<detail::rtp_stream>(terminal_direction::capture, "Audio capture", post_stream_event,
                                                    post_terminal_event, tx);
    render_ = std::make_shared<detail::rtp_stream>(terminal_direction::render, "Audio render", post_stream_event,
                                                   post_terminal_event, rx);
    add_stream(capture_);
    add_stream(render_);
    media_ = std::make_shared<detail::rtp_media>(media_io_, cfg_, capture_, render_, tx, rx);
    lookahead_ = media_->lookahead_samples();
    media_->bind(ec);
    if (!ec) {
      rtp_port_ = media_->rtp_port();
      rtcp_port_ = media_->rtcp_port();
    }
  }

  std::optional<detail::negotiated_media> read_remote(std::string_view body) {
    auto sd = parse_sdp(body);
    auto n = sd ? detail::negotiate(*sd) : std::nullopt;
    boost::system::error_code bad_address;
    if (n) (void)boost::asio::ip::make_address(n->remote_address, bad_address);  // e.g. a host name: unusable
    if (!n || bad_address) {
      tsp_send(channel_message_type::media_error, "no usable Opus audio stream in the remote description");
      capture_->raise(call_media_event::stream_not_used, call_media_cause::remote_request);
      render_->raise(call_media_event::stream_not_used, call_media_cause::remote_request);
      return std::nullopt;
    }
    std::lock_guard lock(mutex_);
    negotiated_ = n;
    return n;
  }

  void send_local(channel_message_type type, media_direction direction) {
    int pt = cfg_.payload_type;
    {
      std::lock_guard lock(mutex_);
      if (negotiated_) pt = negotiated_->payload_type;  // answer with the offerer's payload type
    }
    auto sd = detail::local_description(cfg_, session_id_, ++session_version_, rtp_port_, rtcp_port_, pt, direction);
    tsp_send(type, to_string(sd));
  }

  void tsp_send(channel_message_type type, std::string_view body) {
    events_->post(msp_event{handle_, msp_tsp_data{encode_channel_message(type, body)}});
  }

  void start_media() {
    std::optional<detail::negotiated_media> n;
    {
      std::lock_guard lock(mutex_);
      n = negotiated_;
    }
    if (!n) {
      capture_->raise(call_media_event::stream_fail, call_media_cause::connect_fail, tapi_errc::operation_failed);
      render_->raise(call_media_event::stream_fail, call_media_cause::connect_fail, tapi_errc::operation_failed);
      return;
    }
    boost::asio::post(*media_io_, [media = media_, n = *n] { media->start(n); });
    capture_->set_transport_ready(n->send, call_media_cause::remote_request);
    render_->set_transport_ready(n->receive, call_media_cause::remote_request);
  }

  void stop_media(call_media_cause cause) {
    capture_->set_transport_ready(false, cause);
    render_->set_transport_ready(false, cause);
    if (media_) boost::asio::post(*media_io_, [media = media_] { media->stop(); });
  }

  std::shared_ptr<boost::asio::io_context> media_io_;
  const msp_handle handle_;
  const rtp_opus_config cfg_;
  std::shared_ptr<msp_event_queue> events_;
  std::shared_ptr<detail::rtp_stream> capture_, render_;
  std::shared_ptr<detail::rtp_media> media_;
  std::uint16_t rtp_port_ = 0, rtcp_port_ = 0;
  int lookahead_ = 0;
  std::uint64_t session_id_ = 0, session_version_ = 0;
  std::mutex mutex_;
  std::optional<detail::negotiated_media> negotiated_;
};

}  // namespace mspi
