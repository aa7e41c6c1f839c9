# duijie_enable_warnings(target): warnings for our own targets only, never for third-party code.
function(duijie_enable_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
    # GCC 12 misreads Asio's coroutine frame allocator (false positive, fixed in later GCC).
    -Wno-mismatched-new-delete)
  if(DUIJIE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
