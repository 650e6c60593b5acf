# Third-party dependencies of ibs-promote, exposed as ibsp::* targets that carry
# their include dirs and link libs, so consumers only target_link_libraries().
# include() after project(); every missing piece names the Debian package.
# cmake/setup-debian.sh installs all of them.
include_guard(GLOBAL)
if(NOT CMAKE_C_COMPILER)
  # LibPerf.cmake hands the C compiler to the kernel's make.
  message(FATAL_ERROR "include(Dependencies) must come after project(... C)")
endif()

option(IBSP_BUILD_TESTS "Build the Criterion tests" ON)

list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")
find_package(PkgConfig REQUIRED)

# Debian's pkg-config files are present for these; IMPORTED_TARGET turns the
# .pc flags into usage requirements, the alias gives one naming scheme.
function(ibsp_pkg name module debpkg)
  pkg_check_modules(IBSP_PC_${name} IMPORTED_TARGET ${module})
  if(NOT IBSP_PC_${name}_FOUND)
    message(FATAL_ERROR
      "ibs-promote: pkg-config module '${module}' not found; "
      "install it with: apt-get install ${debpkg}")
  endif()
  add_library(ibsp::${name} ALIAS PkgConfig::IBSP_PC_${name})
endfunction()

ibsp_pkg(numa numa libnuma-dev)
ibsp_pkg(hwloc hwloc libhwloc-dev)
ibsp_pkg(uring liburing liburing-dev)
ibsp_pkg(jansson jansson libjansson-dev)
ibsp_pkg(zstd libzstd libzstd-dev) # perf record -z recordings
ibsp_pkg(capng libcap-ng libcap-ng-dev)
ibsp_pkg(microhttpd libmicrohttpd libmicrohttpd-dev)
ibsp_pkg(inih inih libinih-dev) # the command's --config files only
if(IBSP_BUILD_TESTS)
  ibsp_pkg(criterion criterion libcriterion-dev)
endif()

find_package(Pfm4)
if(NOT Pfm4_FOUND)
  message(FATAL_ERROR
    "ibs-promote: libpfm4 (perfmon/pfmlib_perf_event.h, libpfm) not found; "
    "install it with: apt-get install libpfm4-dev")
endif()
add_library(ibsp::pfm ALIAS Pfm4::pfm)

include("${CMAKE_CURRENT_LIST_DIR}/LibPerf.cmake")
