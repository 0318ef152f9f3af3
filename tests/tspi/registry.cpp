// Provider concepts: what models them, what does not (the compile-failure side is
// tests/compile_fail/, run by ctest).
// Drives the shipped providers' own members (or pairs them anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include <tspi/tsp.hpp>

#include <tspi/loopback/tsp.hpp>
#include <tspi/provider_pair.hpp>

#include <mspi/msp.hpp>
#include <mspi/rtp_opus/msp.hpp>

#include "support/incomplete_tsp.hpp"

#include <catch2/catch.hpp>

namespace {
struct msp_with_wrong_call_type {  // its call type is not an ITStreamControl
  struct config_type {};
  struct call_type {};
};
}  // namespace

TEST_CASE("provider concepts accept ptapi's providers and reject incomplete ones", "[tspi][registry]") {
  STATIC_REQUIRE(tspi::telephony_service_provider<tspi::loopback_tsp>);
  STATIC_REQUIRE(mspi::media_service_provider<mspi::rtp_opus_msp>);
  STATIC_REQUIRE_FALSE(tspi::telephony_service_provider<ptapi_test::tsp_without_answer>);
  STATIC_REQUIRE_FALSE(mspi::media_service_provider<msp_with_wrong_call_type>);
  STATIC_REQUIRE_FALSE(tspi::telephony_service_provider<mspi::rtp_opus_msp>);
}
