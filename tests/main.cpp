// The Catch2 2.13 main, compiled once into ptapi_catch_main.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
