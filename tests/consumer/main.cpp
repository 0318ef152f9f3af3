// A consumer of the installed (or add_subdirectory'd) ptapi package: it must compile, link and run.
#include <mspi/error.hpp>

int main() {
  std::error_code ec = mspi::tapi_errc::invalid_call_state;
  return ec.category().name() == std::string("tapi") ? 0 : 1;
}
