// Must NOT compile: registering a TSP that lacks answer() fails with the concept's name in the message.
#include <tspi/tapi.hpp>

#include <mspi/rtp_opus/msp.hpp>

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
  void receive_msp_data(tspi::call_id, std::span<const std::byte>) {}
};

int main() {
  tspi::tapi t;
  t.register_provider<tsp_without_answer, mspi::rtp_opus_msp>();
}
