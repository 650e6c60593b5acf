# cmake -DSCDOC=... -DSRC=page.N.scd -DOUT=page.N [-DEPOCH=seconds] -P man-page.cmake
# Renders one scdoc page; a line "{{include NAME}}" is replaced by the text of
# NAME next to the page first (the option lists that several pages share).
file(READ "${SRC}" text)
get_filename_component(dir "${SRC}" DIRECTORY)
string(REGEX MATCHALL "{{include [a-z.]+}}" incs "${text}")
foreach(inc IN LISTS incs)
  string(REGEX REPLACE "{{include ([a-z.]+)}}" "\\1" name "${inc}")
  file(READ "${dir}/${name}" body)
  string(REPLACE "${inc}\n" "${body}" text "${text}")
endforeach()
file(WRITE "${OUT}.scd" "${text}")
set(env "")
if(EPOCH MATCHES "^[0-9]+$")
  set(env "${CMAKE_COMMAND}" -E env "SOURCE_DATE_EPOCH=${EPOCH}")
endif()
execute_process(COMMAND ${env} "${SCDOC}" INPUT_FILE "${OUT}.scd" OUTPUT_FILE "${OUT}"
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}")
  message(FATAL_ERROR "scdoc ${SRC}: ${err}")
endif()
