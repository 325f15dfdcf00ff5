# ilana_add_driver(<name> SOURCES <src>... [LIBRARIES <lib>...]
#                  [OUTPUT_DIRECTORY <dir>])
#
# Builds a driver plugin: a MODULE library named <name>.so (no "lib" prefix),
# compiled with hidden visibility so that only the entry symbol (marked
# ILANA_DRIVER_EXPORT) is exported, linked against the SDK headers and the
# given client libraries, never against the ilana core. Inside the ilana tree
# the module lands in build/plugins/; elsewhere in OUTPUT_DIRECTORY, or in
# CMake's default place. Installed with the SDK package (find_package(IlanaSDK)),
# this file is what third-party drivers use too.
function(ilana_add_driver name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  set(_ILANA_DRIVER_EXPORTS_MAP ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/ilana_driver_exports.map)
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
  # Export the entry and nothing else. Hidden visibility alone is not enough:
  # libstdc++ declares namespace std with default visibility, so template
  # instances would be exported as weak symbols and could interpose with the
  # host's. Static archives' symbols stay out too.
  target_link_options(${name} PRIVATE "LINKER:--exclude-libs,ALL"
    "LINKER:--version-script=${_ILANA_DRIVER_EXPORTS_MAP}")
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${_ILANA_DRIVER_EXPORTS_MAP})
  # Unresolved symbols fail the link, not the dlopen (sanitizer builds leave
  # the sanitizer runtime unresolved in modules on purpose).
  if(NOT ILANA_SANITIZE)
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED ILANA_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ILANA_PLUGIN_OUTPUT_DIR})
  endif()
endfunction()
