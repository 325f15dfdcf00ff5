# Install rules: `cmake --install build --prefix P` lays out
#
#   P/bin/ilana                          the CLI
#   P/bin/ilana-driver-conformance       the driver conformance kit
#   P/lib/libilana.a (or .so)            the core, ilana::core
#   P/lib/libilana_cli.a (or .so)        the CLI's commands, ilana::cli
#                                        (<ilana/cli.hpp>: ilana::cli::main)
#   P/lib/ilana/plugins/*.so             the bundled drivers; P/bin/ilana finds
#                                        them by default (<bin>/../lib/ilana/plugins)
#   P/include/ilana/*.hpp                the core's public headers and cli.hpp
#   P/include/ilana/driver.h             the driver ABI (C99)
#   P/include/ilana/sdk/*.hpp            the driver SDK (C++17, header-only)
#   P/lib/cmake/Ilana/                   find_package(Ilana)    -> ilana::core, ilana::cli
#   P/lib/cmake/IlanaSDK/                find_package(IlanaSDK) -> ilana::sdk,
#                                        ilana::plugin_api, ilana_add_driver()
#   P/lib/pkgconfig/ilana.pc, ilana-sdk.pc
#   P/share/ilana/sdk/examples/csv/      the example driver's sources
#   P/share/doc/ilana/sdk/README.md      the driver author's guide
#
# Everything is relocatable: the CMake packages and the .pc files find the
# prefix from their own location.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ILANA_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake)
# Fixed, not CMAKE_INSTALL_LIBDIR: the registry looks in <bin>/../lib/ilana/plugins.
set(ILANA_INSTALL_PLUGINDIR lib/ilana/plugins)
set(_ilana_gen ${CMAKE_BINARY_DIR}/ilana-install)

# ---------------------------------------------------------------- programs
foreach(_tgt ilana_cli ilana_driver_conformance)
  if(TARGET ${_tgt})
    # Only matters when the core is built shared (BUILD_SHARED_LIBS).
    set_property(TARGET ${_tgt} PROPERTY INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
    install(TARGETS ${_tgt} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# ---------------------------------------------------------------- bundled drivers
foreach(_tgt ilana_sqlite ilana_postgres ilana_mysql)
  if(TARGET ${_tgt})
    install(TARGETS ${_tgt} LIBRARY DESTINATION ${ILANA_INSTALL_PLUGINDIR})
  endif()
endforeach()

# ---------------------------------------------------------------- the SDK package
set_target_properties(ilana_plugin_api PROPERTIES EXPORT_NAME plugin_api)
set_target_properties(ilana_sdk PROPERTIES EXPORT_NAME sdk)
install(TARGETS ilana_plugin_api ilana_sdk EXPORT IlanaSDKTargets)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/plugin-api/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT IlanaSDKTargets NAMESPACE ilana:: DESTINATION ${ILANA_INSTALL_CMAKEDIR}/IlanaSDK)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/IlanaSDKConfig.cmake.in
  ${_ilana_gen}/IlanaSDKConfig.cmake
  INSTALL_DESTINATION ${ILANA_INSTALL_CMAKEDIR}/IlanaSDK
  PATH_VARS ILANA_INSTALL_PLUGINDIR CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${_ilana_gen}/IlanaSDKConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
    ${_ilana_gen}/IlanaSDKConfig.cmake
    ${_ilana_gen}/IlanaSDKConfigVersion.cmake
    ${PROJECT_SOURCE_DIR}/sdk/cmake/IlanaDriver.cmake
    ${PROJECT_SOURCE_DIR}/sdk/cmake/ilana_driver_exports.map
  DESTINATION ${ILANA_INSTALL_CMAKEDIR}/IlanaSDK)

# ---------------------------------------------------------------- the core package
set_target_properties(ilana_core PROPERTIES EXPORT_NAME core)
install(TARGETS ilana_core ilana_cli_lib EXPORT IlanaTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/ ${PROJECT_SOURCE_DIR}/host/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(EXPORT IlanaTargets NAMESPACE ilana:: DESTINATION ${ILANA_INSTALL_CMAKEDIR}/Ilana)

# A static libilana.a (and libilana_cli.a) carries its private dependencies
# to the host app's link: IlanaConfig.cmake must find them again. They are
# read from the targets, so a dependency added to core/CMakeLists.txt or
# host/CMakeLists.txt is not forgotten here. (pkg-config's ilana.pc covers
# the core only.)
get_target_property(_ilana_core_type ilana_core TYPE)
get_target_property(_ilana_core_libs ilana_core LINK_LIBRARIES)
get_target_property(_ilana_cli_libs ilana_cli_lib LINK_LIBRARIES)
set(ILANA_FIND_DEPENDENCIES "find_dependency(Threads)\n")
set(ILANA_PC_REQUIRES "ilana-sdk")
set(ILANA_PC_LIBS "-L\${libdir} -lilana")
set(ILANA_PC_LIBS_PRIVATE "")
if(_ilana_core_type STREQUAL "STATIC_LIBRARY")
  set(_boost_components)
  set(_packages)
  foreach(_lib IN LISTS _ilana_core_libs _ilana_cli_libs)
    if(_lib MATCHES "^Boost::(.+)$")
      set(_comp ${CMAKE_MATCH_1})
      if(NOT _comp MATCHES "^(boost|headers|disable_autolinking|dynamic_linking|diagnostic_definitions)$")
        list(APPEND _boost_components ${_comp})
        if(NOT _lib IN_LIST _ilana_cli_libs OR _lib IN_LIST _ilana_core_libs)
          string(APPEND ILANA_PC_LIBS " -lboost_${_comp}")
        endif()
      endif()
      list(APPEND _packages Boost)
    elseif(_lib MATCHES "^spdlog::")
      list(APPEND _packages spdlog)
      string(APPEND ILANA_PC_REQUIRES " spdlog")
    elseif(_lib MATCHES "^fmt::")
      list(APPEND _packages fmt)
      string(APPEND ILANA_PC_REQUIRES " fmt")
    elseif(_lib MATCHES "^OpenSSL::")
      list(APPEND _packages OpenSSL)
      string(APPEND ILANA_PC_REQUIRES " openssl")
    elseif(_lib MATCHES "^ZLIB::")
      list(APPEND _packages ZLIB)
      string(APPEND ILANA_PC_REQUIRES " zlib")
    elseif(_lib MATCHES "^(Threads::Threads|ilana::plugin_api|ilana_plugin_api|ilana::core|ilana_core)$")
      # found above / part of the SDK package
    elseif(_lib STREQUAL "dl" OR _lib STREQUAL "rt" OR _lib STREQUAL "m")
      string(APPEND ILANA_PC_LIBS " -l${_lib}")
    elseif(_lib MATCHES "::" OR TARGET ${_lib})
      message(WARNING "cmake/IlanaInstall.cmake: ilana_core links '${_lib}', which the installed package cannot "
                      "find yet; add a find_dependency() for it to cmake/IlanaInstall.cmake")
    elseif(_lib)
      string(APPEND ILANA_PC_LIBS " ${_lib}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES _packages)
  foreach(_pkg IN LISTS _packages)
    if(_pkg STREQUAL "Boost")
      list(REMOVE_DUPLICATES _boost_components)
      string(JOIN " " _comps ${_boost_components})
      string(APPEND ILANA_FIND_DEPENDENCIES "find_dependency(Boost")
      if(_comps)
        string(APPEND ILANA_FIND_DEPENDENCIES " COMPONENTS ${_comps}")
      endif()
      string(APPEND ILANA_FIND_DEPENDENCIES ")\n")
    else()
      string(APPEND ILANA_FIND_DEPENDENCIES "find_dependency(${_pkg})\n")
    endif()
  endforeach()
  string(APPEND ILANA_PC_LIBS " -pthread")
else()
  set(ILANA_PC_LIBS_PRIVATE "-pthread")
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/IlanaConfig.cmake.in
  ${_ilana_gen}/IlanaConfig.cmake
  INSTALL_DESTINATION ${ILANA_INSTALL_CMAKEDIR}/Ilana
  PATH_VARS ILANA_INSTALL_PLUGINDIR CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${_ilana_gen}/IlanaConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${_ilana_gen}/IlanaConfig.cmake ${_ilana_gen}/IlanaConfigVersion.cmake
  DESTINATION ${ILANA_INSTALL_CMAKEDIR}/Ilana)

# ---------------------------------------------------------------- pkg-config
# prefix is computed from the .pc file's own directory (relocatable).
file(RELATIVE_PATH ILANA_PC_PREFIX_FROM_PCDIR
  /ilana-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /ilana-prefix)
string(REGEX REPLACE "/$" "" ILANA_PC_PREFIX_FROM_PCDIR "${ILANA_PC_PREFIX_FROM_PCDIR}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/ilana.pc.in ${_ilana_gen}/ilana.pc @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/ilana-sdk.pc.in ${_ilana_gen}/ilana-sdk.pc @ONLY)
install(FILES ${_ilana_gen}/ilana.pc ${_ilana_gen}/ilana-sdk.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---------------------------------------------------------------- docs and the example driver
install(FILES ${PROJECT_SOURCE_DIR}/sdk/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}/sdk OPTIONAL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/examples/ DESTINATION ${CMAKE_INSTALL_DATADIR}/ilana/sdk/examples
        PATTERN "build*" EXCLUDE)
