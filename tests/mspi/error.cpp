#include <mspi/error.hpp>

#include <catch2/catch.hpp>

TEST_CASE("tapi_errc mirrors TAPI_E_* HRESULTs", "[mspi][error]") {
  CHECK(mspi::hresult(mspi::tapi_errc::invalid_call_state) == 0x80040010L);
  CHECK(mspi::hresult(mspi::tapi_errc::terminal_in_use) == 0x80040040L);
  CHECK(mspi::hresult(mspi::tapi_errc::no_event) == 0x80040050L);
  CHECK(mspi::hresult(mspi::tapi_errc::invalid_handle) == 0L);  // ptapi-only code
  // tapi3err.h's values for the codes of ITBasicCallControl's Dial, Park, Pickup and Handoff methods.
  CHECK(mspi::hresult(mspi::tapi_errc::dial_modifier_not_supported) == 0x8004000AL);
  CHECK(mspi::hresult(mspi::tapi_errc::invalid_group_id) == 0x80040017L);
  CHECK(mspi::hresult(mspi::tapi_errc::invalid_park_id) == 0x8004001AL);
  CHECK(mspi::hresult(mspi::tapi_errc::target_not_found) == 0x80040026L);
  CHECK(mspi::hresult(mspi::tapi_errc::target_self) == 0x80040027L);
  CHECK(mspi::hresult(mspi::tapi_errc::not_initialized) == 0x80040059L);  // 0x5A is TAPI_E_SERVICE_NOT_RUNNING

  std::error_code ec = mspi::tapi_errc::invalid_call_state;
  CHECK(ec.category().name() == std::string("tapi"));
  CHECK(ec.message() == "operation not permitted in the current call state");
  CHECK(ec != std::error_code{});
}

TEST_CASE("throw_if names the operation", "[mspi][error]") {
  CHECK_NOTHROW(mspi::throw_if({}, "connect"));
  try {
    mspi::throw_if(mspi::tapi_errc::timeout, "connect");
    FAIL("throw_if did not throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == mspi::tapi_errc::timeout);
    CHECK(std::string(e.what()).find("connect") != std::string::npos);
  }
}
