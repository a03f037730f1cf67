# Helpers that give every Shoal target the same shape.
#
#   shoal_add_library(NAME SOURCES ... DEPS ...)     one library per module folder (PRACTICES A1);
#                                                   DEPS are PUBLIC so the dependency DAG is explicit
#   shoal_add_executable(NAME SOURCES ... DEPS ...)
#   shoal_add_test(NAME SOURCES ... DEPS ... [LABELS ...] [TIMEOUT s] [SANITIZE])
#       a GoogleTest binary registered with ctest; LABELS come from unit|integration|slow|...;
#       SANITIZE adds the label `sanitize` and makes it part of the `sanitize-tests` target.

function(shoal_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${A_DEPS} PRIVATE ${A_PRIVATE_DEPS})
  shoal_set_warnings(${name})
endfunction()

function(shoal_add_executable name)
  cmake_parse_arguments(A "" "OUTPUT_NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS})
  if(A_OUTPUT_NAME)
    set_target_properties(${name} PROPERTIES OUTPUT_NAME ${A_OUTPUT_NAME})
  endif()
  shoal_set_warnings(${name})
endfunction()

if(SHOAL_BUILD_TESTS AND NOT TARGET sanitize-tests)
  add_custom_target(sanitize-tests)
endif()

function(shoal_add_test name)
  cmake_parse_arguments(A "SANITIZE" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} shoal_test_support GTest::gtest)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  shoal_set_warnings(${name})
  set(labels ${A_LABELS})
  if(A_SANITIZE)
    list(APPEND labels sanitize)
    add_dependencies(sanitize-tests ${name})
  endif()
  add_test(NAME ${name} COMMAND ${name})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "SHOAL_SOURCE_DIR=${CMAKE_SOURCE_DIR};SHOAL_BINARY_DIR=${CMAKE_BINARY_DIR}")
endfunction()
