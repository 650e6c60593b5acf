# What `cmake --install build --prefix P` puts under P (docs/operations.md):
#   bin/ibs-promote
#   lib/libibsp.a                   every layer library and the libperf it was built with, in one archive
#   include/ibsp/*.h                the public headers
#   lib/pkgconfig/ibsp.pc           relocatable (${pcfiledir}); --static lists the system libraries
#   lib/cmake/ibsp/                 find_package(ibsp): the imported target ibsp::ibsp
#   share/man/man1, man5            rendered from docs/man/*.scd by scdoc at build time
#   share/bash-completion/completions/ibs-promote
#   lib/systemd/system/ibs-promote.service   (IBSP_SYSTEMD_UNIT_DIR)
#   etc/ibs-promote.conf            an example (CMAKE_INSTALL_SYSCONFDIR)
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(IBSP_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
  "Where the systemd unit installs (relative: under the prefix)")

# --- libibsp.a: the layer archives and libperf (which Debian does not package) in one ---
set(ibsp_layers ibsp_host ibsp_pmu ibsp_format ibsp_capture ibsp_engine ibsp_policy
  ibsp_migrate ibsp_telemetry ibsp_replay ibsp_daemon)
set(ibsp_mri "create ${CMAKE_BINARY_DIR}/libibsp.a\n")
set(ibsp_parts "")
foreach(l IN LISTS ibsp_layers)
  string(APPEND ibsp_mri "addlib $<TARGET_FILE:${l}>\n")
  list(APPEND ibsp_parts $<TARGET_FILE:${l}>)
endforeach()
if(TARGET ibsp::perf_api)
  # Built from linux-source by cmake/LibPerf.cmake: embedded, so that users need no libperf.
  foreach(l ibsp::perf ibsp::perf_api)
    get_target_property(loc ${l} IMPORTED_LOCATION)
    string(APPEND ibsp_mri "addlib ${loc}\n")
    list(APPEND ibsp_parts ${loc})
  endforeach()
  set(IBSP_PC_PERF "")
else()
  set(IBSP_PC_PERF " libperf")
endif()
string(APPEND ibsp_mri "save\nend\n")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/libibsp.mri CONTENT "${ibsp_mri}")
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/libibsp.a
  COMMAND ${CMAKE_COMMAND} -E rm -f ${CMAKE_BINARY_DIR}/libibsp.a
  COMMAND ${CMAKE_AR} -M < ${CMAKE_BINARY_DIR}/libibsp.mri
  COMMAND ${CMAKE_RANLIB} ${CMAKE_BINARY_DIR}/libibsp.a
  DEPENDS ${ibsp_layers} ${ibsp_parts} ${CMAKE_BINARY_DIR}/libibsp.mri
  COMMENT "Combining the layer libraries into libibsp.a"
  VERBATIM)
add_custom_target(ibsp_combined ALL DEPENDS ${CMAKE_BINARY_DIR}/libibsp.a)

install(FILES ${CMAKE_BINARY_DIR}/libibsp.a DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/ibsp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

# --- pkg-config and the CMake package ---
# The system libraries the archive needs, as pkg-config modules and plain -l flags
# (libpfm4 ships no .pc file).
set(IBSP_PC_REQUIRES "numa hwloc liburing jansson libzstd${IBSP_PC_PERF}")
set(IBSP_PC_LIBS "-lpfm -lpthread -lm")
# Relocatable: the prefix is found from where the file lies.
file(RELATIVE_PATH IBSP_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
file(RELATIVE_PATH IBSP_CMAKE_UP "/p/${CMAKE_INSTALL_LIBDIR}/cmake/ibsp" "/p")
string(REGEX REPLACE "/$" "" IBSP_PC_UP "${IBSP_PC_UP}")
string(REGEX REPLACE "/$" "" IBSP_CMAKE_UP "${IBSP_CMAKE_UP}")
configure_file(dist/ibsp.pc.in ${CMAKE_BINARY_DIR}/ibsp.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/ibsp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

configure_file(dist/ibspConfig.cmake.in ${CMAKE_BINARY_DIR}/ibspConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/ibspConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/ibspConfig.cmake ${CMAKE_BINARY_DIR}/ibspConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ibsp)

# --- man pages: scdoc at build time ---
find_program(IBSP_SCDOC scdoc)
if(NOT IBSP_SCDOC)
  message(FATAL_ERROR "ibs-promote: scdoc (the man pages) not found; "
    "install it with: apt-get install scdoc")
endif()
# The pages' date is the last commit's, not the build's, so that two builds of one
# commit give the same pages (scdoc reads SOURCE_DATE_EPOCH); without git, the build's.
if(DEFINED ENV{SOURCE_DATE_EPOCH})
  set(ibsp_man_epoch "$ENV{SOURCE_DATE_EPOCH}")
else()
  execute_process(COMMAND git -C ${PROJECT_SOURCE_DIR} log -1 --format=%ct
    OUTPUT_VARIABLE ibsp_man_epoch OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
file(GLOB ibsp_man_src CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.scd)
file(GLOB ibsp_man_inc CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.inc)
set(ibsp_man_out "")
foreach(src IN LISTS ibsp_man_src)
  get_filename_component(page ${src} NAME_WLE) # ibs-promote-run.1
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" sec ${page})
  set(out ${CMAKE_BINARY_DIR}/man/${page})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND ${CMAKE_COMMAND} -DSCDOC=${IBSP_SCDOC} -DSRC=${src} -DOUT=${out}
            -DEPOCH=${ibsp_man_epoch}
            -P ${PROJECT_SOURCE_DIR}/cmake/man-page.cmake
    DEPENDS ${src} ${ibsp_man_inc} ${PROJECT_SOURCE_DIR}/cmake/man-page.cmake VERBATIM)
  list(APPEND ibsp_man_out ${out})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sec})
endforeach()
add_custom_target(ibsp_man ALL DEPENDS ${ibsp_man_out})

# --- bash completion, the example configuration, the systemd unit ---
install(FILES dist/ibs-promote.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME ibs-promote)
# The configuration and the unit that names it go where the prefix chosen at install time
# (`cmake --install --prefix P`) says, as GNUInstallDirs' full paths do: P/etc, except
# /etc for the prefix /usr (not /usr/etc).
install(CODE "
  set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
  set(sysconf \"${CMAKE_INSTALL_SYSCONFDIR}\")
  if(NOT IS_ABSOLUTE \"\${sysconf}\")
    if(prefix STREQUAL \"/usr\" AND sysconf STREQUAL \"etc\")
      set(sysconf \"/etc\")
    else()
      set(sysconf \"\${prefix}/\${sysconf}\")
    endif()
  endif()
  file(INSTALL DESTINATION \"\${sysconf}\" TYPE FILE
    FILES \"${PROJECT_SOURCE_DIR}/dist/ibs-promote.conf\")
  set(IBSP_BIN \"\${prefix}/${CMAKE_INSTALL_BINDIR}/ibs-promote\")
  set(IBSP_CONF \"\${sysconf}/ibs-promote.conf\")
  configure_file(\"${PROJECT_SOURCE_DIR}/dist/ibs-promote.service.in\"
    \"${CMAKE_BINARY_DIR}/install-unit/ibs-promote.service\" @ONLY)
")
install(FILES ${CMAKE_BINARY_DIR}/install-unit/ibs-promote.service
  DESTINATION ${IBSP_SYSTEMD_UNIT_DIR})
