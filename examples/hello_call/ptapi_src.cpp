// The one source file that compiles ptapi for hello_call (PTAPI_SEPARATE_COMPILATION; see ptapi/config.hpp).
#include <ptapi/src.hpp>
