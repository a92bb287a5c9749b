# api_docs: runs Doxygen with WARN_AS_ERROR=FAIL_ON_WARNINGS and checks that the reference was
# written. cmake -DDOXYGEN=... -DDOXYFILE=... -DOUTPUT=... -P check_docs.cmake
if(NOT DOXYGEN)
    message(FATAL_ERROR "doxygen not found: install it (./dev deps installs it)")
endif()
file(REMOVE_RECURSE "${OUTPUT}")
file(MAKE_DIRECTORY "${OUTPUT}")
execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}"
    WORKING_DIRECTORY "${OUTPUT}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE out
    ERROR_VARIABLE warnings)
if(NOT result EQUAL 0 OR NOT warnings STREQUAL "")
    message(NOTICE "${out}${warnings}")
    string(REGEX MATCHALL "\n[^\n]*: (warning|error): " lines "\n${warnings}")
    list(LENGTH lines count)
    message(FATAL_ERROR "Doxygen: exit code ${result}, ${count} warnings (above). Every public "
                        "declaration needs a doc comment.")
endif()
# The pages a reader starts from must be there.
foreach(page index.html classHeliograph_1_1HubConnection.html classHeliograph_1_1Protocol_1_1Value.html
             namespaceHeliograph.html)
    if(NOT EXISTS "${OUTPUT}/html/${page}")
        message(FATAL_ERROR "Doxygen did not write html/${page}")
    endif()
endforeach()
message(STATUS "API reference without warnings: ${OUTPUT}/html/index.html")
