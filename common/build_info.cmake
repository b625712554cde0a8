# Writes common/build_info.cc.in to OUT with the version and the git revision
# of the source tree SRC; run by the build_info_gen target at every build.
# configure_file rewrites OUT only when its text changes, so an unchanged
# revision compiles nothing. No network: git reads the local repository.
# Arguments: -DSRC= -DIN= -DOUT= -DVERSION= [-DREVISION=] (REVISION: given by
# the packager, used as is).
set(SAALBUCH_VERSION "${VERSION}")
if(REVISION)
  set(SAALBUCH_REVISION "${REVISION}")
else()
  set(SAALBUCH_REVISION "unknown")
  find_program(GIT_EXECUTABLE git)
  if(GIT_EXECUTABLE)
    execute_process(COMMAND ${GIT_EXECUTABLE} -C "${SRC}" rev-parse --short=12 HEAD
                    RESULT_VARIABLE rc OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(rc EQUAL 0 AND head MATCHES "^[0-9a-f]+$")
      set(SAALBUCH_REVISION "${head}")
      # Tracked files that differ from HEAD (untracked and ignored files, such
      # as build/, do not count). --no-optional-locks: never take the index
      # lock, which a git command of the developer may hold at the same time.
      execute_process(COMMAND ${GIT_EXECUTABLE} --no-optional-locks -C "${SRC}" diff --quiet HEAD --
                      RESULT_VARIABLE dirty OUTPUT_QUIET ERROR_QUIET)
      if(dirty EQUAL 1)
        string(APPEND SAALBUCH_REVISION "-dirty")
      endif()
    endif()
  endif()
endif()
configure_file("${IN}" "${OUT}" @ONLY)
