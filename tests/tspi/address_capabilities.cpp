// ITAddressCapabilities (address::capability, address::capability_string): each provider pair reports
// what its TSP and MSP types can do, and what it reports agrees with what the operations do.
#include "tspi/loopback_fixture.hpp"
#include "tspi/sip_fixture.hpp"

#include <mspi/conference_bridge.hpp>
#include <mspi/dsp/tone_media.hpp>
#include <tspi/address_capabilities.hpp>

#include <catch2/catch.hpp>

#include <system_error>

namespace {

using tspi::address_capability;
using tspi::address_capability_string;
namespace cf = tspi::line_call_feature;

// What the address reports about hold, digits, tones and forwarding agrees with what a connected call `c` on it and
// the address itself do: a feature reported works, one not reported is `not_supported`.
void check_agrees(tspi::address a, tspi::call c) {
  const auto features = a.capability(address_capability::call_features1);
  std::error_code ec;
  c.hold(true, ec);
  INFO("hold: " << ec.message());
  CHECK(((features & cf::hold) != 0) == (ec != mspi::tapi_errc::not_supported));
  if (!ec) {
    c.hold(false, ec);
    CHECK_FALSE(ec);
  }
  c.generate_digits("1", ec);
  INFO("generate_digits: " << ec.message());
  CHECK(((features & cf::generate_digits) != 0) == (ec != mspi::tapi_errc::not_supported));
  c.generate_tone(mspi::tone_mode::beep, std::chrono::milliseconds(300), ec);
  INFO("generate_tone: " << ec.message());
  CHECK(((features & cf::generate_tone) != 0) == (ec != mspi::tapi_errc::not_supported));
  CHECK(((features & cf::generate_tone) != 0) == (a.capability(address_capability::generate_tone_modes) != 0));
  tspi::forward_information rules;
  rules.set_forward_type(tspi::forward_mode::unconditional, "sip:nobody@127.0.0.1:9");
  a.forward(rules, ec);
  INFO("forward: " << ec.message());
  const bool forwards = (a.capability(address_capability::line_features) & tspi::line_feature::forward) != 0;
  CHECK(forwards == (ec != mspi::tapi_errc::not_supported));
  CHECK(forwards == (a.capability(address_capability::forward_modes) != 0));
  if (!ec) a.forward(tspi::forward_information{});
}

}  // namespace

TEST_CASE("the loopback provider reports the call control it lacks, and that matches what its calls do",
          "[tspi][capabilities][loopback]") {
  ptapi_test::loopback_fixture f;
  f.tapi.register_call_notifications(f.bob);
  f.tapi.on_call_notification().connect([](const tspi::call_notification_event& e) {
    tspi::call(e.call).async_answer([](std::error_code) {});
  });
  CHECK(f.alice.capability_string(address_capability_string::protocol) == "loopback");
  CHECK(f.alice.capability_string(address_capability_string::provider_specific) == "ptapi loopback");
  CHECK(f.alice.capability_string(address_capability_string::switch_specific).empty());
  // Each address is its own line, at its place in tapi::addresses().
  const auto all = f.tapi.addresses();
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].capability(address_capability::line_id) == i);
    CHECK(all[i].capability(address_capability::address_id) == 0);
  }
  const auto features = f.alice.capability(address_capability::call_features1);
  CHECK((features & (cf::answer | cf::drop | cf::monitor_digits | cf::gather_digits)) ==
        (cf::answer | cf::drop | cf::monitor_digits | cf::gather_digits));
  CHECK((features & (cf::hold | cf::unhold | cf::swap_hold | cf::blind_transfer | cf::complete_transf)) == 0);
  CHECK(f.alice.capability(address_capability::transfer_modes) == 0);
  CHECK(f.alice.capability(address_capability::max_on_hold_calls) == 0);
  CHECK(f.alice.capability(address_capability::max_active_calls) == f.alice.capabilities().max_active_calls);
  // The RTP/Opus MSP mixes local conferences: call hubs, and the bridge's party limit.
  CHECK(f.alice.capability(address_capability::max_num_conference) == mspi::conference_bridge::max_parties);
  CHECK((f.alice.capability(address_capability::dev_cap_flags) & tspi::line_dev_cap_flags::call_hub) != 0);
  CHECK(f.alice.capability(address_capability::remove_from_conf_caps) == tspi::line_remove_from_conf::any);

  auto c = f.alice.create_call("bob");
  c.connect();
  REQUIRE(c.state() == tspi::call_state::connected);
  check_agrees(f.alice, c);
  c.disconnect();
}

TEST_CASE("the SIP provider with tones reports hold, transfer, digits, tones and forwarding, and they work",
          "[tspi][capabilities][sip]") {
  mspi::rtp_opus_config media;
  media.tones = mspi::dsp::tone_media();
  ptapi_test::sip_party bob(ptapi_test::sip_party::config(0), media);
  ptapi_test::sip_party alice(ptapi_test::sip_party::config(0), media);
  bob.tapi.register_call_notifications(bob.address);
  bob.tapi.on_call_notification().connect([](const tspi::call_notification_event& e) {
    tspi::call(e.call).async_answer([](std::error_code) {});
  });
  auto a = alice.address;
  CHECK(a.capability_string(address_capability_string::protocol) == "SIP");
  CHECK((a.capability(address_capability::address_types) & tspi::line_address_type::domain_name) != 0);
  const auto features = a.capability(address_capability::call_features1);
  for (auto bit : {cf::hold, cf::unhold, cf::swap_hold, cf::blind_transfer, cf::setup_transfer, cf::complete_transf,
                   cf::generate_digits, cf::generate_tone, cf::monitor_tones, cf::setup_conf, cf::remove_from_conf}) {
    INFO("LINECALLFEATURE 0x" << std::hex << bit);
    CHECK((features & bit) != 0);
  }
  CHECK(a.capability(address_capability::transfer_modes) == tspi::line_transfer_mode::transfer);
  CHECK(a.capability(address_capability::generate_digit_support) == tspi::line_digit_mode::dtmf);
  CHECK(a.capability(address_capability::generate_tone_max_num_freq) == mspi::max_custom_tones);
  CHECK(a.capability(address_capability::monitor_tone_max_num_entries) == mspi::max_detect_tones);

  // Forwarding: the limits reported are the limits applied.
  const auto max_entries = a.capability(address_capability::max_forward_entries);
  REQUIRE(max_entries == tspi::max_forward_entries);
  tspi::forward_information rules;
  for (std::uint32_t i = 0; i < max_entries; ++i)
    rules.set_forward_type(tspi::forward_mode::unconditional_specific, "sip:target@127.0.0.1:9", "sip:c" + std::to_string(i) + "@x");
  std::error_code ec;
  a.forward(rules, ec);
  CHECK_FALSE(ec);
  rules.set_forward_type(tspi::forward_mode::unconditional_specific, "sip:target@127.0.0.1:9", "sip:one-more@x");
  a.forward(rules, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  rules.clear();
  rules.set_num_rings_no_answer(a.capability(address_capability::max_fwd_num_rings) + 1);
  a.forward(rules, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  a.forward(tspi::forward_information{});

  auto c = a.create_call(bob.uri);
  c.connect();
  REQUIRE(c.state() == tspi::call_state::connected);
  check_agrees(a, c);
  c.disconnect();
}

TEST_CASE("address capabilities refuse an unknown value and an empty handle", "[tspi][capabilities]") {
  ptapi_test::loopback_fixture f;
  std::error_code ec;
  CHECK(f.alice.capability(static_cast<address_capability>(0x30), ec) == 0);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  CHECK(f.alice.capability_string(static_cast<address_capability_string>(6), ec).empty());
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  CHECK_THROWS_AS(f.alice.capability(static_cast<address_capability>(0xff)), std::system_error);
  tspi::address none;
  (void)none.capability(address_capability::line_id, ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  (void)none.capability_string(address_capability_string::protocol, ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  CHECK(f.alice.capability(address_capability::generate_digit_default_duration, ec) == 100);  // RFC 4733 events
  CHECK_FALSE(ec);
}
