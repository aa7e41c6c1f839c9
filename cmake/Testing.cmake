find_package(GTest REQUIRED)
include(GoogleTest)

# duijie_add_gtest(name SOURCES ... LIBS ...): one test executable, its cases registered with ctest.
function(duijie_add_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;PROPERTIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} duijie_test_support GTest::gtest GTest::gmock GTest::gtest_main)
  duijie_enable_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 PROPERTIES ${ARG_PROPERTIES})
endfunction()
