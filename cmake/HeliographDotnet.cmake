# heliograph_dotnet_publish(<target> PROJECT <csproj> SOURCES <files...> DESCRIPTION <text>
#                           OUTPUT_DIR <out-var>)
# Publishes a .NET project in Release into the current build directory with the package
# versions pinned by its packages.lock.json (restore in locked mode). obj/ and bin/ go under
# --artifacts-path: nothing is written to the source tree. <target> (built by ALL) runs it when a
# source changes; <out-var> receives the publish folder. Needs DOTNET_EXECUTABLE.
function(heliograph_dotnet_publish target)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "PROJECT;DESCRIPTION;OUTPUT_DIR" "SOURCES")
    set(out ${CMAKE_CURRENT_BINARY_DIR}/out)
    set(stamp ${CMAKE_CURRENT_BINARY_DIR}/published.stamp)
    add_custom_command(
        OUTPUT ${stamp}
        COMMAND ${CMAKE_COMMAND} -E env DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
                DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
                ${DOTNET_EXECUTABLE} publish ${arg_PROJECT}
                -c Release -p:RestoreLockedMode=true
                --artifacts-path ${CMAKE_CURRENT_BINARY_DIR}/artifacts -o ${out}
        # MSBuild skips unchanged files, so the DLL's time stamp cannot be the output.
        COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
        DEPENDS ${arg_PROJECT} ${arg_SOURCES}
        COMMENT "Publishing ${arg_DESCRIPTION} (Release)"
        VERBATIM)
    add_custom_target(${target} ALL DEPENDS ${stamp})
    set(${arg_OUTPUT_DIR} ${out} PARENT_SCOPE)
endfunction()
