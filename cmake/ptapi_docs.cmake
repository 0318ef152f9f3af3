# Target `docs`: the API reference (scripts/docs.sh, docs/Doxyfile) into ${PROJECT_BINARY_DIR}/docs/html,
# failing on any Doxygen warning. Defined only when Doxygen is found (Debian: doxygen, installed by
# scripts/install-deps.sh --tests).
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E env DOXYGEN=${DOXYGEN_EXECUTABLE} sh ${PROJECT_SOURCE_DIR}/scripts/docs.sh ${PROJECT_BINARY_DIR}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Doxygen: API reference into ${PROJECT_BINARY_DIR}/docs/html"
    VERBATIM)
endif()
