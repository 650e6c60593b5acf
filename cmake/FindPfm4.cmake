# FindPfm4: libpfm4 (perfmon event encoding). Debian's libpfm4-dev ships no
# pkg-config file, so look for the header and library directly.
# No version check: pfmlib.h's LIBPFM_VERSION still says 4.0 in 4.13.
#
# Result: Pfm4_FOUND, PFM4_INCLUDE_DIR, PFM4_LIBRARY, target Pfm4::pfm.

find_path(PFM4_INCLUDE_DIR perfmon/pfmlib_perf_event.h)
find_library(PFM4_LIBRARY pfm)
mark_as_advanced(PFM4_INCLUDE_DIR PFM4_LIBRARY)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Pfm4
  REQUIRED_VARS PFM4_LIBRARY PFM4_INCLUDE_DIR)

if(Pfm4_FOUND AND NOT TARGET Pfm4::pfm)
  add_library(Pfm4::pfm UNKNOWN IMPORTED)
  set_target_properties(Pfm4::pfm PROPERTIES
    IMPORTED_LOCATION "${PFM4_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PFM4_INCLUDE_DIR}")
endif()
