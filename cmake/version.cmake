# Writes version.h from VERSION and, in a git checkout, the current commit.
# Runs at every build (not only at configure time) so the commit is never
# stale; configure_file rewrites the header only when it changed, so an
# unchanged commit rebuilds nothing.
file(READ "${SRC}/VERSION" OTAP_VERSION)
string(STRIP "${OTAP_VERSION}" OTAP_VERSION)
set(OTAP_GIT_COMMIT "")
find_program(GIT git)
if(GIT AND EXISTS "${SRC}/.git")
  execute_process(COMMAND ${GIT} -C "${SRC}" rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE OTAP_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    set(OTAP_GIT_COMMIT "")
  else()
    execute_process(COMMAND ${GIT} -C "${SRC}" status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(dirty)
      set(OTAP_GIT_COMMIT "${OTAP_GIT_COMMIT}-dirty")
    endif()
  endif()
endif()
configure_file("${SRC}/cmake/version.h.in" "${OUT}" @ONLY)
