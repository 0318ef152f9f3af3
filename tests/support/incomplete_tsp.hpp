// A TSP type with every member of the contract but TSPI_lineAnswer: it must not model
// tspi::telephony_service_provider (tests/tspi/registry.cpp) and must not register
// (tests/compile_fail/bad_tsp.cpp).
#pragma once

#include <tspi/tsp.hpp>

#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

namespace ptapi_test {
struct tsp_without_answer {
  struct config_type {};
  explicit tsp_without_answer(const config_type&) {}
  std::string_view provider_name() const { return "x"; }
  void provider_init(const tspi::tsp_context&, std::error_code&) {}
  void provider_shutdown() {}
  std::vector<tspi::address_info> addresses() const { return {}; }
  void make_call(tspi::request_id, std::size_t, tspi::call_id, std::string_view, mspi::media_type) {}
  void drop(tspi::request_id, tspi::call_id, tspi::disconnect_code) {}
  void close_call(tspi::call_id) {}
  void create_msp_instance(std::size_t) {}
  void close_msp_instance(std::size_t) {}
  void receive_msp_data(tspi::call_id, std::span<const std::byte>) {}
};
}  // namespace ptapi_test
