# Project-wide compiler settings: warnings, Qt strictness macros, sanitizers, fuzzing.
include_guard(GLOBAL)

add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
                    -Woverloaded-virtual -Wimplicit-fallthrough)
if(HELIOGRAPH_WERROR)
    add_compile_options(-Werror)
endif()

# Qt strictness: no implicit ASCII casts, no string-based connects, no foreach/keywords.
add_compile_definitions(
    QT_NO_CAST_FROM_ASCII
    QT_NO_CAST_TO_ASCII
    QT_NO_CAST_FROM_BYTEARRAY
    QT_NO_URL_CAST_FROM_STRING
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_NO_FOREACH
    QT_NO_KEYWORDS
    QT_USE_QSTRINGBUILDER
    QT_NO_JAVA_STYLE_ITERATORS
    QT_STRICT_ITERATORS
    QT_DISABLE_DEPRECATED_UP_TO=0x060400)

if(HELIOGRAPH_SANITIZE)
    # UndefinedBehaviorSanitizer reports are fatal, except that the vptr check may be told to
    # go on (UBSAN_OPTIONS=halt_on_error=0): it opens a pipe to check a type it has not seen,
    # which fails in a process out of descriptors, as tests/abuse/hardening.test.mjs makes one.
    add_compile_options(-fsanitize=${HELIOGRAPH_SANITIZE} -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    if(HELIOGRAPH_SANITIZE MATCHES "undefined")
        add_compile_options(-fsanitize-recover=vptr)
    endif()
    add_link_options(-fsanitize=${HELIOGRAPH_SANITIZE})
    if(HELIOGRAPH_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        # The C++ that Qt's qmlcachegen generates calls std::atomic_thread_fence, which GCC's
        # ThreadSanitizer does not model (-Wtsan, an error with -Werror). Our own code has no
        # fences; the warning is about the generated loaders only.
        add_compile_options(-Wno-tsan)
    endif()
endif()

if(HELIOGRAPH_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "HELIOGRAPH_FUZZ needs clang (use the 'fuzz' preset)")
    endif()
    # Instrument everything for coverage; the fuzz targets add the libFuzzer main themselves.
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
endif()
