# Included by tests/CMakeLists.txt when present: optional test targets.
if(ILANA_BUILD_FUZZERS)
  add_subdirectory(fuzz)
endif()
