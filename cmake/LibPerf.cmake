# Provides ibsp::perf, the kernel's tools/lib/perf (libperf). Debian packages no
# libperf, so unless pkg-config finds one we build it from the linux-source
# tarball into the build tree. This is done at configure time: the imported
# target's paths then exist at generate time, and the build is about 1 s.
include_guard(GLOBAL)

find_path(IBSP_LINUX_UAPI_DIR linux/perf_event.h)
if(NOT IBSP_LINUX_UAPI_DIR)
  message(FATAL_ERROR "ibs-promote: <linux/perf_event.h> not found; "
    "install it with: apt-get install linux-libc-dev")
endif()

pkg_check_modules(LIBPERF QUIET IMPORTED_TARGET libperf)
if(LIBPERF_FOUND)
  add_library(ibsp::perf ALIAS PkgConfig::LIBPERF)
  return()
endif()

set(IBSP_LINUX_SOURCE_TARBALL "/usr/src/linux-source-6.1.tar.xz" CACHE FILEPATH
  "Kernel source tarball whose tools/lib/perf is built when no system libperf exists")

set(_lp_src "${CMAKE_BINARY_DIR}/_deps/linux-tools")
set(_lp_prefix "${CMAKE_BINARY_DIR}/_deps/libperf")
set(_lp_lib "${_lp_prefix}/lib")
# The stamp records what the install was built from, so a new tarball or
# compiler rebuilds it while a plain reconfigure does not.
set(_lp_stamp "${_lp_prefix}/ibsp-stamp.txt")
set(_lp_want "")
if(EXISTS "${IBSP_LINUX_SOURCE_TARBALL}")
  file(TIMESTAMP "${IBSP_LINUX_SOURCE_TARBALL}" _lp_mtime UTC)
  set(_lp_want "${IBSP_LINUX_SOURCE_TARBALL} ${_lp_mtime} ${CMAKE_C_COMPILER}")
endif()
set(_lp_have "")
if(EXISTS "${_lp_stamp}" AND EXISTS "${_lp_lib}/libperf.a" AND EXISTS "${_lp_lib}/libapi.a")
  file(READ "${_lp_stamp}" _lp_have)
endif()

# A missing tarball is fine if a previous configure already built libperf.
if(_lp_have STREQUAL "" OR (_lp_want AND NOT _lp_have STREQUAL _lp_want))
  if(NOT _lp_want)
    message(FATAL_ERROR "ibs-promote: no libperf via pkg-config and no kernel "
      "source at '${IBSP_LINUX_SOURCE_TARBALL}'; install it with: "
      "apt-get install linux-source-6.1 (or set IBSP_LINUX_SOURCE_TARBALL)")
  endif()
  find_program(IBSP_GNU_MAKE NAMES gmake make REQUIRED)
  message(STATUS "Building libperf from ${IBSP_LINUX_SOURCE_TARBALL}")

  # The archive's top dir is its name without .tar.*, e.g. linux-source-6.1/.
  get_filename_component(_lp_top "${IBSP_LINUX_SOURCE_TARBALL}" NAME)
  string(REGEX REPLACE "\\.tar(\\.[a-z0-9]+)?$" "" _lp_top "${_lp_top}")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|i.86|AMD64)$")
    set(_lp_arch x86)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(_lp_arch arm64)
  else()
    set(_lp_arch "${CMAKE_SYSTEM_PROCESSOR}")
  endif()
  # Only what the make needs (the full tree is 1.3 GB). zalloc.c and
  # str_error_r.c live directly in tools/lib and are compiled into
  # libperf/libapi from there.
  set(_t "${_lp_top}/tools")
  file(REMOVE_RECURSE "${_lp_src}" "${_lp_prefix}")
  file(ARCHIVE_EXTRACT INPUT "${IBSP_LINUX_SOURCE_TARBALL}" DESTINATION "${_lp_src}"
    PATTERNS ${_t}/lib/perf ${_t}/lib/api ${_t}/lib/zalloc.c ${_t}/lib/str_error_r.c
             ${_t}/build ${_t}/scripts ${_t}/include ${_t}/arch/${_lp_arch}/include)
  set(_lp_tree "${_lp_src}/${_lp_top}")
  if(NOT EXISTS "${_lp_tree}/tools/lib/perf/Makefile")
    message(FATAL_ERROR "ibs-promote: ${IBSP_LINUX_SOURCE_TARBALL} has no ${_t}/lib/perf")
  endif()

  # Keep the build independent of ours: the caller's CFLAGS/LDFLAGS (maybe
  # sanitizers) and an outer make's MAKEFLAGS must not leak in. EXTRA_CFLAGS:
  # neither Makefile optimises by default; the upstream -Werror is dropped
  # (WERROR=0 for libapi, -Wno-error after libperf's hard-coded -Werror) so a
  # newer compiler's new warnings in code we do not own cannot break us.
  # Plain "install" would also build the docs, which needs asciidoc.
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env --unset=CFLAGS --unset=CPPFLAGS
            --unset=LDFLAGS --unset=EXTRA_CFLAGS --unset=MAKEFLAGS
            "${IBSP_GNU_MAKE}" -C "${_lp_tree}/tools/lib/perf"
            "CC=${CMAKE_C_COMPILER}" "EXTRA_CFLAGS=-O2 -Wno-error" WERROR=0
            "prefix=${_lp_prefix}" "libdir=${_lp_lib}"
            install_lib install_headers install_pkgconfig
    RESULT_VARIABLE _lp_rc OUTPUT_VARIABLE _lp_log ERROR_VARIABLE _lp_log)
  if(NOT _lp_rc EQUAL 0)
    message(FATAL_ERROR "ibs-promote: building libperf failed (${_lp_rc}):\n${_lp_log}")
  endif()
  # libperf.a calls fdarray__* from libapi.a, which make builds but never installs.
  file(COPY "${_lp_tree}/tools/lib/api/libapi.a" DESTINATION "${_lp_lib}")
  file(WRITE "${_lp_stamp}" "${_lp_want}")
endif()

# Static on purpose: the build-tree .so would need an rpath and
# could be shadowed by another libperf.so at run time.
add_library(ibsp::perf_api STATIC IMPORTED)
set_target_properties(ibsp::perf_api PROPERTIES IMPORTED_LOCATION "${_lp_lib}/libapi.a")
add_library(ibsp::perf STATIC IMPORTED)
set_target_properties(ibsp::perf PROPERTIES
  IMPORTED_LOCATION "${_lp_lib}/libperf.a"
  INTERFACE_INCLUDE_DIRECTORIES "${_lp_prefix}/include"
  INTERFACE_LINK_LIBRARIES ibsp::perf_api)
