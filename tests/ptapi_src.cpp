// The one source file that compiles ptapi for the test binary (PTAPI_SEPARATE_COMPILATION; see
// ptapi/config.hpp): the test sources only use the library, so each compiles in a fraction of the time.
#include <ptapi/src.hpp>
