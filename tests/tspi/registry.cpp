// Provider concepts: what models them, what does not (the compile-failure side is
// tests/compile_fail/, run by ctest).
#include <tspi/tsp.hpp>

#include <tspi/loopback/tsp.hpp>

#include <mspi/msp.hpp>
#include <mspi/rtp_opus/msp.hpp>

#include <catch2/catch.hpp>

namespace {
struct tsp_without_answer {  // everything but TSPI_lineAnswer
  struct config_type {};
  explicit tsp_without_answer(const config_type&) {}
  std::string_view provider_name() const { return "x"; }
  void provider_init(const tspi::tsp_context&, std::error_code&) {}
  void provider_shutdown() {}
  std::vector<tspi::address_info> addresses() const { return {}; }
  void make_call(tspi::request_id, std::size_t, tspi::call_id, std::string_view, mspi::media_type) {}
  void drop(tspi::request_id, tspi::call_id, tspi::disconnect_code) {}
  void close_call(tspi::call_id) {}
  void receive_msp_data(tspi::call_id, std::span<const std::byte>) {}
};
struct msp_with_wrong_call_type {  // its call type is not an ITStreamControl
  struct config_type {};
  struct call_type {};
};
}  // namespace

TEST_CASE("provider concepts accept ptapi's providers and reject incomplete ones", "[tspi][registry]") {
  STATIC_REQUIRE(tspi::telephony_service_provider<tspi::loopback_tsp>);
  STATIC_REQUIRE(mspi::media_service_provider<mspi::rtp_opus_msp>);
  STATIC_REQUIRE_FALSE(tspi::telephony_service_provider<tsp_without_answer>);
  STATIC_REQUIRE_FALSE(mspi::media_service_provider<msp_with_wrong_call_type>);
  STATIC_REQUIRE_FALSE(tspi::telephony_service_provider<mspi::rtp_opus_msp>);
}
