// The one source file that compiles ptapi for answering_machine (PTAPI_SEPARATE_COMPILATION; see ptapi/config.hpp).
#include <ptapi/src.hpp>
