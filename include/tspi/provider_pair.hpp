// ptapi - portable TAPI
// tspi/provider_pair.hpp: what `tapi::register_provider` compiles for a TSP/MSP pair. Header-only builds
// include it already; with PTAPI_SEPARATE_COMPILATION include it where you register a pair of your own
// (the shipped pairs are compiled by <ptapi/src.hpp>).
#pragma once

#include <tspi/detail/provider_pair.hpp>
#include <tspi/tapi.hpp>
