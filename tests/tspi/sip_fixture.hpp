// Shared fixture for tests that run calls through the SIP TSP and the RTP/Opus MSP on 127.0.0.1 or ::1.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/uri.hpp>
#include <tspi/tapi.hpp>

#include "loopback_fixture.hpp"

#include <mspi/rtp_opus/msp.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ptapi_test {

// One SIP user agent: a TAPI object with the SIP TSP on `port` (UDP and TCP; 0 = an ephemeral port, so
// test processes that ctest runs in parallel never collide) and the RTP/Opus MSP.
struct sip_party {
  event_log log;
  tspi::tapi tapi;
  tspi::address address;
  std::string uri;
  std::vector<char> digits;  // guarded by log.m

  explicit sip_party(std::uint16_t port = 0, std::string host = "127.0.0.1") : sip_party(config(port, host)) {}
  // `media`: the MSP's settings (its local_address is set to the SIP host).
  explicit sip_party(const tspi::sip::sip_config& cfg, mspi::rtp_opus_config media = {}) {
    const auto& host = cfg.listen_address;
    media.local_address = host;
    tapi.register_provider<tspi::sip::sip_tsp, mspi::rtp_opus_msp>(cfg, media);
    tapi.set_event_filter(tspi::tapi_event::all);
    log.attach(tapi);
    tapi.on_digit().connect([this](const tspi::digit_event& e) {
      std::lock_guard lock(log.m);
      digits.push_back(e.digit);
      log.cv.notify_all();
    });
    tapi.initialize();
    address = tapi.addresses().at(0);
    uri = address.name();
  }
  ~sip_party() { tapi.shutdown(); }

  // Settings for a party on host:port, with short timers (T1 = 50 ms: Timer B = 3.2 s).
  static tspi::sip::sip_config config(std::uint16_t port, std::string host = "127.0.0.1") {
    tspi::sip::sip_config cfg;
    cfg.listen_address = std::move(host);
    cfg.port = port;
    cfg.timers.t1 = std::chrono::milliseconds(50);
    return cfg;
  }

  // Answers (or rejects with `code`) every call, from the event handler.
  void auto_answer(std::optional<tspi::disconnect_code> reject = std::nullopt) {
    tapi.register_call_notifications(address);
    tapi.on_call_notification().connect([reject](const tspi::call_notification_event& e) {
      auto c = e.call;
      if (reject) c.async_disconnect(*reject, [](std::error_code) {});
      else c.async_answer([](std::error_code) {});
    });
  }
  // The port the party listens on (from its address name, sip:ptapi@host:port).
  [[nodiscard]] std::uint16_t port() const {
    auto u = tspi::sip::parse_uri(uri);
    return u ? u->port : 0;
  }
  tspi::call last_offered() {
    std::lock_guard lock(log.m);
    return log.offered.empty() ? tspi::call{} : log.offered.back();
  }
  std::string digits_seen() {
    std::lock_guard lock(log.m);
    return {digits.begin(), digits.end()};
  }
};

inline bool wait_state(event_log& log, const tspi::call& c, tspi::call_state s, std::chrono::milliseconds t = 5s) {
  const auto id = c.info().id;
  return log.wait([&] {
    auto v = log.states_of_locked(id);
    return std::find(v.begin(), v.end(), s) != v.end();
  }, t);
}

}  // namespace ptapi_test
