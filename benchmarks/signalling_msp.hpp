// A signalling-only MSP for the SIP call-rate benchmark (bench_sip_rate.cpp): it models
// mspi::media_service_provider and speaks the SDP channel protocol of channel.hpp, but opens no socket and
// runs no media. Its calls have no streams. A remote offer is answered with PCMU on a fixed port (every
// m-line the offer has, the audio ones accepted when they offer PCMU, the others rejected with port 0);
// request_offer gets a PCMU offer; remote_answer, start_media and stop_media are ignored. So the benchmark
// measures the TAPI object + SIP TSP alone.
#pragma once

#include <mspi/channel.hpp>
#include <mspi/error.hpp>
#include <mspi/msp.hpp>
#include <mspi/msp_event.hpp>
#include <mspi/sdp.hpp>
#include <mspi/stream_control.hpp>
#include <mspi/terminal_support.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>

namespace ptapi_bench {

struct signalling_msp_config {
  std::string address = "127.0.0.1";  ///< c= and o= address of every description.
  std::uint16_t port = 40000;          ///< m= port of every accepted audio stream (nothing listens there).
};

/// The call object: no streams (ITStreamControl with an empty stream list).
class signalling_call final : public mspi::stream_control {
 public:
  explicit signalling_call(mspi::msp_handle h) : handle(h) {}
  mspi::msp_handle handle;
  std::uint64_t version = 0;  // o= sess-version, grows with every description we make
};

class signalling_msp {
 public:
  using config_type = signalling_msp_config;
  using call_type = signalling_call;

  explicit signalling_msp(const config_type& cfg = {}) : cfg_(cfg) {}

  void initialize(const mspi::msp_context& ctx, std::error_code& ec) {
    ec.clear();
    events_.set_signal(ctx.event_signal);
  }
  void shutdown() {
    events_.set_signal({});
    events_.clear();
  }
  std::shared_ptr<call_type> create_msp_call(mspi::msp_handle h, mspi::media_type media, std::error_code& ec) {
    if (media != mspi::media_type::audio) {
      ec = mspi::tapi_errc::invalid_media_type;
      return nullptr;
    }
    ec.clear();
    return std::make_shared<call_type>(h);
  }
  void shutdown_msp_call(const std::shared_ptr<call_type>&) {}

  void receive_tsp_data(const std::shared_ptr<call_type>& call, std::span<const std::byte> data) {
    if (!call) return;
    auto msg = mspi::decode_channel_message(data);
    if (!msg) return;
    using T = mspi::channel_message_type;
    if (msg->type == T::request_offer) {
      auto dir = msg->body.empty() ? std::string("sendrecv") : std::string(msg->body);
      mspi::session_description sd = base(*call);
      sd.media.push_back(pcmu_media(direction_of(dir)));
      send(*call, T::local_offer, mspi::to_string(sd));
    } else if (msg->type == T::remote_offer) {
      auto offer = mspi::parse_sdp(msg->body);
      if (!offer) return send(*call, T::media_error, "unparsable offer");
      mspi::session_description sd = base(*call);
      bool any = false;
      for (const auto& m : offer->media) {
        bool pcmu = false;
        for (const auto& f : m.formats) pcmu = pcmu || f.payload_type == 0;
        if (m.media == "audio" && m.port != 0 && pcmu && !any) {
          any = true;
          sd.media.push_back(pcmu_media(answer_direction(m.direction)));
        } else {
          auto rejected = m;  // RFC 3264 §6: a declined stream keeps its m-line, port 0
          rejected.port = 0;
          rejected.address = cfg_.address;
          sd.media.push_back(rejected);
        }
      }
      if (!any) return send(*call, T::media_error, "no PCMU in the offer");
      send(*call, T::local_answer, mspi::to_string(sd));
    }
    // remote_answer, start_media, stop_media, generate_digits: nothing to do without media
  }

  std::optional<mspi::msp_event> get_event(std::error_code& ec) { return events_.get_event(ec); }
  mspi::terminal_support& terminals() { return terminals_; }
  [[nodiscard]] mspi::media_type media_types() const noexcept { return mspi::media_type::audio; }

 private:
  mspi::session_description base(call_type& c) const {
    mspi::session_description sd;
    sd.session_id = c.handle;
    sd.session_version = ++c.version;
    sd.origin_address = cfg_.address;
    sd.session_name = "ptapi-bench";
    sd.connection_address = cfg_.address;
    return sd;
  }
  mspi::sdp_media pcmu_media(mspi::media_direction d) const {
    mspi::sdp_media m;
    m.port = cfg_.port;
    m.address = cfg_.address;
    m.formats.push_back({0, "PCMU", 8000, 1, {}});
    m.ptime_ms = 20;
    m.direction = d;
    return m;
  }
  static mspi::media_direction direction_of(const std::string& s) {
    if (s == "sendonly") return mspi::media_direction::sendonly;
    if (s == "recvonly") return mspi::media_direction::recvonly;
    if (s == "inactive") return mspi::media_direction::inactive;
    return mspi::media_direction::sendrecv;
  }
  static mspi::media_direction answer_direction(mspi::media_direction offered) {
    switch (offered) {
      case mspi::media_direction::sendonly: return mspi::media_direction::recvonly;
      case mspi::media_direction::recvonly: return mspi::media_direction::sendonly;
      default: return offered;
    }
  }
  void send(call_type& c, mspi::channel_message_type t, std::string_view body) {
    events_.post(mspi::msp_event{c.handle, mspi::msp_tsp_data{mspi::encode_channel_message(t, body)}});
  }

  config_type cfg_;
  mspi::msp_event_queue events_;
  mspi::terminal_support terminals_;
};

static_assert(mspi::media_service_provider<signalling_msp>);

}  // namespace ptapi_bench
