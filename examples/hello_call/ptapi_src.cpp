// The one source file that compiles ptapi for hello_call (PTAPI_SEPARATE_COMPILATION; see ptapi/config.hpp).
// The project builds it once, as ptapi_compiled (tools/compiled/), for all of its programs.
#include <ptapi/src.hpp>
