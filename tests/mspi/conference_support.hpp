// Test helpers for local conferences through the RTP/Opus MSP without a TSP: a host MSP whose calls (on a
// pool of media threads) each reach one party (an `msp_side` with its own MSP), tone-generating capture
// terminals, and a Goertzel measure of how loud a tone is in what a party received.
#pragma once

#include "rtp_call_support.hpp"
#include "tone_support.hpp"

#include <mspi/conference_bridge.hpp>
#include <mspi/media_pool.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ptapi_test {

/// The host of a conference: one RTP/Opus MSP on `threads` media threads with one call per party.
struct conference_host {
  std::shared_ptr<mspi::media_pool> pool;
  mspi::rtp_opus_msp msp;
  std::vector<std::shared_ptr<mspi::rtp_opus_call>> calls;
  std::map<mspi::msp_handle, std::vector<channel_msg>> messages;

  explicit conference_host(std::size_t threads, const mspi::rtp_opus_config& cfg = {})
      : pool(std::make_shared<mspi::media_pool>(threads)), msp(cfg) {
    std::error_code ec;
    msp.initialize(mspi::msp_context{.address_name = "host", .event_signal = [] {}, .media = pool}, ec);
    REQUIRE_FALSE(ec);
  }
  conference_host(const conference_host&) = delete;
  conference_host& operator=(const conference_host&) = delete;
  ~conference_host() { msp.shutdown(); }

  /// A new call (handle = index + 1).
  std::shared_ptr<mspi::rtp_opus_call> add_call() {
    std::error_code ec;
    auto c = msp.create_msp_call(calls.size() + 1, mspi::media_type::audio, ec);
    REQUIRE(c);
    calls.push_back(c);
    return c;
  }

  void send(std::size_t i, mspi::channel_message_type type, std::string_view body = {}) {
    auto frame = mspi::encode_channel_message(type, body);
    msp.receive_tsp_data(calls[i], frame);
  }

  /// The first message of `type` for call `i`, waiting up to 3 s.
  std::optional<channel_msg> take(std::size_t i, mspi::channel_message_type type) {
    for (auto end = std::chrono::steady_clock::now() + 3s;;) {
      std::error_code ec;
      while (auto e = msp.get_event(ec))
        if (auto* d = std::get_if<mspi::msp_tsp_data>(&e->info)) {
          auto m = mspi::decode_channel_message(d->data);
          REQUIRE(m);
          messages[e->call].push_back({m->type, std::string(m->body)});
        }
      auto& q = messages[i + 1];
      for (auto it = q.begin(); it != q.end(); ++it)
        if (it->type == type) {
          auto m = *it;
          q.erase(it);
          return m;
        }
      if (std::chrono::steady_clock::now() >= end) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

  /// Negotiates call `i` with `party` (the host offers) and starts media on both.
  void connect(std::size_t i, msp_side& party) {
    send(i, mspi::channel_message_type::request_offer);
    auto offer = take(i, mspi::channel_message_type::local_offer);
    REQUIRE(offer);
    party.send(mspi::channel_message_type::remote_offer, offer->body);
    auto answer = party.take(mspi::channel_message_type::local_answer);
    REQUIRE(answer);
    send(i, mspi::channel_message_type::remote_answer, answer->body);
    send(i, mspi::channel_message_type::start_media);
    party.send(mspi::channel_message_type::start_media);
  }
};

/// A host and `n` parties, party k sending a tone of `frequencies[k]` (amplitude 3000) and recording what
/// it receives; the host's calls have no capture terminal and join conference "1".
struct conference_rig {
  conference_host host;
  std::vector<std::unique_ptr<msp_side>> parties;
  std::vector<double> frequencies;

  explicit conference_rig(std::vector<double> freqs, std::size_t host_threads = 2)
      : host(host_threads), frequencies(std::move(freqs)) {
    for (double f : frequencies) {
      auto p = std::make_unique<msp_side>();
      p->call->capture_stream()->unselect_terminal(p->out);
      p->out = std::make_shared<tone_terminal>(f, 3000);
      p->call->capture_stream()->select_terminal(p->out);
      host.add_call();
      host.connect(host.calls.size() - 1, *p);
      parties.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < parties.size(); ++i) host.send(i, mspi::channel_message_type::conference_join, "1");
  }

  /// Discards what every party received so far.
  void flush() {
    for (auto& p : parties) (void)p->read_all();
  }
  /// What each party received from now for `d` (the last second of it).
  std::vector<std::vector<std::int16_t>> record(std::chrono::milliseconds d) {
    flush();
    std::this_thread::sleep_for(d);
    std::vector<std::vector<std::int16_t>> out;
    for (auto& p : parties) {
      auto all = p->read_all();
      if (all.size() > 48000) all.erase(all.begin(), all.end() - 48000);
      out.push_back(std::move(all));
    }
    return out;
  }
};

}  // namespace ptapi_test
