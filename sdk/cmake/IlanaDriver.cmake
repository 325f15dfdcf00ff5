# ilana_add_driver(<name> SOURCES <src>... [LIBRARIES <lib>...])
#
# Builds a driver plugin: a MODULE library named <name>.so (no "lib" prefix),
# compiled with hidden visibility so that only the entry symbol (marked
# ILANA_DRIVER_EXPORT) is exported, linked against the SDK headers and the
# given client libraries, never against the ilana core. Inside the ilana tree
# the module lands in build/plugins/.
function(ilana_add_driver name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "ilana_add_driver(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ilana::sdk ${ARG_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # Keep static archives' symbols out of the dynamic symbol table too.
  target_link_options(${name} PRIVATE "LINKER:--exclude-libs,ALL")
  if(DEFINED ILANA_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ILANA_PLUGIN_OUTPUT_DIR})
  endif()
endfunction()
