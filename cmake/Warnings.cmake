# duijie_enable_warnings(target): warnings for our own targets only, never for third-party code.
function(duijie_enable_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
    # GCC 12 misreads Asio's coroutine frame allocator (false positive, fixed in later GCC).
    -Wno-mismatched-new-delete)
  # A unity build includes .cpp files into one generated file, so GCC takes them for headers and
  # warns about every type in an anonymous namespace used by a coroutine frame. Not a finding there.
  if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
  if(DUIJIE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
